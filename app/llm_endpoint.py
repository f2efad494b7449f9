"""An OpenAI-compatible chat-completions endpoint with a hard time budget and bounded retries.

Ollama, vLLM, llama.cpp's server, LM Studio, OpenAI and DeepSeek all speak the
chat-completions protocol, so one client (the ``openai`` package) covers them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

# Waits between attempts: BACKOFF_SECONDS, then twice that, ... never more than MAX_BACKOFF_SECONDS
# (also the cap on a server's Retry-After), so the worst case stays
# timeout × (retries + 1) plus a few seconds.
BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 4.0


class LLMUnavailable(RuntimeError):
    """The endpoint gave no usable answer within the retry budget."""

    def __init__(self, reason: str, attempts: int, partial: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.partial = partial


class _AttemptFailed(Exception):
    def __init__(self, reason: str, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


def public_url(base_url: str) -> str:
    """The endpoint as it may be shown or logged: without user:password, query or fragment."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _classify(error: BaseException) -> _AttemptFailed:
    """What went wrong, in words a user can act on, and whether trying again can help."""
    import openai

    if isinstance(error, openai.APITimeoutError):
        return _AttemptFailed("timed out")
    if isinstance(error, openai.APIConnectionError):
        return _AttemptFailed("could not be reached")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status == 429:
            retry_after = None
            try:
                retry_after = float(error.response.headers.get("retry-after", ""))
            except (TypeError, ValueError):
                pass
            return _AttemptFailed("was rate-limited (HTTP 429)", True, retry_after)
        if status in (401, 403):
            return _AttemptFailed(f"refused the key (HTTP {status}; check GOVQA_LLM_API_KEY)", retryable=False)
        if status == 404:
            return _AttemptFailed(
                "answered HTTP 404 (check GOVQA_LLM_BASE_URL, which usually ends in /v1, and GOVQA_LLM_MODEL)",
                retryable=False,
            )
        return _AttemptFailed(f"answered HTTP {status}", retryable=status >= 500 or status in (408, 409))
    return _AttemptFailed(f"sent an unreadable reply ({type(error).__name__})")


class ChatEndpoint:
    """An OpenAI-compatible chat-completions endpoint with a hard time budget and bounded retries.

    Each attempt gets at most ``timeout`` seconds for the whole reply, enforced from
    this side (a server that trickles tokens or stalls cannot stretch it). Failures
    before the first token are retried with backoff; after it, the caller already
    showed text, so the stream ends with LLMUnavailable instead.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 30.0,
        max_tokens: int = 700,
        retries: int = 2,
        backoff: float = BACKOFF_SECONDS,
        client: Any = None,
    ) -> None:
        import openai

        self.url = public_url(base_url)
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.retries = retries
        self.backoff = backoff
        # Local servers accept any key; the client insists on a non-empty one.
        self._client = client or openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0
        )

    def __repr__(self) -> str:  # the client holds the key: never print it
        return f"ChatEndpoint(url={self.url!r}, model={self.model!r})"

    def _delay(self, attempt: int, failure: _AttemptFailed | None) -> float:
        delay = self.backoff * 2.0 ** (attempt - 1)
        if failure is not None and failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        return min(delay, MAX_BACKOFF_SECONDS)

    def stream(self, messages: list[dict[str, str]], max_tokens: int | None = None) -> Iterator[str]:
        """Yield the reply's text pieces as they arrive; raise LLMUnavailable when there is none."""
        failure: _AttemptFailed | None = None
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, failure))
            attempts += 1
            shown = False
            try:
                for piece in self._attempt(messages, max_tokens or self.max_tokens):
                    shown = True
                    yield piece
                return
            except _AttemptFailed as error:
                failure = error
                logger.warning("llm_attempt_failed url=%s attempt=%d reason=%r", self.url, attempts, error.reason)
                if shown:
                    raise LLMUnavailable(f"stopped mid-answer ({error.reason})", attempts, partial=True) from None
                if not error.retryable:
                    break
        assert failure is not None
        raise LLMUnavailable(failure.reason, attempts)

    def complete(self, messages: list[dict[str, str]], max_tokens: int | None = None) -> str:
        return "".join(self.stream(messages, max_tokens))

    def _attempt(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        # The HTTP read runs in a worker thread so that the deadline holds even while
        # a read blocks; the worker notices the cancel flag or its own read timeout.
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancelled = threading.Event()
        responses: list[Any] = []

        def work() -> None:
            try:
                response = self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]  # plain role/content dicts
                    max_tokens=max_tokens,
                    temperature=0,
                    stream=True,
                    timeout=self.timeout,
                )
                responses.append(response)
                got_text = False
                for chunk in response:
                    if cancelled.is_set():
                        break
                    choices = getattr(chunk, "choices", None) or []
                    delta = getattr(choices[0], "delta", None) if choices else None
                    content = getattr(delta, "content", None)
                    if content:
                        got_text = True
                        pieces.put(("piece", content))
                pieces.put(("done", got_text))
            except BaseException as error:
                pieces.put(("error", error))
            finally:
                for response in responses:
                    try:
                        response.close()
                    except Exception:
                        pass

        deadline = time.monotonic() + self.timeout
        worker = threading.Thread(target=work, name="govqa-llm", daemon=True)
        worker.start()
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _AttemptFailed(f"gave no complete answer within {self.timeout:g} s")
                try:
                    kind, value = pieces.get(timeout=remaining)
                except queue.Empty:
                    raise _AttemptFailed(f"gave no complete answer within {self.timeout:g} s") from None
                if kind == "piece":
                    yield value
                elif kind == "error":
                    raise _classify(value)
                else:
                    if not value:
                        raise _AttemptFailed("sent an empty reply")
                    return
        finally:
            cancelled.set()
