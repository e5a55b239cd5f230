"""Server mode: a real `chroma run` on 127.0.0.1, shared by two assistants as a team would."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import StoreUnavailableError
from assistant.pipeline import Assistant
from tests.conftest import free_port, make_settings, wait_for_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "the chroma CLI ships with chromadb"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc, "chroma run", timeout=60)
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def test_two_assistants_share_one_server_index(tmp_path, small_corpus, chroma_server):
    env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma_server), "CHROMA_COLLECTION": "team"}
    writer = Assistant.from_settings(make_settings(tmp_path / "a", **env))
    report = writer.ingest([small_corpus])
    assert report.stories_added == 2
    assert writer.ingest([small_corpus]).files_unchanged == 2
    assert not (tmp_path / "a" / "index").exists(), "server mode writes nothing locally"

    reader = Assistant.from_settings(make_settings(tmp_path / "b", **env))
    answer = reader.ask("Who did Prime Minister Olzhas Bektenov meet?")
    assert "Haoliang Xu" in answer.text
    assert answer.citations[0].source.endswith("003_2c06ceceba27ef83.txt")


def test_unreachable_server_is_a_clear_error(tmp_path):
    settings = make_settings(tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(free_port()))
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        Assistant.from_settings(settings).ask("Who did the Prime Minister meet?")
