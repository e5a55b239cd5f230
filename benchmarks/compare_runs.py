"""Compare two `assistant eval --out` runs of one Q&A file: fact-question figures, then every case that moved.

    python benchmarks/compare_runs.py eval/dev2.yaml /tmp/before-dev2.json /tmp/after-dev2.json

Fact questions are the cases the reader answers (not those tagged "archive", which `archive` answers from every
story), as in the README's Evaluation table. For each run:
answer pass over the answerable ones, abstention on the unanswerable ones, false abstention, and the area under
the abstention curve of the reader's confidence (the chance that an answerable case is rated above an
unanswerable one). Then each case whose pass or abstention differs. What each round of the README's Evaluation
reports as "dev2 144 -> 146 of 162 (two gained: ...)" is read off this.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.harness.evaluate import Case, load_cases


def fact_rows(qa: Path, run: Path) -> list[tuple[dict, Case]]:
    """The run's rows for the fact cases of `qa`, each with its case."""
    cases = {c.id: c for c in load_cases(qa)}
    rows = json.loads(run.read_text(encoding="utf-8"))["cases"]
    return [(r, cases[r["id"]]) for r in rows if "archive" not in cases[r["id"]].tags]


def area_under_curve(scored: list[tuple[float, bool]]) -> float:
    """P(an answerable case's confidence > an unanswerable one's), ties counting half; NaN without both kinds."""
    from sklearn.metrics import roc_auc_score

    if len({ok for _, ok in scored}) < 2:
        return float("nan")
    return float(roc_auc_score([ok for _, ok in scored], [s for s, _ in scored]))


def summary(rows: list[tuple[dict, Case]]) -> str:
    """One line of fact-question figures."""
    answerable = [r for r, c in rows if not c.abstain]
    unanswerable = [r for r, c in rows if c.abstain]
    passed = sum(r["passed"] for r in answerable)
    abstained = sum(r["abstained"] for r in unanswerable)
    false = sum(r["abstained"] for r in answerable)
    area = area_under_curve([(r["confidence"] or 0.0, not c.abstain) for r, c in rows])
    return (
        f"answer {passed}/{len(answerable)} | abstain {abstained}/{len(unanswerable)} | "
        f"false abstention {false}/{len(answerable)} | area {area:.3f}"
    )


def moved(before: list[tuple[dict, Case]], after: list[tuple[dict, Case]]) -> list[str]:
    """A line for each case whose pass or abstention differs between the runs."""
    later = {r["id"]: r for r, _ in after}
    lines = []
    for r, case in before:
        new = later[r["id"]]
        if (r["passed"], r["abstained"]) != (new["passed"], new["abstained"]):
            kind = "unanswerable" if case.abstain else "answerable"
            lines.append(
                f"{r['id']} ({kind}): passed {r['passed']} -> {new['passed']}, "
                f"abstained {r['abstained']} -> {new['abstained']} | {case.question[:90]}"
            )
    return lines


def main(qa: str, before: str, after: str) -> None:
    """Print both runs' figures and the cases that moved."""
    old, new = fact_rows(Path(qa), Path(before)), fact_rows(Path(qa), Path(after))
    print(f"before: {summary(old)}")
    print(f"after:  {summary(new)}")
    print("\n".join(moved(old, new)) or "no case moved")


if __name__ == "__main__":
    main(*sys.argv[1:])
