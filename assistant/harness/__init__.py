"""The harness: what measures the assistant, apart from the stages that answer.

- `evaluate`: the eval suite (Q&A cases -> `ask` -> deterministic metrics, report, CI gate);
- `bench`: latency, ingest throughput and memory as the corpus grows (`assistant bench`);
- `naive`: the naive llama-index-defaults peer the eval and the benchmark compare against;
- `training`: fitting the offline reader's weights and thresholds (`assistant train-reader`).

Product modules (`assistant/*.py`) never import from here; `tests/test_harness.py` checks it.
"""
