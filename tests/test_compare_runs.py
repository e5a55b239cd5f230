"""benchmarks/compare_runs.py: the figures two eval runs are compared by, and the cases that moved."""

import importlib.util
import json
import math

from assistant.config import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("compare_runs", PROJECT_ROOT / "benchmarks" / "compare_runs.py")
assert spec and spec.loader
compare_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_runs)

QA = """
- id: a
  question: Who launched the hub?
  expect: {must_contain: [UNICEF]}
- id: u
  question: Who funded the moon base?
  expect: {abstain: true}
- id: archive
  question: How many stories mention UNICEF?
  tags: [archive]
  expect: {count: 3}
"""


def run(tmp_path, name, a, u):
    """An `assistant eval --out` document with rows (passed, abstained, confidence) for cases a and u."""
    rows = [
        {"id": "a", "passed": a[0], "abstained": a[1], "confidence": a[2]},
        {"id": "u", "passed": u[0], "abstained": u[1], "confidence": u[2]},
        {"id": "archive", "passed": True, "abstained": False, "confidence": None},
    ]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"cases": rows}), encoding="utf-8")
    return path


def test_the_area_is_the_chance_an_answerable_case_is_rated_above_an_unanswerable_one():
    assert compare_runs.area_under_curve([(0.9, True), (0.2, False)]) == 1.0
    assert compare_runs.area_under_curve([(0.5, True), (0.5, False), (0.1, True)]) == 0.25
    assert math.isnan(compare_runs.area_under_curve([(0.5, True)]))


def test_two_runs_give_fact_figures_and_the_cases_that_moved(tmp_path, capsys):
    qa = tmp_path / "qa.yaml"
    qa.write_text(QA, encoding="utf-8")
    before = run(tmp_path, "before", (True, False, 0.8), (False, False, 0.9))
    after = run(tmp_path, "after", (True, False, 0.8), (True, True, 0.0))
    compare_runs.main(str(qa), str(before), str(after))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "before: answer 1/1 | abstain 0/1 | false abstention 0/1 | area 0.000"  # the archive case left out
    assert out[1] == "after:  answer 1/1 | abstain 1/1 | false abstention 0/1 | area 1.000"
    assert out[2].startswith("u (unanswerable): passed False -> True, abstained False -> True | Who funded")
    assert len(out) == 3
