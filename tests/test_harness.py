"""The harness apart from the product: no product module imports it; its shared pieces work alone."""

import ast
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.errors import ConfigError
from assistant.harness.evaluate import backend_assistant, percentile

PRODUCT_MODULES = sorted((PROJECT_ROOT / "assistant").glob("*.py"))


def imported_modules(nodes: list[ast.stmt]) -> set[str]:
    """Every module the statements import (nested ones too), relative imports resolved against `assistant`."""
    found = set()
    for node in (n for top in nodes for n in ast.walk(top)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ("assistant." + (node.module or "")).rstrip(".") if node.level == 1 else node.module or ""
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def harness_imports(path: Path, top_level_only: bool = False) -> list[str]:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    nodes = [n for n in body if isinstance(n, ast.Import | ast.ImportFrom)] if top_level_only else body
    return sorted(m for m in imported_modules(nodes) if m.split(".")[:2] == ["assistant", "harness"])


def test_the_product_lists_its_modules():
    names = {p.stem for p in PRODUCT_MODULES}
    assert {"cli", "pipeline", "retrieve", "reader", "dates", "netutil"} <= names
    assert not names & {"evaluate", "bench", "naive", "training"}


@pytest.mark.parametrize("path", PRODUCT_MODULES, ids=lambda p: p.name)
def test_no_product_module_imports_the_harness(path):
    if path.name == "cli.py":  # its eval, bench and train-reader commands run the harness: imported inside them
        assert harness_imports(path, top_level_only=True) == []
        assert harness_imports(path) != []
    else:
        assert harness_imports(path) == []


def test_harness_imports_sees_relative_and_absolute_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from .harness import bench\nimport assistant.harness.naive\ndef f():\n    from . import x\n")
    assert harness_imports(source) == ["assistant.harness", "assistant.harness.bench", "assistant.harness.naive"]
    assert harness_imports(source, top_level_only=True) == harness_imports(source)
    source.write_text("from .pipeline import Assistant\ndef f():\n    from .harness import evaluate\n")
    assert harness_imports(source) == ["assistant.harness", "assistant.harness.evaluate"]
    assert harness_imports(source, top_level_only=True) == []


def test_percentile_interpolates_between_ranks():
    values = [40.0, 10.0, 30.0, 20.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) == 0.0


def test_an_unknown_backend_is_named():
    with pytest.raises(ConfigError, match="offline, llm, naive"):
        backend_assistant(None, "oracle")  # type: ignore[arg-type]
