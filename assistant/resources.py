"""Where the files that ship with the assistant are, and where its data goes.

The prompt templates (`prompts/`) and the bundled corpus (`data/corpus/`) ship inside the
wheel as package data: pyproject's `package-dir` maps them onto `assistant/bundled_prompts`
and `assistant/bundled_corpus`, read here with `importlib.resources`. In a source checkout
those package folders do not exist and the files are read where they sit in the repository.

Data the assistant writes (index, uploads, feedback, eval indexes) goes to `data/` inside a
source checkout, as it always has, and otherwise to the user's data folder (`platformdirs`);
the `DATA_DIR` setting moves it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["APP_NAME", "PROJECT_ROOT", "bundled_corpus_dir", "default_data_dir", "in_checkout", "prompts_dir"]

APP_NAME = "kz-sdg-stories-assistant"  # the distribution's name, also the user data folder's
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout (or, installed, site-packages)
PROMPTS_PACKAGE, PROMPTS_IN_CHECKOUT = "bundled_prompts", "prompts"
CORPUS_PACKAGE, CORPUS_IN_CHECKOUT = "bundled_corpus", "data/corpus"


def in_checkout() -> bool:
    """True when the package runs from a source checkout (its pyproject.toml sits beside it), not an install."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "assistant").is_dir()


def _shipped(package_folder: str, checkout_folder: str) -> Path:
    """A folder shipped as package data: inside the installed package, else its place in the checkout."""
    packaged = resources.files("assistant") / package_folder
    if packaged.is_dir():
        return Path(str(packaged))  # a wheel installs unzipped, so this is a real folder
    return PROJECT_ROOT / checkout_folder


def prompts_dir() -> Path:
    """The folder of prompt templates (`*.txt`)."""
    return _shipped(PROMPTS_PACKAGE, PROMPTS_IN_CHECKOUT)


def bundled_corpus_dir() -> Path:
    """The folder of bundled stories that `assistant ingest` reads by default."""
    return _shipped(CORPUS_PACKAGE, CORPUS_IN_CHECKOUT)


def default_data_dir() -> Path:
    """`data/` in a source checkout, else the user's data folder (e.g. ~/.local/share/kz-sdg-stories-assistant)."""
    if in_checkout():
        return PROJECT_ROOT / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
