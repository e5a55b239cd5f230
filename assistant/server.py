"""One web server, three doors: the Gradio UI at `/`, an OpenAI-compatible `/v1`, and a JSON `/api`.

`assistant serve` (and `assistant ui`) runs this FastAPI app under uvicorn:

- `POST /v1/chat/completions` (streamed as server-sent events or not) and `GET /v1/models`, so any
  chat front end or the `openai` client can use the assistant as a model. The reply carries the
  `[n]` markers; the citations travel in a top-level `citations` field (the `ask --json` shape)
  and, for clients that show only text, as a numbered source list at the end of the message.
  Earlier messages are the conversation a follow-up is read against.
- `POST /api/ask`, `GET /api/stories`, `GET /api/stories/{id}`, `GET /healthz`; the OpenAPI page
  is `/docs`.

The UI login (UI_USERNAME/UI_PASSWORD, as HTTP Basic) or `Authorization: Bearer ASSISTANT_API_KEY`
guards `/v1` and `/api` whenever either is set. Errors are JSON, `{"error": {"message", "type",
"code"}}`, where `code` is the exit code the CLI gives the same error.
"""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.routing import Mount

from .errors import (
    AccessDeniedError,
    AssistantError,
    IndexCorruptError,
    IndexMissingError,
    InvalidQuestionError,
    StoreUnavailableError,
    UnknownStoryError,
    UnreadableFileError,
)
from .pipeline import Assistant
from .resources import APP_NAME
from .results import Answer
from .schemas import AskResult, CitationOut, StoryOut, StoryText, ask_result, request_filters, story_out, story_text
from .types import Event, Final

__all__ = ["MODEL_ID", "OFFLINE_MODEL_ID", "create_app", "run", "with_sources"]

MODEL_ID = "kz-sdg-stories"  # the default answerer: the LLM when one is configured, else the offline reader
OFFLINE_MODEL_ID = f"{MODEL_ID}-offline"  # always the offline reader
SOURCES_HEADING = "Sources:"  # opens the source list appended to a chat reply (and cut from history)
STREAM_PIECE_WORDS = 8  # words per streamed content chunk
UI_CONCURRENCY = 4  # chat answers the UI computes at once (Gradio's queue)
SHUTDOWN_GRACE_S = 3  # open connections get this long to finish on Ctrl-C / SIGTERM
HTTP_STATUS: dict[type[AssistantError], int] = {
    AccessDeniedError: 401,
    UnknownStoryError: 404,
    UnreadableFileError: 422,
    IndexMissingError: 503,
    IndexCorruptError: 503,
    StoreUnavailableError: 503,
}
STATUS_OF_EXIT_CODE = {2: 400, 3: 503, 4: 502, 5: 422}


# -- request and response models ----------------------------------------------------------
class ChatMessage(BaseModel):
    """One message of an OpenAI-style conversation; `content` may be text or a list of parts."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """An OpenAI chat-completions request. Sampling options (temperature, max_tokens, …) are accepted and ignored.

    `since`, `until` and `language` (the `ask` filters) may be sent as extra fields.
    """

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    since: str = ""
    until: str = ""
    language: str = ""


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ReplyMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    """An OpenAI chat completion plus the answer's `citations`, `abstained`, `search_query`, `backend`, `notice`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    citations: list[CitationOut]
    abstained: bool
    search_query: str
    backend: str
    notice: str | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = APP_NAME


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class AskRequest(BaseModel):
    """`POST /api/ask`: what `assistant ask` takes, plus the conversation so far for follow-ups."""

    question: str
    history: list[ChatMessage] = Field(default_factory=list, description="earlier turns, oldest first")
    since: str = ""
    until: str = ""
    language: str = ""
    top_k: int | None = Field(None, ge=1, le=30)
    offline: bool = False


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    stories: int
    chunks: int
    answerer: str


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: int = Field(description="the CLI's exit code: 2 bad request or setting, 3 index missing, 4 service down")


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in (400, 401, 503)}


# -- conversation and replies ---------------------------------------------------------------
def conversation(messages: Sequence[ChatMessage]) -> tuple[str, list[dict]]:
    """(the question, the history before it): the last message must be the user's; system messages are skipped."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise InvalidQuestionError('The last message must be the question, with role "user".')
    history = [{"role": m.role, "content": without_sources(m.text())} for m in turns[:-1]]
    return turns[-1].text(), history


def with_sources(result: AskResult) -> str:
    """The reply for text-only clients: the answer, then one line per citation (a Markdown list)."""
    if not result.citations:
        return result.answer
    lines = [f'- [{c.n}] {c.title} ({c.kind}, {c.date or "undated"}) — "{c.quote}"' for c in result.citations]
    return f"{result.answer}\n\n{SOURCES_HEADING}\n" + "\n".join(lines)


def without_sources(text: str) -> str:
    """A reply of ours as history: the source list is not part of what was said."""
    return text.split(f"\n\n{SOURCES_HEADING}\n", 1)[0]


def pieces(text: str, words: int = STREAM_PIECE_WORDS) -> list[str]:
    """`text` in chunks of a few words whose concatenation is exactly `text`."""
    tokens = re.split(r"(?<=\s)(?=\S)", text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


def answer_extras(result: AskResult) -> dict:
    fields = ("citations", "abstained", "search_query", "backend", "notice")
    return {k: v for k, v in result.model_dump(include=set(fields)).items()}


def sse(payload: dict | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)}\n\n"


# -- errors and access --------------------------------------------------------------------------
def error_body(err: AssistantError) -> dict:
    return {"error": {"message": str(err), "type": type(err).__name__, "code": err.exit_code}}


def http_status(err: AssistantError) -> int:
    for cls in type(err).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return STATUS_OF_EXIT_CODE.get(err.exit_code, 500)


def error_response(err: AssistantError) -> JSONResponse:
    status = http_status(err)
    headers = {"WWW-Authenticate": 'Bearer, Basic realm="assistant"'} if status == 401 else None
    return JSONResponse(error_body(err), status_code=status, headers=headers)


def invalid_request(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "InvalidRequest", "code": 2}}, status_code=status)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def access_guard(api_key: str, login: tuple[str, str] | None) -> Callable[..., None]:
    """A dependency that admits a request with the API key (Bearer) or the UI login (Basic), when either is set."""
    bearer_scheme = HTTPBearer(auto_error=False, description="ASSISTANT_API_KEY")
    basic_scheme = HTTPBasic(auto_error=False, description="the web UI's login (UI_USERNAME, UI_PASSWORD)")

    def guard(
        bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
        basic: HTTPBasicCredentials | None = Depends(basic_scheme),
    ) -> None:
        if not api_key and login is None:
            return
        if api_key and bearer is not None and bearer.scheme.lower() == "bearer" and _same(bearer.credentials, api_key):
            return
        if login is not None and basic is not None:
            name_ok, password_ok = _same(basic.username, login[0]), _same(basic.password, login[1])
            if name_ok and password_ok:
                return
        raise AccessDeniedError()

    return guard


# -- the app ------------------------------------------------------------------------------------
# C901 allowed: its complexity is the sum of the route handlers defined inside, which share the app's state
def create_app(assistant: Assistant, login: tuple[str, str] | None = None, ui: bool = True) -> FastAPI:  # noqa: C901
    """The FastAPI app: `/v1`, `/api`, `/healthz`, `/docs`, and (with `ui`) the Gradio UI mounted at `/`."""
    settings = assistant.settings
    app = FastAPI(
        title="Kazakhstan SDG Stories Assistant",
        version="0.1.0",
        description="Cited answers from UN and Government of Kazakhstan stories. The web UI is at `/`. "
        "Authenticate with `Authorization: Bearer ASSISTANT_API_KEY` or the UI login when either is set.",
        redoc_url=None,
    )
    guarded = [Depends(access_guard(settings.ui.api_key.get_secret_value(), login))]

    @app.exception_handler(AssistantError)
    async def _assistant_error(_: Request, err: AssistantError) -> JSONResponse:
        return error_response(err)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, err: RequestValidationError) -> JSONResponse:
        if any(e["type"] == "json_invalid" for e in err.errors()):
            return invalid_request("The request body is not valid JSON.")
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in err.errors())
        return invalid_request(f"The request is not valid: {problems}.")

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, err: HTTPException) -> JSONResponse:
        if err.status_code == 401:
            return error_response(AccessDeniedError())
        return invalid_request(str(err.detail), err.status_code)

    def answer(question: str, history: list[dict], since: str, until: str, language: str, **options) -> Iterator:
        filters = request_filters(settings, since, until, language)
        return assistant.stream(question, history=history, filters=filters, **options)

    def final(events: Iterator[Event]) -> Answer:
        return next(event.answer for event in events if isinstance(event, Final))

    @app.get("/v1/models", response_model=ModelList, dependencies=guarded, tags=["openai"])
    def models() -> ModelList:
        """The assistant as models: `kz-sdg-stories` (the LLM when configured, else offline), and `-offline`."""
        return ModelList(data=[ModelCard(id=MODEL_ID), ModelCard(id=OFFLINE_MODEL_ID)])

    @app.post(
        "/v1/chat/completions", response_model=ChatCompletion, responses=ERRORS, dependencies=guarded, tags=["openai"]
    )
    def chat_completions(request: ChatRequest):
        """OpenAI-compatible chat: the last user message is the question, earlier messages its context.

        With `stream: true` the reply comes as server-sent `chat.completion.chunk` events and `data: [DONE]`;
        the answer is sent once its citations are checked, and the last chunk carries `citations`.
        """
        question, history = conversation(request.messages)
        answerer = "offline" if request.model == OFFLINE_MODEL_ID else None
        events = answer(question, history, request.since, request.until, request.language, answerer=answerer)
        first = next(events)  # a bad question or filter, or a missing index, fails here: a JSON error
        head: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "created": int(time.time()),
            "model": request.model,
        }
        if not request.stream:
            result = ask_result(first.answer if isinstance(first, Final) else final(events), settings)
            reply = Choice(message=ReplyMessage(content=with_sources(result)))
            return ChatCompletion(**head, choices=[reply], **answer_extras(result))

        def chunks() -> Iterator[str]:
            chunk = head | {"object": "chat.completion.chunk"}
            yield sse(chunk | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
            try:
                result = ask_result(first.answer if isinstance(first, Final) else final(events), settings)
            except AssistantError as err:
                yield sse(error_body(err))
                yield sse("[DONE]")
                return
            for piece in pieces(with_sources(result)):
                yield sse(chunk | {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            last = chunk | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            yield sse(last | answer_extras(result))
            yield sse("[DONE]")

        return StreamingResponse(chunks(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/api/ask", response_model=AskResult, responses=ERRORS, dependencies=guarded, tags=["api"])
    def api_ask(request: AskRequest) -> AskResult:
        """One answer in the `assistant ask --json` shape; `history` makes it a follow-up."""
        history = [{"role": m.role, "content": without_sources(m.text())} for m in request.history]
        events = answer(
            request.question,
            history,
            request.since,
            request.until,
            request.language,
            top_k=request.top_k,
            answerer="offline" if request.offline else None,
        )
        return ask_result(final(events), settings)

    @app.get("/api/stories", response_model=list[StoryOut], responses=ERRORS, dependencies=guarded, tags=["api"])
    def api_stories(q: str = "") -> list[StoryOut]:
        """Every story in the index, newest first; `q` keeps those whose title or text contains it."""
        needle = q.strip().lower()
        stories = sorted(assistant.snapshot.stories.values(), key=lambda s: s.date or "", reverse=True)
        return [story_out(s, settings) for s in stories if not needle or needle in f"{s.title} {s.text}".lower()]

    @app.get(
        "/api/stories/{story_id}",
        response_model=StoryText,
        responses=ERRORS | {404: {"model": ErrorResponse}},
        dependencies=guarded,
        tags=["api"],
    )
    def api_story(story_id: str) -> StoryText:
        """One whole story; a citation's `start`/`end` index into its `text`."""
        story = assistant.snapshot.stories.get(story_id)
        if story is None:
            raise UnknownStoryError(story_id)
        return story_text(story, settings)

    @app.get("/healthz", response_model=Health, responses={503: {"model": ErrorResponse}}, tags=["api"])
    def healthz() -> Health:
        """Up, with an index that loads: its size and the default answerer. No login needed."""
        snapshot = assistant.snapshot
        answerer = assistant.chat.name if assistant.chat is not None else "offline"
        return Health(stories=len(snapshot.stories), chunks=len(snapshot.chunks), answerer=answerer)

    if ui:
        import gradio as gr

        from .ui import COPY_JS, CSS, build_app

        blocks = build_app(assistant)
        blocks.queue(default_concurrency_limit=UI_CONCURRENCY)
        app = gr.mount_gradio_app(
            app, blocks, path="/", auth=login, show_error=False, css=CSS, js=COPY_JS, theme=gr.themes.Soft()
        )
    return app


def _stopping_ui_streams(app: FastAPI):
    """A uvicorn server that, asked to stop, first ends the UI's open event streams (Gradio's session heartbeats).

    Otherwise every open browser tab or `gradio_client` session holds the shutdown for the whole
    grace period and is then cancelled with a traceback each.
    """
    import uvicorn

    stop_events = [r.app.stop_event for r in app.routes if isinstance(r, Mount) and hasattr(r.app, "stop_event")]

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None) -> None:
            for event in stop_events:
                event.set()
            await super().shutdown(sockets)

    return Server


def run(assistant: Assistant, host: str, port: int, insecure: bool = False, say: Callable[[str], None] = print):
    """Load the index, then serve the UI and the API until interrupted.

    Refuses (ConfigError) a half-set login, or a non-loopback `host` without one unless `insecure`.
    """
    import uvicorn

    login = assistant.settings.ui.login_for(host, insecure)
    assistant.retriever  # noqa: B018 - load models and index before the first request arrives
    app = create_app(assistant, login)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_GRACE_S)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    say(f"Running on local URL:  {url}")
    say(f"  web UI {url}/ · OpenAI-compatible API {url}/v1 · JSON API {url}/api · API docs {url}/docs")
    _stopping_ui_streams(app)(config).run()
