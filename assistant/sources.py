"""Story files on disk: finding them in folders, reading them safely, naming their sources.

What ingest and uploads read before anything is parsed: only regular files (no FIFOs,
devices, or links out of the folder), at most MAX_FILE_BYTES, UTF-8 (UTF-16/32 and
legacy 8-bit encodings are named in the error, so the user knows what to re-save).
Standard library only.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UnreadableFileError
from .resources import PROJECT_ROOT

if TYPE_CHECKING:
    from .config import Settings

__all__ = [
    "MAX_FILE_BYTES",
    "SUFFIXES",
    "decode_story_bytes",
    "file_kind",
    "find_files",
    "legacy_encoding",
    "origin_of",
    "read_story_file",
    "scan_files",
    "source_name",
    "source_path",
    "wide_encoding",
]

SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 20_000_000


def source_path(src: str) -> Path:
    """The file or folder a stored source name stands for."""
    return Path(src) if Path(src).is_absolute() else PROJECT_ROOT / src


def origin_of(src: str, settings: Settings) -> str:
    """'upload' (added through the web UI), 'corpus' (the bundled stories) or 'folder' (added with `ingest PATH`)."""
    path = source_path(src).resolve()
    for origin, root in (("upload", settings.paths.uploads_dir), ("corpus", settings.paths.corpus_dir)):
        r = root.resolve()
        if path == r or r in path.parents:
            return origin
    return "folder"


def source_name(path: Path) -> str:
    """Paths inside the project are stored relative to it, so every clone agrees on them."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return resolved.as_posix()


def read_story_file(path: Path, max_bytes: int = MAX_FILE_BYTES, shown_as: str | None = None) -> str:
    """The text of a story file, or an `UnreadableFileError` that says why not (naming it `shown_as`).

    Opened without blocking and checked to be a regular file on the open descriptor, so a
    FIFO or device is refused instead of hanging the ingest, even if it replaced a file
    after the folder was listed.
    """
    path = Path(path)
    shown = shown_as or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise UnreadableFileError(f"{shown}: cannot be read ({err.strerror or err})") from err
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError(f"{shown}: is {file_kind(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise UnreadableFileError(f"{shown}: {info.st_size:,} bytes is over the {max_bytes:,}-byte limit")
        try:
            data = f.read(max_bytes + 1)
        except OSError as err:
            raise UnreadableFileError(f"{shown}: cannot be read ({err.strerror or err})") from err
    if len(data) > max_bytes:
        raise UnreadableFileError(f"{shown}: is over the {max_bytes:,}-byte limit")
    return decode_story_bytes(data, shown)


BOMS = [
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
]


def decode_story_bytes(data: bytes, shown: str) -> str:
    """UTF-8 text, or an error naming the encoding the bytes look like and asking for UTF-8."""
    wide = wide_encoding(data)
    if wide:
        raise UnreadableFileError(f"{shown}: is {wide} text; stories must be UTF-8. Re-save it as UTF-8")
    if b"\x00" in data:
        raise UnreadableFileError(f"{shown}: looks binary (contains NUL bytes), not a text story")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UnreadableFileError(
            f"{shown}: is not UTF-8 text (byte {err.start:,} is not UTF-8; {legacy_encoding(data)}). "
            "Re-save it as UTF-8"
        ) from err


def wide_encoding(data: bytes) -> str:
    """'UTF-16 (little-endian)' and the like when `data` is UTF-16/32 text, by its BOM or its zero bytes; else ''."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    if b"\x00" not in data or len(data) < 4:
        return ""
    for codec, name in (
        ("utf-16-le", "UTF-16 (little-endian, no byte-order mark)"),
        ("utf-16-be", "UTF-16 (big-endian, no byte-order mark)"),
    ):
        try:
            text = data[: len(data) // 2 * 2].decode(codec)
        except UnicodeDecodeError:
            continue
        plain = sum(1 for ch in text if ch in "\n\r\t" or (ch.isprintable() and ord(ch) < 0x0530))
        if plain >= 0.9 * len(text):
            return name
    return ""


def legacy_encoding(data: bytes) -> str:
    """A guess at the 8-bit encoding of text that is not UTF-8, in words."""
    text = data.decode("cp1251", errors="replace")
    letters = [ch for ch in text if ch.isalpha()]
    cyrillic = sum("CYRILLIC" in unicodedata.name(ch, "") for ch in letters)
    if letters and cyrillic >= 0.5 * len(letters):
        return "it looks like Windows-1251 (Cyrillic)"
    return "it may be Windows-1252 or Latin-1"


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ('a FIFO (named pipe)', 'a folder', ...), for skip messages."""
    kinds = [
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ]
    return next((name for test, name in kinds if test(mode)), "a special file")


def find_files(paths: Iterable[Path]) -> list[Path]:
    """The story files `scan_files` finds, without the reasons for the ones it passes over."""
    return scan_files(paths)[0]


def scan_files(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The story files in `paths`, and (name, reason) for each one passed over.

    Inside a folder, a link is followed only when it stays inside that folder (a link to
    /etc/passwd is reported and skipped), and only regular files are read. A file named
    on the command line is taken as named.
    """
    found: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for p in paths:
        if p.is_dir():
            files, passed_over = _scan_folder(p)
            found += files
            skipped += passed_over
        elif p.exists() and not p.is_file():
            skipped.append((_shown_name(p), f"is {file_kind(p.stat().st_mode)}, not a regular file"))
        else:
            found.append(p)
    return found, skipped


def _scan_folder(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    root = folder.resolve()
    found, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        dirnames.sort()
        for name in [d for d in dirnames if (here / d).is_symlink()]:
            if not _inside(here / name, root):
                skipped.append(
                    (_shown_name(here / name), f"links to a folder outside {_shown_name(folder)}; not followed")
                )
        for name in sorted(filenames):
            path = here / name
            if path.suffix.lower() not in SUFFIXES:
                continue
            reason = _why_not_a_story_file(path, root, folder)
            if reason:
                skipped.append((_shown_name(path), reason))
            else:
                found.append(path)
    return found, skipped


def _why_not_a_story_file(path: Path, root: Path, folder: Path) -> str:
    """'' for a regular file inside `root` (itself or through a link that stays inside); else the reason."""
    if path.is_symlink() and not _inside(path, root):
        return f"links outside {_shown_name(folder)} (to {path.resolve()}); not followed"
    try:
        mode = path.stat().st_mode
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    return "" if stat.S_ISREG(mode) else f"is {file_kind(mode)}, not a regular file"


def _inside(path: Path, root: Path) -> bool:
    target = path.resolve()
    return target == root or root in target.parents


def _shown_name(path: Path) -> str:
    """A path as the report shows it: relative to the project when inside it, links not resolved."""
    return f"{source_name(path.parent)}/{path.name}"
