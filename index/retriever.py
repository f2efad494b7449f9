"""Hybrid retrieval: BM25 + dense, fused, with filters and a question-language preference."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import BaseModel, field_validator

from govqa.corpus.documents import Document, guess_language
from govqa.corpus.primary import article_at, is_official
from govqa.index import store
from govqa.index.articles import ArticleCatalogue, question_form, unit_chunks
from govqa.index.expansion import bilingual_terms, expand_query
from govqa.index.fusion import fuse_rankings
from govqa.index.generations import IndexStateError
from govqa.index.keyword import KeywordIndex, inverse_document_frequencies, tokenize
from govqa.index.vector import DenseIndex
from govqa.ingest.chunking import Chunk

# Same-language passages win ties against their twins: a small boost, measured on the
# eval set's Chinese questions, that reorders twins without hiding other-language pages.
SAME_LANGUAGE_BOOST = 1.0
# A page with a newer dated edition in the same language yields to it when both match.
SUPERSEDED_PENALTY = 0.8
TWIN_SEED_PAGES = 5  # how many top chunks' pages the cross-language leg expands
# Official texts move up when a question asks what a law says or requires, and down when it asks
# for analysis or a comparison (the site's commentary first); see index/articles.question_form.
OFFICIAL_FACTOR = {"law": 1.5, "analysis": 0.6, "neutral": 1.0}
SOURCE_KINDS = ("site", "official")

logger = logging.getLogger(__name__)


class FilterError(ValueError):
    """A filter names a value the index does not hold; the message lists the valid ones."""


class Filters(BaseModel):
    lang: list[str] = []
    jurisdiction: list[str] = []
    company: list[str] = []
    source: list[
        Literal["site", "official"]
    ] = []  # "site" (the website's pages) and/or "official" (official texts); none = both

    @field_validator("lang", "jurisdiction", "company", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        """A lone string is a one-element list (never a list of its characters); None is no filter."""
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    def active(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.model_dump().items() if v}

    def chunk_filters(self) -> dict[str, list[str]]:
        """The filters that are chunk metadata fields (the source kind is a document's)."""
        return {k: v for k, v in self.active().items() if k != "source"}

    def accepts(self, chunk: Chunk) -> bool:
        return all(getattr(chunk, key) in values for key, values in self.chunk_filters().items())


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float
    legs: dict[str, int] = field(default_factory=dict)  # leg → rank (1-based) where it found the chunk
    similarity: float | None = None  # dense cosine similarity, when the dense leg found it
    article: str = ""  # official texts: the unit the chunk belongs to ("Article 50(2)", "第七条")


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
        self.catalogue = ArticleCatalogue(documents)
        self.official_ids = {d.id for d in documents if is_official(d)}
        self.chunks_by_doc: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            self.chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk)
        self.superseded = {
            d.id
            for d in documents
            if any(
                (self.documents[o].as_of or "") > (d.as_of or "") for o in d.other_edition_ids if o in self.documents
            )
        }

    def filter_values(self) -> dict[str, list[str]]:
        """Every value each filter can take in this index."""
        values = {
            key: sorted({str(getattr(c, key)) for c in self.chunks.values() if getattr(c, key)})
            for key in Filters.model_fields
            if key != "source"
        }
        values["source"] = list(SOURCE_KINDS)  # the kind of a chunk's document, not a chunk field
        return values

    def check_filters(self, filters: Filters) -> Filters:
        """The filters with each value spelled as the index spells it (case-insensitive).

        An unknown value raises FilterError listing the valid ones: silently filtering on a
        typo would answer "the corpus does not cover this".
        """
        known = self.filter_values()
        fixed: dict[str, list[str]] = {}
        for key, values in filters.active().items():
            by_folded = {v.casefold(): v for v in known[key]}
            unknown = [v for v in values if v.strip().casefold() not in by_folded]
            if unknown:
                raise FilterError(
                    f"unknown {key} {unknown[0]!r} in the filters; use one of {', '.join(known[key]) or '(none)'}."
                )
            fixed[key] = [by_folded[v.strip().casefold()] for v in values]
        return filters.model_copy(update=fixed)

    @classmethod
    def open(
        cls,
        index_dir: Path,
        dense: DenseIndex | None,
        embedder: BaseEmbedding | None,
        embedder_id: str | None = None,
    ) -> CorpusIndex:
        """Open one index generation, checking that its parts agree (a mismatch is an IndexStateError)."""
        manifest = store.read_manifest(index_dir)
        fix = "run `govqa ingest --rebuild`."
        if manifest is None:
            raise IndexStateError(f"no index manifest in {index_dir}; {fix}")
        built_with = (manifest.get("config") or {}).get("embedder")
        if embedder_id is not None and built_with != embedder_id:
            raise IndexStateError(
                f"the index in {index_dir} was built with embedder {built_with!r}, not {embedder_id!r} (GOVQA_EMBEDDER); {fix}"
            )
        expected = manifest.get("chunks")
        if dense is not None:
            held = dense.count()
            if held != expected:
                raise IndexStateError(
                    f"the vector store holds {held} vectors where the manifest lists {expected} chunks in {index_dir}; {fix}"
                )
        try:
            chunks, tokens = store.read_chunks(index_dir)
            keyword = KeywordIndex.load(index_dir / "bm25")
            documents = store.read_documents(index_dir)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IndexStateError(
                f"unreadable index files ({error.__class__.__name__}) in {index_dir}; {fix}"
            ) from None
        if len(chunks) != expected:
            raise IndexStateError(
                f"chunks.jsonl holds {len(chunks)} chunks where the manifest lists {expected} in {index_dir}; {fix}"
            )
        return cls(documents, chunks, keyword, dense, embedder, tokens)


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
        filters = self.index.check_filters(filters or Filters())
        top_k = top_k or self.top_k
        timings = timings if timings is not None else {}
        rankings: dict[str, list[str]] = {}
        similarities: dict[str, float] = {}
        scope = self._scope(filters)
        if "bm25" in self.legs and self.index.keyword is not None:
            started = time.perf_counter()
            allowed = None
            if filters.active():
                allowed = {cid for cid, c in self.index.chunks.items() if self._accepts(c, filters)}
            # The keyword leg also searches the other-language names of what the question names.
            hits = self.index.keyword.search(expand_query(question, self.index.terms), self.candidates, allowed)
            rankings["bm25"] = [cid for cid, _ in hits if cid in self.index.chunks]
            timings["bm25_ms"] = (time.perf_counter() - started) * 1000
            self._note_empty("bm25", rankings["bm25"], filters, timings)
        if "dense" in self.legs and self.index.dense is not None and self.index.embedder is not None:
            started = time.perf_counter()
            vector = self.index.embedder.get_query_embedding(question)
            timings["embed_ms"] = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            hits = self.index.dense.search(vector, self.candidates, scope or None)
            rankings["dense"] = [cid for cid, _ in hits if cid in self.index.chunks]
            similarities = dict(hits)
            timings["dense_ms"] = (time.perf_counter() - started) * 1000
            self._note_empty("dense", rankings["dense"], filters, timings)
        if self.weights["twins"] > 0 and rankings.get("dense"):
            # Cross-language leg: the other-language twins and other editions of the pages
            # found so far, searched densely. A fact stated only in the English edition is
            # then reachable from a Chinese question, and the reverse.
            started = time.perf_counter()
            first = fuse_rankings(rankings, k=self.rrf_k, weights=self.weights)[:TWIN_SEED_PAGES]
            relatives = self._relatives([self.index.chunks[cid].doc_id for cid, _ in first])
            relatives = [r for r in relatives if r in scope.get("doc_id", relatives)]
            if relatives:
                scoped = {**scope, "doc_id": relatives}
                hits = self.index.dense.search(vector, self.candidates // 2, scoped)  # type: ignore[union-attr]
                rankings["twins"] = [cid for cid, _ in hits if cid in self.index.chunks]
                similarities.update({cid: sim for cid, sim in hits if cid not in similarities})
            timings["twins_ms"] = (time.perf_counter() - started) * 1000
        if self.weights["title"] > 0 and rankings:
            rankings["title"] = self._title_ranking(expand_query(question, self.index.terms), rankings)
        fused = fuse_rankings(rankings, k=self.rrf_k, weights=self.weights)
        question_lang = guess_language(question)
        form = question_form(question)
        fused = [(cid, score * self._preference(cid, question_lang, filters, form)) for cid, score in fused]
        fused.sort(key=lambda pair: -pair[1])
        # Exact article lookup: when the question asks what a named article says, its passages go
        # first, whatever their similarity. A question that only mentions the article (news about
        # it, a comparison) is left to the other legs.
        started = time.perf_counter()
        units = self.index.catalogue.lookup(question) if form == "law" else []
        named = [
            cid
            for cid in unit_chunks(units, self.index.chunks_by_doc)
            if self._accepts(self.index.chunks[cid], filters)
        ]
        if named:
            rankings["article"] = named
            top = fused[0][1] if fused else 1.0
            # Other articles of the same text that merely mention the named one ("… referred to in
            # Article 50") follow the rest: the question asked for this article, then commentary.
            texts = {self.index.chunks[cid].doc_id for cid in named}
            rest = [(cid, score) for cid, score in fused if cid not in named]
            others = [pair for pair in rest if self.index.chunks[pair[0]].doc_id not in texts]
            same_text = [pair for pair in rest if self.index.chunks[pair[0]].doc_id in texts]
            fused = [(cid, top * 2 - i * 1e-6) for i, cid in enumerate(named)] + others + same_text
        timings["article_ms"] = (time.perf_counter() - started) * 1000
        positions = {leg: {cid: rank for rank, cid in enumerate(r, start=1)} for leg, r in rankings.items()}
        return [
            ScoredChunk(
                chunk=self.index.chunks[cid],
                score=score,
                legs={leg: pos[cid] for leg, pos in positions.items() if cid in pos},
                similarity=similarities.get(cid),
                article=self._article(cid),
            )
            for cid, score in fused[:top_k]
        ]

    def _note_empty(self, leg: str, ranking: list[str], filters: Filters, timings: dict[str, float]) -> None:
        """Count and log a leg that found nothing in a non-empty index (``timings["empty_legs"]``).

        With no filter the dense leg always finds something in a non-empty collection, so an
        empty dense ranking means a broken vector store; the keyword leg may legitimately
        find nothing (no query word in the corpus), so that one is logged quietly.
        """
        if ranking or not self.index.chunks:
            return
        timings["empty_legs"] = timings.get("empty_legs", 0.0) + 1
        unfiltered = not filters.active()
        level = logging.WARNING if leg == "dense" and unfiltered else logging.INFO
        logger.log(
            level, "retrieval_leg_empty leg=%s filtered=%s chunks=%d", leg, not unfiltered, len(self.index.chunks)
        )

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

    def _article(self, chunk_id: str) -> str:
        chunk = self.index.chunks[chunk_id]
        if chunk.doc_id not in self.index.official_ids:
            return ""
        return article_at(self.index.documents[chunk.doc_id], chunk.start)

    def _scope(self, filters: Filters) -> dict[str, list[str]]:
        """Dense-store filters: the chunk filters, and the source kinds as a list of documents."""
        scope = filters.chunk_filters()
        if filters.source and set(filters.source) != set(SOURCE_KINDS):
            official = "official" in filters.source
            scope["doc_id"] = [d for d in self.index.documents if (d in self.index.official_ids) == official]
        return scope

    def _accepts(self, chunk: Chunk, filters: Filters) -> bool:
        if filters.source:
            kind = "official" if chunk.doc_id in self.index.official_ids else "site"
            if kind not in filters.source:
                return False
        return filters.accepts(chunk)

    def _preference(self, chunk_id: str, question_lang: str, filters: Filters, form: str = "neutral") -> float:
        chunk = self.index.chunks[chunk_id]
        factor = SAME_LANGUAGE_BOOST if not filters.lang and chunk.lang == question_lang else 1.0
        if chunk.doc_id in self.index.official_ids:
            factor *= OFFICIAL_FACTOR[form]
        return factor * (SUPERSEDED_PENALTY if chunk.doc_id in self.index.superseded else 1.0)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(node=TextNode(id_=s.chunk.id, text=s.chunk.text, metadata=s.chunk.metadata()), score=s.score)
            for s in self.search(query_bundle.query_str)
        ]


def describe(results: list[ScoredChunk]) -> list[dict[str, Any]]:
    """The `retrieved` list of the ask contract."""
    return [
        {"page_url": r.chunk.page_url, "chunk_id": r.chunk.id, "score": round(r.score, 6)}
        | ({"article": r.article} if r.article else {})
        for r in results
    ]
