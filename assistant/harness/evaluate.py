"""The eval harness: Q&A pairs -> `Assistant.ask` -> deterministic metrics, report and CI gate.

Every case runs through the same `ask` path as the CLI and UI. All metrics are
computed from the answers alone (no model judges them), so two runs on one commit
give identical results apart from the latency fields, which `stable_view` drops.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import statistics
import string
import subprocess
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import yaml

from ..config import PROJECT_ROOT, Settings
from ..errors import ConfigError
from ..results import MAX_ANSWER_CHARS, Answer

if TYPE_CHECKING:
    from ..llm import ChatModel
    from ..pipeline import Assistant
    from ..stories import Story
    from .naive import NaiveAssistant

Stories = Mapping[str, "Story"]  # story_id -> story: what citations and retrieved ranks are checked against

EVAL_DIR = PROJECT_ROOT / "eval"
DEFAULT_QA = EVAL_DIR / "qa.yaml"
FLOORS = EVAL_DIR / "floors.yaml"
BASELINE = EVAL_DIR / "baseline.json"
TIMING_KEYS = (
    "latency_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "first_token_ms",
    "last_token_ms",
    "tokens_per_s",
    "first_token_p50_ms",
)
PUNCTUATION = frozenset(string.punctuation)


@dataclass
class Case:
    """One Q&A case: the question (with any chat history) and what a passing answer must do.

    `must_contain` holds groups of alternatives: every group needs one of its strings in the answer.
    `sources` are title/file fragments a relevant story or citation matches; `abstain` marks a
    question the stories do not answer. The last three fields are for questions about the archive.
    """

    id: str
    question: str
    tags: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    must_contain: list[list[str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    abstain: bool = False
    match: str = ""  # "squad": compare with SQuAD's answer normalisation (case, punctuation, articles)
    count: int | None = None  # a question about the archive: the number of distinct stories the answer must state
    stories: list[str] = field(default_factory=list)  # ... the complete set of stories to cite (title fragments)
    order: list[str] = field(default_factory=list)  # ... stories to cite in this (chronological) order

    @property
    def about_the_archive(self) -> bool:
        """A count, list or timeline: answered with one line per story, so the length limit does not apply."""
        return self.count is not None or bool(self.stories) or bool(self.order)


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
            match=str(expect.get("match", "")),
            count=_count_of(expect, path, item["id"]),
            stories=[str(x) for x in expect.get("stories") or []],
            order=[str(x) for x in expect.get("order") or []],
        )
        if case.id in seen:
            raise ConfigError(f"{path}: duplicate case id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    return cases


def _count_of(expect: dict, path: Path, case_id: object) -> int | None:
    value = expect.get("count")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{path}: case {case_id}: expect.count must be a whole number of stories, not {value!r}")
    return value


def fold(text: str) -> str:
    """`text` case-folded with runs of whitespace made single spaces: how answers and expectations compare."""
    return " ".join(text.casefold().split())


def matches(text: str, needle: str) -> bool:
    """Is `needle` in `text`, folded? A blank needle (" ") is matched as written, since folding would empty it."""
    return fold(needle) in fold(text) if needle.strip() else needle in text


def squad_normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def contains_answer(text: str, needle: str, match: str = "") -> bool:
    """Whether `text` holds `needle`, compared the way the case asks (SQuAD's normalisation or folded case)."""
    if match == "squad":
        n = squad_normalize(needle)
        return bool(n) and f" {n} " in f" {squad_normalize(text)} "
    return matches(text, needle)


def cites_source(citation: dict, sources: Sequence[str]) -> bool:
    """Whether a citation points at one of the expected stories (by its title, its file or the quote itself)."""
    return any(matches(citation[key] or "", s) for s in sources for key in ("title", "source", "quote"))


def grade(case: Case, answer: dict, stories: Stories) -> dict:
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
            if not any(contains_answer(text, alt, case.match) for alt in group):
                failures.append(f"missing one of {group}")
        if len(text) > MAX_ANSWER_CHARS and not case.about_the_archive:
            failures.append(f"answer is {len(text)} characters (limit {MAX_ANSWER_CHARS})")
    extra: dict = {}
    if not case.abstain and case.about_the_archive:
        extra = _grade_archive(case, text, cites, failures)
    verbatim = [_quote_ok(c, stories) for c in cites]
    support = [] if answer["abstained"] else claim_support(text, cites)
    if not all(verbatim):
        failures.append("a quote is not verbatim in its story")
    row = {
        "passed": not failures,
        "failures": failures,
        "quotes_verbatim": verbatim,
        "claims_supported": sum(support),
        "claims_judged": len(support),
    } | extra
    if case.sources and not case.abstain:
        row |= _grade_sources(case.sources, answer, stories)
    return row


def _grade_sources(sources: Sequence[str], answer: dict, stories: Stories) -> dict:
    """Citation precision/recall against the expected stories, and where retrieval first ranked one of them."""
    good = [cites_source(c, sources) for c in answer["citations"]]
    ranks = [r["rank"] for r in answer["retrieved"] if _story_matches(stories.get(r["story_id"]), sources)]
    return {
        "citation_precision": sum(good) / len(good) if good else 0.0,
        "citation_recall": 1.0 if any(good) else 0.0,
        "first_relevant_rank": min(ranks) if ranks else None,
        "ndcg5": _ndcg(ranks, 5),
    }


FIRST_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\d,])|(?<![\w.])\d+")


def stated_count(text: str) -> int | None:
    """The number an answer states: the first number written in digits ("2 of the 17 stories ..." -> 2)."""
    m = FIRST_NUMBER.search(text)
    return int(m.group(0).replace(",", "")) if m else None


def _cited_titles(fragment: str, cites: Sequence[dict]) -> list[int]:
    return [i for i, c in enumerate(cites) if matches(c["title"] or "", fragment)]


def _first_cited(fragment: str, cites: Sequence[dict]) -> int | None:
    return next(iter(_cited_titles(fragment, cites)), None)


def _grade_archive(case: Case, text: str, cites: Sequence[dict], failures: list[str]) -> dict:
    """Counts against the true count, lists against the true set, timelines against the true order."""
    out: dict = {}
    if case.count is not None:
        out["stated_count"] = stated = stated_count(text)
        if stated != case.count:
            failures.append(f"states {stated} stories, not {case.count}")
    if case.stories:
        missing = [f for f in case.stories if not _cited_titles(f, cites)]
        outside = [c["title"] for c in cites if not any(matches(c["title"] or "", f) for f in case.stories)]
        out["set_recall"] = round(1 - len(missing) / len(case.stories), 4)
        out["set_precision"] = round(1 - len(outside) / len(cites), 4) if cites else 0.0
        if missing:
            failures.append(f"does not cite {missing}")
        if outside:
            failures.append(f"cites stories outside the set: {outside}")
    if case.order:
        firsts = [_first_cited(f, cites) for f in case.order]
        missing = [f for f, at in zip(case.order, firsts, strict=True) if at is None]
        found = [at for at in firsts if at is not None]  # all of `firsts` when none is missing
        out["in_order"] = not missing and found == sorted(found)
        if missing:
            failures.append(f"does not cite {missing}")
        elif not out["in_order"]:
            failures.append(f"cites {case.order} out of order")
    return out


def _story_matches(story: Story | None, sources: Sequence[str]) -> bool:
    if story is None:
        return False
    return any(matches(story.title, s) or matches(story.source, s) or matches(story.text, s) for s in sources)


def _quote_ok(c: dict, stories: Stories) -> bool:
    story = stories.get(c["story_id"])
    return story is not None and story.text[c["start"] : c["end"]] == c["quote"] and c["quote"] != ""


def _ndcg(ranks: list[int], k: int) -> float:
    dcg = sum(1 / math.log2(r + 1) for r in ranks if r <= k)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(ranks), k)))
    return dcg / ideal if ideal else 0.0


def aggregate(rows: list[dict], cases: list[Case]) -> dict:
    """Every summary figure of a run over `rows` (one per case of `cases`), as the report and the gate read them.

    Retrieval and citation figures count only answerable cases with expected sources; citation
    precision only those that cited anything.
    """
    by_id = {c.id: c for c in cases}
    answerable = [r for r in rows if not by_id[r["id"]].abstain]
    unanswerable = [r for r in rows if by_id[r["id"]].abstain]
    sourced = [r for r in answerable if "citation_recall" in r["grade"]]
    quotes = [ok for r in rows for ok in r["grade"]["quotes_verbatim"]]
    latencies = [r["latency_ms"] for r in rows]

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
        ),
        "ndcg_at_5": _mean([r["grade"]["ndcg5"] for r in sourced]),
        "citation_precision": _mean([r["grade"]["citation_precision"] for r in cited]),
        "citation_recall": _mean([r["grade"]["citation_recall"] for r in sourced]),
        "quote_verbatim_rate": _mean([1.0 if q else 0.0 for q in quotes]) if quotes else 1.0,
        "correct_abstain_rate": _mean([1.0 if r["abstained"] else 0.0 for r in unanswerable]),
        "false_abstain_rate": _mean([1.0 if r["abstained"] else 0.0 for r in answerable]),
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
        "faithfulness": _ratio(
            sum(r["grade"]["claims_supported"] for r in rows), sum(r["grade"]["claims_judged"] for r in rows)
        ),
        **generation_aggregates(rows),
    }


def _mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def percentile(values: Sequence[float], p: float) -> float:
    """The `p`th percentile (0-100) of `values`, interpolated between the two nearest ranks; 0.0 for none.

    The same as `statistics.quantiles(values, n=100, method="inclusive")[p - 1]` and numpy's default,
    and defined for p = 0 and 100 too. The one definition the eval and the benchmark report.
    """
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * p / 100
    below = math.floor(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def by_tag(rows: list[dict], cases: list[Case]) -> dict:
    """`aggregate` per tag (untagged cases under "untagged"), plus each kind of archive question on its own."""
    groups: dict[str, list[str]] = defaultdict(list)
    for c in cases:
        for t in c.tags or ["untagged"]:
            groups[t].append(c.id)
            if "archive" in c.tags and t != "archive":  # each kind of archive question on its own ("archive-list")
                groups[f"archive-{t}"].append(c.id)
    out = {}
    for tag in sorted(groups):
        ids = set(groups[tag])
        sub_rows = [r for r in rows if r["id"] in ids]
        out[tag] = aggregate(sub_rows, [c for c in cases if c.id in ids])
    return out


def run_cases(
    ask: Callable[[Case], Answer],
    cases: list[Case],
    stories: Stories,
    progress: Callable[[Case, dict], None] | None = None,
) -> list[dict]:
    """Ask every case and grade its answer: one results row per case, with what was asked, answered and cited."""
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
                "confidence": answer.get("confidence"),
                "generation": answer.get("generation"),
                "passed": graded["passed"],
                "failures": graded["failures"],
                "grade": graded,
            }
        )
        if progress:
            progress(case, rows[-1])
    return rows


def file_hash(path: Path) -> str:
    """A short content hash, so results and baselines name the exact Q&A file they were made from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def git_commit() -> str:
    """The commit the results were made on ("unknown" outside a git checkout or without git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def results_document(rows: list[dict], cases: list[Case], qa_path: Path, backend: str) -> dict:
    """The results file: provenance (Q&A file hash, commit, backend), every aggregate and every case row."""
    return {
        "qa_file": qa_path.name,
        "qa_sha256": file_hash(qa_path),
        "commit": git_commit(),
        "backend": backend,
        "aggregates": aggregate(rows, cases),
        "by_tag": by_tag(rows, cases),
        "abstention_curve": abstention_curve(rows, cases),
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
    """JSON with sorted keys and real letters (not escapes), so equal results give equal bytes and readable diffs."""
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# -- gate -------------------------------------------------------------------------------
def load_floors(path: Path = FLOORS) -> dict:
    """The gate's limits: `min` (floors) and `max` (ceilings), each a mapping of aggregate name to limit."""
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
    """What `--update-baseline` records: the stable aggregates and which cases passed, for the no-regression gate."""
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
    """The one-line summary `assistant eval` prints last (`eval[backend]: ...`), the line runs are compared by."""
    return (
        f"eval[{backend}]: {agg['cases']} cases | answer {agg['answer_pass_rate']:.3f} | "
        f"citation R {agg['citation_recall']:.3f} P {agg['citation_precision']:.3f} | "
        f"hit@1/3/5 {agg['hit_at_1']:.2f}/{agg['hit_at_3']:.2f}/{agg['hit_at_5']:.2f} MRR {agg['mrr']:.3f} | "
        f"abstain correct {agg['correct_abstain_rate']:.2f} false {agg['false_abstain_rate']:.3f} | "
        f"quotes verbatim {agg['quote_verbatim_rate']:.3f} | faithful {agg['faithfulness'] or 0:.3f} | "
        f"p50 {agg['latency_p50_ms']:.0f} ms "
        f"p95 {agg['latency_p95_ms']:.0f} ms"
    )


def table(doc: dict) -> str:
    """The SUMMARY_KEYS figures as a fixed-width text table: all cases first, then one row per tag."""
    head = f"{'tag':<18}{'n':>4} " + " ".join(f"{label:>10}" for label, _ in SUMMARY_KEYS)
    lines = [head, "-" * len(head)]
    for tag, agg in [("ALL", doc["aggregates"]), *doc["by_tag"].items()]:
        cells = " ".join(
            f"{agg[key]:>10.3f}" if "ms" not in label else f"{agg[key]:>10.0f}" for label, key in SUMMARY_KEYS
        )
        lines.append(f"{tag:<18}{agg['cases']:>4} {cells}")
    return "\n".join(lines)


def markdown_report(doc: dict, cases: list[Case]) -> str:
    """The `--report` file: summary, per-tag table, abstention trade-off, then each failing case with what it got."""
    by_id = {c.id: c for c in cases}
    lines = [
        f"# Eval report ({doc['backend']})",
        "",
        f"Commit `{doc['commit'][:12]}`, Q&A file `{doc['qa_file']}` (sha256 {doc['qa_sha256']}).",
        "",
        "```",
        summary_line(doc["aggregates"], doc["backend"]),
        *([generation_line(doc["aggregates"])] if "llm_asked" in doc["aggregates"] else []),
        "```",
        "",
        "```",
        table(doc),
        "```",
        "",
    ]
    lines += curve_section(doc.get("abstention_curve") or [])
    failing = [r for r in doc["cases"] if not r["passed"]]
    lines.append(f"## Failing cases ({len(failing)})")
    for r in failing:
        case = by_id[r["id"]]
        expected = expected_of(case)
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


def expected_of(case: Case) -> str:
    """What a case expects, in words, for the report."""
    if case.abstain:
        return "abstain"
    parts = []
    if case.count is not None:
        parts.append(f"states the count {case.count}")
    if case.stories:
        parts.append(f"cites exactly {case.stories}")
    if case.order:
        parts.append(f"cites in order {case.order}")
    if case.must_contain or not parts:
        parts.append(f"must contain {case.must_contain}")
    if case.sources or not case.about_the_archive:
        parts.append(f"sources {case.sources}")
    return "; ".join(parts)


# -- a corpus of one's own ------------------------------------------------------------------
def corpus_hash(folder: Path, settings: Settings) -> str:
    """A key for a folder's indexable files and the settings that shape its index."""
    from ..sources import SUFFIXES

    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    e = settings.embedding
    digest.update(f"{e.backend}:{e.openai_model}:{e.chunk_tokens}".encode())
    return digest.hexdigest()[:16]


def corpus_assistant(settings: Settings, folder: Path, echo: Callable[[str], None] = lambda _: None) -> Assistant:
    """An `Assistant` over `folder` alone, in a throwaway index kept per content hash.

    The user's own index, uploads and feedback are never touched; a second run on the
    same files reuses the index (ingest skips unchanged files in a fraction of a second).
    """
    from ..pipeline import Assistant

    if not folder.is_dir():
        raise ConfigError(f"--corpus {folder} is not a folder: give a folder of .txt/.md story files.")
    root = settings.paths.eval_index_dir / corpus_hash(folder, settings)
    private = settings.with_changes(
        paths={
            "corpus_dir": folder,
            "index_dir": root / "index",
            "uploads_dir": root / "uploads",
            "feedback_file": root / "feedback.jsonl",
        },
        store={"chroma_host": ""},
    )
    assistant = Assistant.from_settings(private)
    report = assistant.ingest([folder], progress=lambda m: echo(f"  {m}"))
    echo(f"Corpus {folder} -> {root}: {report.summary()}")
    return assistant


# -- abstention trade-off --------------------------------------------------------------------
CURVE_POINTS = tuple(round(0.05 * i, 2) for i in range(21))


def abstention_curve(rows: list[dict], cases: list[Case]) -> list[dict]:
    """For each threshold on the reader's confidence: abstention on unanswerable vs on answerable questions."""
    by_id = {c.id: c for c in cases}
    scored = [(r["confidence"] or 0.0, by_id[r["id"]].abstain) for r in rows if r.get("confidence") is not None]
    unanswerable = [c for c, abstain in scored if abstain]
    answerable = [c for c, abstain in scored if not abstain]
    if not unanswerable or not answerable:
        return []
    from ..reader import ReaderModel

    points = sorted({*CURVE_POINTS, ReaderModel.load().threshold})  # the reader's own point, exactly
    return [
        {
            "threshold": t,
            "abstain_unanswerable": _mean([1.0 if c < t else 0.0 for c in unanswerable]),
            "false_abstain": _mean([1.0 if c < t else 0.0 for c in answerable]),
        }
        for t in points
    ]


def curve_section(curve: list[dict]) -> list[str]:
    """The abstention trade-off as a markdown table, with the reader's own threshold marked."""
    if not curve:
        return []
    from ..reader import ReaderModel

    threshold = ReaderModel.load().threshold
    lines = [
        "## Abstention trade-off",
        "",
        f"The reader abstains when its confidence is below {threshold} (chosen on the dev split).",
        "",
        "| threshold | abstains when unanswerable | false abstention |",
        "|---|---|---|",
    ]
    for point in curve:
        mark = f"**{point['threshold']} (reader)**" if point["threshold"] == threshold else f"{point['threshold']:.2f}"
        lines.append(f"| {mark} | {point['abstain_unanswerable']:.3f} | {point['false_abstain']:.3f} |")
    return [*lines, ""]


def plot_curve(curve: list[dict], threshold: float, title: str, path: Path) -> None:
    """The abstention trade-off as a picture (needs matplotlib: `pip install -e '.[bench]'`)."""
    plot_curves({"": curve}, threshold, title, path)


def plot_curves(curves: dict[str, list[dict]], threshold: float, title: str, path: Path) -> None:
    """Several corpora's abstention trade-offs in one picture, each with a dot where the reader's threshold sits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for label, curve in curves.items():
        (line,) = ax.plot([p["false_abstain"] for p in curve], [p["abstain_unanswerable"] for p in curve], marker=".")
        line.set_label(label or None)
        at = min(curve, key=lambda p: abs(p["threshold"] - threshold))
        ax.scatter(
            [at["false_abstain"]], [at["abstain_unanswerable"]], color=line.get_color(), edgecolor="black", zorder=3
        )
    ax.scatter([], [], color="white", edgecolor="black", label=f"reader threshold {threshold}")
    ax.set_xlabel("false abstention (answerable questions abstained)")
    ax.set_ylabel("abstention on unanswerable questions")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the backend under test -------------------------------------------------------------
BACKENDS = ("offline", "llm", "naive")


# a backend named literally gives its own class, so the benchmark can reach what only that one has
@overload
def backend_assistant(
    settings: Settings,
    backend: Literal["offline", "llm"],
    corpus: Path | None = None,
    echo: Callable[[str], None] = ...,
) -> tuple[Assistant, str]: ...
@overload
def backend_assistant(
    settings: Settings, backend: Literal["naive"], corpus: Path | None = None, echo: Callable[[str], None] = ...
) -> tuple[NaiveAssistant, str]: ...
@overload
def backend_assistant(
    settings: Settings, backend: str, corpus: Path | None = None, echo: Callable[[str], None] = ...
) -> tuple[Assistant | NaiveAssistant, str]: ...
def backend_assistant(
    settings: Settings, backend: str, corpus: Path | None = None, echo: Callable[[str], None] = lambda _: None
) -> tuple[Assistant | NaiveAssistant, str]:
    """The assistant a run measures, and its name in the results: the one place a backend is chosen.

    "offline" and "llm" are the product's own `Assistant` with that answerer (over `corpus` alone
    when given, else the index); "naive" is the llama-index-defaults peer over `corpus` (or the bundle).
    """
    match backend:
        case "offline" | "llm":
            from ..pipeline import Assistant

            chosen = settings.with_changes(llm={"answerer": backend})
            built = Assistant.from_settings(chosen) if corpus is None else corpus_assistant(chosen, corpus, echo)
            return built, "offline" if backend == "offline" else f"llm:{chosen.llm.model}"
        case "naive":
            from .naive import NaiveAssistant

            return NaiveAssistant(settings, corpus), "naive"
    raise ConfigError(f"Unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}.")


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
    corpus: Path | None = None,
    floors: Path | None = None,
    baseline: Path | None = None,
    every: int = 1,
    plot: Path | None = None,
) -> int:
    """`assistant eval`: run the cases on one backend, print the table and summary, write the files asked for.

    Returns the exit code: 1 when `gate` is set and a floor, ceiling or baseline case fails, else 0.
    """
    qa_path = qa_file or DEFAULT_QA
    baseline_path = baseline or BASELINE
    cases = load_cases(qa_path)[:: max(every, 1)]
    assistant, label = backend_assistant(settings, backend, corpus, echo)
    doc = evaluate(assistant, cases, qa_path, label, assistant.snapshot.stories)
    doc["corpus"] = corpus.as_posix() if corpus else "index"
    echo(table(doc))
    echo(summary_line(doc["aggregates"], doc["backend"]))
    if "llm_asked" in doc["aggregates"]:
        echo(generation_line(doc["aggregates"]))
    if out:
        out.write_text(dumps(doc), encoding="utf-8")
    if report:
        report.write_text(markdown_report(doc, cases), encoding="utf-8")
    if plot and doc["abstention_curve"]:
        from ..reader import ReaderModel

        plot_curve(doc["abstention_curve"], ReaderModel.load().threshold, f"{qa_path.name}: abstention trade-off", plot)
    if update_baseline:
        baseline_path.write_text(dumps(baseline_document(doc["cases"], doc["aggregates"], qa_path)), encoding="utf-8")
        echo(f"wrote {baseline_path}")
    if gate:
        gated = baseline or (BASELINE if qa_path == DEFAULT_QA else None)  # the default baseline is qa.yaml's
        known = json.loads(gated.read_text(encoding="utf-8")) if gated and gated.is_file() else None
        problems = check_gate(doc["aggregates"], doc["cases"], load_floors(floors or FLOORS), known)
        for p in problems:
            echo(f"GATE: {p}")
        return 1 if problems else 0
    return 0


def judge_faithfulness(chat: ChatModel, rows: list[dict], cache_dir: Path) -> dict:
    """LLM-judged share of answers supported by their quotes. Cached on disk; reported, never gating.

    Not run by `assistant eval`: a judge must be a stronger model than the one judged, and
    the model at hand is often the small answerer itself. The eval reports the deterministic
    `faithfulness` (`claim_support`) for every answerer instead.
    """
    from .. import prompts
    from ..errors import LLMError

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


def evaluate(
    assistant: Assistant | NaiveAssistant, cases: list[Case], qa_path: Path, backend: str, stories: Stories
) -> dict:
    """The results document for `cases` asked of `assistant`, after one untimed warm-up question."""

    def ask(case: Case) -> Answer:
        return assistant.ask(case.question, history=case.history)

    assistant.ask("warm-up question about the stories")  # keep one-time loading out of the latency figures
    rows = run_cases(ask, cases, stories)
    return results_document(rows, cases, qa_path, backend)


# -- what the LLM did ---------------------------------------------------------------------
def claim_support(text: str, citations: Sequence[dict]) -> list[bool]:
    """For each judgeable sentence of an answer, whether the quotes it cites hold its terms (`citations.supported`)."""
    from ..citations import claims, supported

    quotes = {c["n"]: _with_story_day(c) for c in citations}
    verdicts = [supported(sentence, [quotes[n] for n in numbers if n in quotes]) for sentence, numbers in claims(text)]
    return [v for v in verdicts if v is not None]


def _with_story_day(citation: dict) -> str:
    """A quote; for one opening "Today ..." in a dated story, also the day a reply states from it (`story_day_text`)."""
    from ..features import RELATIVE_DAY_RE, is_full_date, story_day_text

    quote, day = citation["quote"], citation.get("date")
    opening = RELATIVE_DAY_RE.match(quote)
    return f"{quote} {story_day_text(opening.group(1), day)}" if opening and is_full_date(day) else quote


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def generation_aggregates(rows: list[dict]) -> dict:
    """Figures for the answers the LLM was asked to write (none when it never was).

    It is asked only when the offline reader finds an answer in the evidence, so its
    abstentions add to the reader's. Rates are over the answers it was asked for;
    citation validity is over the [n] markers it wrote (None when it wrote none).
    """
    gens = [r["generation"] for r in rows if r.get("generation")]
    if not gens:
        return {}
    failed = [g for g in gens if g["failed"]]
    written = [g for g in gens if not g["failed"] and not g["abstained"]]
    timed = [g for g in gens if not g["failed"] and g["tokens"] > 1]
    seconds = sum(g["last_token_ms"] - g["first_token_ms"] for g in timed) / 1000
    markers = sum(g["markers_written"] for g in written)
    return {
        "llm_asked": len(gens),
        "fallback_rate": _ratio(len(failed), len(gens)),
        "llm_abstain_rate": _ratio(sum(g["abstained"] for g in gens), len(gens)),
        "markers_written": markers,
        "citation_validity": _ratio(sum(g["markers_valid"] for g in written), markers),
        "check_changed_rate": _ratio(sum(1 for g in written if g["dropped"] or g["moved"]), len(written)),
        "check_attached_rate": _ratio(sum(1 for g in written if g["attached"]), len(written)),
        "uncited_rate": _ratio(sum(1 for g in written if g["uncited"]), len(written)),
        "tokens_per_s": round(sum(g["tokens"] - 1 for g in timed) / seconds, 1) if seconds > 0 else None,
        "first_token_p50_ms": round(percentile([g["first_token_ms"] for g in gens if not g["failed"]], 50), 1),
    }


def generation_line(agg: dict) -> str:
    """The `generation_aggregates` figures on one line, printed under the summary when an LLM answered."""

    def show(key: str) -> str:
        return "n/a" if agg.get(key) is None else f"{agg[key]:.3f}"

    return (
        f"llm: asked {agg['llm_asked']} | fallback {show('fallback_rate')} | abstained {show('llm_abstain_rate')} | "
        f"[n] written {agg['markers_written']}, valid {show('citation_validity')} | check dropped/moved "
        f"{show('check_changed_rate')}, attached {show('check_attached_rate')} | answers with an uncited sentence "
        f"{show('uncited_rate')} | {agg['tokens_per_s'] or 0:.1f} tokens/s, first token p50 "
        f"{agg['first_token_p50_ms']:.0f} ms"
    )
