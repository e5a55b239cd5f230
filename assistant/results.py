"""What an answer is; the dataclasses live in `types` with the other stage types, and are named here too."""

from .types import ABSTAIN_TEXT, MAX_ANSWER_CHARS, Answer, Citation, Generation

__all__ = ["ABSTAIN_TEXT", "MAX_ANSWER_CHARS", "Answer", "Citation", "Generation"]
