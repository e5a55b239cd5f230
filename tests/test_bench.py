"""A smoke run of the benchmark at scale 1 (the big scales are run by hand; results in benchmarks/)."""

import pytest

from assistant.harness import bench
from assistant.harness.evaluate import load_floors
from tests.conftest import CORPUS, make_settings

pytestmark = pytest.mark.slow


def test_scale_corpus_adds_distinct_synthetic_stories(tmp_path):
    out = bench.write_scale_corpus(CORPUS, 3, tmp_path / "c")
    stories = [s for f in sorted(out.iterdir()) for s in bench.parse_text(f.read_text(encoding="utf-8"), f.name)]
    assert len(stories) == 18 * 3
    assert len({s.story_id for s in stories}) == len(stories)
    assert len({s.title for s in stories}) == len(stories)


# Two of the fixed questions and 16 chunks for the embedder's rate: the published workload (ten questions, the
# naive peer taking seconds an answer, and every chunk embedded again) was half of this test and checked no more.
LIGHT = bench.Workload(questions=tuple(bench.QUESTIONS[:2]), embed_sample=16)


def test_smoke_run_at_scale_one(tmp_path):
    settings = make_settings(tmp_path)
    out = tmp_path / "results.md"
    rows = bench.run(settings, [1], out, print, naive=True, server=False, eval_naive_at=0, workload=LIGHT)
    embedded, naive = rows
    assert embedded.stories == 18 and embedded.chunks > 100
    assert embedded.reingest_s < 5 and embedded.eval_answer >= load_floors()["min"]["answer_pass_rate"]
    assert bench.percentile(embedded.answer_ms, 50) < 1000 and embedded.cold_start_s > 0 and embedded.ui_rss_mb > 0
    assert embedded.embed_only_chunks_s > 0 and len(embedded.answer_ms) == len(LIGHT.questions) * bench.ROUNDS
    assert naive.mode == "naive" and len(naive.answer_ms) == len(LIGHT.questions) * bench.NAIVE_ROUNDS
    text = out.read_text()
    assert "| 1 | embedded | 18 |" in text and "| 1 | naive |" in text
    assert f"{len(LIGHT.questions)} fixed questions, each asked {bench.ROUNDS} times" in text
