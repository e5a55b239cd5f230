import numpy as np
import pytest

from assistant.chunks import Chunk
from assistant.features import (
    CROSS_FEATURES,
    FEATURE_NAMES,
    WHOLE_STORY,
    Candidate,
    candidates,
    counted_missing,
    cross_matrix,
    entities,
    feature_matrix,
    folded,
    gives_no_figure,
    is_candidate,
    is_prose,
    listed_items,
    long_names,
    money_missing,
    name_match,
    passage_place,
    question_acronyms,
    question_view,
    relative_day,
    story_day_text,
    story_sentences,
    swapped_names,
    swapped_word,
    typed_missing,
    value_missing,
)
from assistant.question import profile
from assistant.retrieve import Evidence
from assistant.stories import Story
from assistant.types import StoredChunk

from .reader_fixtures import IDF, STORY, TEXT, evidence, founding_passage, long_story


def view(question: str):
    prof = profile(question)
    return question_view(question, prof.parts[0], prof, IDF)


def test_candidates_are_the_prose_sentences_of_the_evidence_once():
    cands = candidates(evidence() * 2)
    assert [c.index for c in cands] == [0, 1, 2, 3]
    assert cands[0].sentence.text.startswith("The Warsaw Uprising Museum opened")
    assert not is_prose("Photo: UNICEF Kazakhstan") and not is_prose("Latest news")


def test_a_short_best_story_is_read_whole_and_a_long_one_where_retrieval_points():
    cands = candidates([founding_passage()])  # the retrieved passage holds the second sentence alone
    assert [(c.index, c.outside) for c in cands] == [(1, False), (0, True), (2, True), (3, True)]
    assert {c.ev.rank for c in cands} == {1}  # the rest of the story comes with its best passage
    x = feature_matrix(cands, view("When did the Warsaw Uprising Museum open?"))
    assert list(x[:, FEATURE_NAMES.index("outside_passages")]) == [0.0, 1.0, 1.0, 1.0]
    assert "outside_passages" in CROSS_FEATURES
    assert [c.index for c in candidates([founding_passage(long_story())])] == [1]  # long: where retrieval points
    other = Story("s3", "Another", "2020-01-02", "Story", "en", "other.txt", TEXT, 0, len(TEXT))
    both = candidates([founding_passage(long_story("s2")), founding_passage(other, rank=2)])
    assert [(c.ev.story.story_id, c.outside) for c in both] == [("s2", False), ("s3", False)]  # only the best story


def test_a_story_of_whole_story_sentences_is_read_whole_and_one_more_is_not():
    sentences = len(story_sentences("s1", TEXT))
    at_limit = candidates([founding_passage(long_story(extra=WHOLE_STORY - sentences))])
    assert len(at_limit) == WHOLE_STORY and sum(c.outside for c in at_limit) == WHOLE_STORY - 1
    assert [c.index for c in candidates([founding_passage(long_story(extra=WHOLE_STORY - sentences + 1))])] == [1]


def test_two_passages_of_a_short_story_give_each_sentence_once():
    end = TEXT.index("It was")
    opening = Evidence(StoredChunk(Chunk("s1-c1", "s1", 0, 0, end, TEXT[:end]), STORY), 0.02, rank=2)
    cands = candidates([founding_passage(), opening])
    assert sorted(c.index for c in cands) == [0, 1, 2, 3]
    assert [(c.index, c.outside) for c in cands] == [(1, False), (0, False), (2, True), (3, True)]


def test_the_question_terms_beyond_the_storys_scene_are_looked_for_apart():
    column = FEATURE_NAMES.index("beyond_setting_coverage")
    cands = candidates(evidence())  # the title and the opening sentence name the museum, its opening and district
    detail = feature_matrix(cands, view("Who has led the Warsaw Uprising Museum since the opening?"))
    assert list(detail[:, column]) == [0.0, 0.0, 0.0, 1.0]  # "led" is beyond the scene: only the director's sentence
    scene = feature_matrix(cands, view("When did the Warsaw Uprising Museum open?"))
    assert list(scene[:, column]) == [1.0] * 4  # the scene holds every term: nothing to tell the sentences apart


def test_a_photo_credit_may_answer_but_a_heading_or_link_may_not():
    assert is_candidate("Photo: UNDP Kazakhstan/Batyr Aubakirov") and is_candidate("Фото: БҰҰДБ/Батыр Әубәкіров")
    assert not is_candidate("Latest news") and not is_candidate("Source: https://example.org/story")
    assert not is_candidate("Photo:")  # a label with nothing after it credits no one
    assert not is_candidate("Photo: UNDP Kazakhstan/Batyr Aubakirov", credits=False)  # the question asks no "who"


def test_photo_credits_are_candidates_only_when_asked_for():
    text = "The museum opened in 2004.\nPhoto: UNDP Kazakhstan/Batyr Aubakirov\nIt holds the archive."
    story = Story("c1", "Museum", "2020-01-02", "Story", "en", "c.txt", text, 0, len(text))
    passage = founding_passage(story)
    with_credits = [c.sentence.text for c in candidates([passage])]
    without = [c.sentence.text for c in candidates([passage], credits=False)]
    assert "Photo: UNDP Kazakhstan/Batyr Aubakirov" in with_credits
    assert without == [t for t in with_credits if not t.startswith("Photo:")] and without


def test_entities_are_typed_with_offsets():
    text = "It opened on 31 July 2004 in Warsaw with 1,000 objects, 20% of them new."
    found = {(e.kind, e.text) for e in entities(text)}
    assert ("date", "31 July 2004") in found and ("percent", "20%") in found
    assert ("number", "1,000") in found and ("place", "Warsaw") in found
    for e in entities(text):
        assert text[e.start : e.start + len(e.text)] == e.text


def test_a_three_or_four_digit_figure_is_a_number_and_only_a_bare_year_a_date():
    found = {
        (e.kind, e.text)
        for e in entities("In 2006, 304,016 firms and 374 banks; 200 people came in 1200 AD, the 1990s.")
    }
    assert {("date", "2006"), ("number", "304,016"), ("number", "374"), ("number", "200")} <= found
    assert {("date", "1200 AD"), ("date", "1990s")} <= found
    assert not {e for e in found if e[1] in ("304", "016", "374", "200") and e[0] == "date"}


def test_the_answering_sentence_has_the_answer_type_and_full_coverage():
    cands = candidates(evidence())
    x = feature_matrix(cands, view("When did the Warsaw Uprising Museum open?"))
    assert x.shape == (4, len(FEATURE_NAMES))
    col = {n: i for i, n in enumerate(FEATURE_NAMES)}
    assert x[0, col["answer_type"]] == 1.0 and x[0, col["answer_type_date"]] == 1.0
    assert x[0, col["sentence_coverage"]] == 1.0 and x[0, col["sentence_coverage_gap"]] == 0.0
    assert x[3, col["answer_type"]] == 0.0  # "since the opening" holds no date
    assert np.all(x[:, col["missing_rarity"]] == 0.0)


def among(check, best: slice, question: str):
    """`check` (typed_missing, value_missing) over the `best` candidates' answer_type column."""
    q = view(question)
    return check(feature_matrix(candidates(evidence()), q)[best, FEATURE_NAMES.index("answer_type")], q)


def test_typed_missing_marks_a_typed_question_whose_best_sentences_hold_no_answer_of_its_kind():
    assert among(typed_missing, slice(0, 1), "When did the Warsaw Uprising Museum open?") == 0.0  # "31 July 2004"
    assert among(typed_missing, slice(3, None), "When did the Warsaw Uprising Museum open?") == 1.0  # no date there
    assert among(typed_missing, slice(3, None), "What is the Warsaw Uprising Museum?") == 0.0  # no type asked


def test_a_figure_the_question_gives_may_stand_in_the_sentence_its_neighbours_or_the_story_lead():
    cands = candidates(evidence())  # the lead: "The Warsaw Uprising Museum opened in 2004 in the Wola district."
    column = FEATURE_NAMES.index("figure_missing")
    dated = feature_matrix(cands, view("Who has led the museum since 2004?"))[:, column]
    assert dated.tolist() == [0, 0, 0, 0]  # the last sentence, far from the lead, is dated by it
    assert feature_matrix(cands, view("Who has led the museum since 1999?"))[:, column].tolist() == [1, 1, 1, 1]


def test_a_figure_reads_alike_in_every_language_and_the_cross_language_scorer_weighs_it():
    cands = candidates(evidence())
    column = FEATURE_NAMES.index("figure_missing")
    assert feature_matrix(cands, view("Кто руководит музеем с 2004 года?"))[:, column].tolist() == [0, 0, 0, 0]
    assert feature_matrix(cands, view("Кто руководит музеем с 1999 года?"))[:, column].tolist() == [1, 1, 1, 1]
    assert "figure_missing" in CROSS_FEATURES


def test_spans_of_time_and_plural_magnitudes_are_values():
    found = {(e.kind, e.text) for e in entities("They held out for almost a month, less than a year after five years.")}
    assert {("duration", "almost a month"), ("duration", "less than a year"), ("duration", "five years")} <= found
    assert ("number", "five") in found  # the span's figure stays a number for "how many years?"
    assert ("number", "dozens") in {(e.kind, e.text) for e in entities("Muslim empires number in the dozens.")}
    assert ("number", "thousands") in {(e.kind, e.text) for e in entities("It has existed for thousands of years.")}
    assert ("duration", "for decades") in {(e.kind, e.text) for e in entities("It has worked for decades.")}
    for text in ("He won a second term.", "A minute of silence.", "It gets 500,000 visitors a year."):  # no spans
        assert all(e.kind != "duration" for e in entities(text)), text


def test_value_missing_holds_back_a_value_question_whose_best_sentences_hold_no_value():
    assert not among(value_missing, slice(0, 1), "When did the Warsaw Uprising Museum open?")  # "2004"
    assert among(value_missing, slice(1, 2), "When did the Warsaw Uprising Museum open?")  # founded, but no date
    assert among(value_missing, slice(3, None), "How many visitors does the museum receive?")  # no figure
    assert not among(value_missing, slice(2, 3), "How many visitors does the museum receive?")  # "500,000"
    assert not among(value_missing, slice(3, None), "Who has led the museum?")  # a name is asked, not a value
    assert among(value_missing, slice(0, 0), "How long has he led it?")  # no sentence at all
    assert among(value_missing, slice(0, 0), "Сколько посетителей в год?")  # the kind is read in Russian too
    assert not among(value_missing, slice(2, 3), "Сколько посетителей в год?")  # "500,000"


def test_a_figure_counts_the_noun_that_follows_it():
    cands = candidates(evidence())
    column = FEATURE_NAMES.index("counted_figure")

    def counted(question: str) -> list[float]:
        return feature_matrix(cands, view(question))[:, column].tolist()

    assert counted("How many visitors does the Warsaw Uprising Museum receive?") == [0, 0, 1, 0]  # "500,000 visitors"
    assert counted("How many objects does the museum hold?") == [0, 0, 1, 0]  # "1,000 objects"
    assert counted("How many staff does the museum have?") == [0, 0, 0, 0]  # figures, none of staff
    assert counted("What does the museum hold?") == [0, 0, 0, 0]  # no count asked
    q = view("How many staff does the museum have?")
    assert counted_missing(feature_matrix(cands, q)[:, column], q) == 1.0
    q = view("How many objects does the museum hold?")
    assert counted_missing(feature_matrix(cands, q)[:, column], q) == 0.0


def test_a_question_term_no_sentence_holds_is_missing():
    cands = candidates(evidence())
    col = {n: i for i, n in enumerate(FEATURE_NAMES)}
    x = feature_matrix(cands, view("When did the Warsaw Uprising Museum close?"))
    assert x[0, col["missing_rarity"]] > 0 and x[0, col["missing_from_story"]] > 0
    negated = feature_matrix(cands, view("When did the Warsaw Uprising Museum not open?"))
    assert negated[0, col["negation_mismatch"]] == 1.0


def test_a_name_of_words_the_corpus_rarely_uses_is_rarer_than_one_of_common_words():
    text = "The Ministry of Culture named the museum's director. Its director is Jan Ołdakowski."
    story = Story("s2", "Museum", "2020-01-02", "Story", "en", "m.txt", text, 0, len(text))
    chunk = Chunk("c2", "s2", 0, 0, len(text), text)
    cands = candidates([Evidence(StoredChunk(chunk, story), 0.03, dense=0.8, bm25=5.0, rank=1)])
    idf = {"ministri": 1.0, "cultur": 1.0, "jan": 4.0, "ołdakowski": 6.0, "museum": 2.0, "director": 2.0}
    prof = profile("Who is the museum's director?")
    x = feature_matrix(cands, question_view("Who is the museum's director?", prof.parts[0], prof, idf))
    rarity = x[:, FEATURE_NAMES.index("answer_rarity")]
    assert rarity[1] > rarity[0] > 0.0  # "Jan Ołdakowski" (mean idf 5) against "Ministry of Culture" (1)
    assert rarity[1] == pytest.approx(5.0 / 6.0)  # over the corpus's largest idf
    assert feature_matrix(cands, view("When did the museum open?"))[1, FEATURE_NAMES.index("answer_rarity")] == 0.0


def test_every_feature_documents_what_it_measures():
    from assistant.features import FEATURES

    for f in FEATURES:
        assert f.__doc__ and len(f.__doc__) > 20, f.__name__


def test_features_are_the_same_bits_whatever_the_string_hash_seed():
    """Weights summed over sets of terms must not depend on set order, or `train-reader` refits drift in the
    last bits from one process to the next (PYTHONHASHSEED is random per process)."""
    import os
    import subprocess
    import sys

    script = (
        "import hashlib\n"
        "from assistant.features import candidates, feature_matrix, question_view\n"
        "from assistant.question import profile\n"
        "from tests.reader_fixtures import IDF, evidence\n"
        "idf = {t: 1.0 + 1.0 / (3 + i) for i, t in enumerate(sorted(IDF))}\n"
        "q = 'Who has led the Warsaw Uprising Museum since its opening in the Wola district?'\n"
        "prof = profile(q)\n"
        "x = feature_matrix(candidates(evidence()), question_view(q, prof.parts[0], prof, idf))\n"
        "print(hashlib.sha256(x.tobytes()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env=os.environ | {"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


def test_a_name_does_not_end_in_the_word_that_links_it_to_the_rest_of_the_sentence():
    names = {e.text for e in entities("They met at Eurasian National University to plan it, with the Bank of England.")}
    assert "Eurasian National University" in names and "Bank of England" in {n.removeprefix("the ") for n in names}
    assert not any(n.endswith((" to", " and", " of")) for n in names)


def test_a_name_keeps_its_particles_and_its_links_but_not_the_common_word_opening_the_sentence():
    def names(text: str) -> set[str]:
        return {e.text for e in entities(text) if e.kind == "name"}

    assert "Arthur van Diesen" in names("According to Arthur van Diesen, UNICEF Representative, it works.")
    assert {"Ursula von der Leyen", "Maria de la Cruz"} <= names("Ursula von der Leyen met Maria de la Cruz.")
    found = names("He met the Ministry of the Economy of Kazakhstan and the Ministry of Foreign Affairs.")
    assert {"Ministry of the Economy of Kazakhstan", "Ministry of Foreign Affairs"} <= found  # "and the" ends a name
    assert "SDG Summit" in names("The SDG Summit is chaired by the President of the General Assembly.")
    assert {"UNICEF", "Americans"} <= names("It thanked Kazakhstan for the UNICEF aid and the Empire to the Americans.")
    march = names("In March Kazakhstan joined.")
    assert "Kazakhstan" in march and not any(n.startswith("March") for n in march)


def test_a_month_opens_no_name_after_a_preposition_and_ends_a_run_before_a_date():
    def names(text: str) -> set[str]:
        return {e.text for e in entities(text) if e.kind == "name"}

    assert {"Jan Eliasson", "November Uprising"} <= names("Jan Eliasson spoke of the November Uprising.")
    assert "UN Secretary-General António Guterres" in names("In September UN Secretary-General António Guterres came.")
    assert "Tokayev" in names("They met Tokayev on March 5 in Astana.")


def test_a_month_is_a_date_not_a_name():
    found = {(e.kind, e.text) for e in entities("The tour took place from June 5 to 8 in Budapest, and again in June.")}
    assert ("date", "June 5") in found and ("place", "Budapest") in found
    assert not any(kind == "name" and text.startswith("June") for kind, text in found)


def test_a_ratio_is_a_share_and_its_figures_still_count():
    found = {(e.kind, e.text) for e in entities("1 in 3 women; one out of every four children; 71 out of 126 targets.")}
    assert {("percent", "1 in 3"), ("percent", "one out of every four"), ("percent", "71 out of 126")} <= found
    assert {("number", "71"), ("number", "126")} <= found  # "out of how many targets?" is a count
    not_ratios = ("ranked 5 in 2023", "$5 million in 10 regions", "half in two tranches", "2,500 in 10", "1 in 2 days")
    for text in not_ratios:
        assert not any(e.kind == "percent" for e in entities(text)), text


def _ranked_candidates(languages: str) -> list[Candidate]:
    """One candidate sentence from each of len(languages) passages, ranked in that order; "k" Kazakh, "e" English."""
    out = []
    for rank, letter in enumerate(languages, start=1):
        language = {"k": "kk", "e": "en"}[letter]
        story = Story(f"s{rank}", "A story", "2020-01-02", "Story", language, "x.txt", TEXT, 0, len(TEXT))
        end = TEXT.index(".") + 1
        chunk = Chunk(f"s{rank}-c1", f"s{rank}", 0, 0, end, TEXT[:end])
        out.append(candidates([Evidence(StoredChunk(chunk, story), 0.02, rank=rank)])[0])  # the passage's own
    return out


def test_the_cross_language_rows_take_the_similarity_from_the_best_and_the_named_columns():
    cands = _ranked_candidates("ke")
    for c, similarity in zip(cands, (0.80, 0.84), strict=True):
        c.similarity = similarity
    features = np.arange(2 * len(FEATURE_NAMES), dtype=np.float64).reshape(2, len(FEATURE_NAMES))
    rows = cross_matrix(features, cands, "kk")
    assert rows.shape == (2, len(CROSS_FEATURES))
    assert rows[:, 0] == pytest.approx([-0.04, 0.0])
    assert rows[:, 1] == pytest.approx([1.0, 1.0])  # passage_place: each first of its own (Kazakh, English)
    assert cross_matrix(features, cands, "ru")[:, 1] == pytest.approx([1.0, 0.5])  # none Russian: the retriever's
    for j, name in enumerate(CROSS_FEATURES[2:], start=2):
        assert (rows[:, j] == features[:, FEATURE_NAMES.index(name)]).all()
    local = ("sentence_coverage", "sentence_bm25", "proximity", "passage_rank")
    assert not any(name in CROSS_FEATURES for name in local)
    assert cross_matrix(np.zeros((0, len(FEATURE_NAMES))), [], "ru").shape == (0, len(CROSS_FEATURES))


def test_passages_in_the_questions_language_are_placed_apart_from_the_rest():
    cands = _ranked_candidates("kkek")  # BM25 put the Kazakh story's passages first for a Kazakh question
    assert passage_place(cands, "kk") == pytest.approx([1.0, 0.5, 1.0, 1 / 3])  # the English passage first of its own
    assert passage_place(cands, "en") == pytest.approx([1.0, 0.5, 1.0, 1 / 3])
    assert passage_place(cands, "ru") == pytest.approx([1.0, 0.5, 1 / 3, 0.25])  # one language apart: the retriever's
    assert passage_place(cands[1:], "kk") == pytest.approx([1.0, 1.0, 0.5])  # places count candidates' passages


def test_a_sentence_in_any_language_with_no_numeral_gives_no_figure():
    count = view("Жұмыс сессиясына қанша сарапшы қатысты?")
    assert gives_no_figure(["Оның мақсаты өңірлік ынтымақтастықты жүзеге асыру болды."], count)  # "оның", "жүзеге"
    assert not gives_no_figure(["Сессияға бес сарапшы қатысты."], count)
    assert not gives_no_figure(["Сессияға 12 сарапшы қатысты."], count)
    assert not gives_no_figure(["В сессии участвовали двадцать экспертов."], count)
    assert gives_no_figure(["Эксперты, как стоит отметить, обсудили семейную политику и столицу."], count)  # no "сто"
    assert not gives_no_figure(["Сессия өтті 28 тамызда."], view("Сессия қай күні өтті?"))
    assert not gives_no_figure(["Нет данных."], view("Кто открыл сессию?"))  # no value asked


def test_a_sum_of_money_is_a_figure_with_a_currency():
    q = view("How much did the study tour cost?")
    assert money_missing(["The tour took place from June 5 to 8.", "It was part of CSW67."], q)
    sums = ("It cost $5 million.", "USD 5.3 million was allocated.", "a grant of 2 billion tenge", "£414m", "$1.2bn")
    sums += ("3 million U.S. dollars", "1.5 bln tenge", "Rs 500 crore", "millions of dollars", "5-million-dollar")
    for given in sums:
        assert not money_missing([given], q), given
    assert not money_missing(["It covers 21 million hectares."], view("How much land is arable?"))  # not money


def test_a_question_asking_several_things_reads_how_many_short_items_a_sentence_lists():
    def items(question: str, text: str) -> float:
        chunk = Chunk("c9", "s9", 0, 0, len(text), text)
        story = Story("s9", "Listing", "2020-01-02", "Story", "en", "list.txt", text, 0, len(text))
        (cand,) = candidates([Evidence(StoredChunk(chunk, story), 0.03, rank=1)])
        return listed_items(cand, view(question))

    listing = "This includes (1) food systems; (2) energy access and affordability; (3) digital connectivity."
    assert items("Which key transitions are named?", listing) == 1.0  # five short pieces in a row, "This includes" too
    shared = "Pollution, gender inequality, corruption know no borders."
    assert items("Which challenges does the region face?", shared) == pytest.approx(3 / 5)
    assert items("Which key transition is named?", listing) == 0.0  # one thing asked
    prose = "During the event, which took place at the Halyk square, guests enjoyed an exhibition by two artists."
    assert items("Which artists took part?", prose) == 0.0  # clauses, not a list


def test_a_figure_in_words_spelt_in_capitals_is_a_name():
    found = entities("Members of the band NINETY ONE headlined; two of them sang.")
    assert [e.text for e in found if e.kind == "number"] == ["two"]
    assert "NINETY ONE" in [e.text for e in found if e.kind == "name"]


def test_today_and_yesterday_count_back_from_the_storys_date():
    assert relative_day("Today", "2023-06-02") == "2 June 2023"
    assert relative_day("yesterday", "2023-03-01") == "28 February 2023"
    assert story_day_text("Yesterday", "2023-06-02") == "1 June 2023 (the day before the story's)"


def test_a_question_names_the_initials_of_each_of_its_names():
    assert question_acronyms("Who is the National Project Coordinator of the FRIENDS project?") == {"NPC"}
    assert question_acronyms("Which European Union Special Representative went to Astana?") == {"EUSR"}  # not "US"
    assert question_acronyms("Who heads UNDP in Kazakhstan?") == frozenset()


def test_long_names_are_cut_at_possessives_links_and_modifiers_and_skip_the_opening_word():
    assert long_names("Who set up what became the Second Warsaw Republic?") == (("second", "warsaw", "republic"),)
    assert long_names("What did Iqbal's Allahabad address inspire?") == ()  # two names of one word each
    assert long_names("The Asante and Lunda Empires were in which region?") == (("lunda", "empires"),)
    assert long_names("Besides Confucianism, what was tolerated?") == ()  # the opening word is the sentence's
    assert long_names("How much does the EU-funded Spotlight programme cost?") == ()
    assert long_names("How many companies were listed on the WSE on August 2009?") == ()
    assert long_names("When did Möngke Khan die?") == (("mongke", "khan"),)
    assert long_names('"Besides Confucianism", what was tolerated?') == ()
    assert long_names("Who led the Long March?") == (("long", "march"),)


def test_a_name_is_spelt_despite_accents_misspellings_inserted_words_and_initials():
    text = folded("Möngke Khan ruled. James Clerk Maxwell wrote. The Warsaw City Council met. United Nations Deputy")
    assert name_match(text, ("mongke", "khan")) == "spelt"
    assert name_match(text, ("james", "maxwell")) == "spelt"
    assert name_match(text, ("warsaw", "city", "counil")) == "spelt"
    assert name_match(text, ("un", "deputy")) == "spelt"


def test_a_swap_is_read_within_one_phrase_of_capitalised_words_and_not_from_a_near_spelling():
    assert name_match(folded("He lived in Warsaw. The city grew."), ("warsaw", "uprising")) == "absent"
    assert name_match(folded("Warsaw, Poland is big."), ("warsaw", "uprising")) == "absent"
    assert name_match(folded("The Steppe is vast."), ("kazakh", "steppe")) == "absent"  # "The" is a stopword
    assert name_match(folded("It set up a new Government."), ("new", "york")) == "absent"  # "new" in lower case
    assert name_match(folded("the East Germany state"), ("west", "germany")) == "swapped"
    assert name_match(folded("the Iraq War began"), ("iran", "war")) == "swapped"
    assert name_match(folded("They fought in World War I."), ("world", "war", "ii")) != "spelt"
    assert folded("St. John's Cathedral, U.S. Army. Next") == " St John Cathedral | U S Army | Next "


def test_a_name_with_one_word_swapped_for_another_name_is_swapped_and_one_far_from_the_text_absent():
    text = folded("Piłsudski set up what became the Second Polish Republic, with the second capital of the region.")
    assert name_match(text, ("second", "warsaw", "republic")) == "swapped"
    assert name_match(folded("the second capital"), ("second", "city")) == "absent"  # "capital" is in lower case
    assert name_match(text, ("tamara", "de", "lempicka")) == "absent"


def test_swapped_names_counts_names_no_story_spells_and_one_swaps():
    polish = Story("p", "Interwar", None, "Story", "en", "p.txt", "It became the Second Polish Republic.", 0, 37)
    warsaw = Story("w", "Warsaw", None, "Story", "en", "w.txt", "The Second Warsaw Republic is a name.", 0, 37)
    asked = "Who set up the Second Warsaw Republic?"
    assert swapped_names(asked, [polish]) == 1.0
    assert swapped_names(asked, [polish, warsaw]) == 0.0  # one story spells it
    assert swapped_names("Who set up the Polish Republic?", [polish]) == 0.0
    assert swapped_names("Who won?", [polish]) == 0.0


def test_a_sentence_that_swaps_one_of_the_questions_words_for_another_is_found():
    said = "This recognition signal triggers a rapid killing response."
    found = swapped_word("What triggers a slow killing response?", said)
    assert found is not None and (found.word, found.other) == ("slow", "rapid")
    assert swapped_word("What triggers a rapid killing response?", said) is None
    assert swapped_word("What triggers a fast response?", said) is None  # no word either side is the sentence's
    assert swapped_word("Who showed the Kazakh art show?", "It is the Kazakhstani art show.") is None
    east = swapped_word("Where is the East Wing?", "It is in the West Wing.")
    assert east is not None and (east.word, east.other) == ("East", "West")  # as each writes it
    assert swapped_word("Who was in Warsaw, when?", "He was in Poland, then.") is None  # a comma is no word
    assert swapped_word("Who came to the business panel?", "It was the business community.") is None
    # stopwords either side ("from", "are"): the words beyond them must be the same too, one of them no stopword
    said = "Today 52 companies from Kazakhstan are members of the UN Global Compact."
    found = swapped_word("How many companies from Uzbekistan are members of the Compact?", said)
    assert found is not None and (found.word, found.other) == ("Uzbekistan", "Kazakhstan")
    assert swapped_word("How many firms from Uzbekistan are in the Compact?", said) is None


def test_the_swapped_question_puts_the_sentences_word_in_place_of_the_one_found_and_nothing_else():
    swap = swapped_word("Which gate, east or west, opens Frédéric's east gallery?", "It opens Frédéric's west gallery.")
    assert swap is not None and swap.at == 9  # the second "east": the first stands beside a comma
    assert swap.asked == "Which gate east or west opens Frederic east gallery"
    assert swap.swapped == "Which gate east or west opens Frederic west gallery"  # accents and all as `folded` reads
