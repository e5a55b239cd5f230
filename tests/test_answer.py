from assistant.answer import check_llm_citations, profile, question_kind


def test_question_kinds():
    assert question_kind("Who launched the alliance?") == "person"
    assert question_kind("When was it launched?") == "date"
    assert question_kind("Where was the workshop held?") == "place"
    assert question_kind("How many people attended?") == "count"
    assert question_kind("What is the population of Kazakhstan?") == "count"
    assert question_kind("What share of the land is degraded?") == "share"
    assert question_kind("By how much have glaciers shrunk?") == "amount"
    assert question_kind("Where does Kazakhstan rank in the SDG Index?") == "count"
    assert question_kind("What are the six key transitions?") == "list"
    assert question_kind("Сколько человек вернули?") == "count"


def test_multi_part_questions_split_into_parts():
    p = profile("Who launched the Central Asian Alliance and when?")
    assert [part.kind for part in p.parts] == ["person", "date"]
    assert "allianc" in p.parts[1].terms  # "... and when?" borrows what it is about


def test_offline_answers_the_alliance_question_with_a_verbatim_quote(assistant):
    answer = assistant.ask("Who launched the Central Asian Alliance?")
    assert not answer.abstained
    assert "Spotlight" in answer.text and "European Union" in answer.text
    cite = answer.citations[0]
    assert "Central Asian Alliance" in cite.title and cite.date == "2023-07-03"
    story = assistant.snapshot.stories[cite.story_id]
    assert story.text[cite.start : cite.end] == cite.quote
    assert len(answer.text) < 600


def test_abstains_when_the_stories_do_not_say(assistant):
    for q in ("What is the population of Kazakhstan?", "What is the capital of France?",
              "What is the salary of the UN Resident Coordinator in Kazakhstan?"):  # fmt: skip
        answer = assistant.ask(q)
        assert answer.abstained, q
        assert answer.citations == [] and "don't say" in answer.text


def test_disagreeing_stories_are_both_reported(assistant):
    answer = assistant.ask("What share of Kazakhstan's land is degraded?")
    assert "21.3%" in answer.text and "70 per cent" in answer.text
    assert len({c.story_id for c in answer.citations}) == 2
    assert answer.text.startswith("The stories give different figures")


def test_question_asking_for_a_date_gets_a_date(assistant):
    answer = assistant.ask("When was the Central Asian Alliance launched?")
    assert "27 June" in answer.text


def test_list_question_collects_entities_from_several_sentences(assistant):
    answer = assistant.ask("In which regions did the FRIENDS team inspect potential pilot sites?")
    assert "Akmola" in answer.text and "Almaty" in answer.text


def test_llm_citations_are_checked_against_the_given_passages(assistant):
    evidence = assistant.retriever.search("Who launched the Central Asian Alliance?").evidence[:5]
    text, cites = check_llm_citations(
        "The Alliance was launched under the Spotlight Initiative [1]. The EU paid for everything [7].", evidence
    )
    assert "[7]" not in text and "[1]" in text
    assert [c.n for c in cites] == [1]
    story = assistant.snapshot.stories[cites[0].story_id]
    assert story.text[cites[0].start : cites[0].end] == cites[0].quote


def test_llm_reply_without_markers_gets_citations_attached(assistant):
    evidence = assistant.retriever.search("Who launched the Central Asian Alliance?").evidence[:5]
    text, cites = check_llm_citations(
        "The Central Asian Alliance to End Gender-Based Violence was launched in Almaty on 27 June.", evidence
    )
    assert text.endswith("[1].") and cites and "Central Asian Alliance" in cites[0].title
    unrelated, none = check_llm_citations("Bananas are yellow.", evidence)
    assert none == [] and "[" not in unrelated
