"""CI gates on both corpora: floors on the test splits, no regression on the dev splits.

Each runs `assistant eval` as a user would, on a throwaway index per corpus (cached by
content hash under EVAL_INDEX_DIR, so a second run reuses it).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import PROJECT_ROOT, load_settings
from assistant.harness.evaluate import corpus_hash
from tests.conftest import CORPUS, copied, make_settings

EVAL = PROJECT_ROOT / "eval"
SQUAD = EVAL / "squad"
RUN_ENV = {"ANSWERER": "offline", "OPENAI_BASE_URL": "", "OPENAI_API_KEY": ""}
pytestmark = pytest.mark.slow


def run_eval(tmp_path, *args: str) -> tuple[int, dict, str]:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        main, ["--env-file", str(tmp_path / "none.env"), "eval", "--out", str(out), "--gate", *args], env=RUN_ENV
    )
    doc = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    return result.exit_code, doc, result.output


@pytest.mark.parametrize(
    ("corpus", "qa", "floors", "baseline"),
    [
        (CORPUS, EVAL / "test.yaml", EVAL / "floors-test.yaml", None),
        (SQUAD / "test/corpus", SQUAD / "test.yaml", EVAL / "floors-squad-test.yaml", None),
        (SQUAD / "dev/corpus", SQUAD / "dev.yaml", EVAL / "floors-squad-dev.yaml", EVAL / "baseline-squad-dev.json"),
        (CORPUS, EVAL / "dev2.yaml", EVAL / "floors-dev2.yaml", EVAL / "baseline-dev2.json"),
        (CORPUS, EVAL / "dev3.yaml", EVAL / "floors-dev3.yaml", EVAL / "baseline-dev3.json"),
    ],
    ids=["stories-test", "squad-test", "squad-dev", "stories-dev2", "stories-dev3"],
)
def test_corpus_gate(request, tmp_path, corpus, qa, floors, baseline):
    if corpus == CORPUS:
        seed_eval_index_from_session(request)
    extra = ["--baseline", str(baseline)] if baseline else []
    code, doc, output = run_eval(tmp_path, "--corpus", str(corpus), "--qa", str(qa), "--floors", str(floors), *extra)
    assert code == 0, output[-3000:]
    assert doc["abstention_curve"], "the report carries the abstention trade-off"
    print("\n" + output.strip().splitlines()[-1])


def seed_eval_index_from_session(request: pytest.FixtureRequest) -> None:
    """Give `assistant eval --corpus data/corpus` a copy of the session's `corpus_index` when its cache has none.

    Both are data/corpus ingested by the same pipeline, under the same content-hash key (the files and
    the embedding settings, checked here), so the gate answers as over an ingest of its own, without
    embedding the corpus and its sentences a second time (~40 s). An index the cache holds is kept.
    """
    gate = load_settings(env_file=None, environ=os.environ | RUN_ENV)
    key = corpus_hash(CORPUS, gate)
    target = gate.paths.eval_index_dir / key
    if target.exists():
        return
    session = request.getfixturevalue("corpus_index")
    if key == corpus_hash(CORPUS, make_settings(session)):
        partial = target.with_name(f"{key}.partial")  # renamed when whole, so a cut copy is never used
        shutil.rmtree(partial, ignore_errors=True)
        copied(session, partial, "index", "index-cache").rename(target)


def test_eval_corpus_leaves_the_users_index_alone(tmp_path):
    user_index = tmp_path / "user-index"
    args = ["--corpus", str(SQUAD / "dev/corpus"), "--qa", str(SQUAD / "dev.yaml"), "--every", "50"]
    result = CliRunner().invoke(
        main,
        ["--env-file", str(tmp_path / "none.env"), "eval", *args],
        env={"INDEX_DIR": str(user_index), "ANSWERER": "offline"},
    )
    assert result.exit_code == 0, result.output
    assert not user_index.exists()
