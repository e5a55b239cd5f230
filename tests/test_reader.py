import json
from dataclasses import replace

import numpy as np
import pytest

from assistant.chunks import Chunk
from assistant.features import (
    CROSS_FEATURES,
    FEATURE_NAMES,
    QUESTION_FEATURES,
    SHORT_FEATURES,
    TYPED_AMONG,
    entities,
    typed_entities,
)
from assistant.reader import (
    CROSS_PASSAGES,
    LEARNED,
    LONG_SENTENCE,
    MODEL_FILE,
    PAIR_FEATURES,
    RERANK,
    OfflineReader,
    Pick,
    ReaderModel,
    as_sentence,
    beyond_the_subject,
    outermost,
    pair_rows,
    short_answer_candidates,
    sigmoid,
)
from assistant.retrieve import Evidence
from assistant.stories import Story
from assistant.types import StoredChunk

from .reader_fixtures import IDF, STORY, TEXT, evidence, founding_passage, long_story


@pytest.fixture(scope="module")
def reader() -> OfflineReader:
    """The real e5 embedder: the abstention model weighs the question's similarity to its best sentences."""
    from assistant.config import load_settings
    from assistant.embeddings import make_embedder

    return OfflineReader(make_embedder(load_settings(env_file=None, environ={})), idf=IDF, story_texts=[STORY.text])


def test_the_model_file_names_its_features_and_where_it_came_from():
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert tuple(data["sentence"]["names"]) == FEATURE_NAMES
    assert tuple(data["answerable"]["names"]) == QUESTION_FEATURES
    assert tuple(data["cross"]["names"]) == CROSS_FEATURES
    assert tuple(data["short"]["names"]) == SHORT_FEATURES
    assert tuple(data["pair"]["names"]) == PAIR_FEATURES
    assert data["provenance"]["command"] == "assistant train-reader"
    model = ReaderModel.load()
    assert model.embedder == "e5-small-q4"  # the default embedder's vectors are what the pair model reads
    assert 0.0 < model.threshold < 1.0
    # typed_missing looks for an answer of the asked kind where the answer is taken from: refitted to
    # another size, set TYPED_AMONG to it and run `assistant train-reader` again
    assert model.max_sentences == TYPED_AMONG


def test_a_model_fitted_on_other_features_is_refused(tmp_path):
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    data["sentence"]["names"] = data["sentence"]["names"][:-1]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="train-reader"):
        ReaderModel.load(path)


@pytest.mark.parametrize("model", ["cross", "short", "pair"])
def test_a_model_file_from_before_a_model_was_added_is_refused(tmp_path, model):
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    del data[model]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"no {model} model.*train-reader"):
        ReaderModel.load(path)


def test_a_model_file_from_before_the_answer_size_was_learned_is_refused(tmp_path):
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    del data["decision"]["max_sentences"]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="train-reader"):
        ReaderModel.load(path)


def test_reader_quotes_the_sentence_that_answers(reader):
    reply = reader.read("When did the Warsaw Uprising Museum open?", evidence())
    assert not reply.abstained and "2004" in reply.text
    assert reply.citations[0].quote == "The Warsaw Uprising Museum opened in 2004 in the Wola district."
    assert reply.short_answer == "2004"  # a date, alone in its sentence: the reply opens with it
    assert reply.text.startswith("2004 — " + reply.citations[0].quote + " [1]")
    assert 0.0 <= reply.confidence <= 1.0


def test_a_sentence_outside_the_retrieved_passage_of_a_short_story_is_quoted_and_cited(reader):
    reply = reader.read("When did the Warsaw Uprising Museum open?", [founding_passage(dense=0.85)])
    first = reply.citations[0]
    assert not reply.abstained and reply.short_answer == "2004"
    assert (first.story_id, first.start) == ("s1", 0) and first.quote == STORY.text[first.start : first.end]
    assert first.end <= TEXT.index("It was founded")  # the passage holds the founding sentence alone


def test_the_cross_language_confidence_reads_only_the_retrieved_passages(reader):
    analysis = reader.analyse("Бұл музей қашан ашылды?", [founding_passage(dense=0.85)])
    assert analysis.cross and [c.outside for c in analysis.cands] == [False, True, True, True]
    assert analysis.cross_pool.all()  # the whole short story may be quoted ...
    assert analysis.dense[0] > 0.0 and not analysis.dense[1:].any()  # ... but only its passage makes it confident


def test_the_answer_holds_at_most_max_sentences(reader):
    analysis = reader.analyse("When did the Warsaw Uprising Museum open?", evidence())
    for most in (1, 2, 3):
        reply = reader.decide(analysis, replace(reader.model, max_sentences=most, second_ratio=0.0))
        assert len(reply.citations) == most
    assert len(reader.decide(analysis, replace(reader.model, max_sentences=3, second_ratio=1.01)).citations) == 1


def test_every_candidate_carries_its_similarity_to_the_question(reader):
    analysis = reader.analyse("When did the Warsaw Uprising Museum open?", evidence())
    sims = [c.similarity for c in analysis.cands]
    assert all(0.0 < s <= 1.0 for s in sims)
    part = analysis.parts[0]
    assert analysis.question_signals(part)["best_similarity"] == max(sims[i] for i in part.order[:RERANK])


def test_pair_rows_hold_the_cosine_and_the_products_it_sums():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3, 4)).astype(np.float32)
    query = rng.normal(size=4).astype(np.float32)
    rows = pair_rows(vectors, query)
    assert rows.shape == (3, 5)
    assert rows[:, 0].tolist() == [float(v @ query) for v in vectors]  # exactly the reader's cosine, bit for bit
    assert np.allclose(rows[:, 1:].sum(axis=1), rows[:, 0], atol=1e-5)


def test_the_learned_similarity_is_the_pair_models_log_odds_for_its_own_embedder(reader):
    analysis = reader.analyse("When did the Warsaw Uprising Museum open?", evidence())
    assert analysis.pairs is not None and analysis.pairs.shape == (len(analysis.cands), len(PAIR_FEATURES))
    expected = reader.model.pair.logits(analysis.pairs)
    assert [c.learned for c in analysis.cands] == expected.tolist()
    assert analysis.parts[0].features[:, LEARNED].tolist() == expected.tolist()
    assert len(set(expected.tolist())) > 1  # it tells the sentences apart


def test_the_learned_similarity_is_neutral_for_an_embedder_it_was_not_fitted_on():
    """Another embedder's dimensions mean other things: the feature sits at the scorer's mean and weighs nothing."""
    from assistant.embeddings import HashEmbedder

    hashed = OfflineReader(HashEmbedder(), idf=IDF, story_texts=[STORY.text])
    analysis = hashed.analyse("When did the Warsaw Uprising Museum open?", evidence())
    neutral = hashed.model.sentence.mean[LEARNED]
    assert analysis.pairs is not None and {c.learned for c in analysis.cands} == {neutral}
    assert OfflineReader(None, idf=IDF).learned_similarities(None, 2).tolist() == [neutral, neutral]


def _swap_change(reader: OfflineReader, question: str, text: str) -> float:
    story = Story("s9", "Signals", "2020-01-02", "Story", "en", "signals.txt", text, 0, len(text))
    chunk = Chunk("c9", "s9", 0, 0, len(text), text)
    analysis = reader.analyse(question, [Evidence(StoredChunk(chunk, story), 0.03, dense=0.8, bm25=5.0, rank=1)])
    return analysis.question_signals(analysis.parts[0])["best_swap_change"]


def test_a_swapped_word_weighs_by_how_far_it_moves_the_question(reader):
    said = "This recognition signal triggers a rapid killing response."
    change = _swap_change(reader, "What triggers a slow killing response?", said)
    assert 0.0 < change < 0.2  # 1 - the e5 cosine of the question and "What triggers a rapid killing response"
    assert _swap_change(reader, "What triggers a rapid killing response?", said) == 0.0  # nothing swapped
    assert _swap_change(OfflineReader(None, idf=IDF), "What triggers a slow killing response?", said) == 0.0


class RecordingEmbedder:
    """Hashed vectors under the fitted model's embedder name, recording every query it is asked."""

    def __init__(self, name: str) -> None:
        from assistant.embeddings import HashEmbedder

        self._hashed, self.name, self.queries = HashEmbedder(dim=len(PAIR_FEATURES) - 1), name, []
        self.dim = self._hashed.dim

    def passages(self, texts):
        return self._hashed.passages(texts)

    def query(self, text: str):
        self.queries.append(text)
        return self._hashed.query(text)

    def count_tokens(self, text: str) -> int:
        return self._hashed.count_tokens(text)


def test_the_swap_change_compares_the_question_and_its_swapped_form_once_on_the_fitted_embedders_scale():
    said = "This recognition signal triggers a rapid killing response."
    recording = RecordingEmbedder(ReaderModel.load().embedder)
    hashed = OfflineReader(recording, idf=IDF, story_texts=[said])
    story = Story("s9", "Signals", "2020-01-02", "Story", "en", "signals.txt", said, 0, len(said))
    ev = [Evidence(StoredChunk(Chunk("c9", "s9", 0, 0, len(said), said), story), 0.03, dense=0.8, bm25=5.0, rank=1)]
    analysis = hashed.analyse("What triggers a slow killing response?", ev)
    recording.queries.clear()
    signals = [analysis.question_signals(analysis.parts[0]) for _ in range(3)]  # the decision reads them many times
    asked, swapped = "What triggers a slow killing response", "What triggers a rapid killing response"
    assert recording.queries == [asked, swapped]  # both as `folded` reads them, embedded once
    expected = 1.0 - float(np.dot(recording.query(asked), recording.query(swapped)))
    assert signals[0]["best_swap_change"] == signals[2]["best_swap_change"] == pytest.approx(expected)
    other = OfflineReader(RecordingEmbedder("another-embedder"), idf=IDF, story_texts=[said])
    unfitted = other.analyse("What triggers a slow killing response?", ev)
    assert unfitted.question_signals(unfitted.parts[0])["best_swap_change"] == 0.0  # another scale: not read


def test_reader_ranks_the_director_sentence_first_for_who_led_it(reader):
    analysis = reader.analyse("Who has led the Warsaw Uprising Museum since its opening?", evidence())
    part = analysis.parts[0]
    assert "Ołdakowski" in part.cands[part.order[0]].sentence.text


def test_a_question_with_no_content_word_is_not_ruled_out_for_sharing_none(reader):
    analysis = reader.analyse("When was it?", evidence())
    assert not analysis.parts[0].question.terms and not reader.shares_no_word(analysis.parts[0])


def test_abstains_below_the_threshold_and_without_evidence(reader):
    assert reader.read("When did it open?", []).abstained
    strict = ReaderModel.load()
    analysis = reader.analyse("When did the Warsaw Uprising Museum open?", evidence())
    assert reader.decide(analysis, replace(strict, threshold=1.0)).abstained
    assert not reader.decide(analysis, replace(strict, threshold=0.0)).abstained


def test_a_value_question_is_not_answered_from_sentences_without_a_value(reader):
    # a long document is read where retrieval points (a short one is read whole, and its lead gives a date)
    story = long_story()
    founded = [founding_passage(story)]
    when = reader.analyse("When was the Warsaw Uprising Museum founded?", founded)  # the sentence gives no date
    assert reader.confidence(when, when.parts[0]) == 0.0 and reader.decide(when).abstained
    who = reader.analyse("Who founded the Warsaw Uprising Museum?", founded)  # a name is asked: the model decides
    assert reader.confidence(who, who.parts[0]) > 0.0
    assert reader.decide(when).text.endswith("give no date for it.")  # not "found nothing": they are about it
    both = reader.analyse("When was the Warsaw Uprising Museum founded, and who founded it?", founded)
    assert [p.question.part.kind for p in both.parts] == ["date", "person"]
    assert reader.lacks_value(both.parts[0]) and not reader.lacks_value(both.parts[1])
    # in another language the type patterns are not read, but a sentence with no numeral at all gives no date either
    kazakh = replace(story, language="kk")
    when_kk = reader.analyse("When was the Warsaw Uprising Museum founded?", [founding_passage(kazakh)])
    assert not when_kk.cross and reader.lacks_value(when_kk.parts[0])
    counted = replace(kazakh, text=kazakh.text.replace("after a long", "after two long"))  # a numeral, in words
    when_counted = reader.analyse("When was the Warsaw Uprising Museum founded?", [founding_passage(counted)])
    assert not reader.lacks_value(when_counted.parts[0])  # some figure: the learned model decides


def test_a_value_question_is_not_answered_by_quoting_only_sentences_without_the_value(reader):
    # one of the best three sentences gives a date ("opened in 2004"), but the one quoted, the best, does not
    when = reader.analyse("When was it founded by the city council?", evidence())
    assert not reader.lacks_value(when.parts[0])
    reply = reader.decide(when)
    assert reply.abstained and reply.confidence == 0.0
    assert reply.text.endswith("The sentences that answer it best give no date for it.")  # one of the three does
    opened = reader.decide(reader.analyse("When did the Warsaw Uprising Museum open?", evidence()))
    assert not opened.abstained and "2004" in opened.text


def test_what_is_quoted_of_a_long_sentence_must_give_the_value_not_the_sentence(reader):
    long = (
        "The new wing of the Warsaw Uprising Museum was built by more than 400 workers who spent the whole of the "
        "long winter on the site, working in shifts through the night to finish it in time for the anniversary of "
        "the uprising, while the national heritage fund, after the city council had debated the matter at length "
        "in several sessions during the previous autumn and the spring before it, paid $12 million for the "
        "exhibition that opened there."
    )
    assert len(long) > LONG_SENTENCE  # quoted by its answering clauses: the workers, not the fund's $12 million
    text = f"{TEXT} {long}"
    story = replace(STORY, text=text, end=len(text))
    found = [Evidence(StoredChunk(Chunk("c1", "s1", 0, 0, len(text), text), story), 0.03, dense=0.85, rank=1)]
    reply = reader.read("How much was spent on the new wing of the Warsaw Uprising Museum?", found)
    assert reply.abstained and reply.text.endswith("The sentences that answer it best give no sum of money for it.")


def test_a_long_runner_up_is_measured_by_the_clauses_it_would_quote(reader):
    from assistant.reader import MARKER_ROOM, MAX_ANSWER_CHARS, OfflineReader, Pick

    best = (
        "The Warsaw Uprising Museum's new exhibition showcased the city's archives, particularly the use of digital "
        "technologies in presenting the diaries, letters and photographs of the insurgents to younger visitors from "
        "Poland and abroad."
    )
    long = (
        'Entitled "Warsaw 1944: the city that fought alone, remembered by those who lived through it and by those '
        'who came after them," the exhibition was opened on 9 March, and was organised by the museum together with '
        "the city council, the national heritage fund, the archive of modern records and several associations of "
        "veterans and their families, with the support of the embassies of ten countries and of many private donors."
    )
    assert len(best) + len(long) > MAX_ANSWER_CHARS - MARKER_ROOM and len(long) > LONG_SENTENCE
    text = f"{best} {long}"
    story = replace(STORY, text=text, end=len(text))
    found = [Evidence(StoredChunk(Chunk("c1", "s1", 0, 0, len(text), text), story), 0.03, dense=0.85, rank=1)]
    analysis = reader.analyse("When was the new exhibition of the Warsaw Uprising Museum opened?", found)
    part = analysis.parts[0]
    first, second = (next(i for i, c in enumerate(part.cands) if c.sentence.text == t) for t in (best, long))
    picks = [Pick(part.cands[first], part.cands[first].sentence.start, part.cands[first].sentence.end)]
    scores = np.zeros(len(part.cands))
    scores[[first, second]] = 0.5, 0.4
    model = replace(reader.model, second_ratio=0.5, max_sentences=2)  # a runner-up at 0.8 of the best joins
    OfflineReader._add_runners_up(part, picks, analysis, model, [first, second], scores)
    # the whole sentence would not fit beside the best one; the clauses quoted of it do, and they give the date
    assert len(picks) == 2 and "9 March" in picks[1].text and len(picks[1].text) < len(long)


def _squeezed_runner_up(reader, question: str):
    """Picks after `_add_runners_up` for a best sentence and a runner-up that fit the limit only with it cut.

    With the runner-up's text and the question part they were read for.
    """
    from assistant.reader import MARKER_ROOM, MAX_ANSWER_CHARS, OfflineReader, Pick

    best = (
        "The Warsaw Uprising Museum held an evening of remembrance in its park, where the archives showed the diaries, "
        "letters and photographs of the insurgents to younger visitors from Poland and abroad, and the city council "
        "thanked the veterans' associations for their long work."
    )
    runner = (
        "The evening was led by Jan Ołdakowski, the museum's director since its founding, while the choir of the "
        "national opera sang songs of the uprising, and 300 volunteers in the uniforms of the insurgents guided the "
        "guests, many of them from abroad, through the exhibition halls until late at night."
    )
    assert len(best) + len(runner) > MAX_ANSWER_CHARS - MARKER_ROOM and len(runner) <= LONG_SENTENCE
    text = f"{best} {runner}"
    story = replace(STORY, text=text, end=len(text))
    found = [Evidence(StoredChunk(Chunk("c1", "s1", 0, 0, len(text), text), story), 0.03, dense=0.85, rank=1)]
    analysis = reader.analyse(question, found)
    part = analysis.parts[0]
    first, second = (next(i for i, c in enumerate(part.cands) if c.sentence.text == t) for t in (best, runner))
    picks = [Pick(part.cands[first], part.cands[first].sentence.start, part.cands[first].sentence.end)]
    scores = np.zeros(len(part.cands))
    scores[[first, second]] = 0.5, 0.4
    model = replace(reader.model, second_ratio=0.5, max_sentences=2)
    OfflineReader._add_runners_up(part, picks, analysis, model, [first, second], scores)
    return picks, runner, part


def test_a_runner_up_too_long_to_fit_whole_is_quoted_by_its_clauses_in_the_room_left(reader):
    from assistant.reader import MARKER_ROOM, MAX_ANSWER_CHARS

    picks, runner, _ = _squeezed_runner_up(reader, "Who led the evening of remembrance at the Warsaw Uprising Museum?")
    assert len(picks) == 2 and "Jan Ołdakowski" in picks[1].text and len(picks[1].text) < len(runner)
    assert sum(len(p.text) for p in picks) <= MAX_ANSWER_CHARS - MARKER_ROOM


def test_a_runner_up_is_not_cut_to_a_fragment(reader):
    from assistant.reader import MARKER_ROOM, MAX_ANSWER_CHARS, MIN_CUT_QUOTE, Pick, _cut_to_fit

    question = "Who led the evening of remembrance at the Warsaw Uprising Museum?"
    picks, runner, part = _squeezed_runner_up(reader, question)
    best = picks[0]
    cut = next(c for c in part.cands if c.sentence.text == runner)
    # with room for 200 characters the name's clause comes with its neighbours; in 79, "The evening was led by Jan
    # Ołdakowski, the museum's director since its founding" (79) would be all, and it is left out
    for room, allowed in ((200, True), (MIN_CUT_QUOTE - 1, False)):
        before = Pick(best.candidate, best.start, best.start + MAX_ANSWER_CHARS - MARKER_ROOM - room)
        assert (_cut_to_fit([before], cut, part) is not None) is allowed


def test_a_runner_up_cut_to_fit_never_brings_the_value_the_quotes_lack(reader):
    picks, _, _ = _squeezed_runner_up(reader, "How many guests came to the evening of remembrance at the museum?")
    assert len(picks) == 1  # its "300 volunteers" would stand without what they count


def test_a_part_whose_best_sentence_another_part_quotes_gets_its_own_next_best(reader):
    analysis = reader.analyse("When did the Warsaw Uprising Museum open, and who founded it?", evidence())
    first, second = analysis.parts
    opened = next(i for i, c in enumerate(first.cands) if "opened in 2004" in c.sentence.text)
    founded = next(i for i, c in enumerate(first.cands) if "founded by" in c.sentence.text)
    first.logits = np.full(len(first.cands), -4.0)
    first.logits[opened] = 2.0
    second.logits = np.full(len(second.cands), -4.0)
    second.logits[[opened, founded]] = 1.0, 0.5  # the second part too rates the opening sentence best
    model = replace(reader.model, threshold=0.0, second_ratio=0.5, max_sentences=2)
    quoted = [c.quote for c in reader.decide(analysis, model).citations]
    assert any("opened in 2004" in q for q in quoted) and any("founded by the city council" in q for q in quoted)
    second.logits[founded] = -4.0  # rated far below its best (under `second_ratio`): nothing more is quoted for it
    assert [c.quote for c in reader.decide(analysis, model).citations] == quoted[:1]


def test_the_short_answer_is_the_whole_span_not_the_figure_inside_it():
    found = outermost(list(entities("It took almost five years to build.")))
    assert [e.text for e in found] == ["almost five years"]
    assert [e.kind for e in outermost(entities("It was held in Almaty.")) if e.text == "Almaty"] == ["place", "name"]


def test_short_answer_opens_the_reply_when_confident(reader):
    analysis = reader.analyse("How many visitors does the Warsaw Uprising Museum receive a year?", evidence())
    sure = reader.decide(analysis, replace(reader.model, short_answer_min=0.0))
    assert sure.short_answer and sure.short_answer in sure.citations[0].quote
    assert sure.text.startswith(sure.short_answer + " — ")
    unsure = reader.decide(analysis, replace(reader.model, short_answer_min=1.01))
    assert unsure.short_answer == "" and not unsure.text.startswith("500,000")
    # the short-answer model's probability decides, from the features of the entity the reply would open with
    candidate = unsure.short_candidate
    assert candidate is not None and candidate.text == sure.short_answer == "about 500,000"  # its qualifier kept
    assert candidate.features.shape == (len(SHORT_FEATURES),) and 0.0 < candidate.probability < 1.0
    assert candidate.features[SHORT_FEATURES.index("asks_count")] == 1.0
    at_it = reader.decide(analysis, replace(reader.model, short_answer_min=candidate.probability))
    assert at_it.short_answer == candidate.text


def test_a_figures_short_answer_keeps_its_range_and_qualifier(reader):
    def short(question: str, text: str) -> list[str]:
        story = Story("s9", "Figures", "2020-01-02", "Story", "en", "figures.txt", text, 0, len(text))
        ev = [Evidence(StoredChunk(Chunk("c9", "s9", 0, 0, len(text), text), story), 0.03, rank=1)]
        part = reader.analyse(question, ev).parts[0]
        c = part.cands[0]
        return short_answer_candidates(Pick(c, c.sentence.start, c.sentence.end), part.question)

    assert short("How much plastic do lakes receive?", "Lakes receive an estimated 19-23 million tons.") == [
        "an estimated 19-23 million"  # the range's opening figure is not a candidate apart
    ]
    assert short("How many representatives came?", "More than 70 representatives came.") == ["More than 70"]
    assert short("How many came?", "No more than 5 came.") == ["No more than 5"]
    assert short("How old were the speakers?", "The speakers were 11 to 23 years old.")[0] == "11 to 23"
    assert "30 to 45" not in short("How many members are there?", "Membership rose from 30 to 45 members.")
    assert short("How many projects were there?", "In 2021 – 45 projects were run.") == ["45"]  # a spaced dash
    assert short("What share of firms grew?", "Growth was 10-15% among firms.") == ["10-15%"]


def story_evidence(text: str, day: str | None) -> list[Evidence]:
    story = Story("s8", "Fashion", day, "Story", "en", "fashion.txt", text, 0, len(text))
    return [Evidence(StoredChunk(Chunk("c8", "s8", 0, 0, len(text), text), story), 0.03, rank=1)]


def test_a_leads_today_is_the_storys_date(reader):
    sure = replace(reader.model, threshold=0.0, short_answer_min=0.0)
    question = "When did Almaty host the fashion event?"
    text = "Today Almaty hosted the fashion event on the eve of World Environment Day. Tickets sold out within hours."
    reply = reader.decide(reader.analyse(question, story_evidence(text, "2023-06-02")), sure)
    assert not reply.abstained and reply.short_answer == "2 June 2023 (the story's date)"
    assert reply.citations[0].quote.startswith("Today Almaty hosted")
    undated = reader.decide(reader.analyse(question, story_evidence(text, None)), sure)
    assert undated.abstained and "no date" in undated.text  # a "today" of no known day gives no date
    later = "Guests came from far away. Today Almaty hosted the fashion event on the eve of World Environment Day."
    assert reader.decide(reader.analyse(question, story_evidence(later, "2023-06-02")), sure).abstained  # nowadays?
    dateline = "ASTANA, September 23, 2023 - Today Almaty hosted the fashion event."
    dated = reader.decide(reader.analyse(question, story_evidence(dateline, "2023-09-26")), sure)
    assert dated.short_answer == "September 23, 2023"  # the sentence's own date, not the story's (days later)
    for nowadays in ("Almaty today hosts the fashion event every year.", "Today's Almaty hosts the fashion event."):
        assert reader.decide(reader.analyse(question, story_evidence(nowadays, "2023-06-02")), sure).abstained
    dateless = "ALMATY – Today Almaty hosted the fashion event."  # a dateline without a date
    assert reader.decide(reader.analyse(question, story_evidence(dateless, "2023-06"))).abstained  # no full date
    reply = reader.decide(reader.analyse(question, story_evidence(dateless, "2023-06-02")), sure)
    assert reply.short_answer == "2 June 2023 (the story's date)"


def test_confidence_is_a_probability_of_the_question_features(reader):
    analysis = reader.analyse("When did the Warsaw Uprising Museum open?", evidence())
    x = analysis.question_features(analysis.parts[0])
    assert x.shape == (len(QUESTION_FEATURES),) and np.all(np.isfinite(x))


def test_offline_answers_the_alliance_question_with_a_verbatim_quote(assistant):
    answer = assistant.ask("Who launched the Central Asian Alliance?")
    assert not answer.abstained
    assert "Spotlight" in answer.text and "European Union" in answer.text
    cite = answer.citations[0]
    assert "Central Asian Alliance" in cite.title and cite.date == "2023-07-03"
    story = assistant.snapshot.stories[cite.story_id]
    assert story.text[cite.start : cite.end] == cite.quote
    assert len(answer.text) < 600 and answer.confidence is not None


def test_abstains_when_the_stories_do_not_say(assistant):
    # "Who coached FIFA's team in Almaty?" was asked here too, and answered once the abstention model weighed
    # `swapped_names` (confidence 0.216 against the 0.20 threshold then); it is now dev3's d3-un-fifa-coach
    answer = assistant.ask("What is the capital of France?")
    assert answer.abstained
    assert answer.citations == [] and "don't say" in answer.text


def test_question_asking_for_a_date_gets_a_date(assistant):
    answer = assistant.ask("When was the Central Asian Alliance launched?")
    assert "27 June" in answer.text


# -- on the tiny hash-embedded corpus: the whole reader, in milliseconds ---------------------------------------------
def test_the_reader_quotes_the_answering_sentence_verbatim_with_its_citation(tiny_assistant):
    answer = tiny_assistant.ask("How many young women did the Sauran hub teach?")
    assert not answer.abstained
    quote = answer.text.removeprefix(f"{answer.short_answer} — ")
    assert quote.startswith("The Sauran digital hub in Shymkent taught 250 young women")
    cite = answer.citations[0]
    assert (cite.n, cite.title, cite.date) == (1, "Young women learn to code at the Sauran hub", "2023-07-10")
    assert tiny_assistant.snapshot.stories[cite.story_id].text[cite.start : cite.end] == cite.quote
    assert f"{cite.quote} [1]" in answer.text


def test_the_reader_answers_in_the_language_of_the_story(tiny_assistant):
    russian = tiny_assistant.ask("Сколько скважин пробурили в Алматинской области?")
    assert "35 новых скважин" in russian.text and russian.citations[0].language == "ru"
    kazakh = tiny_assistant.ask("Қанша гектар тоғай отырғызылды?")
    assert "500 гектар" in kazakh.text and kazakh.citations[0].language == "kk"


def test_the_reader_abstains_on_what_no_tiny_story_is_about(tiny_assistant):
    for q in ("What is the capital of France?", "Who coached FIFA's team in Almaty?"):
        answer = tiny_assistant.ask(q)
        assert answer.abstained and answer.citations == [] and "don't say" in answer.text, q


def test_runners_up_give_way_when_the_short_answer_would_push_the_reply_over_the_limit(reader):
    from assistant.reader import MAX_ANSWER_CHARS, Pick, cite, cite_within

    analysis = reader.analyse("When did the Warsaw Uprising Museum open?", evidence())
    picks = [Pick(c, c.sentence.start, c.sentence.end) for c in analysis.cands[:3]]
    whole, _ = cite(picks, "")
    short = "x" * (MAX_ANSWER_CHARS - len(whole) + 10)
    text, citations = cite_within(picks, short, keep=1)
    assert len(text) <= MAX_ANSWER_CHARS and len(citations) == 2 and len(picks) == 3
    assert len(cite_within(picks, short, keep=3)[0]) > MAX_ANSWER_CHARS  # the kept picks stay whatever their length
    prefaced, kept = cite_within(picks, "", keep=1, preface="x" * (MAX_ANSWER_CHARS - len(whole) + 10))
    assert len(prefaced) <= MAX_ANSWER_CHARS and len(kept) < 3  # the preface counts towards the limit too


def test_a_cross_language_answer_adds_runners_up_by_the_cross_language_scorer(reader):
    analysis = reader.analyse("Когда открылся Музей Варшавского восстания?", evidence())
    assert analysis.cross and analysis.dense is not None
    one = reader.decide(analysis, replace(reader.model, max_sentences=1, cross_floor=0.0))
    three = reader.decide(analysis, replace(reader.model, max_sentences=3, second_ratio=0.0, cross_floor=0.0))
    assert len(one.citations) == 1 and len(three.citations) == 3
    assert three.citations[0] == one.citations[0] and "2004" in one.text
    scores = analysis.cross_scores(reader.model)
    by_quote = {c.sentence.text: s for c, s in zip(analysis.cands, scores, strict=True)}
    rated = [by_quote[c.quote] for c in three.citations]
    assert rated == sorted(rated, reverse=True)


def test_a_cross_language_value_question_is_not_answered_from_english_sentences_without_the_value(reader):
    founded = [founding_passage(long_story())]
    when = reader.analyse("Когда был основан Музей Варшавского восстания?", founded)  # the sentence gives no date
    assert when.cross and reader.confidence(when, when.parts[0]) == 0.0
    assert reader.decide(when).abstained and reader.decide(when).text.endswith("give no date for it.")
    who = reader.analyse("Кто основал Музей Варшавского восстания?", founded)  # a name is asked: the embedding decides
    assert not reader.decide(who, replace(reader.model, cross_floor=0.0)).abstained


def test_the_cross_language_ratio_rule_reads_the_scorers_probabilities(reader):
    analysis = reader.analyse("Когда открылся Музей Варшавского восстания?", evidence())
    p0, p1 = sorted(sigmoid(analysis.cross_scores(reader.model)), reverse=True)[:2]
    model = replace(reader.model, max_sentences=3, cross_floor=0.0)
    assert len(reader.decide(analysis, replace(model, second_ratio=float(p1 / p0) + 1e-6)).citations) == 1
    assert len(reader.decide(analysis, replace(model, second_ratio=float(p1 / p0) - 1e-6)).citations) >= 2


def _passages(languages: str) -> list[Evidence]:
    """One passage of the fixture story per letter, in that language, ranked in order ("kke": two Kazakh, then one
    English)."""
    chunk = Chunk("c1", "s1", 0, 0, len(TEXT), TEXT)
    found = []
    for rank, language in enumerate(languages, start=1):
        story = replace(STORY, story_id=f"s{rank}", language={"k": "kk", "e": "en"}[language])
        found.append(Evidence(StoredChunk(replace(chunk, story_id=story.story_id), story), 0.03, rank=rank))
    return found


def test_the_cross_language_scorer_not_the_similarity_picks_the_sentence(reader):
    analysis = reader.analyse("Қашан ашылды Варшава көтерілісі мұражайы?", _passages("k" * CROSS_PASSAGES + "eeee"))
    n = len(CROSS_FEATURES)

    def weighing(feature: str, weight: float) -> ReaderModel:
        coef = np.zeros(n)
        coef[CROSS_FEATURES.index(feature)] = weight
        cross = replace(reader.model.cross, mean=np.zeros(n), scale=np.ones(n), coef=coef, intercept=0.0)
        return replace(reader.model, cross=cross, max_sentences=1, cross_floor=0.0)

    # every passage holds the same sentences: only where the passage ranks can tell them apart
    assert reader.decide(analysis, weighing("passage_place", 5.0)).citations[0].story_id == "s1"
    last = reader.decide(analysis, weighing("passage_place", -5.0)).citations[0].story_id
    assert last == f"s{CROSS_PASSAGES}"  # the worst-placed passage the question may read (ties: candidate order)

    def best_score(model: ReaderModel) -> dict[str, float]:
        scores = analysis.cross_scores(model)
        return {
            f"s{k}": max(scores[i] for i, c in enumerate(analysis.cands) if c.ev.story.story_id == f"s{k}")
            for k in (1, 4)
        }

    # the best English passage is placed first among the English ones, as the best Kazakh one among the Kazakh
    first = best_score(weighing("passage_place", 5.0))
    assert first["s1"] == pytest.approx(first["s4"])


def test_a_question_asking_a_sum_of_money_needs_a_figure_with_a_currency(reader):
    question = "How much did the Warsaw Uprising Museum cost to build?"
    reply = reader.read(question, evidence())  # figures (2004, 1,000 objects, 500,000 visitors), no currency
    assert reply.abstained and reply.text.endswith("give no sum of money for it.")
    costly = TEXT + " The Warsaw Uprising Museum cost $12 million to build."
    story = replace(STORY, text=costly, end=len(costly))
    found = [Evidence(StoredChunk(Chunk("c1", "s1", 0, 0, len(costly), costly), story), 0.03, dense=0.85, rank=1)]
    answered = reader.read(question, found)
    assert not answered.abstained and "$12 million" in answered.text
    in_russian = reader.analyse("Сколько стоило строительство Музея Варшавского восстания?", evidence())
    assert in_russian.cross and reader.decide(in_russian).text.endswith("give no sum of money for it.")


def test_a_two_part_reply_says_which_part_lacks_its_value(reader):
    analysis = reader.analyse("How much did the Warsaw Uprising Museum cost, and who has led it since?", evidence())
    reply = reader.decide(analysis, replace(reader.model, threshold=0.01))  # the first part is ruled out: 0
    assert not reply.abstained and "Ołdakowski" in reply.text
    assert reply.text.startswith("The passages nearest the question give no sum of money for its first part. ")


def test_a_question_in_its_own_language_still_reads_the_best_passages_in_others(reader):
    languages = "k" * CROSS_PASSAGES + "eeee"
    analysis = reader.analyse("Қашан ашылды Варшава көтерілісі мұражайы?", _passages(languages))
    assert analysis.cross
    ranks = {c.ev.rank for c, may in zip(analysis.cands, analysis.cross_pool, strict=True) if may}
    assert ranks == set(range(1, 2 * CROSS_PASSAGES + 1))  # the Kazakh three and the best three English ones
    reply = reader.decide(analysis, replace(reader.model, max_sentences=4, second_ratio=0.0, cross_floor=0.0))
    assert len({c.language for c in reply.citations}) == 1  # runners-up in the best sentence's language


def test_each_part_of_a_two_part_question_keeps_its_sentence_whatever_the_answer_size(reader):
    analysis = reader.analyse("When did the Warsaw Uprising Museum open, and who has led it since?", evidence())
    assert len(analysis.parts) == 2
    reply = reader.decide(analysis, replace(reader.model, threshold=0.0, max_sentences=1))
    assert len(reply.citations) == 2 and "2004" in reply.text and "Ołdakowski" in reply.text


def test_a_rival_figure_from_another_story_joins_only_when_rated_nearly_as_high(reader):
    from assistant.chunks import Chunk
    from assistant.reader import DISAGREE_TEXT, RIVAL_RATIO
    from assistant.retrieve import Evidence
    from assistant.types import StoredChunk

    text = "Guides say that the Warsaw Uprising Museum receives about 300,000 visitors a year."
    other = replace(STORY, story_id="s2", title="Museum guide", source="guide.txt", text=text, end=len(text))
    rival = Evidence(StoredChunk(Chunk("c2", "s2", 0, 0, len(text), text), other), 0.02, dense=0.8, bm25=4.0, rank=2)
    analysis = reader.analyse("How many visitors does the Warsaw Uprising Museum receive a year?", [*evidence(), rival])
    part = analysis.parts[0]
    ours = next(i for i, c in enumerate(part.cands) if "500,000" in c.sentence.text)
    theirs = next(i for i, c in enumerate(part.cands) if "300,000" in c.sentence.text)

    def reply_rating_theirs(share: float):
        """The reply when the other story's sentence is rated `share` of ours (0.8 likely to hold the answer)."""
        part.logits = np.full(len(part.cands), -6.0)
        part.logits[ours], part.logits[theirs] = np.log(0.8 / 0.2), np.log(0.8 * share / (1 - 0.8 * share))
        return reader.decide(analysis, replace(reader.model, threshold=0.0))

    near, far = reply_rating_theirs(RIVAL_RATIO + 0.05), reply_rating_theirs(RIVAL_RATIO - 0.05)
    assert near.disagreement and near.text.startswith(DISAGREE_TEXT)
    assert "500,000" in near.citations[0].quote and "300,000" in near.citations[1].quote
    assert not far.disagreement and not far.text.startswith(DISAGREE_TEXT)


def test_a_best_sentence_sharing_no_word_with_the_question_is_no_answer(reader):
    analysis = reader.analyse("Who painted the zebra quilts?", evidence())
    part = analysis.parts[0]
    assert reader.shares_no_word(part) and reader.confidence(analysis, part) == 0.0
    assert reader.decide(analysis).abstained
    warsaw = reader.analyse("When did the Warsaw Uprising Museum open?", evidence())
    assert not reader.shares_no_word(warsaw.parts[0])


def test_a_short_answer_is_not_the_name_the_question_asks_about(reader):
    def question(text: str):
        return reader.analyse(text, evidence()).parts[0].question

    subject, other = entities("Prime Minister of Kazakhstan Olzhas Bektenov met Amina Mohammed.")[-2:]
    met = question("Who did Prime Minister Olzhas Bektenov meet?")
    assert beyond_the_subject(subject, met) is None and beyond_the_subject(other, met) == other
    head = beyond_the_subject(subject, question("Who is the Prime Minister of Kazakhstan?"))
    assert head is not None and head.text == "Olzhas Bektenov" and head.start == subject.start + 29
    sdgs = next(e for e in entities("It ranks 66th among the SDGs today.") if e.text == "SDGs")
    assert beyond_the_subject(sdgs, question("Where does Kazakhstan rank in the SDG Index?")) is None
    bank = next(e for e in entities("It was Halyk Bank that joined.") if e.kind == "name")
    assert beyond_the_subject(bank, question("Which Kazakh bank joined?")) == bank
    npc = question("Who is the National Project Coordinator of the project?")
    typed = typed_entities("They met the National Project Coordinator (NPC), Aliya Serikova.", npc)
    assert [e.text for e in typed] == ["Aliya Serikova"]  # "NPC" shortens the question's own words


def test_a_quote_opening_inside_its_sentence_keeps_its_letters_after_an_ellipsis():
    assert as_sentence("said Katarzyna Wawiernia, UNDP Resident Representative") == (
        "…said Katarzyna Wawiernia, UNDP Resident Representative."
    )
    assert as_sentence("“The event was hosted on March 9.”") == "The event was hosted on March 9."


def test_a_photo_credit_answers_who_took_the_photos_and_nothing_else(assistant):
    def credits(question: str) -> list[str]:
        return [c.quote for c in assistant.ask(question).citations if c.quote.startswith("Photo:")]

    assert credits("Who took the photos for the article on UNDP's working session with the foreign ministry?")
    assert not credits(
        "What was the title of the working session held by UNDP Kazakhstan and the Ministry of Foreign Affairs?"
    )
