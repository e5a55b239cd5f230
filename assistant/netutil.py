"""Loopback ports: a free one to start a server on, and waiting until something listens on one.

The local LLM, the benchmark's `chroma run` and UI processes, and the tests' servers all start
a process on a port and wait for it; they share these few lines.
"""

from __future__ import annotations

import socket
import subprocess
import time

__all__ = ["LOOPBACK", "free_port", "listening", "port_is_free", "wait_for_port"]

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now (the system's pick), for a server about to start."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Could a server bind `port` now? A port in TIME_WAIT counts as free, as it does for the server."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def listening(port: int, host: str = LOOPBACK) -> bool:
    """Whether something accepts connections on `port` now (one attempt, at most a second)."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_for_port(
    port: int, timeout: float, proc: subprocess.Popen | None = None, poll_s: float = 0.3, host: str = LOOPBACK
) -> bool:
    """Wait until something listens on `port`: True once it does, False at `timeout` or when `proc` has exited.

    The caller tells the two failures apart by `proc.poll()` and decides what to do with the process.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listening(port, host):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(poll_s)
    return False
