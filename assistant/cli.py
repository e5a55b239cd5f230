"""The `assistant` command.

Start-up time is part of the interface: `assistant --help` must answer in a blink, and
`assistant ask` should pay only for what answering needs. So this module imports click
and light modules only (no pydantic settings, numpy, llama-index, Chroma, Gradio, FastAPI);
each command imports what it uses when it runs. `tests/test_cli.py` checks the imports,
`python -m assistant.harness.startup` measures the wall times.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .display import count, json_text, shorten, terminal_safe
from .errors import AssistantError
from .inputs import check_language, parse_date_bound
from .sources import origin_of
from .types import Answer, Filters

if TYPE_CHECKING:
    from .config import Settings
    from .pipeline import Assistant
    from .store import IngestProgress


def say(text: str = "", err: bool = False) -> None:
    """Print text that may hold story text or file names: escape sequences and controls removed."""
    click.echo(terminal_safe(text), err=err)


class ProgressLine:
    """Ingest progress on the terminal: one line rewritten in place on a terminal, else a line every few seconds."""

    def __init__(self, every_s: float = 2.0) -> None:
        self.live = sys.stdout.isatty()
        self.every_s = every_s
        self.last = 0.0
        self.shown = False

    def __call__(self, progress: IngestProgress) -> None:
        """Show `progress`: always on a terminal (ending the line when done), else every `every_s` seconds."""
        now = time.monotonic()
        finished = progress.stories_done == progress.stories_total
        if self.live:
            click.echo(terminal_safe(f"\r  embedding {progress}") + "\x1b[K", nl=finished)
        elif finished or now - self.last >= self.every_s:
            say(f"  embedding {progress}")
        self.last, self.shown = now, True


def handles_errors(fn):
    """Turn an `AssistantError` into its message on stderr and its exit code."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AssistantError as err:
            say(f"Error: {err}", err=True)
            sys.exit(err.exit_code)

    return wrapper


def make_assistant(settings: Settings) -> Assistant:
    """The assistant for a command, importing the pipeline (models, numpy) only when a command runs."""
    from .pipeline import Assistant

    return Assistant.from_settings(settings)


@click.group()
@click.option("--env-file", default=".env", show_default=True, help="Settings file read before the environment.")
@click.pass_context
def main(ctx: click.Context, env_file: str) -> None:
    """Ask questions of UN and Government of Kazakhstan stories; every claim is cited."""
    ctx.obj = env_file


def settings_of(ctx: click.Context) -> Settings:
    """The settings from the group's --env-file and the environment, loaded (and validated) only when needed."""
    from .config import load_settings

    return load_settings(ctx.obj)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Drop the index and build it again from scratch.")
@click.pass_context
@handles_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], rebuild: bool) -> None:
    """Add stories from PATHS (folders of .txt/.md files, or files) to the index.

    With no PATHS, ingests the bundled corpus (CORPUS_DIR). Unchanged files are skipped,
    changed files replace their own stories, files gone from a folder lose theirs.
    Unreadable, binary or non-UTF-8 files are reported and skipped.
    """
    settings = settings_of(ctx)
    for p in paths:
        if not p.exists():
            raise click.BadParameter(f"{p} does not exist", param_hint="PATHS")
    assistant = make_assistant(settings)
    say(f"Reading {', '.join(map(str, paths)) or 'the bundled corpus'}{' (rebuilding from every source)' * rebuild}…")
    report = assistant.ingest(list(paths) or None, rebuild=rebuild, progress=ProgressLine())
    say(f"Ingested into {assistant.store.where}: {report.summary()}")


def filter_options(fn):
    """The options `ask` and `chat` share: the hard filters, passages to give, and which answerer."""
    fn = click.option("--since", default="", help="Only stories dated on or after this day, month or year.")(fn)
    fn = click.option("--until", default="", help="Only stories dated on or before this day, month or year.")(fn)
    fn = click.option("--language", default="", help="Only stories in this language (en, kk, ru).")(fn)
    fn = click.option("--top-k", type=int, default=None, help="Passages given to the answerer.")(fn)
    fn = click.option("--offline", is_flag=True, help="Use the offline answerer even if an LLM is configured.")(fn)
    fn = click.option("--llm", is_flag=True, help="Use the configured LLM even when ANSWERER=offline.")(fn)
    return fn


def answerer_of(offline: bool, llm: bool) -> str | None:
    """'offline' or 'llm' as the flags ask, or None for the configured default; both flags is a usage error."""
    if offline and llm:
        raise click.UsageError("--offline and --llm pick different answerers; give one.")
    return "offline" if offline else "llm" if llm else None


def filters_from(settings: Settings, since: str, until: str, language: str) -> Filters:
    """The filters of the command line over those of the settings; unreadable ones exit 2 with the accepted forms."""
    return Filters.from_settings(
        settings,
        parse_date_bound(since, end=False, label="--since date"),
        parse_date_bound(until, end=True, label="--until date"),
        check_language(language, label="--language"),
    )


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (the same as --format json).")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: the answer and its sources (title, kind, date, file, quote) to paste.",
)
@filter_options
@click.pass_context
@handles_errors
def ask(ctx, question, as_json, output, since, until, language, top_k, offline, llm) -> None:
    """Answer QUESTION from the stories, with numbered citations.

    Questions about the whole archive ("How many stories mention UNICEF?", "List the
    stories from June 2023", "... in order?", "What is the latest figure for ...?") are
    answered from every story, with a citation per story.
    """
    settings = settings_of(ctx)
    filters = filters_from(settings, since, until, language)
    which = answerer_of(offline, llm)
    assistant = make_assistant(settings)
    answer = assistant.ask(question, filters=filters, top_k=top_k, answerer=which)
    if as_json or output == "json":
        click.echo(json_text(answer_json(answer, settings)))
    elif output == "markdown":
        from .export import answer_markdown

        origins = {c.source: origin_of(c.source, settings) for c in answer.citations}
        say(answer_markdown(answer, origins).rstrip("\n"))
    else:
        say(format_answer(answer, settings))


def answer_json(answer: Answer, settings: Settings) -> dict:
    """The --json output; each citation says where its story came from (`origin`: corpus, upload, folder)."""
    keys = ("question", "search_query", "answer", "abstained", "citations", "backend", "latency_ms")
    data = answer.as_dict()
    out = {k: data[k] for k in keys}
    out["citations"] = [c | {"origin": origin_of(c["source"], settings)} for c in out["citations"]]
    if answer.notice:
        out["notice"] = answer.notice
    return out


def format_answer(answer: Answer, settings: Settings, width: int = 100) -> str:
    """The answer for the terminal: wrapped text, then a line per citation with its story and a shortened quote."""
    lines = [
        textwrap.fill(line, width, subsequent_indent="  " * line.startswith("- ")) for line in answer.text.splitlines()
    ]
    if answer.citations:
        lines.append("")
    for c in answer.citations:
        quote = shorten(c.quote, 160, " ...")
        uploaded = ", uploaded" if origin_of(c.source, settings) == "upload" else ""
        head = f'[{c.n}] {c.title} ({c.kind}, {c.date or "undated"}{uploaded}) — "{quote}"'
        if f"{c.title} ({c.kind}) [{c.n}]" in answer.text:  # an archive list names each story: only its quote here
            head = f'[{c.n}]{" (uploaded)" if uploaded else ""} "{quote}"'
        lines.append(textwrap.fill(head, width, subsequent_indent="    "))
    if answer.search_query != answer.question:
        lines.append(f"\n(searched for: {answer.search_query})")
    if answer.notice:
        lines.append(f"\nNote: {answer.notice}")
    return "\n".join(lines)


@main.command()
@filter_options
@click.pass_context
@handles_errors
def chat(ctx, since, until, language, top_k, offline, llm) -> None:
    """Chat in the terminal; follow-up questions use the conversation. Ctrl-D or 'exit' ends it."""
    settings = settings_of(ctx)
    filters = filters_from(settings, since, until, language)
    which = answerer_of(offline, llm)
    assistant = make_assistant(settings)
    history: list[dict] = []
    click.echo("Ask about the stories (empty line or 'exit' to quit).")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if question.lower() in ("", "exit", "quit"):
            break
        try:
            answer = assistant.ask(question, history=history, filters=filters, top_k=top_k, answerer=which)
        except AssistantError as err:
            say(f"Error: {err}")
            continue
        say(format_answer(answer, settings))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


@main.command()
@click.option("--host", default=None, help="Address to bind (default UI_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default UI_PORT, 7860).")
@click.option("--ingest/--no-ingest", default=True, help="Ingest the bundled corpus first if it changed.")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback --host without UI_USERNAME/UI_PASSWORD.")
@click.pass_context
@handles_errors
def ui(ctx, host, port, ingest, insecure) -> None:
    """Start the web UI and the API (ingesting the bundled corpus first, if needed).

    One server: the UI at /, an OpenAI-compatible API at /v1 (chat completions with citations),
    a JSON API at /api (ask, stories) and its docs at /docs. `assistant serve` and `assistant ui` are the same.
    """
    settings = settings_of(ctx)
    host = host or settings.ui.host
    settings.ui.login_for(host, insecure)  # refuses a half-set login before anything slow happens
    say("Starting the web UI: loading the embedding model…")
    from .server import run

    assistant = make_assistant(settings)
    if ingest:
        say(f"Checking the bundled corpus ({settings.paths.corpus_dir}) for new or changed stories…")
        report = assistant.ingest(progress=ProgressLine())
        say(f"Index: {report.summary()}")
    say("Loading the index…")
    run(assistant, host, port or settings.ui.port, insecure=insecure, say=say)


main.add_command(ui, "serve")


@main.command("mcp")
@click.pass_context
@handles_errors
def mcp_command(ctx) -> None:
    """Serve the assistant to MCP clients over stdio: tools `ask` and `search_stories`.

    Configure your MCP client to run `assistant mcp`; the index must exist (`assistant ingest`).
    """
    from .mcp_server import run

    run(settings_of(ctx))


@main.command()
@click.pass_context
@handles_errors
def uploads(ctx) -> None:
    """List the stories uploaded through the web UI (remove one with `assistant remove NAME`)."""
    from .uploads import list_uploads

    settings = settings_of(ctx)
    try:
        stories = list(make_assistant(settings).snapshot.stories.values())
    except AssistantError:
        stories = []
    found = list_uploads(settings.paths.uploads_dir, stories)
    if not found:
        say(f"No uploads in {settings.paths.uploads_dir}.")
    for u in found:
        say(f"{u.name}  ({u.size:,} bytes, {count(u.stories, 'story', 'stories')} in the index)")


@main.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_context
@handles_errors
def remove(ctx, names: tuple[str, ...]) -> None:
    """Remove uploaded stories: delete each uploaded file NAME and its stories and chunks from the index.

    The bundled corpus cannot be removed this way. `assistant uploads` lists the names.
    """
    from .uploads import remove_upload

    assistant = make_assistant(settings_of(ctx))
    for name in names:
        removed = remove_upload(assistant, name)
        say(f"Removed {name}: {count(removed, 'story', 'stories')} and their chunks left the index.")


@main.command("eval")
@click.option(
    "--qa",
    "qa_file",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="Q&A file (default eval/qa.yaml).",
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write per-case results JSON here.")
@click.option("--report", type=click.Path(path_type=Path), default=None, help="Write a markdown report here.")
@click.option(
    "--backend",
    type=click.Choice(["offline", "llm", "naive"]),
    default="offline",
    show_default=True,
    help="offline reader, the configured LLM, or the naive llama-index-defaults peer.",
)
@click.option(
    "--corpus",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=None,
    help="A folder of your own stories to ask instead (a throwaway index).",
)
@click.option("--gate/--no-gate", default=False, help="Exit 1 if below the floors or a baseline case regressed.")
@click.option(
    "--floors",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Floors for --gate (default eval/floors.yaml).",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Per-case baseline for --gate/--update-baseline (default: eval/baseline.json).",
)
@click.option("--update-baseline", is_flag=True, help="Write the baseline from this run.")
@click.option("--every", type=click.IntRange(min=1), default=1, help="Ask only every Nth case (for slow backends).")
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Draw the abstention trade-off to this PNG (needs matplotlib).",
)
@click.pass_context
@handles_errors
def eval_command(
    ctx, qa_file, out, report, backend, corpus, gate, floors, baseline, update_baseline, every, plot
) -> None:
    """Score the assistant on Q&A pairs (answers, citations, abstention, latency).

    With --corpus DIR the questions are asked of DIR's stories alone, in a throwaway
    index cached by the files' content hash; your own index is left untouched.
    """
    from .harness import evaluate

    settings = settings_of(ctx)
    code = evaluate.run_cli(
        settings,
        qa_file,
        out,
        report,
        backend,
        gate,
        update_baseline,
        click.echo,
        corpus=corpus,
        floors=floors,
        baseline=baseline,
        every=every,
        plot=plot,
    )
    sys.exit(code)


@main.command("train-reader")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the fitted model (default: the package's reader_model.json).",
)
@click.option(
    "--check", is_flag=True, help="Refit and exit 1 unless the result equals the committed model bit for bit."
)
@click.pass_context
@handles_errors
def train_reader(ctx, out, check) -> None:
    """Fit the offline reader's weights and thresholds from the train and dev splits (needs scikit-learn)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one embedding thread: the same sums, so the same file
    from .harness import training

    sys.exit(training.run_cli(settings_of(ctx), out, check, click.echo))


@main.command()
@click.option("--scales", default="1,10,100", show_default=True, help="Corpus sizes, as multiples of the bundle.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks/results.md"), show_default=True)
@click.option("--naive/--no-naive", default=True, help="Also time the naive llama-index-defaults peer.")
@click.option("--server/--no-server", default=True, help="Also measure server mode (a real `chroma run`).")
@click.option("--server-up-to", type=int, default=0, help="Server mode only at scales up to this (0: all).")
@click.option("--llm/--no-llm", default=False, help="Also time the configured LLM (OPENAI_BASE_URL) answering.")
@click.pass_context
@handles_errors
def bench(ctx, scales, out, naive, server, server_up_to, llm) -> None:
    """Measure ingest, latency and memory as the corpus grows; write a markdown table and a plot."""
    from .harness import bench as benchmarks

    sizes = [int(x) for x in scales.split(",") if x.strip()]
    benchmarks.run(
        settings_of(ctx),
        sizes,
        out,
        click.echo,
        naive=naive,
        server=server,
        eval_naive_at=max(sizes),
        server_up_to=server_up_to,
        llm=llm,
    )
    click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
