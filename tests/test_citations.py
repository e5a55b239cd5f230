from assistant.citations import check_llm_citations


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
