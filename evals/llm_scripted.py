"""A small scripted OpenAI-compatible chat-completions server on loopback.

It lets the eval runner score ``--config llm`` offline and the tests drive the
``openai`` backend over real HTTP (including SSE streaming). By default it answers
from the passages in the prompt, deterministically: the first full sentence of
passage 1, cited [1]. Tests can queue scripted replies instead (text, HTTP
status, a stall, a malformed body). It records every request body it gets.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from govqa.ingest.sentences import split_sentences

_PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)
_TOKEN = re.compile(r"\s*\S+|\s+")
MIN_SENTENCE_CHARS = {"en": 20, "zh": 6}


@dataclass
class Reply:
    """One scripted reply. status != 200 sends an OpenAI-style error body instead."""

    text: str = ""
    status: int = 200
    stall: float = 0.0  # seconds to wait before answering (after the first token when stall_after_first)
    stall_after_first: bool = False
    garbage: bool = False  # a 200 response whose body is not JSON (or SSE lines that are not JSON)
    retry_after: float | None = None


def passages_in(prompt: str) -> dict[int, str]:
    """The numbered passages of a govqa prompt (see govqa.app.llm.build_messages)."""
    return {int(n): text for n, text in _PASSAGE.findall(prompt)}


def default_answer(body: dict[str, Any]) -> str:
    """First sentence of passage 1 that is long enough to be a statement, cited [1]."""
    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user")
    passages = passages_in(prompt)
    if not passages:
        return "The passages do not answer this question."
    text = passages[min(passages)]
    is_zh = bool(re.search(r"[\u3400-\u9fff]", text))
    for sentence in split_sentences(text):
        if len(sentence) >= MIN_SENTENCE_CHARS["zh" if is_zh else "en"] and not sentence.startswith(("#", ">", "|")):
            return f"{sentence} [1]" if not is_zh else f"{sentence}[1]"
    return f"{text.strip()[:200]} [1]"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True  # a stalled reply must not keep the process alive

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up (timeouts) or close kept-alive connections are expected here.
        pass


class ScriptedLLMServer:
    """``with ScriptedLLMServer() as server: ... server.url`` (ends in /v1).

    replies: queued Reply objects used one per request, in order; when the queue is
    empty, ``respond(body)`` (default: default_answer) gives the reply text.
    """

    def __init__(
        self, replies: list[Reply] | None = None, respond: Callable[[dict[str, Any]], str] | None = None
    ) -> None:
        self.replies = list(replies or [])
        self.respond = respond or default_answer
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # request headers, e.g. to check that a key was sent
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> ScriptedLLMServer:
        server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self, replies: list[Reply] | None = None, respond: Callable[[dict[str, Any]], str] | None = None) -> None:
        """New script for the next requests; forget the requests seen so far."""
        with self._lock:
            self.replies = list(replies or [])
            self.respond = respond or default_answer
            self.requests.clear()
            self.headers.clear()

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if self.replies:
                return self.replies.pop(0)
        return Reply(self.respond(body))

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read their own output
                pass

            def _send(
                self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(
                        200,
                        json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}).encode(),
                        "application/json",
                    )
                else:
                    self._send(404, b'{"error": {"message": "not found"}}', "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._send(400, b'{"error": {"message": "bad json"}}', "application/json")
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}', "application/json")
                    return
                reply = owner._next(body, dict(self.headers))
                if reply.stall and not reply.stall_after_first:
                    owner._wait(reply.stall)
                if reply.status != 200:
                    error = {
                        "error": {
                            "message": f"scripted error {reply.status}",
                            "type": "server_error",
                            "code": reply.status,
                        }
                    }
                    headers = {"Retry-After": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
                    self._send(reply.status, json.dumps(error).encode(), "application/json", headers)
                    return
                model = str(body.get("model", "scripted"))
                if body.get("stream"):
                    self._stream(reply, model)
                elif reply.garbage:
                    self._send(200, b"<html>this is not json", "application/json")
                else:
                    message = {"role": "assistant", "content": reply.text}
                    payload = {
                        "id": "chatcmpl-scripted",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    }
                    self._send(200, json.dumps(payload).encode(), "application/json")

            def _event(self, data: str) -> None:
                line = f"data: {data}\n\n".encode()
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()

            def _stream(self, reply: Reply, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    if reply.garbage:
                        self._event("{not json")
                    else:
                        for index, token in enumerate(_TOKEN.findall(reply.text)):
                            if index == 1 and reply.stall and reply.stall_after_first:
                                owner._wait(reply.stall)
                            delta = {"role": "assistant", "content": token} if index == 0 else {"content": token}
                            self._event(json.dumps(_chunk(model, delta, None), ensure_ascii=False))
                        self._event(json.dumps(_chunk(model, {}, "stop")))
                    self._event("[DONE]")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing left to send

        return Handler


def _chunk(model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def llm_environment(url: str, model: str = "scripted") -> dict[str, str]:
    """GOVQA_* variables that point the openai backend at a server (e.g. this one)."""
    return {"GOVQA_ANSWER_BACKEND": "openai", "GOVQA_LLM_BASE_URL": url, "GOVQA_LLM_MODEL": model}
