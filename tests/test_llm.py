"""The OpenAI-compatible path, against a real HTTP server on loopback that misbehaves on purpose."""

import time

import httpx
import pytest

from assistant.config import load_settings
from assistant.errors import LLMError
from assistant.llm import OpenAIChat, make_chat_model
from assistant.netutil import free_port
from tests.openai_server import Behaviour, OpenAIServer

MESSAGES = [{"role": "user", "content": "Say hello."}]


@pytest.fixture
def server():
    srv = OpenAIServer()
    yield srv
    srv.close()


def chat_for(base_url: str, **env) -> OpenAIChat:
    settings = load_settings(
        env_file=None,
        environ={"OPENAI_BASE_URL": base_url, "OPENAI_MODEL": "stub-model", "OPENAI_API_KEY": "sk-test-secret", **env},
    )
    return OpenAIChat(settings.llm)


def test_streams_a_reply_and_sends_the_key(server):
    server.script(Behaviour(reply="Hello from the stories"))
    assert "".join(chat_for(server.base_url).stream(MESSAGES)).strip() == "Hello from the stories"
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["body"]["stream"] is True
    assert request["body"]["model"] == "stub-model"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["authorization"] == "Bearer sk-test-secret"


def test_retries_a_500_then_succeeds(server):
    server.script(Behaviour(status=500), Behaviour(reply="second try"))
    assert "".join(chat_for(server.base_url).stream(MESSAGES)).strip() == "second try"
    assert len(server.requests) == 2


def test_429_honours_retry_after_within_the_deadline(server):
    server.script(Behaviour(status=429, retry_after="1"), Behaviour(reply="after waiting"))
    began = time.monotonic()
    assert "".join(chat_for(server.base_url).stream(MESSAGES)).strip() == "after waiting"
    assert 0.9 <= time.monotonic() - began < 5


def test_retry_after_longer_than_the_deadline_fails_fast(server):
    server.script(Behaviour(status=429, retry_after="30"))
    began = time.monotonic()
    with pytest.raises(LLMError, match="429"):
        list(chat_for(server.base_url, LLM_TIMEOUT="3").stream(MESSAGES))
    assert time.monotonic() - began < 2


def test_persistent_500_gives_up(server):
    server.script(*[Behaviour(status=500)] * 5)
    with pytest.raises(LLMError, match="500"):
        list(chat_for(server.base_url).stream(MESSAGES))
    assert len(server.requests) == 2  # one retry (LLM_MAX_RETRIES=1)


def test_hang_is_cut_at_the_time_limit(server):
    server.script(Behaviour(delay_s=10, reply="too late"))
    began = time.monotonic()
    with pytest.raises(LLMError):
        list(chat_for(server.base_url, LLM_TIMEOUT="1.5").stream(MESSAGES))
    assert time.monotonic() - began < 3


def test_malformed_json_is_an_error(server):
    server.script(Behaviour(malformed=True), Behaviour(malformed=True))
    with pytest.raises(LLMError):
        list(chat_for(server.base_url).stream(MESSAGES))


def test_stream_cut_mid_answer_is_an_error(server):
    server.script(Behaviour(reply="one two three four five", cut_after=2))
    with pytest.raises(LLMError):
        list(chat_for(server.base_url).stream(MESSAGES))


def test_connection_refused():
    port = free_port()  # nothing listens on it
    with pytest.raises(LLMError, match="cannot be reached"):
        list(chat_for(f"http://127.0.0.1:{port}/v1").stream(MESSAGES))


def test_scripted_transport_faults_without_a_server():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": "bad key"}})

    settings = load_settings(env_file=None, environ={"OPENAI_BASE_URL": "http://llm.invalid/v1"})
    chat = OpenAIChat(settings.llm, http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(LLMError, match="401"):
        list(chat.stream(MESSAGES))


def test_answerer_choice():
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    assert make_chat_model(load_settings(env_file=None, environ={}).llm) is None
    assert make_chat_model(load_settings(env_file=None, environ=env).llm) is not None
    assert make_chat_model(load_settings(env_file=None, environ={"ANSWERER": "offline"}).llm) is None
    # ANSWERER=offline still offers a configured endpoint; the pipeline keeps the reader as its default
    assert make_chat_model(load_settings(env_file=None, environ=env | {"ANSWERER": "offline"}).llm) is not None
