"""`assistant mcp`: the assistant as a Model Context Protocol server over stdio (the official `mcp` SDK).

Two tools, each returning structured content (and the same as JSON text for older clients):

- `ask(question, since?, until?, language?)`: a cited answer in the `assistant ask --json` shape
  (answer, abstained, citations with the exact quoted sentence).
- `search_stories(query, since?, until?, language?, limit?)`: the best matching stories, each
  with its best passage.

Models and index load on the first call (a few seconds); stdout is the protocol channel, so the
SDK points everything else printed at stderr while it serves.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from . import schemas
from .config import Settings
from .errors import AssistantError
from .schemas import AskResult, SearchResult, ask_result, request_filters

if TYPE_CHECKING:
    from .pipeline import Assistant  # loaded on the first tool call: it imports the index

__all__ = ["build_server", "run"]

SERVER_NAME = "kz-sdg-stories"
DEFAULT_SEARCH_LIMIT = 5
MAX_SEARCH_LIMIT = 20
INSTRUCTIONS = (
    "Answers questions from UN and Government of Kazakhstan news stories (SDG topics). Every claim in an "
    "answer carries a numbered [n] citation to the exact sentence it comes from; when the stories do not "
    "answer, `abstained` is true. Quote the citations when you use an answer."
)
Since = Annotated[str, Field(description="only stories dated on or after this day, month or year (2023-07-10, 2023)")]
Until = Annotated[str, Field(description="only stories dated on or before this day, month or year")]
Language = Annotated[str, Field(description="only stories in this language: en, kk or ru (empty = all)")]


class LazyAssistant:
    """The assistant, built on first use (models and index take a few seconds to load), once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._assistant is None:
                from .pipeline import Assistant

                assistant = Assistant.from_settings(self.settings)
                assistant.retriever  # noqa: B018 - load the index now: a missing one is reported on this call
                self._assistant = assistant
            return self._assistant


def build_server(settings: Settings):
    """The MCP server with its tools (not yet running)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    lazy = LazyAssistant(settings)
    server = MCPServer(name=SERVER_NAME, instructions=INSTRUCTIONS)

    def tool_error(err: AssistantError) -> ToolError:
        return ToolError(f"{err} (exit code {err.exit_code})")

    @server.tool()
    def ask(
        question: Annotated[
            str, Field(description="a question about the stories, e.g. 'Who launched the Central Asian Alliance?'")
        ],
        since: Since = "",
        until: Until = "",
        language: Language = "",
    ) -> AskResult:
        """Answer a question from the stories, each claim cited [n] to the exact sentence it comes from."""
        try:
            assistant = lazy.get()
            filters = request_filters(settings, since, until, language)
            return ask_result(assistant.ask(question, filters=filters), settings)
        except AssistantError as err:
            raise tool_error(err) from err

    @server.tool()
    def search_stories(
        query: Annotated[str, Field(description="words or a question to search the stories for")],
        since: Since = "",
        until: Until = "",
        language: Language = "",
        limit: Annotated[int, Field(ge=1, le=MAX_SEARCH_LIMIT, description="most stories returned")] = (
            DEFAULT_SEARCH_LIMIT
        ),
    ) -> SearchResult:
        """Find the stories that best match a query (words and meaning), each with its best matching passage."""
        try:
            assistant = lazy.get()
            filters = request_filters(settings, since, until, language)
            return schemas.search_stories(assistant, query, filters, limit)
        except AssistantError as err:
            raise tool_error(err) from err

    return server


def run(settings: Settings) -> None:
    """Serve over stdio until the client closes the connection."""
    build_server(settings).run("stdio")
