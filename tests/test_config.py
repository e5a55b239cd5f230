import pytest

from assistant.config import PROJECT_ROOT, iter_env_fields, load_settings, render_env_example
from assistant.errors import ConfigError


def test_defaults_need_no_environment():
    s = load_settings(env_file=None, environ={})
    assert s.store.chroma_host == "" and s.llm.answerer == "auto" and not s.llm.configured
    assert s.ui.host == "127.0.0.1"


def test_environment_overrides_env_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text("TOP_K=4\nOPENAI_MODEL=from-file\nOPENAI_API_KEY=sk-file\n")
    s = load_settings(env_file=env, environ={"OPENAI_MODEL": "from-env"})
    assert s.retrieval.top_k == 4
    assert s.llm.model == "from-env"
    assert s.llm.api_key.get_secret_value() == "sk-file" and s.llm.configured
    assert "sk-file" not in repr(s) and "sk-file" not in str(s.model_dump())


def test_invalid_values_name_the_variable():
    with pytest.raises(ConfigError, match="TOP_K"):
        load_settings(env_file=None, environ={"TOP_K": "many"})
    with pytest.raises(ConfigError, match="ANSWERER"):
        load_settings(env_file=None, environ={"ANSWERER": "magic"})


def test_env_example_lists_every_setting():
    committed = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    assert committed == render_env_example(), "regenerate .env.example from assistant.config.render_env_example()"
    for _, _, env, info in iter_env_fields():
        assert f"\n{env}=" in committed and info.description
