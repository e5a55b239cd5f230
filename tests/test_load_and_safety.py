"""The UI under load (20 concurrent chat sessions through gradio_client) and its safety settings."""

import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

from tests.conftest import PROJECT_ROOT, TINY_ENV, free_port, running_ui, wait_for_port

pytestmark = pytest.mark.slow

# Each session follows one conversation; the follow-up only makes sense with its own history.
CONVERSATIONS = [
    [("Who launched the Central Asian Alliance?", "Spotlight"), ("When was it launched?", "27 June")],
    [
        ("Who did Prime Minister Olzhas Bektenov meet?", "Haoliang Xu"),
        ("Where would the subregional office they discussed be established?", "Almaty"),
    ],
    [("What is the FRIENDS project?", "Forest Restoration"), ("Who undertook its mission to Kazakhstan?", "Bilgin")],
    [
        ("How many people attended the UNICEF Talks event?", "200"),
        ("What was the slogan of the UNICEF Talks Youth Conference?", "Jastar"),
    ],
]
SESSIONS = 20
ROUNDS = 2
SECRET = "sk-load-test-secret-9876"


def text_of(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def test_twenty_concurrent_sessions_get_their_own_correct_answers(tmp_path, corpus_index):
    with running_ui(tmp_path, corpus_index) as (url, _):
        errors, latencies, served = [], [], []
        lock = threading.Lock()
        deadline = time.monotonic() + 240  # bounded: the whole run stops by itself

        def session(i: int) -> None:
            conversation = CONVERSATIONS[i % len(CONVERSATIONS)]
            foreign = {q for j, c in enumerate(CONVERSATIONS) if j != i % len(CONVERSATIONS) for q, _ in c}
            try:
                client = Client(url, verbose=False)
                for _ in range(ROUNDS):
                    history = []
                    for question, expected in conversation:
                        if time.monotonic() > deadline:
                            return
                        began = time.monotonic()
                        history, *_ = client.predict(question, history, 6, "", "", "all", "offline", api_name="/ask")
                        took = time.monotonic() - began
                        answer = text_of(history[-1])
                        asked = {text_of(m) for m in history if m["role"] == "user"}
                        with lock:
                            latencies.append(took)
                            served.append(question)
                            if expected not in answer:
                                errors.append(f"session {i}: {question!r} got {answer[:160]!r}")
                            if asked & foreign:
                                errors.append(f"session {i}: history holds another session's question")
            except Exception as err:  # any transport or server error fails the test below
                with lock:
                    errors.append(f"session {i}: {type(err).__name__}: {err}")

        threads = [threading.Thread(target=session, args=(i,)) for i in range(SESSIONS)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        elapsed = time.monotonic() - began
    assert errors == []
    assert len(served) == SESSIONS * ROUNDS * 2
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(
        f"\nload: {len(served)} requests from {SESSIONS} sessions in {elapsed:.1f}s, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )


def test_password_protects_the_ui_and_the_api_key_never_leaks(tmp_path, corpus_index):
    env = {
        "UI_USERNAME": "team",
        "UI_PASSWORD": "s3cret-pass",
        "ANSWERER": "llm",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "OPENAI_API_KEY": SECRET,
        "LLM_TIMEOUT": "2",
    }
    with running_ui(tmp_path, corpus_index, **env) as (url, proc):
        assert url.startswith("http://127.0.0.1:")
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False)
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"{url}/config", timeout=10)
        assert denied.value.code in (401, 403)
        client = Client(url, auth=("team", "s3cret-pass"), verbose=False)
        history, *_ = client.predict(
            "Who launched the Central Asian Alliance?", [], 6, "", "", "all", "llm", api_name="/ask"
        )
        answer = text_of(history[-1])
        assert "Spotlight" in answer and "answered offline" not in answer
        assert "failed" in answer and "offline reader" in answer  # the dead LLM's notice
        assert SECRET not in answer
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert SECRET not in output


# -- issue 11, item 3: a login is both or neither; no open public bind by accident ------------
def ui_exit(tmp_path, index_root, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`assistant ui` on the tiny index that should refuse to start; a UI that starts instead fails by timing out."""
    unset = dict.fromkeys(("UI_USERNAME", "UI_PASSWORD", "OPENAI_BASE_URL", "OPENAI_API_KEY"), "")
    full_env = os.environ | {"INDEX_DIR": str(index_root / "index"), "ANSWERER": "offline"} | unset | TINY_ENV | env
    cli = [sys.executable, "-m", "assistant.cli", "--env-file", str(tmp_path / "none.env"), "ui", "--no-ingest"]
    return subprocess.run(
        [*cli, "--port", str(free_port()), *args],
        env=full_env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_half_set_login_refuses_to_start(tmp_path, tiny_index):
    alone = ui_exit(tmp_path, tiny_index, UI_PASSWORD="x")
    assert alone.returncode == 2 and "UI_PASSWORD is set but UI_USERNAME is not" in alone.stderr
    name_only = ui_exit(tmp_path, tiny_index, UI_USERNAME="team")
    assert name_only.returncode == 2 and "Set UI_PASSWORD too" in name_only.stderr


def test_public_bind_without_login_needs_insecure(tmp_path, tiny_index):
    refused = ui_exit(tmp_path, tiny_index, "--host", "0.0.0.0")
    assert refused.returncode == 2 and "--insecure" in refused.stderr and "UI_USERNAME" in refused.stderr
    with running_ui(tmp_path, tiny_index, args=("--host", "0.0.0.0", "--insecure"), **TINY_ENV) as (url, _):
        assert urllib.request.urlopen(f"{url}/config", timeout=10).status == 200


# -- issue 11, item 7: upload messages a person can act on; no temp files left behind ------
def test_upload_refusals_name_the_file_and_leave_no_temp_files(tmp_path, tiny_index):
    from gradio_client import handle_file

    files = tmp_path / "to-upload"
    files.mkdir()
    (files / "big.txt").write_text("Big story\n1 May 2024\n" + "A sentence about Kostanay. " * 200)
    (files / "wide.txt").write_bytes("Wide story\n1 May 2024\nA UTF-16 story body.\n".encode("utf-16"))
    (files / "good.txt").write_text("Kostanay wheat story\n1 May 2024\nKostanay farmers sowed 9 new wheat fields.\n")
    temp = tmp_path / "gradio-temp"
    with running_ui(tmp_path, tiny_index, MAX_UPLOAD_BYTES="2000", GRADIO_TEMP_DIR=str(temp), **TINY_ENV) as (url, _):
        client = Client(url, verbose=False)
        message, *_ = client.predict(
            [handle_file(str(files / n)) for n in ("big.txt", "wide.txt", "good.txt")], api_name="/upload"
        )
        # (Gradio itself leaves one empty spool file per request; no uploaded bytes may stay.)
        left_behind = [p for p in temp.rglob("*") if p.is_file() and p.stat().st_size > 0]
    big, wide, good = message.replace("\\", "").split("\n\n")  # without markdown escapes
    assert big.startswith("❌ big.txt: ") and "over the 2,000-byte limit" in big and str(temp) not in message
    assert "wide.txt: is UTF-16 (little-endian) text; stories must be UTF-8" in wide and "binary" not in wide
    assert good.startswith("✅ **good.txt**: 1 story, 1 chunk added")
    assert left_behind == []


# -- issue 11, item 8: the first `assistant ui` says what it is doing while it ingests --------
def test_first_ui_start_shows_ingest_progress_before_serving(tmp_path, small_corpus):
    port = free_port()
    env = os.environ | {
        "INDEX_DIR": str(tmp_path / "index"),
        "UPLOADS_DIR": str(tmp_path / "uploads"),
        "CORPUS_DIR": str(small_corpus),
        "ANSWERER": "offline",
        "OPENAI_BASE_URL": "",
        "OPENAI_API_KEY": "",
        "UI_USERNAME": "",
        "UI_PASSWORD": "",
    }
    cli = [sys.executable, "-u", "-m", "assistant.cli", "--env-file", str(tmp_path / "none.env")]
    proc = subprocess.Popen(
        [*cli, "ui", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, proc, "assistant ui")
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    lines = output.splitlines()
    first = lines.index(next(line for line in lines if line.startswith("Starting the web UI")))
    checking = lines.index(next(line for line in lines if line.startswith("Checking the bundled corpus")))
    progress = [
        i for i, line in enumerate(lines) if re.search(r"embedding \d+/2 stories, \d+/\d+ chunks, .*chunks/s", line)
    ]
    serving = lines.index(next(line for line in lines if "Running on local URL" in line))
    assert first < checking < progress[0] <= progress[-1] < serving, output
    assert "2 stories added" in output
