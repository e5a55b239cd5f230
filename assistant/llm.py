"""The OpenAI-compatible chat client behind a small Protocol.

Works with OpenAI, Ollama, vLLM and llama.cpp's server: anything that speaks
`/v1/chat/completions`. Replies stream; the whole answer must arrive within
`LLM_TIMEOUT` seconds or an `LLMError` is raised and the caller answers offline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, cast

from .config import LLMSettings
from .errors import LLMError

if TYPE_CHECKING:  # openai and httpx are imported where a client is made (0.5 s): the offline path never pays
    import httpx
    import openai
    from openai.types.chat import ChatCompletionMessageParam

# HTTPX_NOTE: openai 3 types its timeouts and clients as httpx2's, but takes httpx's too and converts them;
# our timeouts and the tests' mock transports are httpx's, hence the arg-type ignores that point here.

MAX_REPLY_TOKENS = 200  # three sentences need well under this; a small model that rambles is cut here


class ChatModel(Protocol):
    """What the pipeline needs of an LLM: a name for the answer's label and a streamed reply."""

    name: str

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        """Yield pieces of the reply; raise `LLMError` on any failure."""
        ...


def make_openai_client(settings: LLMSettings, http_client: httpx.Client | None = None) -> openai.OpenAI:
    """An openai client for the configured endpoint, with LLM_TIMEOUT (connecting takes at most 5 s of it)."""
    import httpx
    import openai

    return openai.OpenAI(
        base_url=settings.base_url or None,
        api_key=settings.api_key.get_secret_value() or "not-needed",
        timeout=httpx.Timeout(settings.timeout_s, connect=min(5.0, settings.timeout_s)),  # type: ignore[arg-type]  # HTTPX_NOTE
        max_retries=settings.max_retries,
        http_client=http_client,  # type: ignore[arg-type]  # HTTPX_NOTE
    )


class OpenAIChat:
    """Chat completions over the openai client, streaming, under one overall deadline.

    Retries (429, 5xx, refused connections) are ours, not the client's, so that a
    Retry-After pause or a second attempt can never run past `LLM_TIMEOUT`; a time-out
    is not retried, and neither is a stream that broke after text had arrived.
    """

    def __init__(self, settings: LLMSettings, http_client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.name = settings.model
        self._client = make_openai_client(settings, http_client).with_options(max_retries=0)

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        """ChatModel.stream, retrying what may be retried while the deadline allows."""
        import httpx
        import openai

        deadline = time.monotonic() + self.settings.timeout_s
        attempt = 0
        while True:
            started = False
            try:
                for piece in self._attempt(messages, deadline):
                    started = True
                    yield piece
                return
            except LLMError:
                raise
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as err:
                if isinstance(err, openai.APITimeoutError):
                    raise LLMError(f"no answer within {self.settings.timeout_s:g}s") from err
                if started:
                    raise LLMError("the answer stream broke off") from err
                pause = _retry_after(err)
                if attempt >= self.settings.max_retries or time.monotonic() + pause >= deadline:
                    raise LLMError(_describe(err)) from err
                attempt += 1
                time.sleep(pause)
            except openai.APIStatusError as err:
                raise LLMError(f"the endpoint answered HTTP {err.status_code}") from err
            except (openai.OpenAIError, httpx.HTTPError, ValueError, KeyError, TypeError) as err:
                raise LLMError(f"the endpoint sent a reply that cannot be read ({type(err).__name__})") from err

    def _attempt(self, messages: Sequence[dict], deadline: float) -> Iterator[str]:
        import httpx

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMError(f"the model took longer than {self.settings.timeout_s:g}s")
        timeout = httpx.Timeout(remaining, connect=min(5.0, remaining))
        client = self._client.with_options(timeout=timeout)  # type: ignore[arg-type]  # HTTPX_NOTE
        response = client.chat.completions.create(
            model=self.settings.model,
            messages=cast("list[ChatCompletionMessageParam]", list(messages)),
            temperature=self.settings.temperature,
            stream=True,
            max_tokens=MAX_REPLY_TOKENS,
        )
        finished = False
        with response:
            for event in response:
                if time.monotonic() > deadline:
                    raise LLMError(f"the model took longer than {self.settings.timeout_s:g}s")
                if not event.choices:
                    continue
                choice = event.choices[0]
                if choice.delta and choice.delta.content:
                    yield choice.delta.content
                finished = finished or bool(choice.finish_reason)
        if not finished:  # a complete stream ends with a finish_reason; a cut or garbled one does not
            raise LLMError("the answer stream broke off before it finished")


def _retry_after(err: Exception) -> float:
    """Seconds the server asked us to wait (Retry-After), else a short pause."""
    response = getattr(err, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return min(max(float(value), 0.0), 30.0) if value else 0.5
    except ValueError:
        return 0.5


def _describe(err: Exception) -> str:
    import openai

    if isinstance(err, openai.APIConnectionError):
        return "the endpoint cannot be reached"
    return f"the endpoint answered HTTP {getattr(err, 'status_code', '?')}"


class ScriptedChat:
    """A chat model that replays queued replies and records what it was sent (for tests and demos).

    Each queued reply is a string, or an exception instance to raise instead.
    """

    def __init__(self, replies: Sequence[str | Exception] = (), name: str = "scripted") -> None:
        self.name = name
        self.replies = list(replies)
        self.history: list[list[dict]] = []

    def queue(self, *replies: str | Exception) -> None:
        """Add replies to give, in order, to the next calls of `stream`."""
        self.replies.extend(replies)

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        """Record the messages, then yield the next queued reply word by word (or raise it)."""
        self.history.append([dict(m) for m in messages])
        if not self.replies:
            raise LLMError("no scripted reply left")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        for word in reply.split(" "):
            yield word + " "


def make_chat_model(settings: LLMSettings) -> ChatModel | None:
    """The configured LLM, or None when there is none to offer.

    With ANSWERER=offline a configured endpoint is still offered (the UI's Answerer
    choice, `ask --llm`), but the offline reader answers unless it is picked.
    """
    match settings.answerer:
        case "llm":
            return OpenAIChat(settings)
        case "auto" | "offline":
            return OpenAIChat(settings) if settings.configured else None
    raise AssertionError(settings.answerer)
