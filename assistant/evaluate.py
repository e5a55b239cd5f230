"""The eval harness: Q&A pairs -> `Assistant.ask` -> deterministic metrics, report and CI gate.

Every case runs through the same `ask` path as the CLI and UI. All metrics are
computed from the answers alone (no model judges them), so two runs on one commit
give identical results apart from the latency fields, which `stable_view` drops.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .answer import MAX_ANSWER_CHARS, Answer
from .config import PROJECT_ROOT, Settings
from .errors import ConfigError

EVAL_DIR = PROJECT_ROOT / "eval"
DEFAULT_QA = EVAL_DIR / "qa.yaml"
FLOORS = EVAL_DIR / "floors.yaml"
BASELINE = EVAL_DIR / "baseline.json"
TIMING_KEYS = ("latency_ms", "latency_p50_ms", "latency_p95_ms")


@dataclass
class Case:
    id: str
    question: str
    tags: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    must_contain: list[list[str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    abstain: bool = False


def load_cases(path: Path) -> list[Case]:
    """Parse a Q&A file in the documented format; a malformed case is named in the error."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"Cannot read Q&A file {path}: {err}") from err
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: expected a list of cases")
    cases, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "id" not in item or "question" not in item:
            raise ConfigError(f"{path}: case #{i + 1} needs an id and a question")
        expect = item.get("expect") or {}
        groups = [[g] if isinstance(g, str) else list(g) for g in expect.get("must_contain", [])]
        case = Case(
            id=str(item["id"]),
            question=str(item["question"]),
            tags=list(item.get("tags") or []),
            history=list(item.get("history") or []),
            must_contain=groups,
            sources=list(expect.get("sources") or []),
            abstain=bool(expect.get("abstain", False)),
        )
        if case.id in seen:
            raise ConfigError(f"{path}: duplicate case id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    return cases


def fold(text: str) -> str:
    return " ".join(text.casefold().split())


def matches(text: str, needle: str) -> bool:
    return fold(needle) in fold(text) if needle.strip() else needle in text


def cites_source(citation: dict, sources: Sequence[str]) -> bool:
    return any(matches(citation[key] or "", s) for s in sources for key in ("title", "source", "quote"))


def grade(case: Case, answer: dict, stories: dict) -> dict:
    """Pass/fail and the per-case numbers behind every aggregate."""
    failures = []
    text, cites = answer["answer"], answer["citations"]
    if case.abstain:
        if not answer["abstained"]:
            failures.append("answered, but the stories do not say")
    else:
        if answer["abstained"]:
            failures.append("abstained on an answerable question")
        for group in case.must_contain:
            if not any(matches(text, alt) for alt in group):
                failures.append(f"missing one of {group}")
        if len(text) > MAX_ANSWER_CHARS:
            failures.append(f"answer is {len(text)} characters (limit {MAX_ANSWER_CHARS})")
    verbatim = [_quote_ok(c, stories) for c in cites]
    if not all(verbatim):
        failures.append("a quote is not verbatim in its story")
    row = {"passed": not failures, "failures": failures, "quotes_verbatim": verbatim}
    if case.sources and not case.abstain:
        good = [cites_source(c, case.sources) for c in cites]
        row["citation_precision"] = sum(good) / len(good) if good else 0.0
        row["citation_recall"] = 1.0 if any(good) else 0.0
        ranks = [r["rank"] for r in answer["retrieved"] if _story_matches(stories.get(r["story_id"]), case.sources)]
        first = min(ranks) if ranks else None
        row["first_relevant_rank"] = first
        row["ndcg5"] = _ndcg(ranks, 5)
    return row


def _story_matches(story, sources: Sequence[str]) -> bool:
    if story is None:
        return False
    return any(matches(story.title, s) or matches(story.source, s) or matches(story.text, s) for s in sources)


def _quote_ok(c: dict, stories: dict) -> bool:
    story = stories.get(c["story_id"])
    return bool(story) and story.text[c["start"] : c["end"]] == c["quote"] and c["quote"] != ""


def _ndcg(ranks: list[int], k: int) -> float:
    dcg = sum(1 / math.log2(r + 1) for r in ranks if r <= k)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(ranks), k)))
    return dcg / ideal if ideal else 0.0


def aggregate(rows: list[dict], cases: list[Case]) -> dict:
    by_id = {c.id: c for c in cases}
    answerable = [r for r in rows if not by_id[r["id"]].abstain]
    unanswerable = [r for r in rows if by_id[r["id"]].abstain]
    sourced = [r for r in answerable if "citation_recall" in r["grade"]]
    quotes = [ok for r in rows for ok in r["grade"]["quotes_verbatim"]]
    latencies = sorted(r["latency_ms"] for r in rows)

    def hit(k: int) -> float:
        return _mean([1.0 if (r["grade"]["first_relevant_rank"] or 99) <= k else 0.0 for r in sourced])

    cited = [r for r in sourced if r["citations"]]
    return {
        "cases": len(rows),
        "answer_pass_rate": _mean([1.0 if r["passed"] else 0.0 for r in answerable]),
        "overall_pass_rate": _mean([1.0 if r["passed"] else 0.0 for r in rows]),
        "hit_at_1": hit(1),
        "hit_at_3": hit(3),
        "hit_at_5": hit(5),
        "mrr": _mean(
            [1.0 / r["grade"]["first_relevant_rank"] if r["grade"]["first_relevant_rank"] else 0.0 for r in sourced]
        ),  # fmt: skip
        "ndcg_at_5": _mean([r["grade"]["ndcg5"] for r in sourced]),
        "citation_precision": _mean([r["grade"]["citation_precision"] for r in cited]),
        "citation_recall": _mean([r["grade"]["citation_recall"] for r in sourced]),
        "quote_verbatim_rate": _mean([1.0 if q else 0.0 for q in quotes]) if quotes else 1.0,
        "correct_abstain_rate": _mean([1.0 if r["abstained"] else 0.0 for r in unanswerable]),
        "false_abstain_rate": _mean([1.0 if r["abstained"] else 0.0 for r in answerable]),
        "latency_p50_ms": _percentile(latencies, 50),
        "latency_p95_ms": _percentile(latencies, 95),
    }


def _mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def _percentile(sorted_values: Sequence[float], p: int) -> float:
    if not sorted_values:
        return 0.0
    idx = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))
    return round(sorted_values[idx], 1)


def by_tag(rows: list[dict], cases: list[Case]) -> dict:
    groups: dict[str, list[str]] = defaultdict(list)
    for c in cases:
        for t in c.tags or ["untagged"]:
            groups[t].append(c.id)
    out = {}
    for tag in sorted(groups):
        ids = set(groups[tag])
        sub_rows = [r for r in rows if r["id"] in ids]
        out[tag] = aggregate(sub_rows, [c for c in cases if c.id in ids])
    return out


def run_cases(ask: Callable[[Case], Answer], cases: list[Case], stories: dict, progress=None) -> list[dict]:
    rows = []
    for case in cases:
        answer = ask(case).as_dict()
        graded = grade(case, answer, stories)
        rows.append(
            {
                "id": case.id,
                "tags": case.tags,
                "question": case.question,
                "search_query": answer["search_query"],
                "answer": answer["answer"],
                "abstained": answer["abstained"],
                "citations": answer["citations"],
                "retrieved": [{"story_id": r["story_id"], "title": r["title"]} for r in answer["retrieved"]],
                "backend": answer["backend"],
                "latency_ms": answer["latency_ms"],
                "passed": graded["passed"],
                "failures": graded["failures"],
                "grade": graded,
            }
        )
        if progress:
            progress(case, rows[-1])
    return rows


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def results_document(rows: list[dict], cases: list[Case], qa_path: Path, backend: str) -> dict:
    return {
        "qa_file": qa_path.name,
        "qa_sha256": file_hash(qa_path),
        "commit": git_commit(),
        "backend": backend,
        "aggregates": aggregate(rows, cases),
        "by_tag": by_tag(rows, cases),
        "cases": rows,
    }


def stable_view(doc: dict) -> dict:
    """The results without timings: what must be byte-identical across two runs."""

    def strip(obj):
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k not in TIMING_KEYS}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    return strip(doc)


def dumps(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# -- gate -------------------------------------------------------------------------------
def load_floors(path: Path = FLOORS) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def check_gate(aggregates: dict, rows: list[dict], floors: dict, baseline: dict | None) -> list[str]:
    """Reasons the gate fails: a metric past its floor/ceiling, or a baseline case that now fails."""
    problems = []
    for metric, floor in (floors.get("min") or {}).items():
        if aggregates.get(metric, 0.0) < floor:
            problems.append(f"{metric} = {aggregates.get(metric)} is below the floor {floor}")
    for metric, ceiling in (floors.get("max") or {}).items():
        if aggregates.get(metric, 0.0) > ceiling:
            problems.append(f"{metric} = {aggregates.get(metric)} is above the ceiling {ceiling}")
    if baseline:
        now = {r["id"]: r["passed"] for r in rows}
        for case_id, passed in sorted(baseline.get("passed", {}).items()):
            if passed and now.get(case_id) is False:
                problems.append(f"case {case_id} passes in eval/baseline.json but fails now")
    return problems


def baseline_document(rows: list[dict], aggregates: dict, qa_path: Path) -> dict:
    stable = {k: v for k, v in aggregates.items() if k not in TIMING_KEYS}
    return {"qa_sha256": file_hash(qa_path), "aggregates": stable, "passed": {r["id"]: r["passed"] for r in rows}}


# -- report -----------------------------------------------------------------------------
SUMMARY_KEYS = (
    ("answer", "answer_pass_rate"),
    ("cite-R", "citation_recall"),
    ("cite-P", "citation_precision"),
    ("hit@3", "hit_at_3"),
    ("MRR", "mrr"),
    ("abstain", "correct_abstain_rate"),
    ("false-abst", "false_abstain_rate"),
    ("quotes", "quote_verbatim_rate"),
    ("p50 ms", "latency_p50_ms"),
    ("p95 ms", "latency_p95_ms"),
)


def summary_line(agg: dict, backend: str) -> str:
    return (
        f"eval[{backend}]: {agg['cases']} cases | answer {agg['answer_pass_rate']:.3f} | "
        f"citation R {agg['citation_recall']:.3f} P {agg['citation_precision']:.3f} | "
        f"hit@1/3/5 {agg['hit_at_1']:.2f}/{agg['hit_at_3']:.2f}/{agg['hit_at_5']:.2f} MRR {agg['mrr']:.3f} | "
        f"abstain correct {agg['correct_abstain_rate']:.2f} false {agg['false_abstain_rate']:.3f} | "
        f"quotes verbatim {agg['quote_verbatim_rate']:.3f} | p50 {agg['latency_p50_ms']:.0f} ms "
        f"p95 {agg['latency_p95_ms']:.0f} ms"
    )


def table(doc: dict) -> str:
    head = f"{'tag':<14}{'n':>4} " + " ".join(f"{label:>10}" for label, _ in SUMMARY_KEYS)
    lines = [head, "-" * len(head)]
    for tag, agg in [("ALL", doc["aggregates"]), *doc["by_tag"].items()]:
        cells = " ".join(
            f"{agg[key]:>10.3f}" if "ms" not in label else f"{agg[key]:>10.0f}" for label, key in SUMMARY_KEYS
        )
        lines.append(f"{tag:<14}{agg['cases']:>4} {cells}")
    return "\n".join(lines)


def markdown_report(doc: dict, cases: list[Case]) -> str:
    by_id = {c.id: c for c in cases}
    lines = [
        f"# Eval report ({doc['backend']})",
        "",
        f"Commit `{doc['commit'][:12]}`, Q&A file `{doc['qa_file']}` (sha256 {doc['qa_sha256']}).",
        "",
        "```",
        summary_line(doc["aggregates"], doc["backend"]),
        "```",
        "",
        "```",
        table(doc),
        "```",
        "",
    ]
    failing = [r for r in doc["cases"] if not r["passed"]]
    lines.append(f"## Failing cases ({len(failing)})")
    for r in failing:
        case = by_id[r["id"]]
        expected = "abstain" if case.abstain else f"must contain {case.must_contain}; sources {case.sources}"
        lines += [
            "",
            f"### {r['id']} ({', '.join(r['tags'])})",
            f"- question: {r['question']}",
            f"- searched for: {r['search_query']}",
            f"- expected: {expected}",
            f"- got{' (abstained)' if r['abstained'] else ''}: {r['answer']}",
            f"- failures: {'; '.join(r['failures'])}",
            "- retrieved: " + "; ".join(f"{i + 1}. {x['title'][:70]}" for i, x in enumerate(r["retrieved"])),
        ]
    return "\n".join(lines) + "\n"


# -- CLI entry --------------------------------------------------------------------------
def run_cli(
    settings: Settings,
    qa_file: Path | None,
    out: Path | None,
    report: Path | None,
    backend: str,
    gate: bool,
    update_baseline: bool,
    echo: Callable[[str], None],
) -> int:
    from .pipeline import Assistant

    qa_path = qa_file or DEFAULT_QA
    cases = load_cases(qa_path)
    if backend == "offline":
        settings = settings.with_changes(llm={"answerer": "offline"})
    elif backend == "naive":
        from .naive import NaiveAssistant

        assistant = NaiveAssistant(settings)
    if backend != "naive":
        assistant = Assistant.from_settings(settings)
    stories = assistant.snapshot.stories
    doc = evaluate(assistant, cases, qa_path, backend if backend != "llm" else f"llm:{settings.llm.model}", stories)
    echo(table(doc))
    echo(summary_line(doc["aggregates"], doc["backend"]))
    if backend == "llm" and getattr(assistant, "chat", None) is not None:
        doc["judge"] = judge_faithfulness(assistant.chat, doc["cases"], EVAL_DIR / ".judge-cache")
        echo(f"LLM-judge faithfulness (reported only): {doc['judge']['faithfulness']:.3f} "
             f"over {doc['judge']['judged']} answers")  # fmt: skip
    if out:
        out.write_text(dumps(doc), encoding="utf-8")
    if report:
        report.write_text(markdown_report(doc, cases), encoding="utf-8")
    if update_baseline:
        BASELINE.write_text(dumps(baseline_document(doc["cases"], doc["aggregates"], qa_path)), encoding="utf-8")
        echo(f"wrote {BASELINE.relative_to(PROJECT_ROOT)}")
    if gate:
        baseline = json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.is_file() else None
        problems = check_gate(doc["aggregates"], doc["cases"], load_floors(), baseline)
        for p in problems:
            echo(f"GATE: {p}")
        return 1 if problems else 0
    return 0


def judge_faithfulness(chat, rows: list[dict], cache_dir: Path) -> dict:
    """LLM-judged share of answers supported by their quotes. Cached on disk; reported, never gating."""
    from . import prompts
    from .errors import LLMError

    cache_dir.mkdir(parents=True, exist_ok=True)
    verdicts = []
    for r in rows:
        if r["abstained"] or not r["citations"]:
            continue
        quotes = "\n".join(f"[{c['n']}] {prompts.fence(c['quote'])}" for c in r["citations"])
        prompt = prompts.render("judge", quotes=quotes, answer=prompts.fence(r["answer"]))
        key = hashlib.sha256(f"{chat.name}\x00{prompt}".encode()).hexdigest()[:24]
        cached = cache_dir / f"{key}.json"
        if cached.is_file():
            verdict = json.loads(cached.read_text(encoding="utf-8"))["supported"]
        else:
            try:
                reply = "".join(chat.stream([{"role": "user", "content": prompt}])).strip().lower()
            except LLMError:
                continue
            verdict = reply.startswith("yes")
            cached.write_text(json.dumps({"supported": verdict, "reply": reply[:200]}), encoding="utf-8")
        r["judge_supported"] = verdict
        verdicts.append(verdict)
    return {"judged": len(verdicts), "faithfulness": _mean([1.0 if v else 0.0 for v in verdicts])}


def evaluate(assistant, cases: list[Case], qa_path: Path, backend: str, stories: dict) -> dict:
    def ask(case: Case) -> Answer:
        return assistant.ask(case.question, history=case.history)

    assistant.ask("warm-up question about the stories")  # keep one-time loading out of the latency figures
    rows = run_cases(ask, cases, stories)
    return results_document(rows, cases, qa_path, backend)
