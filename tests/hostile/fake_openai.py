"""A fake OpenAI-compatible chat server on loopback, with one fault per model name.

The model string picks the behaviour (`openai/hang`, `openai/trickle`, ...), so one
server serves every probe. Any path other than /v1/chat/completions answers 404, which
is what a wrong `api_base` looks like. It binds 127.0.0.1 only and is stopped by the
fixture that started it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = (
    "ok",
    "401",
    "429",
    "500",
    "hang",
    "trickle",
    "cut",
    "cut-early",
    "malformed",
    "echo",
    "bigtool",
    "escapes",
)

TRICKLE_GAP_S = 0.25
BIG_TOOL_CHARS = 1_000_000


def _sse(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: Counter[str] = Counter()
        self.bodies: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()  # fmt: skip

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:  # the tests read counters
        return

    # ------------------------------------------------------------------ plumbing

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, kind: str) -> None:
        self._json(status, {"error": {"message": message, "type": kind, "code": kind}})

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        # half a chunk, then the socket closes: an incomplete chunked body
        self.wfile.write(b'ff\r\ndata: {"choi')
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)

    def _text(self, text: str, stream: bool) -> None:
        if not stream:
            self._json(200, {
                "id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
                "model": "fake",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })  # fmt: skip
            return
        self._start_stream()
        for word in text.split(" "):
            self._chunk(_sse({"content": word + " "}))
        self._chunk(_sse({}, "stop"))
        self._end_stream()

    # ------------------------------------------------------------------ modes

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        mode = str(body.get("model", "ok"))
        with self.server.lock:
            self.server.requests[mode] += 1
            self.server.bodies.append(body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route {self.path}", "not_found")
            return
        stream = bool(body.get("stream"))
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        stop = self.server.stopping
        if mode == "401":
            self._error(401, "Incorrect API key provided.", "invalid_api_key")
        elif mode == "echo":
            self._error(401, f"Incorrect API key provided: {key}. Authorization: Bearer {key}",
                        "invalid_api_key")  # fmt: skip
        elif mode == "429":
            self._error(429, "Rate limit reached; slow down.", "rate_limit_exceeded")
        elif mode == "500":
            self._error(500, "The server had an error while processing your request.", "server")
        elif mode == "hang":
            stop.wait(30)
        elif mode == "trickle":
            self._start_stream()
            for i in range(400):
                if stop.wait(TRICKLE_GAP_S):
                    return
                self._chunk(_sse({"content": f"w{i} "}))
            self._end_stream()
        elif mode == "cut":
            self._start_stream()
            self._chunk(_sse({"content": "Each instance "}))
            self._chunk(_sse({"content": "gets its own "}))
            time.sleep(0.05)
            self._cut()
        elif mode == "cut-early":
            self._start_stream()
            self._cut()
        elif mode == "malformed":
            self._start_stream()
            self._chunk(b"data: {this is not json\n\n")
            self._end_stream()
        elif mode == "bigtool":
            self._start_stream()
            opening = {"name": "capacity", "arguments": '{"gpu": "'}
            start = {
                "tool_calls": [
                    {"index": 0, "id": "call_big", "type": "function", "function": opening}
                ]
            }
            self._chunk(_sse(start))
            piece = "A" * 10_000
            for _ in range(BIG_TOOL_CHARS // len(piece)):
                frag = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                self._chunk(_sse(frag))
            self._chunk(_sse({"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]}))
            small = {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_ok",
                        "type": "function",
                        "function": {"name": "capacity", "arguments": '{"gpu": "A100-80GB"}'},
                    }
                ]
            }
            self._chunk(_sse(small))
            self._chunk(_sse({}, "tool_calls"))
            self._end_stream()
        elif mode == "escapes":
            self._text("Hello \x1b[2J\x1b]0;pwned\x07there\x1b[31m.", stream)
        else:
            self._text("Take a moment: which option fits?", stream)
