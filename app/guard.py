"""What the web server refuses before Gradio sees a request: uploads, and login floods.

``RequestGuard`` is plain ASGI middleware, so any app that mounts the chat can add it
(``govqa serve`` passes it to Gradio through ``app_kwargs``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class FailureWindow:
    """Failed attempts per client within a sliding window: ``limited`` once ``limit`` are in it."""

    def __init__(self, limit: int = 5, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str) -> deque[float]:
        now = self.clock()
        failures = self._failures.setdefault(client, deque())
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]  # no memory kept for clients that stopped
            return deque()
        return failures

    def limited(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client)) >= self.limit

    def retry_after(self, client: str) -> int:
        with self._lock:
            failures = self._recent(client)
            return max(1, int(self.window - (self.clock() - failures[0])) + 1) if failures else 0

    def fail(self, client: str) -> None:
        with self._lock:
            self._recent(client)
            self._failures.setdefault(client, deque()).append(self.clock())


def _is_upload(path: str) -> bool:
    return path.rstrip("/").endswith("/upload")


def _is_login(path: str) -> bool:
    return path.rstrip("/").endswith("/login")


class RequestGuard:
    """Refuses every upload (the chat takes no files) and rate-limits failed logins per client address."""

    def __init__(self, app: ASGIApp, logins: FailureWindow | None = None) -> None:
        self.app = app
        self.logins = logins or FailureWindow()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if _is_upload(path):
            await _reply(send, 403, {"detail": "This server accepts no uploads."})
            return
        if not (_is_login(path) and method == "POST"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.logins.limited(client):
            wait = self.logins.retry_after(client)
            await _reply(send, 429, {"detail": f"Too many failed logins; retry in {wait} s."}, wait)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] >= 400:
            self.logins.fail(client)


async def _reply(send: Send, status: int, body: dict[str, str], retry_after: int = 0) -> None:
    payload = json.dumps(body).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
