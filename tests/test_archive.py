"""Questions about the whole archive: recognised by form, answered from every story, one citation per story."""

from __future__ import annotations

import pytest

from assistant.archive import Archive, figures, parse_archive_question
from assistant.harness.evaluate import DEFAULT_QA, EVAL_DIR, load_cases
from assistant.stories import Story
from tests.openai_server import Behaviour, OpenAIServer
from tests.test_pipeline_llm import llm_assistant


def story(
    sid: str,
    title: str,
    when: str | None,
    text: str,
    kind: str = "Story",
    language: str = "en",
    translation_of: str = "",
) -> Story:
    return Story(sid, title, when, kind, language, f"{sid}.txt", text, 0, len(text), "", translation_of)


STORIES = {
    s.story_id: s
    for s in [
        story(
            "a",
            "Desert forests planted",
            "2021-03-02",
            "Land degradation threatens the steppe. The ministry said 60 per cent of pastures are degraded. "
            "The Ministry of Water Resources joined the project.",
        ),
        story(
            "b",
            "Water partnership launched",
            "2022-07-14",
            "The Ministry of Water Resources and UNICEF signed an agreement. About 40% of the land is degraded, "
            "an official said, and 12 districts will take part.",
            kind="Press Release",
        ),
        story(
            "c",
            "Youth forum in Turkistan",
            "2023-01-20",
            "UNICEF held a youth forum with 300 participants from 12 regions. Nothing was said about the land.",
        ),
        story(
            "c-kk",
            "Турк жастар форумы",
            "2023-01-20",
            "ЮНИСЕФ жастар форумын өткізді. UNICEF.",
            language="kk",
            translation_of="c",
        ),
        story(
            "d",
            "About the programme",
            None,
            "The programme has run since 2015 and mentions UNICEF once here.",
            kind="Page",
        ),
    ]
}


SQUAD = EVAL_DIR / "squad"


@pytest.fixture
def archive() -> Archive:
    return Archive(STORIES)


@pytest.mark.parametrize(
    ("question", "form"),
    [
        ("How many stories mention UNICEF?", "count"),
        ("How many press releases were published in 2022?", "count"),
        ("What is the number of articles about water?", "count"),
        ("Which stories are about land degradation?", "list"),
        ("List the stories from July 2022.", "list"),
        ("Show me all press releases on water", "list"),
        ("What publications are there?", "list"),
        ("Are there any stories about glaciers?", "list"),
        ("What has the UN done on land degradation, in order?", "timeline"),
        ("Give me a timeline of UNICEF's work", "timeline"),
        ("How has youth policy changed over time?", "timeline"),
        ("What is the most recent figure for degraded land?", "latest"),
        ("What's the latest number of participants at the youth forum?", "latest"),
    ],
)
def test_archive_questions_are_recognised_by_their_form(question, form):
    assert parse_archive_question(question).form == form


def test_other_questions_go_to_the_reader():
    """Every other question of the stories' dev set and of SQuAD's train and dev articles falls through."""
    others = [c.question for c in load_cases(DEFAULT_QA) if "archive" not in c.tags]
    others += [c.question for split in ("train", "dev") for c in load_cases(SQUAD / f"{split}.yaml")]
    others += [
        "What did Kazakhstan do in order to restore forests?",
        "How many people attended the forum?",
        "Which regions did the FRIENDS team visit?",
        "What did Article 12 of the treaty require?",
    ]
    assert len(others) > 2600
    assert [q for q in others if parse_archive_question(q)] == []


def test_question_dates_kinds_and_topic_are_read():
    ask = parse_archive_question("How many press releases mention the Ministry of Water Resources since March 2021?")
    assert ask.kinds == ("Press Release",) and ask.noun == ("press release", "press releases")
    assert (ask.date_from, ask.date_to) == ("2021-03-01", "")
    assert [s.text for s in ask.segments] == ["Ministry of Water Resources"]
    ask = parse_archive_question("Which stories were published between May 2022 and January 2023?")
    assert (ask.date_from, ask.date_to, ask.segments) == ("2022-05-01", "2023-01-31", ())


def test_count_counts_a_translation_once_and_says_how_it_was_found(archive):
    reply = archive.answer("How many stories mention UNICEF?")
    assert reply.text.startswith("3 of the 4 stories mention “UNICEF”.")
    assert [c.story_id for c in reply.citations] == ["c", "b", "d"]  # the original, never its translation
    assert "reading all 5 stories" in reply.text and "a translation counts with its original" in reply.text
    assert not reply.abstained and reply.form == "count"
    for c in reply.citations:  # every quote is verbatim, at its offsets
        assert STORIES[c.story_id].text[c.start : c.end] == c.quote and "UNICEF" in c.quote


def test_singular_zero_kind_and_date_filters(archive):
    one = archive.answer("How many press releases mention UNICEF?")
    assert one.text.startswith("1 of the 1 press release mentions “UNICEF”.")
    none = archive.answer("How many stories mention glaciers?")
    assert none.text.startswith("0 of the 4 stories mention “glaciers”.") and none.citations == []
    dated = archive.answer("List the stories from 2022 and 2023")
    assert [c.story_id for c in dated.citations] == ["c", "b"]  # newest first; the undated page is out
    kinds = archive.answer("How many press releases are there?")
    assert kinds.text.startswith("1 of the 4 stories in the archive is a press release.")
    assert archive.answer("Which stories mention UNICEF?", language="kk").citations[0].story_id == "c-kk"
    assert archive.answer("Which stories mention UNICEF?", date_to="2022-12-31").citations[0].story_id == "b"


def test_the_latest_or_first_story_alone(archive):
    latest = archive.answer("What is the latest news about UNICEF?")
    assert [c.story_id for c in latest.citations] == ["c"] and "; the newest:" in latest.text
    first = archive.answer("Which was the first press release?")
    assert [c.story_id for c in first.citations] == ["b"] and "; the oldest:" in first.text


def test_list_with_nothing_found_abstains_and_says_so(archive):
    reply = archive.answer("Which stories mention glaciers?")
    assert reply.abstained and reply.citations == [] and "0 of the 4 stories mention “glaciers”" in reply.text


def test_timeline_is_chronological_and_matches_a_phrase_in_any_word_order(archive):
    reply = archive.answer("What has the UN done on land degradation, in order?")
    assert [c.story_id for c in reply.citations] == ["a", "b"]  # "land is degraded" counts; "the land" alone not
    lines = reply.text.splitlines()
    assert lines[0] == "2 of the 4 stories mention “land degradation”; oldest first:"
    assert lines[1] == "- 2021-03-02 — Desert forests planted (Story) [1]"
    assert lines[2] == "- 2022-07-14 — Water partnership launched (Press Release) [2]"
    assert lines[3] == "(No story mentions “UN”, so it was left out.)"  # said, never silently dropped


def test_named_things_are_matched_as_names(archive):
    reply = archive.answer("Which stories mention the Ministry of Water Resources?")
    assert [c.story_id for c in reply.citations] == ["b", "a"]
    assert "Ministry of Water Resources" in reply.citations[0].quote


def test_latest_figure_is_the_newest_storys_with_its_date(archive):
    reply = archive.answer("What is the most recent figure for the share of land that is degraded?")
    assert reply.short_answer == "40%" and reply.citations[0].story_id == "b"
    assert reply.text.startswith("40% — as of 2022-07-14, the newest of 2 stories that give a figure")
    assert "[1]" in reply.text and [r["story_id"] for r in reply.retrieved] == ["b", "a"]
    people = archive.answer("What's the latest number of participants at the youth forum?")
    assert people.short_answer == "300"  # the figure followed by the asked word, not "12 regions"


def test_latest_without_a_figure_falls_through_to_the_reader(archive):
    assert archive.answer("What is the latest figure for glaciers melting?") is None


def test_figures_skip_years_and_days():
    found = [f for f, _, _ in figures("On 27 June 2023, 35 million women and 1 in 3 girls; 21.3% by 2030.")]
    assert found == ["35 million", "1", "3", "21.3%"]


def test_the_pipeline_answers_archive_questions_itself_even_with_an_llm(corpus_index):
    """With an LLM configured, an archive answer is still composed by the app from every story: no LLM call."""
    server = OpenAIServer()
    server.script(Behaviour(reply="There are 99 stories about UNICEF [1]."))
    try:
        answer = llm_assistant(corpus_index, server.base_url).ask("How many stories mention UNICEF?")
    finally:
        server.close()
    assert answer.backend == "archive" and server.requests == []
    assert answer.text.startswith("2 of the 17 stories mention “UNICEF”.")
    assert [c.title.split(":")[0][:30] for c in answer.citations] == [
        "UNICEF and NINETY ONE urge Kaz",
        "UN experts agree that Kazakhst",
    ]


def test_language_or_and_possessive_in_the_question(archive):
    kazakh = archive.answer("How many stories are in Kazakh?")
    assert kazakh.text.startswith("1 of the 4 stories in the archive is in Kazakh.")
    assert [c.story_id for c in kazakh.citations] == ["c-kk"]  # the story in the language asked for
    either = archive.answer("How many stories mention UNICEF or the Ministry of Water Resources?")
    assert either.text.startswith("4 of the 4 stories mention “UNICEF” or “Ministry of Water Resources”.")
    both = archive.answer("How many stories mention both UNICEF and the Ministry of Water Resources?")
    assert both.text.startswith("1 of the 4 stories mentions “UNICEF” and “Ministry of Water Resources”.")
    ask = parse_archive_question("Give me a timeline of UNICEF's work on youth")
    assert [s.text for s in ask.segments] == ["UNICEF's", "youth"]
    assert archive.answer("How many stories are there?").text.startswith("The archive holds 4 stories.")


def test_the_pipeline_counts_the_tiny_archive_with_one_citation_a_story(tiny_assistant):
    unicef = tiny_assistant.ask("How many stories mention UNICEF?")
    assert unicef.backend == "archive"
    assert unicef.text.startswith("1 of the 4 stories mentions “UNICEF”.")
    assert [c.title for c in unicef.citations] == ["Young women learn to code at the Sauran hub"]
    assert tiny_assistant.ask("How many stories are there?").text.startswith("The archive holds 4 stories.")
