"""`assistant train-reader`'s pieces: a deterministic fit, the answer size, folds that hold documents out whole.

A full refit needs the eval indexes and minutes; `assistant train-reader --check` does it.
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.config import PROJECT_ROOT
from assistant.errors import ConfigError
from assistant.features import QUESTION_FEATURES
from assistant.harness.evaluate import Case
from assistant.harness.training import (
    FOLDS,
    PASS_TOLERANCE,
    Sample,
    Split,
    _fit,
    abstention_at,
    answerable_only,
    choose_answer_size,
    choose_short_answer_min,
    dev_pass_rate,
    document_folds,
    dumps,
    fit_pair,
    score_pairs,
    wilson_lower,
)
from assistant.reader import LEARNED, MODEL_FILE, PAIR_FEATURES, ReaderModel, Reply
from assistant.results import ABSTAIN_TEXT


def test_fitting_is_deterministic_and_the_model_file_round_trips():
    """Same rows, same weights (lbfgs and the JSON rounding are deterministic); the file is what `dumps` writes.

    `assistant train-reader --check` compares a full refit with the committed file; that holds on
    the same eval indexes, but a freshly built index retrieves a few passages differently (Chroma's
    HNSW graph), so it is not run here.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(QUESTION_FEATURES)))
    y = (x[:, 0] + 0.5 * rng.normal(size=400) > 0).astype(int)
    first, second = (_fit(x, y, np.ones(400), QUESTION_FEATURES, 0.1) for _ in range(2))
    assert first.as_dict() == second.as_dict() and first.coef[0] > 0
    assert dumps(ReaderModel.load()) == MODEL_FILE.read_text(encoding="utf-8")


def pair_sample(rng: np.random.Generator, n: int = 30, dims: int = len(PAIR_FEATURES)) -> Sample:
    """A question with `n` candidates whose pair rows say, in their first product, which holds the answer."""
    pairs = rng.normal(size=(n, dims))
    labels = (pairs[:, 1] + 0.3 * rng.normal(size=n) > 0.8).astype(int)
    cands = [SimpleNamespace(learned=0.0) for _ in range(n)]
    part = SimpleNamespace(features=np.zeros((n, LEARNED + 1)))
    analysis = SimpleNamespace(pairs=pairs, cands=cands, parts=[part])
    return Sample(None, Split("squad", PROJECT_ROOT, PROJECT_ROOT), analysis, labels)  # type: ignore[arg-type]


def test_the_pair_model_learns_which_products_tell_and_scores_every_candidate_and_its_feature_column():
    rng = np.random.default_rng(0)
    samples = [pair_sample(rng) for _ in range(20)]
    pair = fit_pair(samples)
    assert pair.names == PAIR_FEATURES and int(np.argmax(pair.coef)) == 1
    assert fit_pair(samples).as_dict() == pair.as_dict()  # deterministic, as train-reader --check needs
    score_pairs(samples, pair)
    for s in samples:
        expected = pair.logits(s.analysis.pairs).tolist()
        assert [c.learned for c in s.analysis.cands] == expected == s.analysis.parts[0].features[:, LEARNED].tolist()


def test_the_pair_model_refuses_vectors_of_another_embedder():
    with pytest.raises(ConfigError, match="EMBEDDING_BACKEND=e5"):
        fit_pair([pair_sample(np.random.default_rng(0), dims=9)])


def test_the_dev_pass_rate_grades_an_answer_as_eval_does_and_a_declined_unanswerable_question_as_right():
    reader = SimpleNamespace(decide=lambda analysis, model: analysis)  # each sample's "analysis" is its reply
    answered = Reply("It opened in 2004. [1]", [], False, 0.9)
    declined = Reply(ABSTAIN_TEXT, [], True, 0.1)
    asked = Case("a", "When did it open?", must_contain=[["2004"]])
    unanswerable = Case("u", "When did it close?", abstain=True)
    dev = [Sample(case, None, reply, None) for case, reply in [(asked, answered), (asked, declined)]]  # type: ignore[arg-type]
    dev += [Sample(unanswerable, None, reply, None) for reply in (answered, declined)]  # type: ignore[arg-type]
    assert dev_pass_rate(dev, reader, None) == 0.5  # type: ignore[arg-type]  # the first and the last right


def test_the_answer_size_is_the_fewest_sentences_within_tolerance_of_the_best_dev_pass_rate():
    rates = {(1, 1.01): 0.80, (2, 0.5): 0.85, (2, 0.1): 0.86, (3, 0.3): 0.90, (3, 0.1): 0.903, (4, 0.1): 0.904}
    assert choose_answer_size(rates) == (3, 0.3)
    rates[(2, 0.5)] = 0.904 - PASS_TOLERANCE / 2  # two sentences nearly as good: fewer wins
    assert choose_answer_size(rates) == (2, 0.5)


def test_abstention_is_reported_per_corpus_at_the_threshold_and_the_threshold_reads_answerable_questions_only():
    scores = {
        "dev": [(True, 0.1), (True, 0.5), (False, 0.2), (False, 0.6), (False, 0.9), (False, 0.95)],
        "held out": [(True, 0.3)],
    }
    assert abstention_at(0.4, scores) == {
        "dev": {"abstain_unanswerable": 0.5, "false_abstain": 0.25, "unanswerable": 2, "answerable": 4},
        "held out": {"abstain_unanswerable": 1.0, "false_abstain": None, "unanswerable": 1, "answerable": 0},
    }
    assert answerable_only(scores) == {"dev": [0.2, 0.6, 0.9, 0.95]}  # no answerable question: nothing to keep down


def question_about(split: str, story: str, corpus: str = "") -> Sample:
    """A sample whose best-ranked candidate is from `story` (listed after a lower-ranked one from another story).

    The split's corpus is named after the split unless given.
    """
    ranked = [(2, "another story"), (1, story)]
    cands = [SimpleNamespace(ev=SimpleNamespace(rank=r, story=SimpleNamespace(story_id=s))) for r, s in ranked]
    split_of = Split(split, PROJECT_ROOT / (corpus or split), PROJECT_ROOT)
    return Sample(None, split_of, SimpleNamespace(cands=cands), None)  # type: ignore[arg-type]


def test_out_of_fold_folds_hold_each_document_out_whole():
    """A held-out question's own article never trains the model that scores it (as on a new document)."""
    articles = [f"article-{i}" for i in range(FOLDS + 2)]
    samples = [question_about(split, a) for split in ("squad", "stories") for a in articles for _ in range(3)]

    def folds_of(ordered: list[Sample]) -> dict[tuple[str, str], set[int]]:
        found = defaultdict(set)
        for i, fold in enumerate(document_folds(ordered)):
            for s in fold:
                found[(s.split.name, s.analysis.cands[1].ev.story.story_id)].add(i)
        return found

    folds = document_folds(samples)
    assert sorted(map(id, (s for fold in folds for s in fold))) == sorted(map(id, samples))
    found = folds_of(samples)
    assert [found[("squad", a)] for a in articles] == [{0}, {1}, {2}, {3}, {4}, {0}, {1}]  # one a fold, then again
    assert found == folds_of(samples[::-1])  # the same whatever order the questions come in
    # two Q&A files on one corpus (qa.yaml and dev2 on the stories): a story's questions from both in one fold, even
    # where one file asks of a story the other does not (each file's own round would then put the rest elsewhere)
    stories = [question_about("qa", a, "stories") for a in articles]
    stories += [question_about("dev2", a, "stories") for a in articles if a != "article-0"]
    by_story = defaultdict(set)
    for i, fold in enumerate(document_folds(stories)):
        for s in fold:
            by_story[s.analysis.cands[1].ev.story.story_id].add(i)
    assert all(len(folds) == 1 for folds in by_story.values()) and len(by_story) == len(articles)


def test_the_short_answer_cut_off_is_where_the_precision_is_surely_high_enough():
    def rows(flags: list[bool]) -> list:
        return [(SimpleNamespace(probability=i / len(flags)), ok) for i, ok in enumerate(flags)]

    assert wilson_lower(20, 20) < 1.0 and wilson_lower(14, 20) < 0.7 < wilson_lower(70, 80)
    # 30 wrong below 60 right: the cut-off is the first answer from which the tail's precision is surely 0.7
    flags = [False] * 30 + [True] * 60
    cut = choose_short_answer_min(rows(flags))
    first = round(cut * 90)
    assert wilson_lower(60, 90 - first) >= 0.7 > wilson_lower(60, 91 - first)
    assert 60 / (91 - first) > 0.7  # the point estimate alone would have cut lower
    assert choose_short_answer_min(rows([False, True] * 30)) == 1.01  # never surely 70% right: no short answers
    tied = [(SimpleNamespace(probability=0.5), ok) for ok in [False] * 10 + [True] * 25]
    assert choose_short_answer_min(tied) == 1.01  # a tie is shown whole or not at all: 25 of 35 is not surely 0.7
