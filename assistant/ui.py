"""The Gradio web UI: chat with cited sources, the story list, uploads and settings.

Everything a story contributes (titles, text, quotes) is untrusted and is HTML-escaped
here before it reaches the page, so markup inside a story shows as text. Each answer
carries its own sources inside its message, and the sources panel always names the
question it belongs to, so no answer is ever shown with another answer's sources.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import re
import threading
from collections.abc import Iterator, Set
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import gradio as gr
from gradio.utils import get_upload_folder

from .display import count
from .errors import AssistantError
from .export import answer_markdown
from .inputs import check_language, parse_date_bound
from .pipeline import Assistant
from .results import Answer, Citation
from .retrieve import Filters
from .sources import origin_of
from .store import IngestProgress
from .stories import Story
from .types import Delta
from .uploads import Upload, check_upload, list_uploads, remove_upload, save_upload

__all__ = ["check_upload", "save_upload"]  # re-exported: the upload checks live in uploads.py

# gradio still takes api_name=False (an event with no public API endpoint) though its hints say str | None
PRIVATE: Any = False

EXAMPLES = [
    "Who launched the Central Asian Alliance?",
    "What share of Kazakhstan's land is degraded?",
    "How many people were returned to Kazakhstan from conflict zones?",
    "Who did Prime Minister Olzhas Bektenov meet?",
    "How many stories mention UNICEF?",
    "What has the UN done on land degradation, in order?",
]
UPLOAD_BADGE = '<span class="upload-badge">uploaded</span>'
CSS = """
#sources { max-height: 78vh; overflow-y: auto; }
.src { border-left: 3px solid #e0a800; padding: 4px 10px; margin: 10px 0; }
.src h4 { margin: 0 0 2px 0; font-size: 0.95em; }
.src .meta { color: #666; font-size: 0.8em; }
.src p, .story p { font-size: 0.9em; line-height: 1.45; }
.story mark, .src mark { background: #ffe58a; padding: 0 1px; }
.timeline li { list-style: none; margin: 2px 0; }
.timeline .year { font-weight: 600; margin-top: 8px; }
.status { font-size: 0.9em; color: #444; }
.upload-badge { background: #dbeafe; color: #1e3a8a; border-radius: 4px; padding: 0 4px; font-size: 0.8em; }
#chat a.cite { color: #1d4ed8; text-decoration: underline; font-weight: 600; cursor: pointer; }
#chat .cite-line { color: #555; font-size: 0.9em; }
#chat .tools button.copy-md, #chat .tools a.qlink { font-size: 0.85em; line-height: 1.3; color: #1d4ed8;
  background: none; border: 0; padding: 0; cursor: pointer; text-decoration: underline; }
#sources details.quote > summary { cursor: pointer; list-style: none; }
#sources details.quote > summary::-webkit-details-marker { display: none; }
#sources details.quote > summary::after { content: " ▸ show in the story"; color: #1d4ed8; font-size: 0.8em; }
#sources details.quote[open] > summary::after { content: "▾ hide the story"; }
#sources details.quote[open] > summary mark { display: none; }  /* open, the quote is read in its story */
#story-table [role=gridcell], .timeline li[data-story] { cursor: pointer; }
#story-table [role=row]:hover [role=gridcell], .timeline li[data-story]:hover { background: #fef3c7; }
"""
# The copy button of each answer: its Markdown travels base64-encoded in the button's value (the page's sanitizer
# drops data-* attributes; base64 leaves nothing for Markdown or HTML to read).
COPY_JS = """
() => {
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('button.copy-md');
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    const bytes = Uint8Array.from(atob(button.value), (c) => c.charCodeAt(0));
    const text = new TextDecoder().decode(bytes);
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy as Markdown'; }, 2000);
  }, true);
}
"""
# A timeline entry opens its story: the click names the story to Python.
TIMELINE_JS = """
element.addEventListener('click', (event) => {
  const entry = event.target.closest('[data-story]');
  if (entry) trigger('click', {story: entry.dataset.story});
});
"""


# -- rendering (pure functions: easy to test, everything escaped) -------------------------
def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


def markdown_safe(text: str) -> str:
    """Escape HTML and the Markdown characters that would restyle story text in the chat."""
    return html.escape(re.sub(r"([\\`*_{}\[\]()#+!|~-])", r"\\\1", text or ""), quote=False)


def isolated(html_text: str) -> str:
    """Already-escaped user or story text in its own bidi scope: an RLO inside cannot reorder what follows."""
    return f"<bdi>{html_text}</bdi>"


def message_markdown(answer: Answer, turn: int, uploaded: Set[str] = frozenset(), origins=None) -> str:
    """The assistant's chat message: the answer with [n] links, a compact line per source, who answered, tools.

    A source line gives its number, title, kind and date (the quote is in the sources panel);
    an archive answer's own list of stories is those lines. Citations of stories whose source
    is in `uploaded` carry an "uploaded" badge. Tools: copy the answer as Markdown with its
    sources, and a link that opens the UI with this question asked.
    """
    lines_of_text = answer.text.splitlines() or [""]
    if answer.backend == "archive":  # its "- date — title (kind) [n]" lines are the source lines below
        lines_of_text = [line for line in lines_of_text if not line.startswith("- ")]
        body_lines, notes = lines_of_text[:1], lines_of_text[1:]
    else:
        body_lines, notes = lines_of_text, []
    body = "\n".join(_linked(markdown_safe(line), turn) for line in body_lines)
    lines = [body, ""]
    if not answer.abstained:
        for c in answer.citations:
            lines.append(
                f'<a id="m{turn}-s{c.n}"></a><span class="cite-line">**[{c.n}]** '
                f"{UPLOAD_BADGE * (c.source in uploaded)}"
                f"{isolated(markdown_safe(c.title))} · {esc(c.kind)} · {esc(c.date or 'undated')}</span>"
            )
        if answer.citations:
            lines.append("")
    lines += [f"<sub>{markdown_safe(note)}</sub>" for note in notes]
    who = {"offline": "offline reader", "archive": "archive scan"}.get(answer.backend, f"LLM: {esc(answer.backend)}")
    searched = isolated(markdown_safe(answer.search_query))
    lines.append(f"<sub>searched for: {searched} · answered by {who} · {_tools(answer, origins)}</sub>")
    if answer.notice:
        lines.append(f"<sub>⚠ {markdown_safe(answer.notice)}</sub>")
    return "\n".join(lines).rstrip()


def _linked(body: str, turn: int) -> str:
    """[n] markers as links to the message's own source lines, styled as links."""
    return re.sub(r"\\\[(\d+)\\\]", lambda m: f'<a class="cite" href="#m{turn}-s{m[1]}">[{m[1]}]</a>', body)


def _tools(answer: Answer, origins) -> str:
    """'Copy as Markdown' (the answer and its sources) and a link that asks the question again."""
    md = base64.b64encode(answer_markdown(answer, origins).encode("utf-8")).decode("ascii")
    link = "?q=" + url_quote(answer.search_query, safe="")
    return (
        f'<span class="tools"><button class="copy-md" type="button" value="{md}" '
        f'title="Copy this answer and its sources as Markdown">Copy as Markdown</button> · '
        f'<a class="qlink" href="{esc(link)}" title="A link that opens the assistant with this question asked">'
        f"link to this question</a></span>"
    )


def highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """Escaped `text` with every (start, end) span wrapped in <mark>."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out += [esc(text[pos:start]), "<mark>", esc(text[start:end]), "</mark>"]
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def paragraphs_html(text: str, spans: list[tuple[int, int]]) -> str:
    marked = highlight(text, spans)
    return "".join(f"<p>{p}</p>" for p in marked.split("\n") if p.strip())


def paragraph_of(story: Story, start: int, end: int) -> tuple[int, int]:
    a = story.text.rfind("\n", 0, start) + 1
    b = story.text.find("\n", end)
    return a, len(story.text) if b == -1 else b


def sources_html(
    question: str, citations: list[Citation], stories: dict[str, Story], uploaded: Set[str] = frozenset()
) -> str:
    """Each cited story's title, kind, date, language and file, and its quote, which opens in place into the story."""
    if not citations:
        return f'<div class="status">Sources for “{isolated(esc(question))}”: none (the stories don\'t say).</div>'
    parts = [f'<div class="status">Sources for “{isolated(esc(question))}”</div>']
    by_story: dict[str, list[Citation]] = {}
    for c in citations:
        by_story.setdefault(c.story_id, []).append(c)
    for c in citations:
        story = stories.get(c.story_id)
        if story is None:
            continue
        spans = [(x.start, x.end) for x in by_story[c.story_id]]
        parts.append(
            f'<div class="src" id="source-{c.n}"><h4>[{c.n}] {UPLOAD_BADGE * (story.source in uploaded)} '
            f"{isolated(esc(story.title))}</h4>"
            f'<div class="meta">{esc(story.kind)} · {esc(story.date or "undated")} · {esc(story.language)} · '
            f"{esc(story.source)}</div>"
            f'<details class="quote"><summary><mark>{esc(story.text[c.start : c.end])}</mark></summary>'
            f'<div class="story">{paragraphs_html(story.text, spans)}</div></details></div>'
        )
    return "".join(parts)


def story_html(story: Story, uploaded: bool = False) -> str:
    link = f" (translation of {esc(story.translation_of)})" if story.translation_of else ""
    return (
        f'<div class="story"><h3>{UPLOAD_BADGE * uploaded} {isolated(esc(story.title))}</h3>'
        f'<div class="meta">{esc(story.kind)} · '
        f"{esc(story.date or 'undated')} · {esc(story.language)} · {esc(story.source)}{link}</div>"
        f"{paragraphs_html(story.text, [])}</div>"
    )


def timeline_html(stories: list[Story]) -> str:
    """Stories by year, newest first; each entry opens its story when clicked."""
    dated = sorted(((s.date, s) for s in stories if s.date), key=lambda pair: pair[0], reverse=True)
    per_year: dict[str, int] = {}
    for when, _ in dated:
        per_year[when[:4]] = per_year.get(when[:4], 0) + 1
    rows, year = ['<ul class="timeline">'], None
    for when, s in dated:
        if when[:4] != year:
            year = when[:4]
            rows.append(f'<li class="year">{esc(year)} · {count(per_year[year], "story", "stories")}</li>')
        rows.append(
            f'<li data-story="{esc(s.story_id)}" title="Open this story">{esc(when)} — {isolated(esc(s.title))} '
            f"<small>({esc(s.kind)}, {esc(s.language)})</small></li>"
        )
    undated = [s for s in stories if not s.date]
    if undated:
        rows.append(f'<li class="year">undated · {count(len(undated), "story", "stories")}</li>')
        rows += [
            f'<li data-story="{esc(s.story_id)}" title="Open this story">{isolated(esc(s.title))}</li>' for s in undated
        ]
    return "".join(rows) + "</ul>"


def story_for_row(stories: list[Story], row: list | None) -> Story | None:
    """The story a Stories-table row shows (title, date, kind, language, origin, source)."""
    if not row or len(row) < 6:
        return None
    title, when, source = str(row[0]), str(row[1]), str(row[5])
    return next((s for s in stories if s.title == title and (s.date or "undated") == when and s.source == source), None)


def story_rows(stories: list[Story], query: str = "", origins: dict[str, str] | None = None) -> list[list[str]]:
    """Rows of the Stories table, newest first; `origins` maps a source to corpus, upload or folder."""
    q = query.strip().lower()
    rows = []
    for s in sorted(stories, key=lambda s: s.date or "", reverse=True):
        if q and q not in (s.title + " " + s.text + " " + s.source).lower():
            continue
        rows.append([s.title, s.date or "undated", s.kind, s.language, (origins or {}).get(s.source, ""), s.source])
    return rows


def filters_of(d_from: str, d_to: str, lang: str) -> Filters:
    """The Settings fields as filters; a date or language that cannot be read raises `InvalidFilterError`."""
    since = parse_date_bound(d_from, end=False, label="From date")
    until = parse_date_bound(d_to, end=True, label="To date")
    return Filters(since, until, check_language(lang))


def date_note_of(d_from: str, d_to: str) -> str:
    """The line under the date fields: what they were read as, or what is wrong with them."""
    try:
        since = parse_date_bound(d_from, end=False, label="From date")
        until = parse_date_bound(d_to, end=True, label="To date")
    except AssistantError as err:
        return f"⚠ {markdown_safe(str(err))}"
    if since and until:
        return f"Stories dated {since} to {until}."
    if since or until:
        return f"Stories dated {since} or later." if since else f"Stories dated {until} or earlier."
    return ""


# -- uploads ----------------------------------------------------------------------------
def discard_temp_upload(path: Path) -> None:
    """Delete Gradio's temporary copy of an uploaded file (and its folder, once empty); never anything else."""
    temp_root = Path(get_upload_folder()).resolve()
    target = path.resolve()
    if temp_root not in target.parents:
        return
    target.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        if target.parent != temp_root:
            target.parent.rmdir()


def uploads_markdown(uploads: list[Upload]) -> str:
    if not uploads:
        return "No uploaded stories yet."
    rows = ["| file | size | stories in the index |", "|---|---|---|"]
    rows += [f"| {markdown_safe(u.name)} | {u.size:,} bytes | {u.stories} |" for u in uploads]
    return "\n".join(rows)


# -- the app ----------------------------------------------------------------------------
class UIState:
    """Per-process: the assistant (models and index load once) and the feedback file lock."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.feedback_lock = threading.Lock()

    def stories(self) -> list[Story]:
        try:
            return list(self.assistant.snapshot.stories.values())
        except AssistantError:
            return []

    def origins(self, stories: list[Story] | None = None) -> dict[str, str]:
        """Each story source's origin: corpus, upload or folder."""
        settings = self.assistant.settings
        return {s.source: origin_of(s.source, settings) for s in (stories or self.stories())}

    def uploaded(self, stories: list[Story] | None = None) -> set[str]:
        """The sources of uploaded stories (shown with an "uploaded" badge everywhere)."""
        return {src for src, origin in self.origins(stories).items() if origin == "upload"}

    def uploads(self) -> list[Upload]:
        return list_uploads(self.assistant.settings.paths.uploads_dir, self.stories())

    def status(self) -> str:
        try:
            snap = self.assistant.snapshot
            return (
                f"**{count(len(snap.stories), 'story', 'stories')}**, {count(len(snap.chunks), 'chunk')} in "
                f"{esc(self.assistant.store.where)}; last ingest {esc(snap.last_ingest or 'unknown')}."
            )
        except AssistantError as err:
            return f"⚠ {esc(str(err))}"

    def record_feedback(self, entry: dict) -> None:
        path = self.assistant.settings.paths.feedback_file
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.feedback_lock, path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def link_question(request: gr.Request) -> tuple[Any, str]:
    """The question of a `?q=...` link: (an update of the question box, the question to answer).

    Without one the box is left alone: page-load events can return after the user has started
    typing (on a busy server, seconds after the box appears), and must not wipe what they typed.
    """
    params = getattr(request, "query_params", None) or {}
    asked = (params.get("q") or "").strip()
    return (asked if asked else gr.update()), asked


# C901 allowed: its complexity is the sum of the small event handlers defined inside, which share the components
def build_app(assistant: Assistant) -> gr.Blocks:  # noqa: C901
    """The web UI: the Chat, Stories and Add stories tabs, wired to one assistant."""
    state = UIState(assistant)
    settings = assistant.settings
    answerers = ["offline"] + (["llm"] if assistant.chat is not None else [])

    with gr.Blocks(title="Kazakhstan SDG Stories Assistant") as app:
        gr.Markdown(
            "## Kazakhstan SDG Stories Assistant\n"
            "Ask about UN and Government of Kazakhstan stories. Every claim is cited to the story it comes from."
        )
        turns = gr.State([])  # per session: one record per assistant message (question, answer dict)
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id="chat", height=520, label="Conversation", buttons=[])
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="question",
                        placeholder="Ask a question about the stories…",
                        show_label=False,
                        scale=5,
                        max_lines=4,
                    )
                    send = gr.Button("Ask", variant="primary", elem_id="send", scale=1)
                gr.Examples(EXAMPLES, inputs=question, label="Try")
                with gr.Accordion("Settings", open=False, elem_id="settings-panel"):
                    top_k = gr.Slider(1, 12, value=settings.retrieval.top_k, step=1, label="Passages")
                    with gr.Row():
                        date_from = gr.Textbox(
                            label="From date (2023-07-10, July 2023, 2023)",
                            elem_id="date-from",
                            value=settings.retrieval.date_from,
                        )
                        date_to = gr.Textbox(
                            label="To date (2023-07-10, July 2023, 2023)",
                            elem_id="date-to",
                            value=settings.retrieval.date_to,
                        )
                    date_note = gr.Markdown(elem_id="date-note")
                    language = gr.Dropdown(
                        ["all", "en", "kk", "ru"], value=settings.retrieval.language or "all", label="Language"
                    )
                    answerer = gr.Radio(answerers, value=assistant.default_answerer, label="Answerer")
            with gr.Column(scale=2):
                sources = gr.HTML('<div class="status">Sources appear here.</div>', elem_id="sources")
        with gr.Tab("Stories"):
            status = gr.Markdown(state.status, elem_id="status")
            with gr.Row():
                search = gr.Textbox(label="Search stories", elem_id="story-search", scale=4)
                reingest = gr.Button("Re-ingest the corpus", scale=1, elem_id="reingest")
            gr.Markdown("Click a row, or an entry of the timeline below, to open its story.", elem_classes="status")
            table = gr.Dataframe(
                value=lambda: story_rows(state.stories(), "", state.origins()),
                headers=["title", "date", "kind", "language", "origin", "source"],
                interactive=False,
                elem_id="story-table",
                wrap=True,
                column_widths=["46%", "11%", "11%", "8%", "8%", "16%"],
                max_height=420,
            )
            with gr.Row():
                pick = gr.Dropdown(choices=[], label="Open a story", elem_id="story-pick", scale=4)
                open_btn = gr.Button("Open", scale=1, elem_id="story-open")
            story_view = gr.HTML(elem_id="story-view")
            with gr.Accordion("Timeline", open=False):
                timeline = gr.HTML(lambda: timeline_html(state.stories()), elem_id="timeline", js_on_load=TIMELINE_JS)
        with gr.Tab("Add stories"):
            gr.Markdown(
                f"Upload `.txt` or `.md` story files (UTF-8, at most {settings.ui.max_upload_bytes:,} bytes each). "
                "Each is checked, split into stories and added to the index."
            )
            files = gr.File(file_count="multiple", file_types=[".txt", ".md"], elem_id="upload")
            add = gr.Button("Add to the index", variant="primary", elem_id="add")
            upload_result = gr.Markdown(elem_id="upload-result")
            gr.Markdown(
                "### Your uploads\nUploaded stories are marked *uploaded* wherever they are shown or cited. "
                "The bundled corpus cannot be changed from here."
            )
            uploads_list = gr.Markdown(lambda: uploads_markdown(state.uploads()), elem_id="uploads-list")
            with gr.Row():
                upload_pick = gr.Dropdown(choices=[], label="Remove an upload", elem_id="upload-pick", scale=4)
                remove_btn = gr.Button("Remove", variant="stop", elem_id="remove-upload", scale=1)

        # -- chat --------------------------------------------------------------------
        def respond(message, history, records, k, d_from, d_to, lang, which) -> Iterator:
            history = list(history or [])
            records = list(records or [])
            message = (message or "").strip()
            if not message:
                gr.Warning("Type a question first.")
                yield history, records, gr.update(), "", gr.update()
                return
            prior = []
            for r in records:
                prior += [{"role": "user", "content": r["question"]}, {"role": "assistant", "content": r["plain"]}]
            user_turn = {"role": "user", "content": isolated(markdown_safe(message))}
            history += [user_turn, {"role": "assistant", "content": "…"}]
            note = date_note_of(d_from, d_to)
            yield history, records, gr.update(), "", note  # the question box is emptied once, here
            try:
                filters = filters_of(d_from, d_to, lang)
                partial = ""
                answer: Answer | None = None
                events = assistant.stream(message, history=prior, filters=filters, top_k=int(k), answerer=which)
                for event in events:
                    if isinstance(event, Delta):
                        partial += event.text
                        history[-1] = {"role": "assistant", "content": markdown_safe(partial) + " ▌"}
                        yield history, records, gr.update(), gr.update(), note  # what they type next stays
                    else:
                        answer = event.answer
            except AssistantError as err:
                history[-1] = {"role": "assistant", "content": f"⚠ {markdown_safe(str(err))}"}
                yield history, records, gr.update(), gr.update(), note
                return
            assert answer is not None, "the stream ends with the answer"
            turn = len(records)
            origins = state.origins()
            uploaded = {src for src, origin in origins.items() if origin == "upload"}
            history[-1] = {"role": "assistant", "content": message_markdown(answer, turn, uploaded, origins)}
            records.append({"question": answer.question, "plain": answer.text, "answer": answer.as_dict()})
            panel = sources_html(answer.question, answer.citations, assistant.snapshot.stories, uploaded)
            yield history, records, panel, gr.update(), note

        chat_inputs = [question, chatbot, turns, top_k, date_from, date_to, language, answerer]
        chat_outputs = [chatbot, turns, sources, question, date_note]
        date_from.change(date_note_of, [date_from, date_to], [date_note], api_name=PRIVATE)
        date_to.change(date_note_of, [date_from, date_to], [date_note], api_name=PRIVATE)
        send.click(respond, chat_inputs, chat_outputs, api_name="ask")
        question.submit(respond, chat_inputs, chat_outputs, api_name=PRIVATE)

        def respond_to_link(message, *rest) -> Iterator:
            if not message:
                yield tuple(gr.update() for _ in chat_outputs)
                return
            yield from respond(message, *rest)

        # the link's question travels in its own state: the box may already hold what the user typed
        asked = gr.State("")
        app.load(link_question, None, [question, asked], api_name=PRIVATE).then(
            respond_to_link, [asked, *chat_inputs[1:]], chat_outputs, api_name=PRIVATE
        )

        def show_sources(records, evt: gr.SelectData):
            idx = evt.index if isinstance(evt.index, int) else evt.index[0]
            turn = idx // 2
            if not records or turn >= len(records):
                return gr.update()
            rec = records[turn]
            cites = [Citation(**c) for c in rec["answer"]["citations"]]
            return sources_html(rec["question"], cites, assistant.snapshot.stories, state.uploaded())

        chatbot.select(show_sources, [turns], [sources])

        def feedback(records, data: gr.LikeData):
            idx = data.index if isinstance(data.index, int) else data.index[0]
            turn = idx // 2
            if not records or turn >= len(records):
                return
            rec = records[turn]["answer"]
            state.record_feedback(
                {
                    "time": datetime.now(UTC).isoformat(timespec="seconds"),
                    "value": "up" if data.liked is True else "down" if data.liked is False else str(data.liked),
                    "question": rec["question"],
                    "answer": rec["answer"],
                    "citations": rec["citations"],
                    "backend": rec["backend"],
                }
            )
            gr.Info("Thanks, your feedback was saved.")

        chatbot.like(feedback, [turns], None)

        # -- stories -----------------------------------------------------------------
        def refresh(query=""):
            stories = state.stories()
            choices = [
                (f"{s.date or 'undated'} — {s.title}", s.story_id)
                for s in sorted(stories, key=lambda s: s.date or "", reverse=True)
            ]
            uploads = state.uploads()
            return (
                story_rows(stories, query, state.origins(stories)),
                gr.update(choices=choices),
                state.status(),
                timeline_html(stories),
                uploads_markdown(uploads),
                gr.update(choices=[u.name for u in uploads], value=None),
            )

        listing = [table, pick, status, timeline, uploads_list, upload_pick]
        search.change(lambda q: story_rows(state.stories(), q, state.origins()), [search], [table])

        def open_story(story_id):
            story = assistant.snapshot.stories.get(story_id or "")
            if not story:
                return "<p>Pick a story first.</p>"
            return story_html(story, uploaded=story.source in state.uploaded([story]))

        open_btn.click(open_story, [pick], [story_view])
        pick.change(open_story, [pick], [story_view])

        def open_row(evt: gr.SelectData):
            """A click on a row of the Stories table opens that story."""
            stories = state.stories()
            story = story_for_row(stories, evt.row_value)
            if story is None:
                return gr.update()
            return story_html(story, uploaded=story.source in state.uploaded([story]))

        def open_from_timeline(evt: gr.EventData):
            """A click on a timeline entry opens that story."""
            return open_story((getattr(evt, "_data", None) or {}).get("story", ""))

        table.select(open_row, None, [story_view], scroll_to_output=True, api_name=PRIVATE)
        timeline.click(open_from_timeline, None, [story_view], scroll_to_output=True, api_name=PRIVATE)

        def do_reingest():
            """Re-ingest the bundled corpus in a thread; the status line shows its progress until it is done."""
            latest: list[IngestProgress] = []
            outcome: dict = {}

            def work():
                try:
                    outcome["report"] = assistant.ingest(progress=latest.append)
                except AssistantError as err:
                    outcome["error"] = err

            worker = threading.Thread(target=work, daemon=True)
            worker.start()
            yield *[gr.update()] * 2, "Re-ingesting: reading the corpus…", *[gr.update()] * 3
            while worker.is_alive():
                worker.join(timeout=0.5)
                if latest:
                    yield *[gr.update()] * 2, f"Re-ingesting: {latest[-1]}", *[gr.update()] * 3
            if "error" in outcome:
                yield *[gr.update()] * 2, f"⚠ {esc(str(outcome['error']))}", *[gr.update()] * 3
                return
            summary = outcome["report"].summary().splitlines()[0]
            rows, choices, status_text, *rest = refresh()
            yield rows, choices, f"{status_text}<br>Re-ingest: {esc(summary)}", *rest

        reingest.click(do_reingest, None, listing)
        app.load(refresh, None, listing)

        # -- uploads -----------------------------------------------------------------
        def upload(paths):
            if not paths:
                return "Choose one or more `.txt` or `.md` files first.", *refresh(), None
            messages = [
                upload_one(Path(getattr(item, "name", item)), getattr(item, "orig_name", None)) for item in paths
            ]
            return "\n\n".join(messages), *refresh(), None  # the file box is emptied: its temp copies are gone

        def upload_one(path: Path, original: str | None) -> str:
            """Check, save and ingest one uploaded file; a line saying what happened. Gradio's temp copy is deleted."""
            try:
                name, stories = check_upload(path, original or path.name, settings.ui.max_upload_bytes)
                saved, note = save_upload(path, name, settings.paths.uploads_dir, settings.paths.corpus_dir)
                report = assistant.ingest([saved])
                done = (
                    f"{count(report.chunks_added, 'chunk')} added" if report.stories_added else "already in the index"
                )
                saved_as = f" ({markdown_safe(note)})" if note else ""
                return (
                    f"✅ **{markdown_safe(saved.name)}**: {count(len(stories), 'story', 'stories')}, {done}{saved_as}."
                )
            except AssistantError as err:
                return f"❌ {markdown_safe(str(err).rstrip('.'))}. Nothing was changed."
            finally:
                discard_temp_upload(path)

        add.click(upload, [files], [upload_result, *listing, files], api_name="upload")

        def remove(name):
            if not name:
                return "Pick an upload to remove first.", *refresh()
            try:
                removed = remove_upload(assistant, name)
                message = f"🗑 Removed **{markdown_safe(name)}** and its {count(removed, 'story', 'stories')}."
            except AssistantError as err:
                message = f"❌ {markdown_safe(str(err))}"
            return message, *refresh()

        remove_btn.click(remove, [upload_pick], [upload_result, *listing], api_name="remove_upload")
    return app
