"""Hybrid retrieval: BM25 + dense, fused, with filters and a question-language preference."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import BaseModel

from govqa.corpus.documents import Document, guess_language
from govqa.index import store
from govqa.index.expansion import bilingual_terms, expand_query
from govqa.index.fusion import fuse_rankings
from govqa.index.keyword import KeywordIndex, inverse_document_frequencies, tokenize
from govqa.index.vector import DenseIndex
from govqa.ingest.chunking import Chunk

# Same-language passages win ties against their twins: a small boost, measured on the
# eval set's Chinese questions, that reorders twins without hiding other-language pages.
SAME_LANGUAGE_BOOST = 1.0
# A page with a newer dated edition in the same language yields to it when both match.
SUPERSEDED_PENALTY = 0.8
TWIN_SEED_PAGES = 5  # how many top chunks' pages the cross-language leg expands


class Filters(BaseModel):
    lang: list[str] = []
    jurisdiction: list[str] = []
    company: list[str] = []

    def active(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.model_dump().items() if v}

    def accepts(self, chunk: Chunk) -> bool:
        return all(getattr(chunk, key) in values for key, values in self.active().items())


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float
    legs: dict[str, int] = field(default_factory=dict)  # leg → rank (1-based) where it found the chunk
    similarity: float | None = None  # dense cosine similarity, when the dense leg found it


class CorpusIndex:
    """Everything retrieval and citation need, opened once from the index folder."""

    def __init__(
        self,
        documents: list[Document],
        chunks: list[Chunk],
        keyword: KeywordIndex | None,
        dense: DenseIndex | None,
        embedder: BaseEmbedding | None,
        tokens: dict[str, list[str]] | None = None,
    ) -> None:
        self.documents = {d.id: d for d in documents}
        self.chunks = {c.id: c for c in chunks}
        self.keyword = keyword
        self.dense = dense
        self.embedder = embedder
        self.idf = inverse_document_frequencies(list((tokens or {}).values()))
        # The index terms of each document, to tell whether the corpus names something at all.
        self.document_terms: dict[str, set[str]] = {}
        for chunk_id, chunk_tokens in (tokens or {}).items():
            if chunk_id in self.chunks:
                self.document_terms.setdefault(self.chunks[chunk_id].doc_id, set()).update(chunk_tokens)
        self.terms = bilingual_terms(documents)
        self.title_terms = {d.id: frozenset(tokenize(d.title)) for d in documents}
        self.superseded = {
            d.id
            for d in documents
            if any(
                (self.documents[o].as_of or "") > (d.as_of or "") for o in d.other_edition_ids if o in self.documents
            )
        }

    @classmethod
    def open(cls, index_dir: Path, dense: DenseIndex | None, embedder: BaseEmbedding | None) -> CorpusIndex:
        if store.read_manifest(index_dir) is None:
            raise FileNotFoundError(f"No index in {index_dir}: run `govqa ingest` first.")
        chunks, tokens = store.read_chunks(index_dir)
        keyword = KeywordIndex.load(index_dir / "bm25")
        return cls(store.read_documents(index_dir), chunks, keyword, dense, embedder, tokens)


class HybridRetriever(BaseRetriever):
    """Fuses the keyword and dense legs with weighted reciprocal rank fusion."""

    def __init__(
        self,
        index: CorpusIndex,
        legs: list[str],
        top_k: int = 8,
        candidates: int = 40,
        rrf_k: int = 10,
        dense_weight: float = 1.0,
        twin_weight: float = 0.0,
        title_weight: float = 0.0,
    ) -> None:
        super().__init__()
        unknown = set(legs) - {"bm25", "dense"}
        if unknown or not legs:
            raise ValueError(f"Retrieval legs must be a non-empty subset of bm25, dense; got {legs}.")
        if "dense" in legs and (index.dense is None or index.embedder is None):
            raise ValueError("The dense leg needs a vector store and an embedder.")
        self.index = index
        self.legs = legs
        self.top_k = top_k
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.weights = {"bm25": 1.0, "dense": dense_weight, "twins": twin_weight, "title": title_weight}

    def search(
        self,
        question: str,
        filters: Filters | None = None,
        top_k: int | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[ScoredChunk]:
        filters = filters or Filters()
        top_k = top_k or self.top_k
        timings = timings if timings is not None else {}
        rankings: dict[str, list[str]] = {}
        similarities: dict[str, float] = {}
        if "bm25" in self.legs and self.index.keyword is not None:
            started = time.perf_counter()
            allowed = None
            if filters.active():
                allowed = {cid for cid, c in self.index.chunks.items() if filters.accepts(c)}
            # The keyword leg also searches the other-language names of what the question names.
            hits = self.index.keyword.search(expand_query(question, self.index.terms), self.candidates, allowed)
            rankings["bm25"] = [cid for cid, _ in hits if cid in self.index.chunks]
            timings["bm25_ms"] = (time.perf_counter() - started) * 1000
        if "dense" in self.legs and self.index.dense is not None and self.index.embedder is not None:
            started = time.perf_counter()
            vector = self.index.embedder.get_query_embedding(question)
            timings["embed_ms"] = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            hits = self.index.dense.search(vector, self.candidates, filters.active() or None)
            rankings["dense"] = [cid for cid, _ in hits if cid in self.index.chunks]
            similarities = dict(hits)
            timings["dense_ms"] = (time.perf_counter() - started) * 1000
        if self.weights["twins"] > 0 and rankings.get("dense"):
            # Cross-language leg: the other-language twins and other editions of the pages
            # found so far, searched densely. A fact stated only in the English edition is
            # then reachable from a Chinese question, and the reverse.
            started = time.perf_counter()
            first = fuse_rankings(rankings, k=self.rrf_k, weights=self.weights)[:TWIN_SEED_PAGES]
            relatives = self._relatives([self.index.chunks[cid].doc_id for cid, _ in first])
            if relatives:
                scoped = {**filters.active(), "doc_id": relatives}
                hits = self.index.dense.search(vector, self.candidates // 2, scoped)  # type: ignore[union-attr]
                rankings["twins"] = [cid for cid, _ in hits if cid in self.index.chunks]
                similarities.update({cid: sim for cid, sim in hits if cid not in similarities})
            timings["twins_ms"] = (time.perf_counter() - started) * 1000
        if self.weights["title"] > 0 and rankings:
            rankings["title"] = self._title_ranking(expand_query(question, self.index.terms), rankings)
        fused = fuse_rankings(rankings, k=self.rrf_k, weights=self.weights)
        question_lang = guess_language(question)
        fused = [(cid, score * self._preference(cid, question_lang, filters)) for cid, score in fused]
        fused.sort(key=lambda pair: -pair[1])
        positions = {leg: {cid: rank for rank, cid in enumerate(r, start=1)} for leg, r in rankings.items()}
        return [
            ScoredChunk(
                chunk=self.index.chunks[cid],
                score=score,
                legs={leg: pos[cid] for leg, pos in positions.items() if cid in pos},
                similarity=similarities.get(cid),
            )
            for cid, score in fused[:top_k]
        ]

    def _title_ranking(self, question: str, rankings: dict[str, list[str]]) -> list[str]:
        """The candidates of the other legs, ranked by how much of the question their page's title
        names (IDF mass of shared terms): a question that names a rule or a company is about the
        page of that name, however similar another page's passage sounds."""
        wanted = set(tokenize(question))
        pool = list(dict.fromkeys(cid for ranking in rankings.values() for cid in ranking))
        named = {}
        for cid in pool:
            shared = wanted & self.index.title_terms.get(self.index.chunks[cid].doc_id, frozenset())
            if shared:
                named[cid] = sum(self.index.idf.get(t, 1.0) for t in shared)
        return sorted(named, key=lambda cid: -named[cid])  # stable: ties keep the legs' order

    def _relatives(self, doc_ids: list[str]) -> list[str]:
        found = dict.fromkeys(doc_ids)
        relatives: dict[str, None] = {}
        for doc_id in found:
            document = self.index.documents.get(doc_id)
            if document is None:
                continue
            for other in [document.twin_id, *document.other_edition_ids]:
                if other and other not in found:
                    relatives[other] = None
        return list(relatives)

    def _preference(self, chunk_id: str, question_lang: str, filters: Filters) -> float:
        chunk = self.index.chunks[chunk_id]
        factor = SAME_LANGUAGE_BOOST if not filters.lang and chunk.lang == question_lang else 1.0
        return factor * (SUPERSEDED_PENALTY if chunk.doc_id in self.index.superseded else 1.0)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(node=TextNode(id_=s.chunk.id, text=s.chunk.text, metadata=s.chunk.metadata()), score=s.score)
            for s in self.search(query_bundle.query_str)
        ]


def describe(results: list[ScoredChunk]) -> list[dict[str, Any]]:
    """The `retrieved` list of the ask contract."""
    return [{"page_url": r.chunk.page_url, "chunk_id": r.chunk.id, "score": round(r.score, 6)} for r in results]
