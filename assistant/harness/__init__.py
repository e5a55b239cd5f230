"""The harness: what measures the assistant (eval, benchmarks, the naive peer), kept apart from its stages."""
