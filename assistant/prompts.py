"""Prompt templates, loaded by name from `prompts/*.txt` (package data once installed) and filled with `str.format`.

Story text is untrusted: `fence` neutralises the fence markers and braces inside a
passage so a story can neither close the data block nor inject template fields.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from .resources import prompts_dir

PROMPTS_DIR = prompts_dir()  # shipped in the package; `prompts/` in a source checkout


@cache
def load(name: str, folder: Path = PROMPTS_DIR) -> str:
    """The template `name`.txt, read once; a missing one is an error, never an empty prompt."""
    path = folder / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"prompt template {path} is missing")
    return path.read_text(encoding="utf-8")


def fields(name: str) -> set[str]:
    """The {placeholders} a template expects."""
    return {f for _, f, _, _ in string.Formatter().parse(load(name)) if f}


def render(name: str, **values: object) -> str:
    """The template filled in; every placeholder must be given (a KeyError names the missing ones)."""
    missing = fields(name) - set(values)
    if missing:
        raise KeyError(f"prompt {name!r} needs {sorted(missing)}")
    return load(name).format(**values).strip()


def fence(text: str) -> str:
    """Story text made safe to place inside the PASSAGES block."""
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››").replace("PASSAGES", "PASSAGES\u200b")


def names() -> list[str]:
    """The names of the shipped templates."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.txt"))
