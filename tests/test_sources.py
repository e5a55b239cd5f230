"""Where stories come from (issue 11, items 2 and 4): uploads in their own namespace, listed and
removable; a rebuild that keeps every source; a running process that notices another's ingest."""

import json
import time

import pytest
from click.testing import CliRunner
from gradio_client import Client

from assistant.cli import main
from assistant.config import PROJECT_ROOT
from assistant.pipeline import Assistant
from assistant.uploads import check_upload, save_upload
from tests.conftest import CORPUS, TINY_ENV, TINY_STORIES, make_settings, running_ui

BUNDLED = CORPUS / "000_5c89e8c983283150.txt"
HUB_QUESTION = "Experts from which regional hub were invited to contribute insights?"


def cli(root, *args, **env):
    full = {
        "INDEX_DIR": str(root / "index"),
        "UPLOADS_DIR": str(root / "uploads"),
        "ANSWERER": "offline",
        "OPENAI_BASE_URL": "",
        "OPENAI_API_KEY": "",
    } | env
    return CliRunner().invoke(main, ["--env-file", str(root / "none.env"), *args], env=full)


def upload(assistant: Assistant, path, name=None):
    """What the web UI does with an uploaded file."""
    name, _ = check_upload(path, name or path.name, 2_000_000)
    saved, note = save_upload(path, name, assistant.settings.paths.uploads_dir, assistant.settings.paths.corpus_dir)
    return assistant.ingest([saved]), saved, note


def spoof(tmp_path):
    """A file named like a bundled one, same title and date, one fact changed."""
    fake = tmp_path / "incoming" / BUNDLED.name
    fake.parent.mkdir()
    fake.write_text(BUNDLED.read_text(encoding="utf-8").replace("Istanbul Regional Hub", "Paris Regional Hub"))
    return fake


def test_an_upload_cannot_replace_a_bundled_story_and_is_cited_as_an_upload(index_copy):
    a = Assistant.from_settings(make_settings(index_copy))
    before = {sid: s.text for sid, s in a.snapshot.stories.items()}
    upload(a, spoof(index_copy))
    after = a.snapshot.stories
    assert {sid: after[sid].text for sid in before} == before  # every bundled story intact, same id
    (uploaded,) = [s for s in after.values() if s.story_id not in before]
    assert uploaded.story_id.startswith("upload-") and "Paris Regional Hub" in uploaded.text
    assert (PROJECT_ROOT / "data" / "corpus" / BUNDLED.name).read_text(encoding="utf-8").count("Istanbul") == 1

    data = json.loads(cli(index_copy, "ask", "--json", HUB_QUESTION).output)
    origins = {c["source"]: c["origin"] for c in data["citations"]}
    assert all(origins[src] == "upload" for src in origins if "uploads" in src)
    assert all(origins[src] == "corpus" for src in origins if src.startswith("data/corpus"))
    text = cli(index_copy, "ask", HUB_QUESTION).output
    if "Paris" in text:
        assert "2023-08-28, uploaded)" in text


def test_a_name_clash_keeps_both_uploads(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text("Kostanay wheat story\n1 May 2024\nKostanay farmers sowed 9 new wheat fields.\n")
    uploads = tmp_path / "uploads"
    first, note = save_upload(story, "story.txt", uploads)
    same, same_note = save_upload(story, "story.txt", uploads)
    assert first == same and not note and not same_note  # the same bytes again: nothing new
    story.write_text("Kostanay barley story\n2 May 2024\nKostanay farmers sowed 4 new barley fields.\n")
    second, note = save_upload(story, "story.txt", uploads)
    assert second.name == "story-2.txt" and "story.txt" in note
    assert "wheat" in first.read_text() and "barley" in second.read_text()
    with pytest.raises(Exception, match="bundled corpus"):
        save_upload(story, "story.txt", CORPUS / "sub", CORPUS)


def test_uploads_are_listed_and_removed_with_their_chunks(index_copy):
    a = Assistant.from_settings(make_settings(index_copy))
    stories_before, chunks_before = len(a.snapshot.stories), len(a.snapshot.chunks)
    upload(a, spoof(index_copy))
    listed = cli(index_copy, "uploads")
    assert listed.exit_code == 0 and f"{BUNDLED.name}  (" in listed.output and "1 story in the index" in listed.output
    unknown = cli(index_copy, "remove", "nope.txt")
    assert unknown.exit_code == 2 and BUNDLED.name in unknown.output
    removed = cli(index_copy, "remove", BUNDLED.name)
    assert removed.exit_code == 0 and "1 story and their chunks left the index" in removed.output
    assert not (index_copy / "uploads" / BUNDLED.name).exists()
    assert (len(a.snapshot.stories), len(a.snapshot.chunks)) == (stories_before, chunks_before)  # a reloaded
    assert "Istanbul" in a.ask(HUB_QUESTION).text


def test_rebuild_reingests_every_source_even_from_a_corrupt_index(tmp_path, tiny_corpus):
    env = {"CORPUS_DIR": str(tiny_corpus)} | TINY_ENV
    a = Assistant.from_settings(make_settings(tmp_path, **env))
    a.ingest()
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "wheat.txt").write_text("Kostanay wheat story\n1 May 2024\nKostanay farmers sowed 9 new wheat fields.\n")
    assert cli(tmp_path, "ingest", str(extra), **env).exit_code == 0
    upload(a, spoof(tmp_path))
    assert len(a.snapshot.stories) == len(TINY_STORIES) + 2
    (tmp_path / "index" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    broken = cli(tmp_path, "ask", "How many wheat fields did Kostanay farmers sow?", **env)
    assert broken.exit_code == 3 and "--rebuild" in broken.output
    rebuilt = cli(tmp_path, "ingest", "--rebuild", **env)
    assert rebuilt.exit_code == 0 and f"{len(TINY_STORIES) + 2} stories added" in rebuilt.output, rebuilt.output
    fresh = Assistant.from_settings(make_settings(tmp_path, **env))
    assert {s.source.rsplit("/", 1)[-1] for s in fresh.snapshot.stories.values()} == {
        *TINY_STORIES,
        "wheat.txt",
        BUNDLED.name,
    }
    assert "9 new wheat fields" in fresh.ask("How many wheat fields did Kostanay farmers sow?").text


def test_a_gone_source_is_reported_and_dropped_at_rebuild(tmp_path, tiny_corpus):
    env = {"CORPUS_DIR": str(tiny_corpus)} | TINY_ENV
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "wheat.txt").write_text("Kostanay wheat story\n1 May 2024\nKostanay farmers sowed 9 new wheat fields.\n")
    assert cli(tmp_path, "ingest", str(extra), **env).exit_code == 0
    (extra / "wheat.txt").unlink()
    extra.rmdir()
    rebuilt = cli(tmp_path, "ingest", "--rebuild", **env)
    assert rebuilt.exit_code == 0 and "gone; dropped" in rebuilt.output
    assert f"{len(TINY_STORIES)} stories added" in rebuilt.output


def text_of(message: dict) -> str:
    """A chat message's text (gradio_client gives a string or a list of text parts)."""
    content = message["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


@pytest.mark.slow
def test_a_running_ui_notices_another_process_ingest_before_its_next_answer(tmp_path, tiny_index):
    question = "How many wheat fields did Kostanay farmers sow?"
    with running_ui(tmp_path, tiny_index, **TINY_ENV) as (url, _):
        client = Client(url, verbose=False)
        history, *_ = client.predict(question, [], 6, "", "", "all", "offline", api_name="/ask")
        assert "don't say" in text_of(history[-1])
        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "wheat.txt").write_text(
            "Kostanay wheat story\n1 May 2024\nKostanay farmers sowed 9 new wheat fields.\n"
        )
        assert cli(tmp_path, "ingest", str(extra), **TINY_ENV).exit_code == 0
        began = time.monotonic()
        history, *_ = client.predict(question, [], 6, "", "", "all", "offline", api_name="/ask")
        took = time.monotonic() - began
    assert "9 new wheat fields" in text_of(history[-1])
    print(f"\nfirst answer after another process's ingest (reload included): {took * 1000:.0f} ms")
