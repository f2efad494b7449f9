"""The answer engine: retrieve, then compose an answer in which every sentence is cited."""

from __future__ import annotations

import logging
import time
from typing import Any

from govqa.app import answerability
from govqa.app.citations import Citation, cite
from govqa.app.extractive import (
    candidates_from,
    rank_candidates,
    select_units,
)

# AskResult and check_question are re-exported (``as``) while evals/naive.py still imports them from here.
from govqa.app.result import AskResult as AskResult
from govqa.app.result import check_question as check_question
from govqa.corpus.documents import guess_language
from govqa.index.retriever import CorpusIndex, Filters, HybridRetriever, ScoredChunk, describe
from govqa.index.similarity import cosine_to_each

logger = logging.getLogger(__name__)

ABSTAIN_MESSAGE = {
    "en": "The corpus does not cover this question well enough to answer it. The nearest passages are listed below.",
    "zh": "语料库中没有足够的内容回答这个问题。以下是最接近的段落。",
}


class ExtractiveAnswerer:
    """Composes answers only from verbatim sentences of retrieved passages."""

    backend = "extractive"
    supports_streaming = False  # the answer is composed at once; the web chat shows it sentence by sentence
    rewrites_followups = False

    def __init__(
        self,
        index: CorpusIndex,
        retriever: HybridRetriever,
        max_sentences: int = 4,
        min_support: float | dict[str, float] = 0.37,
        max_passages: int = 6,
    ) -> None:
        self.index = index
        self.retriever = retriever
        self.max_sentences = max_sentences
        # One threshold, or one per question language ("en", "zh").
        self.min_support = min_support if isinstance(min_support, dict) else {"en": min_support, "zh": min_support}
        self.max_passages = max_passages

    def _similarities(self, question: str, texts: list[str]) -> list[float] | None:
        embedder = self.index.embedder
        if embedder is None or not texts:
            return None
        vectors = embedder.get_text_embedding_batch([question, *texts])
        return cosine_to_each(vectors[0], vectors[1:])

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        question = check_question(question)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        results = self.retriever.search(question, filters, timings=timings)
        timings["retrieve_ms"] = (time.perf_counter() - started) * 1000
        composed = time.perf_counter()
        result = self.compose(question, results)
        timings["compose_ms"] = (time.perf_counter() - composed) * 1000
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        result.timings_ms = {**timings, **result.timings_ms}
        return result

    def compose(self, question: str, results: list[ScoredChunk]) -> AskResult:
        lang = guess_language(question)
        candidates = candidates_from(results, self.max_passages)
        similarities = self._similarities(question, [c.text for c in candidates])
        ranked = rank_candidates(question, candidates, self.index.idf, similarities)
        support = ranked[0].score if ranked else 0.0
        decision = answerability.decide(support, lang, self.min_support)
        if decision.abstain:
            nearest = [self._citation(i + 1, r.candidate) for i, r in enumerate(ranked[:3])]
            return AskResult(question, ABSTAIN_MESSAGE[lang], True, [], describe(results), {}, nearest, support)
        chosen = select_units(ranked, lambda doc_id: self.index.documents[doc_id].page_key, self.max_sentences)
        citations = [self._citation(i + 1, r.candidate) for i, r in enumerate(chosen)]
        separator = "" if lang == "zh" else " "
        answer = separator.join(f"{c.quote} [{c.n}]" for c in citations)
        sentences = [{"text": c.quote, "citations": [c.n], "supported": True} for c in citations]
        return AskResult(question, answer, False, citations, describe(results), {}, [], support, sentences=sentences)

    def _citation(self, n: int, candidate: Any) -> Citation:
        chunk = candidate.scored.chunk
        return cite(n, chunk, candidate.start, candidate.end, self.index.documents[chunk.doc_id].text)
