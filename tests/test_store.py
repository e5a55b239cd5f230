import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import IndexCorruptError, IndexMissingError, UnreadableFileError
from assistant.pipeline import Assistant
from assistant.sources import read_story_file
from tests.conftest import PROJECT_ROOT, TINY_STORIES, make_settings, tiny_settings


def build(tmp_path, **env):
    """An assistant whose index is in `tmp_path`, embedded with the hash embedder: these tests are about the store."""
    return Assistant.from_settings(tiny_settings(tmp_path, **env))


def counts(a: Assistant) -> tuple[int, int]:
    snap = a.store.snapshot()
    return len(snap.stories), len(snap.chunks)


def test_ingest_is_idempotent_and_incremental(tmp_path, tiny_corpus):
    a = build(tmp_path)
    first = a.ingest([tiny_corpus])
    assert (first.stories_added, first.files_unchanged) == (4, 0)
    stories, chunks = counts(a)
    ids_before = {c.chunk.chunk_id for c in a.store.snapshot().chunks}

    again = a.ingest([tiny_corpus])
    assert (again.stories_added, again.stories_removed, again.files_unchanged) == (0, 0, 4)
    assert counts(a) == (stories, chunks)

    # a changed file replaces only its own stories
    changed = tiny_corpus / "coding.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA new closing sentence was added to the story.\n")
    third = a.ingest([tiny_corpus])
    assert (third.stories_added, third.stories_removed, third.files_unchanged) == (1, 1, 3)
    snap = a.store.snapshot()
    kept = {c.chunk.chunk_id for c in snap.chunks if c.story.source.endswith("solar.txt")}
    assert kept and kept <= ids_before
    assert any("new closing sentence" in s.text for s in snap.stories.values())

    # a file removed from an ingested folder takes its stories with it
    changed.unlink()
    fourth = a.ingest([tiny_corpus])
    assert fourth.stories_removed == 1
    remaining = {Path(s.source).name for s in a.store.snapshot().stories.values()}
    assert remaining == set(TINY_STORIES) - {"coding.txt"}


def test_bad_files_are_reported_and_skipped(tmp_path, tiny_corpus):
    (tiny_corpus / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (tiny_corpus / "latin1.txt").write_bytes("Caf\xe9 story\n12 May 2024\nText.".encode("latin-1"))
    (tiny_corpus / "empty.md").write_text("")
    report = build(tmp_path).ingest([tiny_corpus])
    reasons = dict(report.skipped)
    assert report.stories_added == len(TINY_STORIES)
    assert "binary" in next(v for k, v in reasons.items() if k.endswith("binary.txt"))
    assert "UTF-8" in next(v for k, v in reasons.items() if k.endswith("latin1.txt"))
    assert "no story" in next(v for k, v in reasons.items() if k.endswith("empty.md"))


def test_read_story_file_limits(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("x" * 100)
    with pytest.raises(UnreadableFileError, match="limit"):
        read_story_file(big, max_bytes=10)
    with pytest.raises(UnreadableFileError, match="cannot be read"):
        read_story_file(tmp_path / "missing.txt")


def test_missing_index_says_how_to_build_it(tmp_path):
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        build(tmp_path).ask("Who launched the Central Asian Alliance?")
    assert not (tmp_path / "index").exists(), "asking must not create an empty index"


def test_corrupt_index_says_how_to_rebuild_and_rebuild_recovers(tmp_path, tiny_corpus):
    build(tmp_path).ingest([tiny_corpus])
    (tmp_path / "index" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorruptError, match="ingest --rebuild"):
        build(tmp_path).ask("Who launched the hub?")
    report = build(tmp_path, CORPUS_DIR=str(tiny_corpus)).ingest([tiny_corpus], rebuild=True)
    assert report.stories_added == len(TINY_STORIES)  # a rebuild also re-ingests CORPUS_DIR: here the same folder
    assert not build(tmp_path).ask("Who launched the Sauran hub?").abstained


def test_index_built_with_other_embeddings_is_refused(tmp_path, tiny_corpus):
    a = build(tmp_path)
    a.ingest([tiny_corpus])
    with pytest.raises(IndexCorruptError, match="'hash-256', settings ask for 'e5-small-q4'"):
        Assistant.from_settings(make_settings(tmp_path)).ask("Who launched the hub?")  # e5 on hashed vectors
    a.store._chunks.modify(metadata={"schema_version": 1, "embedding": "some-other-model"})
    # the retrieval cache is keyed by the settings' embedder, so only Chroma's own record can disagree: drop it
    shutil.rmtree(tmp_path / "index-cache")
    with pytest.raises(IndexCorruptError, match="some-other-model"):
        build(tmp_path).ask("Who launched the hub?")


def test_interrupted_ingest_is_completed_by_the_next_run(tmp_path, tiny_corpus):
    a = build(tmp_path)
    a.ingest([tiny_corpus])
    clean = counts(a)
    clean_ids = sorted(c.chunk.chunk_id for c in a.store.snapshot().chunks)
    # simulate a crash after chunks were written but before the story record (the commit marker)
    victim = next(iter(a.store.snapshot().stories))
    a.store._stories.delete(ids=[victim])
    a.ingest([tiny_corpus])
    assert counts(a) == clean
    assert sorted(c.chunk.chunk_id for c in a.store.snapshot().chunks) == clean_ids


def test_copy_of_session_index_is_readable(tiny_index_copy, tiny_assistant):
    a = Assistant.from_settings(tiny_settings(tiny_index_copy))
    assert counts(a) == (len(TINY_STORIES), len(tiny_assistant.snapshot.chunks))
    assert a.store.snapshot().stories == tiny_assistant.snapshot.stories  # every field of every story, as written
    shutil.rmtree(tiny_index_copy / "index")


# -- issue 11, item 5: nothing outside the folder, nothing that is not a regular file ---------
def test_links_out_of_the_folder_and_special_files_are_skipped_with_the_reason(tmp_path, tiny_corpus):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret payroll story\n12 May 2024\nThe secret payroll lists 77 names.\n")
    (tiny_corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (tiny_corpus / "passwd.txt").symlink_to("/etc/passwd")
    (tiny_corpus / "elsewhere").symlink_to(outside, target_is_directory=True)
    (tiny_corpus / "same.txt").symlink_to(tiny_corpus / "solar.txt")  # inside: fine, once
    os.mkfifo(tiny_corpus / "pipe.txt")
    a = build(tmp_path)
    report = a.ingest([tiny_corpus])
    reasons = {name.rsplit("/", 1)[-1]: why for name, why in report.skipped}
    assert "links outside" in reasons["secret.txt"] and "not followed" in reasons["secret.txt"]
    assert "/etc/passwd" in reasons["passwd.txt"]
    assert "folder outside" in reasons["elsewhere"]
    assert "FIFO" in reasons["pipe.txt"] and "not a regular file" in reasons["pipe.txt"]
    assert report.stories_added == report.files_seen == len(TINY_STORIES)
    sources = {s.source for s in a.store.snapshot().stories.values()}
    assert not any("secret" in s or "passwd" in s for s in sources)
    assert "skipped" in report.summary() and "FIFO" in report.summary()


def test_a_fifo_named_on_the_command_line_does_not_hang(tmp_path):
    fifo = tmp_path / "story.txt"
    os.mkfifo(fifo)
    env = os.environ | {"INDEX_DIR": str(tmp_path / "index"), "ANSWERER": "offline"}
    cli = [sys.executable, "-m", "assistant.cli", "--env-file", str(tmp_path / "none.env"), "ingest", str(fifo)]
    done = subprocess.run(cli, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "FIFO (named pipe), not a regular file" in done.stdout
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read_story_file(fifo)  # even when asked directly: opened without blocking, checked on the descriptor
