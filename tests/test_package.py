"""The wheel is self-contained: built, installed into a new venv outside the repo, it ingests and answers.

The venv sees this environment's dependencies (through a `.pth` file) but holds its own copy
of the assistant, so it runs from the wheel, never from the checkout, and stays offline. The
commands run from a folder outside the repo, with data going to the user's data folder.
"""

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, copied
from tests.openai_server import Behaviour, OpenAIServer

pytestmark = pytest.mark.slow

SHIPPED = ["assistant", "prompts", "data/corpus", "pyproject.toml", "README.md"]
PATH_SETTINGS = ("DATA_DIR", "CORPUS_DIR", "INDEX_DIR", "UPLOADS_DIR", "EVAL_INDEX_DIR", "FEEDBACK_FILE")
ALLIANCE = "Who launched the Central Asian Alliance?"


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def build_wheel(tmp: Path) -> Path:
    """`pip wheel --no-deps .` on a copy of the shipped files (the checkout itself is left untouched)."""
    src = tmp / "src"
    for name in SHIPPED:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(PROJECT_ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    run([*pip, "-w", str(tmp / "dist"), str(src)])
    return next((tmp / "dist").glob("*.whl"))


def venv_with(wheel: Path, tmp: Path) -> Path:
    """A new venv outside the repo holding the wheel; dependencies come from this environment's site-packages."""
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)])
    own = Path(
        run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    )
    outer = "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages())
    (own / "zz_test_dependencies.pth").write_text(outer)  # after the venv's own packages, so the wheel wins
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ]
    )
    return venv


def test_wheel_installed_outside_the_repo_ingests_and_answers(tmp_path, corpus_index):
    wheel = build_wheel(tmp_path)
    names = run([sys.executable, "-m", "zipfile", "-l", str(wheel)]).stdout
    for shipped in ("assistant/bundled_prompts/system.txt", "assistant/bundled_corpus/001_39b3ef53bbcef721.txt"):
        assert shipped in names
    venv = venv_with(wheel, tmp_path)
    elsewhere, xdg = tmp_path / "elsewhere", tmp_path / "xdg-data"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and k not in PATH_SETTINGS}
    env |= {
        "XDG_DATA_HOME": str(xdg),
        "HOME": str(tmp_path / "home"),
        "ANSWERER": "offline",
        "OPENAI_BASE_URL": "",
        "OPENAI_API_KEY": "",
    }
    here = {"cwd": elsewhere, "env": env}

    probe = "import assistant.prompts as p, assistant.config as c; print(p.__file__, p.PROMPTS_DIR, c.Settings().paths)"
    module, prompts, paths = run([venv / "bin" / "python", "-c", probe], **here).stdout.split(maxsplit=2)
    assert Path(module).is_relative_to(venv) and Path(prompts).is_relative_to(venv)  # the wheel's copy, not the repo
    assert f"corpus_dir=PosixPath('{venv}" in paths and f"index_dir=PosixPath('{xdg}" in paths

    # The reader's sentence vectors (derived data keyed by sentence text) are copied from the session's index:
    # embedding them again took about 40% of this test, through the same code the session index ran.
    data = xdg / "kz-sdg-stories-assistant"
    copied(corpus_index, data, "index-cache")
    ingested = run([venv / "bin" / "assistant", "ingest"], **here).stdout
    assert "18 stories added (168 chunks)" in ingested
    assert (data / "index").is_dir() and not any(elsewhere.iterdir())

    offline = json.loads(run([venv / "bin" / "assistant", "ask", ALLIANCE, "--json"], **here).stdout)
    assert "Spotlight" in offline["answer"] and offline["backend"] == "offline"
    assert offline["citations"][0]["origin"] == "corpus"

    server = OpenAIServer()
    try:
        server.script(Behaviour(reply="The EU and the UN launched it under the Spotlight Initiative [1]."))
        llm_env = env | {"ANSWERER": "llm", "OPENAI_BASE_URL": server.base_url, "OPENAI_MODEL": "stub-model"}
        llm = json.loads(
            run([venv / "bin" / "assistant", "ask", ALLIANCE, "--json"], cwd=elsewhere, env=llm_env).stdout
        )
    finally:
        server.close()
    assert llm["backend"] == "stub-model" and "[1]" in llm["answer"] and llm["citations"]
    sent = server.requests[-1]["body"]["messages"]
    assert sent[0]["content"] == (PROJECT_ROOT / "prompts" / "system.txt").read_text(encoding="utf-8").strip()
    assert "<<<PASSAGES" in sent[1]["content"]  # the answer and passage templates, from the package
