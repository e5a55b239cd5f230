"""The OpenAI-compatible chat client behind a small Protocol.

Works with OpenAI, Ollama, vLLM and llama.cpp's server: anything that speaks
`/v1/chat/completions`. Replies stream; the whole answer must arrive within
`LLM_TIMEOUT` seconds or an `LLMError` is raised and the caller answers offline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Protocol

import httpx
import openai

from .config import LLMSettings
from .errors import LLMError


class ChatModel(Protocol):
    name: str

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        """Yield pieces of the reply; raise `LLMError` on any failure."""
        ...


def make_openai_client(settings: LLMSettings, http_client: httpx.Client | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=settings.base_url or None,
        api_key=settings.api_key.get_secret_value() or "not-needed",
        timeout=httpx.Timeout(settings.timeout_s, connect=min(5.0, settings.timeout_s)),
        max_retries=settings.max_retries,
        http_client=http_client,
    )


class OpenAIChat:
    """Chat completions over the openai client, streaming, with an overall deadline."""

    def __init__(self, settings: LLMSettings, http_client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.name = settings.model
        self._client = make_openai_client(settings, http_client)

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        deadline = time.monotonic() + self.settings.timeout_s
        try:
            response = self._client.chat.completions.create(
                model=self.settings.model,
                messages=list(messages),
                temperature=self.settings.temperature,
                stream=True,
                max_tokens=400,
            )
            for event in response:
                if time.monotonic() > deadline:
                    response.close()
                    raise LLMError(f"the model took longer than {self.settings.timeout_s:g}s")
                if not event.choices:
                    continue
                piece = event.choices[0].delta.content
                if piece:
                    yield piece
        except LLMError:
            raise
        except openai.APIStatusError as err:
            raise LLMError(f"the endpoint answered HTTP {err.status_code}") from err
        except openai.APITimeoutError as err:
            raise LLMError(f"no answer within {self.settings.timeout_s:g}s") from err
        except openai.APIConnectionError as err:
            raise LLMError("the endpoint cannot be reached") from err
        except (openai.OpenAIError, httpx.HTTPError, ValueError, KeyError) as err:
            raise LLMError(f"the endpoint sent a reply that cannot be read ({type(err).__name__})") from err


class ScriptedChat:
    """A chat model that replays queued replies and records what it was sent (for tests and demos).

    Each queued reply is a string, or an exception instance to raise instead.
    """

    def __init__(self, replies: Sequence[str | Exception] = (), name: str = "scripted") -> None:
        self.name = name
        self.replies = list(replies)
        self.history: list[list[dict]] = []

    def queue(self, *replies: str | Exception) -> None:
        self.replies.extend(replies)

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        self.history.append([dict(m) for m in messages])
        if not self.replies:
            raise LLMError("no scripted reply left")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        for word in reply.split(" "):
            yield word + " "


def make_chat_model(settings: LLMSettings) -> ChatModel | None:
    """The configured LLM, or None when the offline answerer should answer."""
    match settings.answerer:
        case "offline":
            return None
        case "llm":
            return OpenAIChat(settings)
        case "auto":
            return OpenAIChat(settings) if settings.configured else None
    raise AssertionError(settings.answerer)
