"""Score the reader of an earlier commit on a Q&A file, graded exactly as `assistant eval` grades.

The README's "old reader" column: the offline reader as it was before the learned reader
(commit 55d905c), run on the same corpus index and questions. Usage:

    git worktree add /tmp/oldrepo 55d905c
    .venv/bin/python benchmarks/old_reader.py /tmp/oldrepo CORPUS_DIR QA_FILE [INDEX_DIR]

It imports the old `assistant` package from the worktree, so run it with the worktree's
checkout first on the path and nothing of this repo's `assistant` imported.
"""

from __future__ import annotations

import json
import statistics
import string
import sys
import tempfile
from pathlib import Path

import yaml

PUNCTUATION = frozenset(string.punctuation)


def squad_normalize(text: str) -> str:
    import re

    text = "".join(ch for ch in text.lower() if ch not in PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def contains(text: str, needle: str, match: str) -> bool:
    if match == "squad":
        n = squad_normalize(needle)
        return bool(n) and f" {n} " in f" {squad_normalize(text)} "
    return " ".join(needle.casefold().split()) in " ".join(text.casefold().split())


def main(old_repo: Path, corpus: Path, qa: Path, index_dir: Path | None) -> dict:
    sys.path.insert(0, str(old_repo))
    from assistant.config import load_settings
    from assistant.pipeline import Assistant

    root = index_dir or Path(tempfile.mkdtemp())
    settings = load_settings(env_file=None, environ={"INDEX_DIR": str(root / "index"), "ANSWERER": "offline",
                                                     "UPLOADS_DIR": str(root / "uploads")})  # fmt: skip
    assistant = Assistant.from_settings(settings)
    assistant.ingest([corpus])
    cases = yaml.safe_load(qa.read_text(encoding="utf-8"))
    passed, false_abstain, right_abstain, latencies = [], [], [], []
    for case in cases:
        expect = case.get("expect") or {}
        answer = assistant.ask(case["question"], case.get("history") or [])
        latencies.append(answer.latency_ms)
        if expect.get("abstain"):
            right_abstain.append(answer.abstained)
            continue
        false_abstain.append(answer.abstained)
        groups = [[g] if isinstance(g, str) else g for g in expect.get("must_contain", [])]
        ok = not answer.abstained and len(answer.text) <= 600
        ok = ok and all(any(contains(answer.text, alt, expect.get("match", "")) for alt in g) for g in groups)
        passed.append(ok)
    latencies.sort()
    return {
        "cases": len(cases),
        "answer_pass_rate": round(statistics.fmean(passed), 4),
        "false_abstain_rate": round(statistics.fmean(false_abstain), 4),
        "correct_abstain_rate": round(statistics.fmean(right_abstain), 4) if right_abstain else None,
        "latency_p50_ms": round(latencies[len(latencies) // 2], 1),
        "latency_p95_ms": round(latencies[int(0.95 * len(latencies)) - 1], 1),
    }


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    print(json.dumps(main(args[0], args[1], args[2], args[3] if len(args) > 3 else None), indent=1))
