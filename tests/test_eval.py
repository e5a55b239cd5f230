import json

import pytest

from assistant.errors import ConfigError
from assistant.harness.evaluate import (
    DEFAULT_QA,
    Case,
    check_gate,
    dumps,
    evaluate,
    grade,
    load_cases,
    load_floors,
    stable_view,
)

BASELINE_PATH = DEFAULT_QA.parent / "baseline.json"


def test_qa_file_meets_the_brief():
    cases = load_cases(DEFAULT_QA)
    tags = [t for c in cases for t in c.tags]
    assert len(cases) >= 80
    for tag in ("who", "when", "where", "how-many", "multi-part", "two-stories", "follow-up", "kazakh", "russian"):
        assert tag in tags, tag
    unanswerable = [c for c in cases if c.abstain]
    assert len(unanswerable) >= 10 and sum("near-miss" in c.tags for c in unanswerable) >= len(unanswerable) // 2


def test_every_story_has_three_cases(assistant):
    cases = load_cases(DEFAULT_QA)
    for story in assistant.snapshot.stories.values():
        hits = [c for c in cases if any(s.lower() in (story.title + story.source).lower() for s in c.sources)]
        assert len(hits) >= 3, story.title


def test_loader_rejects_malformed_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- question: no id here\n")
    with pytest.raises(ConfigError, match="needs an id"):
        load_cases(bad)
    bad.write_text("- id: a\n  question: q\n- id: a\n  question: q\n")
    with pytest.raises(ConfigError, match="duplicate"):
        load_cases(bad)


def test_grading_rules():
    case = Case(id="x", question="q", must_contain=[["Spotlight"], ["European Union", "EU "]], sources=["Alliance"])
    answer = {
        "answer": "Launched by the  SPOTLIGHT initiative and the EU [1].",
        "abstained": False,
        "citations": [],
        "retrieved": [],
    }
    assert grade(case, answer, {})["passed"]
    answer["answer"] = "x" * 601 + " Spotlight EU "
    assert not grade(case, answer, {})["passed"]
    assert grade(Case(id="y", question="q", abstain=True), {**answer, "abstained": True}, {})["passed"]


def test_gate_fails_on_floor_and_on_baseline_regression():
    floors = {"min": {"answer_pass_rate": 0.9}, "max": {"false_abstain_rate": 0.05}}
    rows = [{"id": "a", "passed": False}]
    assert check_gate({"answer_pass_rate": 0.95, "false_abstain_rate": 0.0}, rows, floors, None) == []
    assert check_gate({"answer_pass_rate": 0.8, "false_abstain_rate": 0.0}, rows, floors, None)
    assert check_gate({"answer_pass_rate": 0.95, "false_abstain_rate": 0.1}, rows, floors, None)
    assert check_gate({"answer_pass_rate": 0.95, "false_abstain_rate": 0.0}, rows, floors, {"passed": {"a": True}})


def test_offline_eval_passes_the_gate_and_is_deterministic(assistant):
    """The CI gate: floors from eval/floors.yaml, no regression against eval/baseline.json, byte-identical reruns."""
    cases = load_cases(DEFAULT_QA)
    stories = assistant.snapshot.stories
    first = evaluate(assistant, cases, DEFAULT_QA, "offline", stories)
    second = evaluate(assistant, cases, DEFAULT_QA, "offline", stories)
    assert dumps(stable_view(first)) == dumps(stable_view(second))
    baseline = json.loads(BASELINE_PATH.read_text(encoding="utf-8"))
    problems = check_gate(first["aggregates"], first["cases"], load_floors(), baseline)
    assert problems == [], "\n".join(problems)
    agg = first["aggregates"]
    print(
        f"\neval: answer {agg['answer_pass_rate']} citation recall {agg['citation_recall']} "
        f"abstain {agg['correct_abstain_rate']} false-abstain {agg['false_abstain_rate']} "
        f"p50 {agg['latency_p50_ms']} ms"
    )


def test_archive_cases_are_graded_by_count_set_and_order(tmp_path):
    """The archive schema: count = the number stated; stories = exactly that set cited; order = cited in that order."""
    qa = tmp_path / "qa.yaml"
    qa.write_text(
        "- {id: c, tags: [archive, count], question: q, expect: {count: 2}}\n"
        "- {id: l, tags: [archive, list], question: q, expect: {stories: [Alpha, Beta]}}\n"
        "- {id: t, tags: [archive, timeline], question: q, expect: {order: [Alpha, Beta]}}\n"
    )
    count, listing, timeline = load_cases(qa)
    assert count.count == 2 and listing.stories == ["Alpha", "Beta"] and timeline.order == ["Alpha", "Beta"]
    stories = {"s": type("Story", (), {"text": "A quoted sentence."})()}

    def answer(text, *titles):
        cites = [
            {"n": n, "title": t, "story_id": "s", "start": 0, "end": 18, "quote": "A quoted sentence."}
            for n, t in enumerate(titles, 1)
        ]
        return {"answer": text, "abstained": False, "citations": cites, "retrieved": []}

    long = "x" * 700  # a list of stories may run past the one-fact length limit
    assert grade(count, answer(f"2 of the 17 stories mention it. {long}"), stories)["passed"]
    assert grade(count, answer("In 2023, 3 stories"), stories)["failures"] == ["states 2023 stories, not 2"]
    assert grade(count, answer("1,204 of 9,000"), stories)["stated_count"] == 1204
    assert grade(Case(id="z", question="q", count=0), answer("0 of the 17 stories mention it."), stories)["passed"]
    both = grade(listing, answer("", "The Alpha story", "Beta news"), stories)
    assert both["passed"] and both["set_recall"] == 1.0 and both["set_precision"] == 1.0
    assert not grade(listing, answer("", "The Alpha story"), stories)["passed"]  # Beta is missing
    outside = grade(listing, answer("", "Alpha", "Beta", "Gamma"), stories)
    assert not outside["passed"] and outside["set_precision"] == round(2 / 3, 4)
    assert grade(timeline, answer("", "Alpha", "Gamma", "Beta"), stories)["passed"]  # others may sit between
    assert grade(timeline, answer("", "Beta", "Alpha"), stories)["failures"] == ["cites ['Alpha', 'Beta'] out of order"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {id: c, question: q, expect: {count: many}}\n")
    with pytest.raises(ConfigError, match="whole number"):
        load_cases(bad)


def test_llm_figures_are_counted_over_the_answers_it_was_asked_for():
    from assistant.harness.evaluate import claim_support, generation_aggregates

    def gen(**kw):
        counts = dict.fromkeys(("markers_written", "markers_valid", "dropped", "moved", "uncited"), 0)
        base = {
            "failed": "",
            "abstained": False,
            "tokens": 11,
            "first_token_ms": 500.0,
            "last_token_ms": 1500.0,
            "attached": 1,
            **counts,
        }
        return {"generation": base | kw}

    rows = [
        gen(),
        gen(markers_written=2, markers_valid=1, dropped=1),
        gen(failed="timed out", tokens=0),
        gen(abstained=True, tokens=5),
        {"generation": None},
    ]
    agg = generation_aggregates(rows)
    assert agg["llm_asked"] == 4 and agg["fallback_rate"] == 0.25 and agg["llm_abstain_rate"] == 0.25
    assert agg["markers_written"] == 2 and agg["citation_validity"] == 0.5 and agg["check_changed_rate"] == 0.5
    assert agg["tokens_per_s"] == 8.0  # 10 + 10 + 4 tokens after the first, over 3 x 1 s
    assert generation_aggregates([{"generation": None}]) == {}
    cites = [{"n": 1, "quote": "The Alliance was officially launched on 27 June in Almaty."}]
    assert claim_support("It was launched in Almaty on 27 June [1]. Bananas grow on trees [1].", cites) == [True, False]
    today = [{"n": 1, "quote": "Today Almaty hosted the fashion event.", "date": "2023-06-02"}]
    answer = "2 June 2023 (the story's date) — Today Almaty hosted the fashion event. [1]"
    assert claim_support(answer, today) == [True]  # the day the quote's "Today" names is the story's date
    assert claim_support(answer, [{**today[0], "date": None}]) == [False]
