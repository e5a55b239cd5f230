import json
import re

from click.testing import CliRunner

from assistant.cli import main
from tests.conftest import TINY_ENV


def env_for(root) -> dict:
    return {"INDEX_DIR": str(root / "index"), "ANSWERER": "offline", "OPENAI_BASE_URL": "", "OPENAI_API_KEY": ""}


def run(root, *args, **env: str):
    return CliRunner().invoke(main, ["--env-file", str(root / "none.env"), *args], env=env_for(root) | env)


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


def test_ask_filters(tiny_index):
    result = run(tiny_index, "ask", "--json", "--language", "kk", "Қанша гектар тоғай отырғызылды?", **TINY_ENV)
    data = json.loads(result.output)
    assert data["citations"] and {c["language"] for c in data["citations"]} == {"kk"}


def test_empty_question_exits_2(tiny_index):
    result = run(tiny_index, "ask", "  ", **TINY_ENV)
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


# -- issue 11 -----------------------------------------------------------------------------
ALLIANCE = "Who launched the Central Asian Alliance?"
ALLIANCE_STORY = "Uniting for Progress: EU and UN Support the Launch of the Central Asian Alliance"


def test_lenient_dates_are_read_and_applied(corpus_index):
    accepted = run(corpus_index, "ask", ALLIANCE, "--since", "2023/07/01")
    assert accepted.exit_code == 0, accepted.output
    assert ALLIANCE_STORY in accepted.output and "(Story, 2023-07-03)" in accepted.output
    after = run(corpus_index, "ask", "--json", ALLIANCE, "--since", "2023-7-10")  # the 2023-07-03 story is out
    assert after.exit_code == 0 and all(c["date"] >= "2023-07-10" for c in json.loads(after.output)["citations"])
    month = run(corpus_index, "ask", "--json", ALLIANCE, "--since", "July 2023", "--until", "July 2023")
    assert {c["date"] for c in json.loads(month.output)["citations"]} == {"2023-07-03"}


def test_unreadable_dates_and_languages_exit_2_with_what_is_accepted(tiny_index):
    for args in (["--since", "yesterday"], ["--until", "2023/31/01"], ["--since", "01/07/2023"]):
        result = run(tiny_index, "ask", ALLIANCE, *args, **TINY_ENV)
        assert result.exit_code == 2, result.output
        assert "YYYY-MM-DD" in result.output and "July 2023" in result.output and "Traceback" not in result.output
    garbage = CliRunner().invoke(
        main, ["--env-file", "none.env", "ask", ALLIANCE], env=env_for(tiny_index) | TINY_ENV | {"DATE_FROM": "garbage"}
    )
    assert garbage.exit_code == 2 and "DATE_FROM" in garbage.output and "YYYY-MM-DD" in garbage.output
    language = run(tiny_index, "ask", ALLIANCE, "--language", "xx", **TINY_ENV)
    assert language.exit_code == 2 and "en (English), kk (Kazakh), ru (Russian)" in language.output


def test_question_of_control_characters_exits_2(tiny_index):
    result = run(tiny_index, "ask", "\x01\x02\x1b\x7f\x1b]0;\x07", **TINY_ENV)
    assert result.exit_code == 2 and "empty" in result.output


def test_story_escape_sequences_never_reach_the_terminal(tmp_path):
    folder = tmp_path / "hostile"
    folder.mkdir()
    osc = "\x1b]0;PWNED-TITLE\x07"
    body = f"The Aktobe region drilled 14 new wells {osc} in 2024 with \x1b[31mred\x1b[0m \x9b2J support \u202eleft."
    (folder / "osc.txt").write_text(f"Aktobe wells story {osc}\n12 May 2024\n{body}\n")
    assert run(tmp_path, "ingest", str(folder)).exit_code == 0
    question = "How many wells did the Aktobe region drill?"
    result = CliRunner().invoke(main, ["--env-file", "x.env", "ask", question], env=env_for(tmp_path), color=True)
    assert result.exit_code == 0 and "14 new wells" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\x9b" not in result.output
    assert "\u202e" not in result.output and "PWNED" not in result.output
    as_json = run(tmp_path, "ask", "--json", "How many wells did the Aktobe region drill?")
    assert "\x1b" not in as_json.output and "\\u001b]0;PWNED-TITLE\\u0007" in as_json.output
    assert "\x1b]0;PWNED-TITLE\x07" in json.loads(as_json.output)["citations"][0]["quote"]  # the data stays exact


def test_ingest_shows_progress_with_rate_and_time_left(tmp_path, tiny_corpus):
    result = run(tmp_path, "ingest", str(tiny_corpus), **TINY_ENV)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Reading ") and str(tiny_corpus) in lines[0]
    final = next(line for line in lines if "embedding 4/4 stories" in line)
    assert re.search(r"embedding 4/4 stories, (\d+)/\1 chunks, \d+\.\d chunks/s, done", final), final
    assert "1 stories" not in result.output and "4 files: 0 unchanged, 4 stories added" in result.output


# -- issue 14 -----------------------------------------------------------------------------
def test_ask_markdown_gives_the_answer_and_its_sources(corpus_index):
    result = run(corpus_index, "ask", "--format", "markdown", "How many stories mention UNICEF?")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "**Q:** How many stories mention UNICEF?"
    assert lines[2] == "2 of the 17 stories mention “UNICEF”."
    assert "- 2023-09-26 — UNICEF and NINETY ONE urge Kazakhstanis to listen to youth (Story) [1]" in lines
    at = lines.index("**Sources**")
    assert lines[at + 2] == (
        "- [1] *UNICEF and NINETY ONE urge Kazakhstanis to listen to youth* (Story, 2023-09-26), "
        "`data/corpus/001_39b3ef53bbcef721.txt`"
    )
    assert lines[at + 3].startswith("  > “") and "UNICEF" in lines[at + 3]
    reader = run(corpus_index, "ask", "--format", "markdown", ALLIANCE)
    assert "[1]" in reader.output and "*Uniting for Progress: EU and UN Support the Launch" in reader.output
    assert json.loads(run(corpus_index, "ask", "--format", "json", ALLIANCE).output)["citations"]


def test_markdown_never_turns_story_text_into_links_or_markup(tmp_path):
    folder = tmp_path / "hostile"
    folder.mkdir()
    title = "Aktobe [click me](javascript:alert(1)) <img src=x onerror=alert(2)> *wells*"
    (folder / "md.txt").write_text(f"{title}\n12 May 2024\nThe Aktobe region drilled 14 new wells [x](http://evil).\n")
    assert run(tmp_path, "ingest", str(folder)).exit_code == 0
    result = run(tmp_path, "ask", "--format", "markdown", "Which stories mention Aktobe?")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "](" not in out.replace("\\](", "") and "<img" not in out.replace("\\<img", "")
    assert "\\[click me\\](javascript:alert(1)) \\<img src=x onerror=alert(2)\\> \\*wells\\*" in out
    assert "1 of the 1 story mentions “Aktobe”" in out and "- [1] *Aktobe \\[click me\\]" in out


HEAVY = ("llama_index", "chromadb", "gradio", "numpy", "openai", "fastapi")


def modules_loaded_by(code: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after running `code`."""
    import subprocess
    import sys

    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_help_imports_nothing_heavy():
    loaded = modules_loaded_by(
        "import contextlib\nfrom assistant.cli import main\n"
        "with contextlib.suppress(SystemExit):\n    main(['--help'], standalone_mode=True)"
    )
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "pydantic" not in loaded  # settings are validated only when a command runs


def test_answer_type_is_cheap_to_import():
    loaded = modules_loaded_by("from assistant import Answer, Citation\nfrom assistant.types import Final, Story")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
