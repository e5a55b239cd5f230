"""LLM replies: markers checked against the passages given, moved to the passage holding the claim, or dropped."""

from assistant.citations import check_llm_citations

LAUNCH = "Who launched the Sauran hub?"


def test_llm_citations_are_checked_against_the_given_passages(tiny_assistant):
    evidence = tiny_assistant.retriever.search(LAUNCH).evidence[:5]
    text, cites = check_llm_citations("The hub was launched by UNICEF [1]. The EU paid for everything [7].", evidence)
    assert "[7]" not in text and "[1]" in text
    assert [c.n for c in cites] == [1]
    story = tiny_assistant.snapshot.stories[cites[0].story_id]
    assert story.text[cites[0].start : cites[0].end] == cites[0].quote


def test_llm_reply_without_markers_gets_citations_attached(tiny_assistant):
    evidence = tiny_assistant.retriever.search(LAUNCH).evidence[:5]
    text, cites = check_llm_citations(
        "The Sauran hub was launched by UNICEF and the city akimat in July 2023.", evidence
    )
    assert text.endswith("[1].") and cites and "Sauran hub" in cites[0].title
    unrelated, none = check_llm_citations("Bananas are yellow.", evidence)
    assert none == [] and "[" not in unrelated


def test_the_check_says_what_it_changed_and_moves_a_marker_to_the_passage_holding_the_claim(tiny_assistant):
    from assistant.citations import MATCH_SHARE, _share, check_citations

    evidence = tiny_assistant.retriever.search(LAUNCH).evidence[:5]
    holder = next(i for i, ev in enumerate(evidence, 1) if "launched by UNICEF" in ev.chunk.text)
    claim = "The Sauran hub was launched by UNICEF and the city akimat on 10 July 2023"
    wrong = min(range(1, len(evidence) + 1), key=lambda i: _share(claim, evidence[i - 1]))
    assert _share(claim, evidence[wrong - 1]) < MATCH_SHARE  # the model's marker names a passage without the claim
    check = check_citations(f"{claim} [{wrong}]. Purple zebras sing [9]. Bananas are yellow and sweet.", evidence)
    assert (check.markers_written, check.markers_valid, check.dropped, check.moved) == (2, 1, 1, 1)
    assert check.changed and check.uncited == ["Purple zebras sing.", "Bananas are yellow and sweet."]
    assert check.text.startswith(f"{claim} [1].") and "10 July 2023" in check.citations[0].quote
    assert evidence[holder - 1].story.story_id == check.citations[0].story_id
    plain = check_citations(f"{claim}.", evidence)
    assert (plain.attached, plain.markers_written, plain.changed) == (1, 0, False)


def test_claims_read_both_marker_styles_and_support_is_judged_on_the_quotes():
    from assistant.citations import claims, supported

    llm = claims("Launched on 27 June [1]. Funded by the EU [2].")
    assert llm == [("Launched on 27 June", [1]), (".", [2]), ("Funded by the EU", [2]), (".", [])]
    reader = claims("The Alliance was launched in Almaty. [1] It is funded by the EU. [2]")
    assert reader == [("The Alliance was launched in Almaty.", [1]), ("It is funded by the EU.", [2])]
    quote = "The Central Asian Alliance was officially launched on 27 June in Almaty."
    assert supported("The Alliance was launched in Almaty on 27 June [1].", [quote]) is True
    assert supported("The Alliance was funded by Japan and Korea.", [quote]) is False
    assert supported("It was.", [quote]) is None
