"""Kazakhstan SDG Stories Assistant: cited answers from UN and Government of Kazakhstan stories.

    from assistant import Assistant
    answer = Assistant.from_settings().ask("Who launched the Central Asian Alliance?")
    print(answer.text, [c.title for c in answer.citations])

Pipeline, one module per stage: config -> stories -> chunks -> embeddings/store ->
retrieve -> question/features/reader (offline) or llm + citations -> pipeline (Assistant) -> cli / ui.
"""

from .config import Settings, load_settings
from .pipeline import Assistant
from .results import Answer, Citation

__all__ = ["Assistant", "Settings", "Answer", "Citation", "load_settings"]
