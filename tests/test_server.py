"""`assistant serve` on loopback: the real `openai` client, `curl` and `gradio_client` against one uvicorn server.

The server runs with a UI login and an API key, so every door is also checked to refuse
anonymous use and to accept its own credentials. Its LLM is a scripted OpenAI-protocol
server on loopback: model `kz-sdg-stories` answers through it, `kz-sdg-stories-offline`
with the offline reader.
"""

import json
import re
import subprocess

import openai
import pytest
from gradio_client import Client

from assistant.results import ABSTAIN_TEXT
from assistant.server import MODEL_ID, OFFLINE_MODEL_ID
from tests.conftest import running_ui
from tests.openai_server import Behaviour, OpenAIServer

pytestmark = pytest.mark.slow

ALLIANCE = "Who launched the Central Asian Alliance?"
KEY = "test-api-key-5150"
LOGIN = ("team", "s3cret-pass")
ASK_KEYS = {"question", "search_query", "answer", "abstained", "citations", "backend", "latency_ms"}


@pytest.fixture(scope="module")
def llm():
    server = OpenAIServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, corpus_index, llm):
    root = tmp_path_factory.mktemp("serve")
    env = {
        "UI_USERNAME": LOGIN[0],
        "UI_PASSWORD": LOGIN[1],
        "ASSISTANT_API_KEY": KEY,
        "ANSWERER": "auto",
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_MODEL": "stub-model",
    }
    with running_ui(root, corpus_index, command="serve", **env) as (url, _):
        yield url


def chat(url: str, messages: list[dict] | str, key: str = KEY, **options):
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120)
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    return client.chat.completions.create(model=options.pop("model", OFFLINE_MODEL_ID), messages=messages, **options)


def curl(*args: str) -> tuple[int, str]:
    """(HTTP status, body) of a real `curl` run."""
    done = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=120)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_openai_client_gets_a_cited_answer_and_a_source_list(served):
    reply = chat(served, ALLIANCE)
    citations = reply.model_extra["citations"]
    answer, sources = reply.choices[0].message.content.split("\n\nSources:\n")
    assert "Spotlight" in answer and reply.model_extra["abstained"] is False
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer)} == {c["n"] for c in citations}
    assert citations[0]["title"].startswith("Uniting for Progress") and citations[0]["origin"] == "corpus"
    for c in citations:
        assert f'- [{c["n"]}] {c["title"]} ({c["kind"]}, {c["date"]}) — "{c["quote"]}"' in sources.splitlines()
    status, body = curl("-H", f"Authorization: Bearer {KEY}", f"{served}/api/stories/{citations[0]['story_id']}")
    story = json.loads(body)
    assert status == 200 and story["text"][citations[0]["start"] : citations[0]["end"]] == citations[0]["quote"]


def test_streamed_reply_is_the_same_reply_in_chunks(served):
    chunks = list(chat(served, ALLIANCE, stream=True))
    whole = chat(served, ALLIANCE)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 3 and streamed == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == whole.model_extra["citations"]


def test_llm_reply_is_streamed_once_its_citations_are_checked(served, llm):
    llm.script(
        Behaviour(
            reply="It was launched under the UN Spotlight Initiative, funded by the EU [1]. "
            "It also cured all diseases [7]."
        )
    )
    chunks = list(chat(served, ALLIANCE, model=MODEL_ID, stream=True))
    answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).split("\n\nSources:\n")[0]
    last = chunks[-1].model_extra
    assert last["backend"] == "stub-model" and "Spotlight Initiative" in answer
    assert "[7]" not in answer and {int(n) for n in re.findall(r"\[(\d+)\]", answer)} == {
        c["n"] for c in last["citations"]
    }
    assert llm.requests[-1]["body"]["stream"] is True  # the model was asked for a stream, and read to its end


def test_earlier_messages_are_the_context_of_a_follow_up(served):
    first = chat(served, ALLIANCE).choices[0].message.content
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},  # front ends add one; it is skipped
        {"role": "user", "content": ALLIANCE},
        {"role": "assistant", "content": first},
        {"role": "user", "content": "When was it launched?"},
    ]
    reply = chat(served, messages)
    assert "Central Asian Alliance" in reply.model_extra["search_query"]
    assert "27 June" in reply.choices[0].message.content.split("\n\nSources:")[0]


def test_abstains_when_the_stories_do_not_say(served):
    reply = chat(served, "What is the capital of France?")
    assert reply.choices[0].message.content == ABSTAIN_TEXT
    assert reply.model_extra["abstained"] is True and reply.model_extra["citations"] == []


def test_bad_requests_are_json_errors_with_the_cli_exit_codes(served):
    with pytest.raises(openai.BadRequestError) as no_question:
        chat(served, [{"role": "user", "content": ALLIANCE}, {"role": "assistant", "content": "It was…"}])
    with pytest.raises(openai.BadRequestError) as bad_date:
        chat(served, ALLIANCE, extra_body={"since": "yesterday"})
    with pytest.raises(openai.BadRequestError) as empty:
        chat(served, " \x1b[2J ", stream=True)  # refused before the stream starts: an HTTP error, not an event
    assert no_question.value.body == {
        "message": 'The last message must be the question, with role "user".',
        "type": "InvalidQuestionError",
        "code": 2,
    }
    assert bad_date.value.body["code"] == 2 and "since date 'yesterday'" in bad_date.value.body["message"]
    assert empty.value.body["type"] == "InvalidQuestionError"
    status, body = curl(
        "-X",
        "POST",
        f"{served}/v1/chat/completions",
        "-H",
        f"Authorization: Bearer {KEY}",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"messages": []}',
    )
    assert status == 400 and json.loads(body)["error"]["code"] == 2 and "messages" in body


def test_login_or_api_key_is_required(served):
    with pytest.raises(openai.AuthenticationError) as wrong_key:
        chat(served, ALLIANCE, key="not-the-key")
    assert (
        wrong_key.value.body["type"] == "AccessDeniedError" and "ASSISTANT_API_KEY" in wrong_key.value.body["message"]
    )
    assert curl(f"{served}/api/stories")[0] == 401
    assert curl("-u", "team:wrong", f"{served}/api/stories")[0] == 401
    status, body = curl("-u", ":".join(LOGIN), f"{served}/api/stories")
    assert status == 200 and len(json.loads(body)) == 18
    models = openai.OpenAI(base_url=f"{served}/v1", api_key=KEY, max_retries=0).models.list()
    assert [m.id for m in models] == [MODEL_ID, OFFLINE_MODEL_ID]
    status, body = curl(f"{served}/healthz")  # no login: for probes
    assert status == 200 and json.loads(body) == {
        "status": "ok",
        "stories": 18,
        "chunks": 168,
        "answerer": "stub-model",
    }


def test_curl_json_api_and_its_openapi_page(served):
    auth = ("-H", f"Authorization: Bearer {KEY}")
    status, body = curl(
        *auth,
        "-X",
        "POST",
        f"{served}/api/ask",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps(
            {"question": "When was it launched?", "offline": True, "history": [{"role": "user", "content": ALLIANCE}]}
        ),
    )
    answer = json.loads(body)
    assert status == 200 and set(answer) >= ASK_KEYS and "27 June" in answer["answer"]
    assert answer["search_query"] == "When was the Central Asian Alliance launched?"
    status, body = curl(*auth, f"{served}/api/stories?q=Bektenov")
    assert status == 200 and [s["title"].startswith("Prime Minister") for s in json.loads(body)] == [True]
    status, body = curl(*auth, f"{served}/api/stories/no-such-story")
    assert status == 404 and json.loads(body)["error"]["type"] == "UnknownStoryError"
    status, body = curl(
        *auth,
        "-N",
        "-X",
        "POST",
        f"{served}/v1/chat/completions",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps({"messages": [{"role": "user", "content": ALLIANCE}], "stream": True, "model": OFFLINE_MODEL_ID}),
    )
    events = [line for line in body.splitlines() if line]
    assert status == 200 and all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    status, body = curl(f"{served}/openapi.json")
    paths = json.loads(body)["paths"]
    assert {"/v1/chat/completions", "/v1/models", "/api/ask", "/api/stories", "/api/stories/{story_id}"} <= set(paths)
    assert curl(f"{served}/docs")[0] == 200


def test_the_ui_is_mounted_at_the_root_with_its_login(served):
    client = Client(served, auth=LOGIN, verbose=False)
    history, *_ = client.predict(ALLIANCE, [], 6, "", "", "all", "offline", api_name="/ask")
    assert "Spotlight" in json.dumps(history[-1]["content"])
    assert curl(f"{served}/config")[0] in (401, 403)
