import json

from click.testing import CliRunner

from assistant.cli import main


def env_for(root) -> dict:
    return {"INDEX_DIR": str(root / "index"), "ANSWERER": "offline", "OPENAI_BASE_URL": "", "OPENAI_API_KEY": ""}


def run(root, *args):
    return CliRunner().invoke(main, ["--env-file", str(root / "none.env"), *args], env=env_for(root))


def test_ask_prints_answer_and_sources(corpus_index):
    result = run(corpus_index, "ask", "Who launched the Central Asian Alliance?")
    assert result.exit_code == 0, result.output
    assert "Spotlight" in result.output
    assert "[1] Uniting for Progress: EU and UN Support the Launch of the Central Asian Alliance" in result.output
    assert "(Story, 2023-07-03)" in result.output


def test_ask_json(corpus_index):
    result = run(corpus_index, "ask", "--json", "When was the Central Asian Alliance launched?")
    data = json.loads(result.output)
    assert set(data) >= {"question", "search_query", "answer", "abstained", "citations", "backend", "latency_ms"}
    assert "27 June" in data["answer"] and data["citations"][0]["n"] == 1


def test_ask_filters(corpus_index):
    result = run(corpus_index, "ask", "--json", "--language", "kk", "Дидар Теменов қандай қызмет атқарады?")
    data = json.loads(result.output)
    assert data["citations"] and {c["language"] for c in data["citations"]} == {"kk"}


def test_empty_question_exits_2(corpus_index):
    result = run(corpus_index, "ask", "  ")
    assert result.exit_code == 2 and "empty" in result.output


def test_missing_index_exits_3_with_instructions(tmp_path):
    result = run(tmp_path, "ask", "Who launched the Central Asian Alliance?")
    assert result.exit_code == 3 and "assistant ingest" in result.output


def test_ingest_and_chat(tmp_path, small_corpus):
    result = run(tmp_path, "ingest", str(small_corpus))
    assert result.exit_code == 0 and "2 stories added" in result.output
    chat = CliRunner().invoke(
        main,
        ["--env-file", str(tmp_path / "none.env"), "chat"],
        env=env_for(tmp_path),
        input="Who did Prime Minister Olzhas Bektenov meet?\nWhere would the subregional office they discussed be?\n\n",
    )
    assert chat.exit_code == 0 and "Haoliang Xu" in chat.output and "Almaty" in chat.output


def test_help_texts():
    out = CliRunner().invoke(main, ["--help"]).output
    for command in ("ingest", "ask", "chat", "ui", "eval"):
        assert command in out
