"""The composition root: the one place that reads settings and wires components together.

The CLI, the web chat, the eval runner and the tests all build their pipeline here.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from govqa.corpus.loader import LoadResult, load_source
from govqa.corpus.sources import SourceError, locate_source, read_sources
from govqa.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:  # the heavy modules are imported when a pipeline is built, not when this one is
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from govqa.app.answerers import Answerer
    from govqa.app.result import AskResult
    from govqa.index.build import IngestReport
    from govqa.index.retriever import CorpusIndex, Filters, HybridRetriever
    from govqa.index.vector import DenseIndex

logger = logging.getLogger(__name__)


def index_dir_for(settings: Settings) -> Path:
    """One index folder per embedder, so switching embedders never throws an index away."""
    key = re.sub(r"[^a-zA-Z0-9._-]+", "-", settings.embedder).strip("-") or "default"
    return settings.index_dir / key


def load_corpus(settings: Settings) -> LoadResult:
    specs = read_sources(settings.sources_file)
    if settings.source_ids:
        unknown = set(settings.source_ids) - {s.id for s in specs}
        if unknown:
            raise SourceError(
                f"Unknown source ids {sorted(unknown)} in GOVQA_SOURCE_IDS; {settings.sources_file} has {[s.id for s in specs]}."
            )
        specs = [s for s in specs if s.id in settings.source_ids]
    combined = LoadResult()
    for spec in specs:
        root = locate_source(spec, PROJECT_ROOT, settings.data_dir)
        result = load_source(spec, root, settings.max_page_bytes)
        combined.documents += result.documents
        combined.skipped += result.skipped
    return combined


def local_file_roots(settings: Settings) -> list[Path]:
    """Folders of your own documents that have no public address: the web chat serves their files."""
    roots = []
    for spec in read_sources(settings.sources_file):
        if spec.kind == "folder" and spec.base_url.startswith("file:"):
            try:
                roots.append(locate_source(spec, PROJECT_ROOT, settings.data_dir, clone=False))
            except SourceError:
                continue  # a folder gone since ingest: its passages still show, without a link
    return roots


def open_dense(settings: Settings, generation: Path | None = None) -> DenseIndex:
    """The vector collection of one index generation (the current one by default).

    Embedded Chroma keeps each generation in its own folder; a Chroma server holds one
    collection per generation, named after it.
    """
    from govqa.index.generations import IndexStateError, current_dir
    from govqa.index.vector import DenseIndex, chroma_client, collection_name

    folder = generation or current_dir(index_dir_for(settings))
    if folder is None:
        raise IndexStateError(f"no index in {index_dir_for(settings)}; run `govqa ingest` first.")
    name = collection_name(settings.chroma.collection, Path(settings.embedder).name)
    if settings.chroma.mode == "http":
        name = collection_name(name, folder.name)
    client = chroma_client(settings.chroma.mode, folder / "chroma", settings.chroma.host, settings.chroma.port)
    return DenseIndex(client, name, exact=settings.retrieval.exact_dense)


def collect_garbage(settings: Settings) -> list[str]:
    """Remove retired and abandoned generations (call under the writer lock)."""
    from govqa.index.generations import collect_garbage as collect

    index_dir = index_dir_for(settings)

    def drop_server_collection(folder: Path) -> None:
        if settings.chroma.mode == "http":
            open_dense(settings, folder).drop()

    return collect(index_dir, settings.gc_grace_seconds, on_remove=drop_server_collection)


def run_ingest(
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
    rebuild: bool = False,
    wait: bool = False,
) -> IngestReport:
    """Under the writer lock, load the corpus and publish an up-to-date index generation.

    Without ``wait`` a running ingest makes this raise WriterBusyError at once.
    """
    from govqa.index.build import ingest
    from govqa.index.embedders import build_embedder, embedder_identity
    from govqa.index.generations import writer_lock

    with writer_lock(settings.data_dir, wait=wait):
        corpus = load_corpus(settings)
        report = ingest(
            corpus.documents,
            index_dir_for(settings),
            build_embedder(settings.embedder),
            embedder_identity(settings.embedder),
            lambda folder: open_dense(settings, folder),
            settings.chunking.max_chars,
            skipped=corpus.skipped,
            progress=progress,
            rebuild=rebuild,
        )
        report.removed_generations = collect_garbage(settings)
        return report


def index_exists(settings: Settings) -> bool:
    from govqa.index.generations import check_data_dir, current_name

    check_data_dir(settings.data_dir, writable=False)
    return current_name(index_dir_for(settings)) is not None


@dataclass
class Pipeline:
    settings: Settings
    index: CorpusIndex
    retriever: HybridRetriever
    answerer: Answerer  # the configured answer backend (extractive or LLM)
    embedder: BaseEmbedding | None = None  # reused when a server reopens a newer generation
    generation: str = ""  # the index generation this pipeline reads

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        return self.answerer.ask(question, filters)

    def close(self) -> None:
        """Release the vector store (a server calls this on the generation it swapped out)."""
        if self.index.dense is not None:
            self.index.dense.close()


def build_pipeline(settings: Settings, embedder: BaseEmbedding | None = None) -> Pipeline:
    """Open the current index generation and wire retriever and answer backend.

    Pass ``embedder`` to reuse one already loaded (a server reopening a new generation).
    """
    from govqa.app.answerers import build_answerer
    from govqa.app.sources import LinkedAnswerer, SourceLinker
    from govqa.index.embedders import build_embedder, embedder_identity
    from govqa.index.generations import IndexStateError, current_dir
    from govqa.index.retriever import CorpusIndex, HybridRetriever

    folder = current_dir(index_dir_for(settings))
    if folder is None:
        raise IndexStateError(f"no index in {index_dir_for(settings)}; run `govqa ingest` first.")
    needs_dense = "dense" in settings.retrieval.legs
    embedder = embedder or build_embedder(settings.embedder)
    dense = open_dense(settings, folder) if needs_dense else None
    index = CorpusIndex.open(folder, dense, embedder, embedder_identity(settings.embedder))
    retriever = HybridRetriever(
        index,
        legs=list(settings.retrieval.legs),
        top_k=settings.retrieval.top_k,
        candidates=settings.retrieval.candidates,
        rrf_k=settings.retrieval.rrf_k,
        dense_weight=settings.retrieval.dense_weight,
        twin_weight=settings.retrieval.twin_weight,
        title_weight=settings.retrieval.title_weight,
    )
    # Citations name their article and link site claims to the official texts they cite.
    answerer = LinkedAnswerer(
        build_answerer(settings, index, retriever), SourceLinker(index.documents, index.catalogue)
    )
    # Warm the embedder and the Chinese segmenter (jieba loads its dictionary on first
    # use, ~1 s) so the first real question is as fast as the rest.
    retriever.search("warm up 预热")
    return Pipeline(settings, index, retriever, answerer, embedder, folder.name)


class LivePipeline:
    """A pipeline that follows re-ingests: it moves to each newly published index generation.

    ``current()`` stats the index pointer (one ``stat`` call) and, when an ingest has
    published a new generation, opens it and swaps it in. Requests already running keep
    the pipeline they started with; the old one is closed a while later (``close_after``
    seconds), never under a running request. While one thread opens the new generation,
    the others go on answering from the old one, so no request waits or fails on a swap.
    If the new generation cannot be opened the old one keeps serving and the error is
    logged once per published generation.

    ``index``, ``retriever``, ``answerer`` and ``ask`` go through ``current()``, so the
    object stands in for a :class:`Pipeline`; code that needs one consistent view for a
    whole request takes ``current()`` once.
    """

    def __init__(
        self,
        settings: Settings,
        build: Callable[[Settings, BaseEmbedding | None], Pipeline] = build_pipeline,
        close_after: float = 120.0,
    ) -> None:
        from govqa.index.generations import GenerationWatch

        self.settings = settings
        self._build = build
        self._close_after = close_after
        self._watch = GenerationWatch(index_dir_for(settings))
        stamp = self._watch.stamp
        self._pipeline = build(settings, None)
        self._watch.seen(stamp)
        self._swapping = threading.Lock()
        self.swaps: list[tuple[str, float]] = []  # generation, seconds to open: for logs and tests

    def current(self) -> Pipeline:
        if self._watch.changed() and self._swapping.acquire(blocking=False):
            try:
                self._swap()
            finally:
                self._swapping.release()
        return self._pipeline

    def _swap(self) -> None:
        from govqa.index.generations import pointer_stamp

        stamp = pointer_stamp(self._watch.index_dir)
        started = time.perf_counter()
        old = self._pipeline
        try:
            new = self._build(self.settings, old.embedder)
        except Exception:
            logger.exception("index_swap_failed index=%s", self._watch.index_dir)
            self._watch.seen(stamp)  # retried when the next generation is published
            return
        self._pipeline = new
        self._watch.seen(stamp)
        seconds = time.perf_counter() - started
        self.swaps.append((new.generation, seconds))
        logger.info("index_swapped generation=%s previous=%s seconds=%.2f", new.generation, old.generation, seconds)
        timer = threading.Timer(self._close_after, old.close)
        timer.daemon = True
        timer.start()

    @property
    def index(self) -> CorpusIndex:
        return self.current().index

    @property
    def retriever(self) -> HybridRetriever:
        return self.current().retriever

    @property
    def answerer(self) -> Answerer:
        return self.current().answerer

    @property
    def generation(self) -> str:
        return self.current().generation

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        return self.current().ask(question, filters)
