"""Every error a user can meet, each with a message that says what to do next.

The CLI maps each class to an exit code (``exit_code``), so scripts can tell a bad
question (2) from a missing index (3) or an unreachable service (4).
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: ``str(err)`` is a complete, actionable message."""

    exit_code = 1


class InvalidQuestionError(AssistantError):
    """The question is empty or otherwise unusable."""

    exit_code = 2


class InvalidFilterError(AssistantError):
    """A date or language filter that cannot be read; the message lists what is accepted."""

    exit_code = 2


class UnknownUploadError(AssistantError):
    """`assistant remove NAME` names no uploaded file; the message lists the uploads."""

    exit_code = 2


class UnknownStoryError(AssistantError):
    """`GET /api/stories/{id}` names no story in the index."""

    exit_code = 2

    def __init__(self, story_id: str) -> None:
        super().__init__(f"No story has the id {story_id!r}. `GET /api/stories` lists every story with its id.")


class AccessDeniedError(AssistantError):
    """An API request without the UI login or the API key, when one of them is set."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__(
            "This server needs a login: send `Authorization: Bearer ASSISTANT_API_KEY`, or the UI login "
            "(UI_USERNAME and UI_PASSWORD) as HTTP Basic credentials."
        )


class ConfigError(AssistantError):
    """A setting in the environment or `.env` has a value we cannot use."""

    exit_code = 2


class IndexMissingError(AssistantError):
    """No stories have been ingested yet."""

    exit_code = 3

    def __init__(self, where: str) -> None:
        super().__init__(
            f"No index found at {where}. Build it with `assistant ingest` "
            "(or `make run`, which ingests the bundled corpus first)."
        )


class IndexCorruptError(AssistantError):
    """The index exists but cannot be read, or was built by another version."""

    exit_code = 3

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(
            f"The index at {where} cannot be used ({detail}). Rebuild it with `assistant ingest --rebuild`."
        )


class StoreUnavailableError(AssistantError):
    """A Chroma server was configured but does not answer."""

    exit_code = 4


class LLMError(AssistantError):
    """The OpenAI-compatible endpoint failed; callers fall back to the offline answerer."""

    exit_code = 4


class UnreadableFileError(AssistantError):
    """A file could not be ingested (binary, not UTF-8, unreadable, too large)."""

    exit_code = 5
