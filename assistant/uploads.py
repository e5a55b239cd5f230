"""Stories people upload through the web UI: checked, kept in their own folder, listed and removable.

Uploads live in UPLOADS_DIR, never in the bundled corpus, and their stories get ids of
their own ("upload-…"), so an upload can neither replace nor impersonate a bundled story:
answers cite it marked as an upload. A name already taken by a different upload is
saved under a new name ("story-2.txt"); nothing is overwritten silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UnknownUploadError, UnreadableFileError
from .sources import read_story_file, source_name
from .stories import Story, parse_text

SAFE_NAME = re.compile(r"^[\w][\w.\- ]{0,120}\.(txt|md)$", re.UNICODE)


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the UI lists it."""

    name: str
    size: int
    stories: int  # stories of this file in the index


def plain_name(original_name: str) -> str:
    """The file's own name, without any folder a browser or client sent with it."""
    return Path(str(original_name).replace("\\", "/")).name.strip()


def check_upload(path: Path, original_name: str, max_bytes: int) -> tuple[str, list[Story]]:
    """A safe file name and the stories in the file, or an error naming the file as the user knows it."""
    name = plain_name(original_name)
    if not SAFE_NAME.match(name) or name.startswith("."):
        raise UnreadableFileError(
            f"{name or original_name!r}: use a plain .txt or .md file name (letters, digits, . _ -)"
        )
    text = read_story_file(path, max_bytes, shown_as=name)
    stories = parse_text(text, name)
    if not stories:
        raise UnreadableFileError(f"{name}: no story text found in it")
    return name, stories


def save_upload(path: Path, name: str, uploads_dir: Path, corpus_dir: Path | None = None) -> tuple[Path, str]:
    """Copy an accepted upload into `uploads_dir`: (where it was saved, a note when it had to be renamed).

    The same bytes under the same name reuse the earlier copy; different bytes under a
    name already taken are saved as name-2.txt, name-3.txt, …
    """
    folder = uploads_dir.resolve()
    if corpus_dir is not None and (folder == corpus_dir.resolve() or corpus_dir.resolve() in folder.parents):
        raise UnreadableFileError(f"{name}: UPLOADS_DIR is inside the bundled corpus, which uploads must not change")
    folder.mkdir(parents=True, exist_ok=True)
    data = path.read_bytes()
    target = folder / name
    if folder not in target.parents:  # belt and braces: SAFE_NAME already forbids separators
        raise UnreadableFileError(f"{name}: would be saved outside the uploads folder")
    n = 1
    while target.exists() and target.read_bytes() != data:
        n += 1
        target = folder / f"{Path(name).stem}-{n}{Path(name).suffix}"
    note = f"saved as {target.name} because an earlier upload is called {name}" if target.name != name else ""
    target.write_bytes(data)
    return target, note


def list_uploads(uploads_dir: Path, stories: list[Story]) -> list[Upload]:
    """Every uploaded file, with how many of its stories the index holds."""
    if not uploads_dir.is_dir():
        return []
    per_source: dict[str, int] = {}
    for s in stories:
        per_source[s.source] = per_source.get(s.source, 0) + 1
    return [
        Upload(p.name, p.stat().st_size, per_source.get(source_name(p), 0))
        for p in sorted(uploads_dir.iterdir())
        if p.is_file() and not p.is_symlink() and p.suffix.lower() in (".txt", ".md")
    ]


def remove_upload(assistant, name: str) -> int:
    """Delete an uploaded file and its stories and chunks from the index; the number of stories removed."""
    uploads_dir = assistant.settings.paths.uploads_dir
    known = [u.name for u in list_uploads(uploads_dir, [])]
    if name not in known:
        listed = ", ".join(known) if known else "there are none"
        raise UnknownUploadError(f"There is no upload called {name!r}. Uploads: {listed}.")
    path = uploads_dir / name
    src = source_name(path)
    path.unlink()
    return assistant.store.remove_sources([src])  # a new index generation: the next question reloads
