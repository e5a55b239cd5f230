"""A real HTTP server on loopback that speaks the OpenAI chat-completions protocol.

Tests script its behaviour per request (a reply, a delay, an HTTP error, a cut stream,
malformed JSON) and read back exactly what the client sent. It is not a mock object:
the `openai` client talks to it over TCP like it would to OpenAI, vLLM or llama.cpp.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def embeddings_reply(body: dict) -> dict:
    """Deterministic bag-of-letters vectors: texts sharing words get similar vectors."""
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = []
    for i, text in enumerate(texts):
        vec = [0.0] * 64
        for word in text.lower().split():
            vec[hash_word(word) % 64] += 1.0
        data.append({"object": "embedding", "index": i, "embedding": vec})
    return {
        "object": "list",
        "data": data,
        "model": body.get("model"),
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }


def hash_word(word: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(word.strip(".,?!\"'")))


@dataclass
class Behaviour:
    reply: str = "The stories don't say."
    delay_s: float = 0.0  # before the first byte
    status: int = 200
    retry_after: str | None = None
    malformed: bool = False  # send a body that is not JSON
    cut_after: int | None = None  # close the stream after this many chunks


@dataclass
class OpenAIServer:
    behaviours: list[Behaviour] = field(default_factory=list)
    default: Behaviour = field(default_factory=Behaviour)
    requests: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:  # noqa: C901 -- the count is the request handler class defined inside
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # /v1/models
                self._json(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                if self.path.endswith("/embeddings"):
                    return self._json(200, embeddings_reply(body))
                b = server.behaviours.pop(0) if server.behaviours else server.default
                time.sleep(b.delay_s)
                if b.status != 200:
                    extra = {"Retry-After": b.retry_after} if b.retry_after else {}
                    return self._json(
                        b.status, {"error": {"message": "scripted failure", "type": "server_error"}}, extra
                    )
                if b.malformed:
                    return self._raw(200, b"{not json", "application/json")
                if body.get("stream"):
                    return self._stream(b)
                message = {"role": "assistant", "content": b.reply}
                self._json(
                    200,
                    {
                        "id": "c1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model"),
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    },
                )

            def _stream(self, b: Behaviour) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [w + " " for w in b.reply.split(" ")]
                for i, piece in enumerate(pieces):
                    if b.cut_after is not None and i >= b.cut_after:
                        self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {"content": ')
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    event = {
                        "id": "c1",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "stub-model",
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                final = {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "stub-model",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                self.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
                self._raw(status, json.dumps(payload).encode(), "application/json", headers)

            def _raw(self, status: int, data: bytes, ctype: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def script(self, *behaviours: Behaviour) -> None:
        self.behaviours.extend(behaviours)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
