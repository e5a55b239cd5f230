"""A smoke run of the benchmark at scale 1 (the big scales are run by hand; results in benchmarks/)."""

import pytest

from assistant.harness import bench
from tests.conftest import CORPUS, make_settings

pytestmark = pytest.mark.slow


def test_scale_corpus_adds_distinct_synthetic_stories(tmp_path):
    out = bench.write_scale_corpus(CORPUS, 3, tmp_path / "c")
    stories = [s for f in sorted(out.iterdir()) for s in bench.parse_text(f.read_text(encoding="utf-8"), f.name)]
    assert len(stories) == 18 * 3
    assert len({s.story_id for s in stories}) == len(stories)
    assert len({s.title for s in stories}) == len(stories)


def test_smoke_run_at_scale_one(tmp_path):
    settings = make_settings(tmp_path)
    out = tmp_path / "results.md"
    rows = bench.run(settings, [1], out, print, naive=True, server=False, eval_naive_at=0)
    embedded, naive = rows
    assert embedded.stories == 18 and embedded.chunks > 100
    assert embedded.reingest_s < 5 and embedded.eval_answer >= 0.87  # eval/floors.yaml
    assert bench.percentile(embedded.answer_ms, 50) < 1000 and embedded.cold_start_s > 0 and embedded.ui_rss_mb > 0
    assert naive.mode == "naive" and naive.answer_ms
    text = out.read_text()
    assert "| 1 | embedded | 18 |" in text and "| 1 | naive |" in text
