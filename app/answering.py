"""Answering for programs: a bounded worker pool over the pipeline, shared by the JSON and OpenAI APIs.

What the workers share, and why that is safe (checked for the concurrent-answer path):

- the ``CorpusIndex`` (documents, chunks, idf, bilingual terms) and the retriever's settings are
  only read after the pipeline is built;
- bm25s ``BM25.retrieve`` reads its score matrix and allocates its own result arrays per call
  (``n_threads=1``, numpy backend);
- jieba is initialised while the pipeline warms up; after that ``lcut`` only reads its dictionary;
- the PyStemmer object is not thread-safe (it caches stems in the object), so each thread gets its
  own (``govqa.index.keyword``);
- Chroma's client (embedded Rust bindings or HTTP) is safe for concurrent queries;
- the USE v3 embedder sets the process-wide BLAS thread count around every batch, so its calls are
  serialised by a lock (``govqa.index.embedders``); one query takes about 2 ms, so the lock is cheap;
- the feedback store opens one SQLite connection per call.

The pool bounds how many answers run at once (``GOVQA_SERVER_WORKERS``, default: core count);
requests beyond it wait in the pool's queue instead of competing for the cores.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from govqa.app.answerers import as_followup_rewriter
from govqa.app.conversation import PageRef, Resolution, Turn, company_entities, company_names, page_ref
from govqa.app.conversation import resolve_followup as resolve_rules

logger = logging.getLogger(__name__)

T = TypeVar("T")
_DONE = object()
Chooser = Callable[[Any], Any]  # the pipeline's answerer → the one to answer with


def _same(answerer: Any) -> Any:
    return answerer


class AnswerService:
    """Runs answers on a bounded pool; reads the current pipeline on every request.

    ``current`` returns the pipeline to use now, so a server that swaps in a new index
    generation between requests is followed without restarting.
    """

    def __init__(self, current: Callable[[], Any], workers: int, stream_answer: Callable[..., Iterator[Any]]) -> None:
        self._current = current
        self.workers = workers
        self._stream_answer = stream_answer  # (answerer, question, filters) → text pieces, then the AskResult
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="govqa-answer")
        self._lookups: tuple[int, dict[str, Any], dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] | None = None
        self._lock = threading.Lock()

    @property
    def pipeline(self) -> Any:
        return self._current()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the pool, awaited without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def iterate(self, produce: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
        """The items of ``produce()``, computed on the pool and handed over as they come.

        When the consumer stops early (the client went away) the worker stops at its next item.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()
        stopped = threading.Event()

        def work() -> None:
            try:
                for item in produce():
                    if stopped.is_set():
                        return
                    loop.call_soon_threadsafe(queue.put_nowait, (item, None))
            except BaseException as error:  # handed to the consumer, which re-raises it
                loop.call_soon_threadsafe(queue.put_nowait, (_DONE, error))
                return
            loop.call_soon_threadsafe(queue.put_nowait, (_DONE, None))

        future = loop.run_in_executor(self.pool, work)
        try:
            while True:
                item, error = await queue.get()
                if item is _DONE:
                    if error is not None:
                        raise error
                    return
                yield item
        finally:
            stopped.set()
            if future.done():
                future.result()

    def _tables(self) -> tuple[dict[str, Any], dict[str, tuple[tuple[str, ...], tuple[str, ...]]]]:
        """Page URL → document and the company entities, rebuilt when the pipeline's index changes."""
        index = self.pipeline.index
        with self._lock:
            if self._lookups is None or self._lookups[0] != id(index):
                documents = list(index.documents.values())
                by_url = {d.url: d for d in documents}
                self._lookups = (id(index), by_url, company_entities(company_names(documents)))
            return self._lookups[1], self._lookups[2]

    def pages(self, page_urls: Sequence[str]) -> tuple[PageRef, ...]:
        """The pages behind cited URLs (anchors ignored), in order, each once; unknown URLs are skipped."""
        by_url, _ = self._tables()
        documents = self.pipeline.index.documents
        refs: list[PageRef] = []
        for url in page_urls:
            doc = by_url.get(url.split("#", 1)[0])
            if doc is None or any(r.title == doc.title for r in refs):
                continue
            refs.append(page_ref(doc, documents.get(doc.twin_id) if doc.twin_id else None))
        return tuple(refs)

    def answer(
        self, question: str, history: Sequence[tuple[str, Sequence[str]]], filters: Any, choose: Chooser = _same
    ) -> Any:
        """Resolve the follow-up and answer it (call on the pool). ``choose`` picks the answerer."""
        resolution, _ = self.resolve(question, history)
        return choose(self.pipeline.answerer).ask(resolution.question, filters)

    def answer_stream(
        self, question: str, history: Sequence[tuple[str, Sequence[str]]], filters: Any, choose: Chooser = _same
    ) -> Iterator[Any]:
        """As :meth:`answer`, but text pieces as they are composed, then the AskResult."""
        resolution, _ = self.resolve(question, history)
        yield from self._stream_answer(choose(self.pipeline.answerer), resolution.question, filters)

    def resolve(self, question: str, history: Sequence[tuple[str, Sequence[str]]]) -> tuple[Resolution, list[Turn]]:
        """Resolve ``question`` against earlier (question, cited page URLs) turns, oldest first.

        Earlier questions may themselves be follow-ups, so each is resolved against the turns
        before it, as the chat does. Returns the resolution and the resolved turns.
        """
        _, entities = self._tables()
        rewriting = as_followup_rewriter(self.pipeline.answerer)
        rewriter = rewriting.rewrite_followup if rewriting else None
        turns: list[Turn] = []
        for asked, urls in history:
            # Earlier turns by the rules only: asking an LLM rewriter once per past turn would
            # multiply the cost of every request by the length of the conversation.
            earlier = resolve_rules(asked, turns, None, entities)
            turns.append(Turn(earlier.question, self.pages(urls)))
        return resolve_rules(question, turns, rewriter, entities), turns
