"""The composition root: the one place that reads settings and wires components together.

The CLI, the web chat, the eval runner and the tests all build their pipeline here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from govqa.corpus.loader import LoadResult, load_source
from govqa.corpus.sources import SourceError, locate_source, read_sources
from govqa.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:  # the heavy modules are imported when a pipeline is built, not when this one is
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
        result = load_source(spec, root)
        combined.documents += result.documents
        combined.skipped += result.skipped
    return combined


def open_dense(settings: Settings) -> DenseIndex:
    from govqa.index.vector import DenseIndex, chroma_client, collection_name

    client = chroma_client(
        settings.chroma.mode, index_dir_for(settings) / "chroma", settings.chroma.host, settings.chroma.port
    )
    return DenseIndex(client, collection_name(settings.chroma.collection, Path(settings.embedder).name))


def run_ingest(settings: Settings, progress: Callable[[int, int], None] | None = None) -> IngestReport:
    """Load the corpus and bring the index up to date."""
    from govqa.index.build import ingest
    from govqa.index.embedders import build_embedder, embedder_identity

    corpus = load_corpus(settings)
    return ingest(
        corpus.documents,
        index_dir_for(settings),
        build_embedder(settings.embedder),
        embedder_identity(settings.embedder),
        open_dense(settings),
        settings.chunking.max_chars,
        skipped=corpus.skipped,
        progress=progress,
    )


def index_exists(settings: Settings) -> bool:
    from govqa.index.store import read_manifest

    return read_manifest(index_dir_for(settings)) is not None


@dataclass
class Pipeline:
    settings: Settings
    index: CorpusIndex
    retriever: HybridRetriever
    answerer: Answerer  # the configured answer backend (extractive or LLM)

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        return self.answerer.ask(question, filters)


def build_pipeline(settings: Settings) -> Pipeline:
    """Open the index named by the settings and wire retriever and answer backend."""
    from govqa.app.answerers import build_answerer
    from govqa.index.embedders import build_embedder
    from govqa.index.retriever import CorpusIndex, HybridRetriever

    needs_dense = "dense" in settings.retrieval.legs
    embedder = build_embedder(settings.embedder)
    dense = open_dense(settings) if needs_dense else None
    index = CorpusIndex.open(index_dir_for(settings), dense, embedder)
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
    answerer = build_answerer(settings, index, retriever)
    # Warm the embedder and the Chinese segmenter (jieba loads its dictionary on first
    # use, ~1 s) so the first real question is as fast as the rest.
    retriever.search("warm up 预热")
    return Pipeline(settings, index, retriever, answerer)
