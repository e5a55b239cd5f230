"""UI logic without a browser: escaping, upload checks, feedback."""

import json

import pytest

from assistant.errors import UnreadableFileError
from assistant.results import Answer, Citation
from assistant.stories import parse_text
from assistant.ui import UIState, check_upload, highlight, markdown_safe, message_markdown, save_upload, story_html


def test_story_markup_is_escaped_everywhere():
    story = parse_text("<script>x()</script> Title\n12 May 2024\nBody with <b>tags</b> & more.\n", "s.txt")[0]
    page = story_html(story)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;tags" in page
    assert highlight("a <b> c", [(2, 5)]) == "a <mark>&lt;b&gt;</mark> c"
    assert markdown_safe("*bold* <i>x</i> don't") == "\\*bold\\* &lt;i&gt;x&lt;/i&gt; don't"


def test_message_links_markers_to_its_own_sources():
    cite = Citation(1, "id", "A <title>", "2023-07-03", "Story", "en", "f.txt", "quoted *text*", 0, 13)
    answer = Answer("q", "q", "Quoted text [1].", False, [cite], "offline")
    md = message_markdown(answer, 4)
    assert "[[1]](#m4-s1)" in md and 'id="m4-s1"' in md
    assert "A &lt;title&gt;" in md and "quoted \\*text\\*" in md
    assert "answered by offline reader" in md


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


def test_feedback_is_appended_as_jsonl(assistant, tmp_path):
    state = UIState(assistant)
    path = assistant.settings.paths.feedback_file
    state.record_feedback({"value": "up", "question": "q", "answer": "a", "citations": []})
    state.record_feedback({"value": "down", "question": "q2", "answer": "b", "citations": []})
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["value"] for r in rows[-2:]] == ["up", "down"]
