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


def test_the_check_says_what_it_changed_and_moves_a_marker_to_the_passage_holding_the_claim(assistant):
    from assistant.citations import MATCH_SHARE, _share, check_citations

    evidence = assistant.retriever.search("Who launched the Central Asian Alliance?").evidence[:5]
    holder = next(i for i, ev in enumerate(evidence, 1) if "officially launched on 27 June" in ev.chunk.text)
    claim = "The Central Asian Alliance to End Gender-Based Violence was officially launched on 27 June in Almaty"
    wrong = min(range(1, len(evidence) + 1), key=lambda i: _share(claim, evidence[i - 1]))
    assert _share(claim, evidence[wrong - 1]) < MATCH_SHARE  # the model's marker names a passage without the claim
    check = check_citations(f"{claim} [{wrong}]. Purple zebras sing [9]. Bananas are yellow and sweet.", evidence)
    assert (check.markers_written, check.markers_valid, check.dropped, check.moved) == (2, 1, 1, 1)
    assert check.changed and check.uncited == ["Purple zebras sing.", "Bananas are yellow and sweet."]
    assert check.text.startswith(f"{claim} [1].") and "27 June" in check.citations[0].quote
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
