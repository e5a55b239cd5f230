"""CI gates on both corpora: floors on the test splits, no regression on the dev splits, a reproducible model.

Each runs `assistant eval` as a user would, on a throwaway index per corpus (cached by
content hash under EVAL_INDEX_DIR, so a second run reuses it).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import PROJECT_ROOT

EVAL = PROJECT_ROOT / "eval"
CORPUS = PROJECT_ROOT / "data" / "corpus"
SQUAD = EVAL / "squad"
pytestmark = pytest.mark.slow


def run_eval(tmp_path, *args: str) -> tuple[int, dict, str]:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        main,
        ["--env-file", str(tmp_path / "none.env"), "eval", "--out", str(out), "--gate", *args],
        env={"ANSWERER": "offline", "OPENAI_BASE_URL": "", "OPENAI_API_KEY": ""},
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
    ],
    ids=["stories-test", "squad-test", "squad-dev", "stories-dev2"],
)
def test_corpus_gate(tmp_path, corpus, qa, floors, baseline):
    extra = ["--baseline", str(baseline)] if baseline else []
    code, doc, output = run_eval(tmp_path, "--corpus", str(corpus), "--qa", str(qa), "--floors", str(floors), *extra)
    assert code == 0, output[-3000:]
    assert doc["abstention_curve"], "the report carries the abstention trade-off"
    print("\n" + output.strip().splitlines()[-1])


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


def test_fitting_is_deterministic_and_the_model_file_round_trips():
    """Same rows, same weights (lbfgs and the JSON rounding are deterministic); the file is what `dumps` writes.

    `assistant train-reader --check` compares a full refit with the committed file; that holds on
    the same eval indexes, but a freshly built index retrieves a few passages differently (Chroma's
    HNSW graph), so it is not run here.
    """
    import numpy as np

    from assistant.features import QUESTION_FEATURES
    from assistant.harness.training import _fit, dumps
    from assistant.reader import MODEL_FILE, ReaderModel

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(QUESTION_FEATURES)))
    y = (x[:, 0] + 0.5 * rng.normal(size=400) > 0).astype(int)
    first, second = (_fit(x, y, np.ones(400), QUESTION_FEATURES, 0.1) for _ in range(2))
    assert first.as_dict() == second.as_dict() and first.coef[0] > 0
    assert dumps(ReaderModel.load()) == MODEL_FILE.read_text(encoding="utf-8")
