"""Start-up benchmark: `assistant --help` and `assistant ask` timed as whole processes.

    python -m assistant.harness.startup [--runs 5] [--question "..."]

Each command runs `--runs` times in a fresh interpreter (`python -m assistant.cli`, what
the `assistant` console script runs), so the figures include interpreter start, imports,
loading the embedding model and the index: what a user waits for. `ask` needs an
existing index (`assistant ingest` first); its first run also warms the retrieval cache
and the OS file cache, so it is run once before timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_QUESTION", "Timing", "main", "measure", "time_command"]

DEFAULT_QUESTION = "Who launched the Central Asian Alliance?"


@dataclass(frozen=True)
class Timing:
    """Wall times of one command, in seconds."""

    label: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        """The typical run: the median, so one run slowed by the shared machine does not move it."""
        return statistics.median(self.seconds)

    @property
    def worst(self) -> float:
        """The slowest run."""
        return max(self.seconds)

    def __str__(self) -> str:
        """One report line: label, median, worst and how many runs."""
        return f"{self.label}: median {self.median:.2f} s, max {self.worst:.2f} s ({len(self.seconds)} runs)"


def time_command(args: Sequence[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, ...]:
    """Wall seconds of `python -m assistant.cli ARGS`, run `runs` times; a failing run raises."""
    command = [sys.executable, "-m", "assistant.cli", *args]
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - began)
    return tuple(times)


def measure(question: str = DEFAULT_QUESTION, runs: int = 5, say: Callable[[str], None] = print) -> list[Timing]:
    """Time `--help` and `ask QUESTION --offline` (after one untimed warm-up ask) and say each result."""
    env = os.environ | {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    ask = ["ask", question, "--offline"]
    time_command(ask, 1, env)  # warm-up: the retrieval cache and the OS file cache
    timings = [
        Timing("assistant --help", time_command(["--help"], runs, env)),
        Timing(f"assistant ask {question!r}", time_command(ask, runs, env)),
    ]
    for timing in timings:
        say(str(timing))
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: parse the options, measure and print; the exit status (0, a failing run raises)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Runs of each command (default 5).")
    parser.add_argument("--question", default=DEFAULT_QUESTION, help="What `ask` asks (the index must exist).")
    options = parser.parse_args(argv)
    measure(options.question, options.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
