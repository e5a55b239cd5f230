"""Draw the abstention trade-off of several eval runs in one picture (docs/abstention.png).

    python benchmarks/abstention_plot.py docs/abstention.png "stories test=/tmp/st.json" "SQuAD test=/tmp/sq.json"

Each JSON is what `assistant eval --out` wrote; only its `abstention_curve` is read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.harness.evaluate import plot_curves
from assistant.reader import ReaderModel


def main(out: str, *runs: str) -> None:
    """Read each `label=results.json`, plot their curves to `out`."""
    curves = {}
    for run in runs:
        label, _, path = run.partition("=")
        curves[label] = json.loads(Path(path).read_text(encoding="utf-8"))["abstention_curve"]
    title = "Abstention trade-off as the threshold moves (offline reader)"
    plot_curves(curves, ReaderModel.load().threshold, title, Path(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
