"""UI logic without a browser: escaping, upload checks, feedback."""

import base64
import json
import re

import gradio as gr
import pytest

from assistant.errors import UnreadableFileError
from assistant.results import Answer, Citation
from assistant.stories import parse_text
from assistant.ui import (
    UIState,
    check_upload,
    highlight,
    link_question,
    markdown_safe,
    message_markdown,
    save_upload,
    story_for_row,
    story_html,
    timeline_html,
)


def test_story_markup_is_escaped_everywhere():
    story = parse_text("<script>x()</script> Title\n12 May 2024\nBody with <b>tags</b> & more.\n", "s.txt")[0]
    page = story_html(story)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;tags" in page
    assert highlight("a <b> c", [(2, 5)]) == "a <mark>&lt;b&gt;</mark> c"
    assert markdown_safe("*bold* <i>x</i> don't") == "\\*bold\\* &lt;i&gt;x&lt;/i&gt; don't"


def test_message_links_markers_to_its_own_compact_sources():
    cite = Citation(1, "id", "A <title>", "2023-07-03", "Story", "en", "f.txt", "quoted *text*", 0, 13)
    answer = Answer("q", "q", "Quoted text [1].", False, [cite], "offline")
    md = message_markdown(answer, 4)
    assert '<a class="cite" href="#m4-s1">[1]</a>' in md and 'id="m4-s1"' in md
    assert "<bdi>A &lt;title&gt;</bdi> · Story · 2023-07-03" in md
    assert "quoted" not in md  # the quote is left to the sources panel (and the Markdown copy)
    assert "answered by offline reader" in md


def test_message_tools_copy_markdown_and_link_to_the_question():
    cite = Citation(1, "id", "A [link](javascript:x) title", "2023-07-03", "Story", "en", "f.txt", "Quote <b>.", 0, 10)
    answer = Answer("Who & why?", "Who launched it & why?", "Quote <b>. [1]", False, [cite], "offline")
    md = message_markdown(answer, 0)
    encoded = re.search(r'class="copy-md" type="button" value="([A-Za-z0-9+/=]+)"', md)[1]
    copied = base64.b64decode(encoded).decode()
    assert copied.startswith("**Q:** Who & why?") and "*A \\[link\\](javascript:x) title* (Story, 2023-07-03)" in copied
    assert "> “Quote \\<b\\>.”" in copied
    assert 'href="?q=Who%20launched%20it%20%26%20why%3F"' in md


def test_archive_message_lists_its_stories_once():
    cites = [Citation(n, f"s{n}", f"Title {n}", f"2023-0{n}-01", "Story", "en", "f.txt", "q", 0, 1) for n in (1, 2)]
    text = (
        "2 of the 9 stories mention “X”.\n- 2023-01-01 — Title 1 (Story) [1]\n- 2023-02-01 — Title 2 (Story) [2]\n(how)"
    )
    md = message_markdown(Answer("q", "q", text, False, cites, "archive"), 1)
    assert md.count("Title 1") == 1 and "Title 2</bdi> · Story · 2023-02-01" in md and "answered by archive scan" in md
    assert md.index("Title 2") < md.index("how\\)</sub>")  # the note on how it was found, after the list


def test_timeline_entries_name_their_story_and_years_are_counted_in_plain_words():
    stories = [
        parse_text(f"T{i}\n{d}\nBody {i}.\n", f"{i}.txt")[0]
        for i, d in enumerate(["1 May 2023", "2 May 2023", "3 May 2016"])
    ]
    page = timeline_html(stories)
    assert "2023 · 2 stories" in page and "2016 · 1 story" in page
    assert page.count("data-story=") == 3 and f'data-story="{stories[2].story_id}"' in page
    row = [stories[1].title, stories[1].date, "Story", "en", "corpus", stories[1].source]
    assert story_for_row(stories, row) == stories[1] and story_for_row(stories, ["x"]) is None


@pytest.mark.parametrize("name", ["../../etc/passwd.txt", "/abs/path.txt", ".hidden.txt", "story.exe", "a/../b.md"])
def test_unsafe_upload_names_are_refused_or_flattened(tmp_path, name):
    f = tmp_path / "upload"
    f.write_text("Title\n12 May 2024\nA story body.\n")
    try:
        safe, _ = check_upload(f, name, 10_000)
    except UnreadableFileError:
        return
    target, _ = save_upload(f, safe, tmp_path / "uploads")
    assert (tmp_path / "uploads").resolve() in target.parents


def test_oversized_and_binary_uploads_are_refused(tmp_path):
    f = tmp_path / "upload"
    f.write_bytes(b"x" * 200)
    with pytest.raises(UnreadableFileError, match="limit"):
        check_upload(f, "big.txt", 100)
    f.write_bytes(b"\x00\x01")
    with pytest.raises(UnreadableFileError, match="binary"):
        check_upload(f, "bin.txt", 100)


def test_feedback_is_appended_as_jsonl(tiny_assistant, tmp_path):
    state = UIState(tiny_assistant)
    path = tiny_assistant.settings.paths.feedback_file
    state.record_feedback({"value": "up", "question": "q", "answer": "a", "citations": []})
    state.record_feedback({"value": "down", "question": "q2", "answer": "b", "citations": []})
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["value"] for r in rows[-2:]] == ["up", "down"]


def test_a_question_link_fills_the_box_and_no_link_leaves_it_alone():
    class Request:
        def __init__(self, **params):
            self.query_params = params

    assert link_question(Request(q=" Who launched it? ")) == ("Who launched it?", "Who launched it?")
    untouched, asked = link_question(Request())
    assert asked == "" and untouched == gr.update()  # a typed question survives a late page-load event
