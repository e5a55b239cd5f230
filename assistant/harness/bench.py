"""Benchmarks: latency, ingest throughput and memory as the corpus grows, beside the naive peer.

`assistant bench --scales 1,10,100` builds scale corpora (the bundled files plus N-1 synthetic
copies of every story, with new titles, dates and ids and sentences recombined across real
stories), ingests each into embedded Chroma and into a real `chroma run` server on loopback,
and measures everything on the machine it runs on. Results go to a markdown file and a PNG plot.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..chunks import chunk_story, embedding_text, split_sentences
from ..config import PROJECT_ROOT, Settings
from ..netutil import free_port, wait_for_port
from ..sources import find_files, read_story_file
from ..stories import Story, parse_text
from .evaluate import DEFAULT_QA, Case, backend_assistant, evaluate, load_cases, percentile

if TYPE_CHECKING:
    from ..pipeline import Assistant

QUESTIONS = [
    "Who launched the Central Asian Alliance?",
    "When was the Central Asian Alliance launched?",
    "How many people were returned to Kazakhstan from conflict zones?",
    "What share of Kazakhstan's land is degraded?",
    "Who did Prime Minister Olzhas Bektenov meet?",
    "How many companies from Kazakhstan are members of the UN Global Compact?",
    "Where was the third Regional Workshop on Integrated Community Development held?",
    "What was the slogan of the UNICEF Talks Youth Conference?",
    "How many pesticide stores are there in Kazakhstan?",
    "What is the population of Kazakhstan?",
]
SAMPLE = 1000  # chunks timed for the embedder-alone ceiling
ROUNDS, NAIVE_ROUNDS = 3, 2  # times each question is asked of the product and of the (slower) naive peer


@dataclass(frozen=True)
class Workload:
    """What each row times: the fixed questions, and how many chunks time the embedder alone.

    The defaults are the published run's (`assistant bench`); the smoke test passes a lighter
    one, since its figures are checked for shape, not published.
    """

    questions: tuple[str, ...] = tuple(QUESTIONS)
    embed_sample: int = SAMPLE


# -- the scale corpus -------------------------------------------------------------------
def bundled_stories(corpus_dir: Path) -> list[Story]:
    """Every story in the corpus folder, parsed as ingest parses it: the material the synthetic copies reuse."""
    stories = []
    for path in find_files([corpus_dir]):
        stories += parse_text(read_story_file(path), path.name)
    return stories


def write_scale_corpus(corpus_dir: Path, scale: int, out: Path, seed: int = 7) -> Path:
    """The bundled files plus (scale-1) synthetic copies of each story, one file per story."""
    out.mkdir(parents=True, exist_ok=True)
    for path in find_files([corpus_dir]):
        shutil.copy(path, out / path.name)
    stories = bundled_stories(corpus_dir)
    pool = [
        s.text
        for story in stories
        if story.language == "en"
        for s in split_sentences(story.text)
        if len(s.text.split()) >= 6
    ]
    rng = random.Random(seed)
    for copy in range(1, scale):
        for i, story in enumerate(stories):
            sentences = [s.text for s in split_sentences(story.text)]
            mixed = [rng.choice(pool) if story.language == "en" and rng.random() < 0.35 else s for s in sentences]
            rng.shuffle(mixed)
            when = date(2015, 1, 1) + timedelta(days=rng.randrange(3650))
            title = f"{story.title} — edition {copy}"
            body = "\n".join(" ".join(mixed[j : j + 4]) for j in range(0, len(mixed), 4))
            (out / f"syn_{copy:03d}_{i:02d}.txt").write_text(
                f"{title}\n{when.strftime('%d %B %Y')}\n{body}\n", encoding="utf-8"
            )
    return out


# -- measuring --------------------------------------------------------------------------
@dataclass
class Row:
    """One measured configuration (a scale in one mode: embedded, server, naive or llm) and its raw timings.

    A figure left at its zero default was not measured in that mode; the report shows it as "—".
    """

    scale: int
    mode: str
    stories: int = 0
    chunks: int = 0
    ingest_s: float = 0.0
    reingest_s: float = 0.0
    embed_only_chunks_s: float = 0.0
    index_mb: float = 0.0
    retrieval_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    cold_start_s: float = 0.0
    ask_rss_mb: float = 0.0
    ui_rss_mb: float = 0.0
    eval_answer: float | None = None
    tokens_per_s: float = 0.0  # LLM rows: generated tokens per second, after the first
    first_token_ms: list[float] = field(default_factory=list)  # LLM rows: request to first token
    fallbacks: int = 0  # LLM rows: answers the offline reader gave because the LLM failed

    @property
    def ingest_chunks_s(self) -> float:
        """Ingest throughput in chunks per second (0 when ingest was not timed)."""
        return self.chunks / self.ingest_s if self.ingest_s else 0.0


def folder_mb(path: Path) -> float:
    """The size on disk of every file under `path`, in MB: an index's footprint."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def start_chroma(data: Path) -> tuple[subprocess.Popen, int]:
    """A `chroma run` server on a free loopback port, storing in `data`, once it listens; the caller stops it.

    The venv's own `chroma` is preferred, so the server matches the client library's version.
    """
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    port = free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if wait_for_port(port, 60, proc):
        return proc, port
    proc.kill()
    raise RuntimeError("chroma run did not start")


def embed_throughput(assistant: Assistant, corpus: Path, sample: int = SAMPLE) -> float:
    """Chunks per second for the embedding model alone, on the chunks ingest embeds.

    Above `sample` chunks an evenly spaced sample of them is timed: the rate per chunk is
    what matters, and embedding a scale-100 corpus twice would double the run.
    """
    e, size = assistant.embedder, assistant.settings.embedding.chunk_tokens
    texts = []
    for path in find_files([corpus]):
        for story in parse_text(read_story_file(path), path.name):
            texts += [embedding_text(story, c) for c in chunk_story(story, size, e.count_tokens)]
    if len(texts) > sample:
        texts = texts[:: len(texts) // sample][:sample]
    began = time.perf_counter()
    for i in range(0, len(texts), 32):
        e.passages(texts[i : i + 32])
    return len(texts) / (time.perf_counter() - began)


def time_queries(assistant: Assistant, questions: Sequence[str] = QUESTIONS) -> tuple[list[float], list[float]]:
    """Milliseconds for retrieval alone and for a whole answer, per question, `ROUNDS` rounds after a warm-up."""
    assistant.ask("warm-up question")
    retrieval, answers = [], []
    for _ in range(ROUNDS):
        for q in questions:
            began = time.perf_counter()
            assistant.retriever.search(q)
            retrieval.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            assistant.ask(q)
            answers.append((time.perf_counter() - began) * 1000)
    return retrieval, answers


ASK_AND_REPORT_RSS = """
import resource, sys
from assistant.cli import main
try:
    main(sys.argv[1:])
finally:
    print("peak-rss-kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def cold_start(env: dict) -> tuple[float, float]:
    """Seconds from process start to the first answer on an existing index, and that process's peak RSS (MB).

    The child reports its own peak: RUSAGE_CHILDREN would give the largest of every child so far.
    """
    cmd = [sys.executable, "-c", ASK_AND_REPORT_RSS, "--env-file", os.devnull, "ask", QUESTIONS[0]]
    began = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, check=True, capture_output=True, text=True)
    took = time.perf_counter() - began
    peak = int(done.stderr.rsplit("peak-rss-kb", 1)[1].split()[0])
    return took, peak / 1024


def ui_rss(env: dict) -> float:
    """Peak RSS (MB) of the UI process after it answered a question through its API."""
    from gradio_client import Client

    port = free_port()
    cmd = [sys.executable, "-m", "assistant.cli", "--env-file", os.devnull, "ui", "--no-ingest", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 120, proc, poll_s=0.5)
        Client(f"http://127.0.0.1:{port}", verbose=False).predict(
            QUESTIONS[0], [], 6, "", "", "all", "offline", api_name="/ask"
        )
        status = Path(f"/proc/{proc.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(
    settings: Settings,
    corpus: Path,
    scale: int,
    mode: str,
    env: dict,
    with_processes: bool,
    workload: Workload = Workload(),
) -> Row:
    """The product over `corpus`: ingest, no-change re-ingest, embedder ceiling, query latencies.

    `with_processes` adds the separate-process figures (cold start and RSS of `ask`, RSS of the UI),
    which read the index through `env`.
    """
    row = Row(scale, mode)
    assistant, _ = backend_assistant(settings, "offline")
    report = assistant.ingest([corpus])
    row.ingest_s = report.seconds
    snap = assistant.snapshot
    row.stories, row.chunks = len(snap.stories), len(snap.chunks)
    row.reingest_s = assistant.ingest([corpus]).seconds
    row.embed_only_chunks_s = embed_throughput(assistant, corpus, workload.embed_sample)
    row.retrieval_ms, row.answer_ms = time_queries(assistant, workload.questions)
    if with_processes:
        row.cold_start_s, row.ask_rss_mb = cold_start(env)
        row.ui_rss_mb = ui_rss(env)
    return row


def measure_naive(
    settings: Settings,
    corpus: Path,
    scale: int,
    eval_cases: list[Case] | None,
    questions: Sequence[str] = QUESTIONS,
) -> Row:
    """The naive peer over `corpus`: build time, answer latency, and its eval answer rate when given cases."""
    row = Row(scale, "naive")
    began = time.perf_counter()
    naive, _ = backend_assistant(settings, "naive", corpus)
    row.ingest_s = time.perf_counter() - began
    row.stories = len(naive.files)
    row.chunks = naive.chunk_count
    for q in list(questions) * NAIVE_ROUNDS:
        began = time.perf_counter()
        naive.ask(q)
        row.answer_ms.append((time.perf_counter() - began) * 1000)
    if eval_cases:
        doc = evaluate(naive, eval_cases, DEFAULT_QA, "naive", naive.snapshot.stories)
        row.eval_answer = doc["aggregates"]["answer_pass_rate"]
    return row


def measure_llm(settings: Settings, scale: int, questions: Sequence[str] = QUESTIONS) -> Row:
    """The configured LLM answering the fixed questions once each, on an index built already."""
    assistant, _ = backend_assistant(settings, "llm")
    row = Row(scale, "llm")
    snap = assistant.snapshot
    row.stories, row.chunks = len(snap.stories), len(snap.chunks)
    assistant.ask(questions[0])  # warm-up: the server loads the prompt cache
    tokens, seconds = 0, 0.0
    for q in questions:
        answer = assistant.ask(q)
        row.answer_ms.append(answer.latency_ms)
        g = answer.generation
        if g is None:
            continue  # the reader abstained, so the LLM was not asked
        if g.failed:
            row.fallbacks += 1
        elif g.tokens > 1:
            row.first_token_ms.append(g.first_token_ms)
            tokens, seconds = tokens + g.tokens - 1, seconds + (g.last_token_ms - g.first_token_ms) / 1000
    row.tokens_per_s = tokens / seconds if seconds else 0.0
    return row


def eval_score(settings: Settings, eval_cases: list[Case]) -> float:
    """The offline answer pass rate on `eval_cases` over the settings' index: quality kept as the corpus grows."""
    assistant, _ = backend_assistant(settings, "offline")
    doc = evaluate(assistant, eval_cases, DEFAULT_QA, "offline", assistant.snapshot.stories)
    return doc["aggregates"]["answer_pass_rate"]


def machine() -> str:
    """Cores, CPU model, memory and Python version of the machine measured on (Linux), for the report's header."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), platform.processor()
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem = next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores ({cpu}), {int(mem) / 1024 / 1024:.0f} GiB RAM, Python {platform.python_version()}"


# -- the run ----------------------------------------------------------------------------
def run(
    settings: Settings,
    scales: list[int],
    out: Path,
    echo: Callable[[str], None],
    naive: bool = True,
    server: bool = True,
    with_processes: bool = True,
    eval_naive_at: int = 1,
    server_up_to: int = 0,
    llm: bool = False,
    workload: Workload = Workload(),
) -> list[Row]:
    """Measure every scale; server mode only up to `server_up_to` (0: every scale); `llm` also times the LLM."""
    cases = load_cases(DEFAULT_QA)
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="kz-bench-"))
    try:
        for scale in scales:
            corpus = write_scale_corpus(settings.paths.corpus_dir, scale, work / f"corpus-{scale}")
            echo(f"scale {scale}: {len(find_files([corpus]))} files")
            index = work / f"index-{scale}"
            env = os.environ | {
                "INDEX_DIR": str(index),
                "ANSWERER": "offline",
                "OPENAI_BASE_URL": "",
                "OPENAI_API_KEY": "",
                "CHROMA_HOST": "",
            }
            embedded = settings.with_changes(
                paths={"index_dir": index}, llm={"answerer": "offline"}, store={"chroma_host": ""}
            )
            row = measure(embedded, corpus, scale, "embedded", env, with_processes, workload)
            row.index_mb = folder_mb(index)
            row.eval_answer = eval_score(embedded, cases)
            rows.append(row)
            echo(summary(row))
            write_report(rows, out, workload)  # after every row, so a long run leaves what it measured
            if llm:
                on_index = settings.with_changes(paths={"index_dir": index}, store={"chroma_host": ""})
                rows.append(measure_llm(on_index, scale, workload.questions))
                echo(summary(rows[-1]))
                write_report(rows, out, workload)
            if server and (not server_up_to or scale <= server_up_to):
                data = work / f"server-{scale}"
                proc, port = start_chroma(data)
                try:
                    remote = embedded.with_changes(
                        store={"chroma_host": "127.0.0.1", "chroma_port": port, "collection": f"bench{scale}"}
                    )
                    srow = measure(remote, corpus, scale, "server", env, False, workload)
                    srow.index_mb = folder_mb(data)
                    rows.append(srow)
                    echo(summary(srow))
                    write_report(rows, out, workload)
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
            if naive:
                naive_cases = cases if scale <= eval_naive_at else None
                nrow = measure_naive(embedded, corpus, scale, naive_cases, workload.questions)
                rows.append(nrow)
                echo(summary(nrow))
                write_report(rows, out, workload)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report(rows, out, workload)
    return rows


def write_report(rows: list[Row], out: Path, workload: Workload = Workload()) -> None:
    """The markdown table and plot, and every raw timing in a JSON file beside them."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(rows, out, workload), encoding="utf-8")
    raw = [asdict(r) for r in rows]
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")


def summary(r: Row) -> str:
    """One row as a progress line, echoed as soon as it is measured."""
    latency = f"answer p50 {percentile(r.answer_ms, 50):.0f} ms p95 {percentile(r.answer_ms, 95):.0f} ms"
    return (
        f"  {r.mode:<8} scale {r.scale}: {r.stories} stories, {r.chunks} chunks, ingest {r.ingest_s:.1f}s "
        f"({r.ingest_chunks_s:.1f} chunks/s; embedder alone {r.embed_only_chunks_s:.1f}), re-ingest "
        f"{r.reingest_s:.2f}s, {latency}"
    )


def report(rows: list[Row], out: Path, workload: Workload = Workload()) -> str:
    """The benchmark markdown: how it was measured, one table row per `Row`, the LLM figures and the targets.

    Also draws the plot beside `out` (when matplotlib is installed) and links it.
    """
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `assistant bench` on {machine()}, {time.strftime('%Y-%m-%d')}. Offline answerer;",
        f"{len(workload.questions)} fixed questions, each asked {ROUNDS} times (naive: {NAIVE_ROUNDS}). "
        "Scale N = the bundled corpus plus N-1",
        "synthetic copies of every story. Naive = llama-index defaults (1024-token SentenceSplitter,",
        "VectorStoreIndex on Chroma, vector top-2, most similar sentence), same embedding model.",
        "",
        "| scale | mode | stories (naive: files) | chunks | ingest s | chunks/s | embedder alone chunks/s | "
        "re-ingest s | index MB | retrieval p50/p95 ms | answer p50/p95 ms | cold start s | ask RSS MB | "
        "UI RSS MB | eval answer |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scale} | {r.mode} | {r.stories} | {r.chunks} | {r.ingest_s:.1f} | {r.ingest_chunks_s:.1f} | "
            f"{cell(r.embed_only_chunks_s, '.1f')} | {cell(r.reingest_s, '.2f')} | {cell(r.index_mb, '.1f')} | "
            f"{latency(r.retrieval_ms)} | {latency(r.answer_ms)} | {cell(r.cold_start_s, '.1f')} | "
            f"{cell(r.ask_rss_mb, '.0f')} | {cell(r.ui_rss_mb, '.0f')} | {cell(r.eval_answer, '.3f')} |"
        )
    lines += [
        "",
        "— : not measured in that mode (the naive peer has no incremental re-ingest and keeps its",
        "index in memory; cold start and RSS are measured once per scale, on the embedded index).",
    ]
    lines += llm_section(rows, len(workload.questions))
    lines += ["", "## Against the targets", "", *targets(rows)]
    png = plot(rows, out.with_suffix(".png"))
    if png:
        lines += ["", f"![latency and ingest time against corpus size]({png.name})"]
    return "\n".join(lines) + "\n"


def llm_section(rows: list[Row], asked: int = len(QUESTIONS)) -> list[str]:
    """The LLM rows' own figures: speed of generation and how often the offline reader had to step in."""
    llm = [r for r in rows if r.mode == "llm"]
    if not llm:
        return []
    lines = [
        "",
        "## The LLM answerer",
        "",
        f"The configured LLM answering the {asked} fixed questions once each (`--llm`); its answer",
        "latency includes retrieval and the offline reader, which runs first and decides whether to ask it.",
        "",
        "| scale | answer p50/p95 ms | first token p50 ms | tokens/s | fell back to offline |",
        "|---|---|---|---|---|",
    ]
    for r in llm:
        lines.append(
            f"| {r.scale} | {latency(r.answer_ms)} | {percentile(r.first_token_ms, 50):.0f} | "
            f"{r.tokens_per_s:.1f} | {r.fallbacks} of {len(r.answer_ms)} |"
        )
    return lines


def cell(value: float | None, fmt: str) -> str:
    """A table cell: `value` formatted, or "—" when it was not measured (None or zero)."""
    return "—" if not value else format(value, fmt)


def latency(ms: list[float]) -> str:
    """The "p50 / p95" cell for a list of timings, or "—" when there are none."""
    return f"{percentile(ms, 50):.0f} / {percentile(ms, 95):.0f}" if ms else "—"


def targets(rows: list[Row]) -> list[str]:
    """One line per target of the benchmark issue, with the measured figure and met / missed."""
    out = []

    def check(label: str, value: float, limit: float, unit: str, higher_is_better: bool = False) -> None:
        met = value >= limit if higher_is_better else value <= limit
        sign = ">=" if higher_is_better else "<="
        verdict = "met" if met else "**missed**"
        out.append(f"- {label}: {value:.{0 if unit == 'ms' else 2}f} {unit} (target {sign} {limit:g}) {verdict}")

    ours = {r.scale: r for r in rows if r.mode == "embedded"}
    naive = {r.scale: r for r in rows if r.mode == "naive"}
    if 1 in ours:
        check("answer p50, scale 1", percentile(ours[1].answer_ms, 50), 100, "ms")
        check("answer p95, scale 1", percentile(ours[1].answer_ms, 95), 250, "ms")
    big = max(ours, default=None)
    if big and big > 1:
        check(f"answer p95, scale {big}", percentile(ours[big].answer_ms, 95), 400, "ms")
        check(f"retrieval p95, scale {big}", percentile(ours[big].retrieval_ms, 95), 60, "ms")
        check(f"no-change re-ingest, scale {big}", ours[big].reingest_s, 5, "s")
        check(f"UI peak RSS, scale {big}", ours[big].ui_rss_mb, 1024, "MB")
    for r in (r for r in rows if r.mode != "naive" and r.embed_only_chunks_s):
        share = r.ingest_chunks_s / r.embed_only_chunks_s
        check(f"ingest / embedder alone, {r.mode} scale {r.scale}", share * 100, 80, "%", True)
    for scale, r in sorted(ours.items()):
        check(f"cold start to first answer, scale {scale}", r.cold_start_s, 5, "s")
        if scale in naive:
            n = naive[scale]
            for p in (50, 95):
                ratio = percentile(r.answer_ms, p) / max(percentile(n.answer_ms, p), 1e-9)
                check(f"answer p{p} / naive p{p}, scale {scale}", ratio, 1.5, "×")
            if r.eval_answer is not None and n.eval_answer is not None:
                check(f"eval answer rate minus naive's, scale {scale}", r.eval_answer - n.eval_answer, 0, "", True)
    return out


def plot(rows: list[Row], path: Path) -> Path | None:
    """Answer latency and ingest time against scale per mode, on log axes, saved to `path`; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode in ("embedded", "server", "naive"):
        rs = [r for r in rows if r.mode == mode]
        if not rs:
            continue
        xs = [r.scale for r in rs]
        left.plot(xs, [percentile(r.answer_ms, 95) for r in rs], marker="o", label=f"{mode} answer p95")
        left.plot(xs, [percentile(r.answer_ms, 50) for r in rs], marker=".", linestyle="--", label=f"{mode} answer p50")
        right.plot(xs, [r.ingest_s for r in rs], marker="o", label=mode)
    for ax, title, unit in ((left, "query latency", "ms"), (right, "ingest time", "s")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("corpus scale (× bundled corpus)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
