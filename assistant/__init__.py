"""Kazakhstan SDG Stories Assistant: cited answers from UN and Government of Kazakhstan stories.

    from assistant import Assistant
    answer = Assistant.from_settings().ask("Who launched the Central Asian Alliance?")
    print(answer.text, [c.title for c in answer.citations])

Pipeline, one module per stage: config -> stories -> chunks -> embeddings/store ->
retrieve -> question/features/reader (offline) or llm + citations -> pipeline (Assistant) -> cli / ui.
The types the stages exchange are in `assistant.types`.

Names are imported on first use, so `from assistant import Answer` (or the CLI's
`--help`) loads neither the pipeline's models nor settings validation.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Settings, load_settings
    from .pipeline import Assistant
    from .types import Answer, Citation

__all__ = ["Answer", "Assistant", "Citation", "Settings", "load_settings"]

_HOMES = {
    "Answer": ".types",
    "Citation": ".types",
    "Settings": ".config",
    "load_settings": ".config",
    "Assistant": ".pipeline",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its home module on first use and kept, so later lookups skip this."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value
