"""The answer engine: retrieve, then compose an answer in which every sentence is cited."""

from __future__ import annotations

import logging
import time
from functools import cached_property, lru_cache
from typing import Any

from govqa.app import answerability
from govqa.app.citations import Citation, cite
from govqa.app.extractive import (
    TYPED_ANSWERS,
    RankedCandidate,
    candidates_from,
    complete_asks,
    evidence_states,
    named_article_first,
    prefer_answers,
    rank_candidates,
    select_units,
    table_rows_for_list,
)
from govqa.app.result import AskResult, check_question
from govqa.corpus.documents import guess_language
from govqa.index.analysis import (
    FocusTerm,
    answer_type,
    asked_date_precision,
    asks,
    documents_mentioning,
    focus_terms,
    term_occurs,
)
from govqa.index.gazetteer import Gazetteer, TermIndex, build_gazetteer
from govqa.index.keyword import tokenize
from govqa.index.retriever import CorpusIndex, Filters, HybridRetriever, ScoredChunk, describe
from govqa.index.similarity import cosine_to_each
from govqa.ingest.chunking import Chunk

logger = logging.getLogger(__name__)

LIST_MAX_UNITS = 12  # a whole table or list, up to a sane cap


class CorpusVocabulary:
    """Which names the corpus mentions at all, in either language (built on first use)."""

    def __init__(self, index: CorpusIndex) -> None:
        self.index = index

    @cached_property
    def gazetteer(self) -> Gazetteer:
        return build_gazetteer(list(self.index.documents.values()))

    @cached_property
    def terms(self) -> TermIndex:
        return TermIndex.from_documents(self.index.documents.values(), self.gazetteer)

    def mentions(self, term: FocusTerm) -> bool:
        """The corpus names the term: one of its forms verbatim, or every word of it in one page
        ("深度合成规定" is how a reader shortens 《互联网信息服务深度合成管理规定》)."""
        if documents_mentioning(term, self.terms):
            return True
        if any(self._names_official_text(term, doc_id) for doc_id in self.official_names):
            return True
        return not any(ch.isdigit() for ch in term.text) and any(
            any(words <= terms for terms in self.index.document_terms.values()) for words in _word_sets(term)
        )

    @lru_cache(maxsize=8192)  # noqa: B019  (one vocabulary per index; bounded)
    def _page_names_year(self, year: FocusTerm, doc_id: str) -> bool:
        return term_occurs(year, self.index.documents[doc_id].text, self.gazetteer)

    def _page_names(self, term: FocusTerm, doc_id: str) -> bool:
        if term.kind == "year":  # a year keeps term_occurs's digit-boundary match ("2025" in "2025-05")
            return self._page_names_year(term, doc_id)
        return doc_id in documents_mentioning(term, self.terms)

    @cached_property
    def official_names(self) -> dict[str, list[frozenset[str]]]:
        """The index terms of each catalogue name of each official text, by document id."""
        names: dict[str, list[frozenset[str]]] = {}
        for name, doc_id, _ in self.index.catalogue.names:
            words = frozenset(tokenize(name))
            if words:
                names.setdefault(doc_id, []).append(words)
        return names

    def _names_official_text(self, term: FocusTerm, doc_id: str) -> bool:
        """The term is one of an official text's catalogue names (its frontmatter titles and
        aliases), in either language ("PIPL" for 个人信息保护法, "人工智能法" for the AI Act), or
        every word of one: its own articles rarely repeat its name."""
        if doc_id not in self.index.official_ids or term.kind in ("year", "article"):
            return False
        if any(doc_id in self.index.catalogue.laws_named(form) for form in term.equivalents | {term.text}):
            return True
        if any(ch.isdigit() for ch in term.text):
            return False
        return any(words <= name for words in _word_sets(term) for name in self.official_names.get(doc_id, []))

    def in_evidence(self, term: FocusTerm, chunk: Chunk, strict_years: bool = True) -> bool:
        """The passage, read with its page title and section, names the term. A name may be in its
        page (a passage of the EU AI Act page is about the EU whether or not the sentence says
        so); a year must be in the passage itself when the question asks for a date or a figure
        (a 2022 figure does not answer "2021 GDP"), in its page otherwise."""
        context = f"{chunk.title}\n{chunk.section}\n{chunk.text}"
        if term_occurs(term, context, self.gazetteer):
            return True
        if term.kind == "year" and strict_years:
            return False
        if self._page_names(term, chunk.doc_id) or self._names_official_text(term, chunk.doc_id):
            return True
        # Every word of a name, in any order ("Labeling Measures" in "Measures for Labeling …"); not
        # for names with figures, where "Grok 5" must not match "Grok" and "2025-05".
        if any(ch.isdigit() for ch in term.text):
            return False
        context_terms = set(tokenize(context))
        return any(words <= context_terms for words in _word_sets(term))


def _word_sets(term: FocusTerm) -> list[frozenset[str]]:
    """The index terms of each form of a focus term (forms with no index term left out)."""
    return [words for words in (frozenset(tokenize(form)) for form in term.equivalents | {term.text}) if words]


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
        min_support: float | dict[str, float] = 0.25,
        max_passages: int = 6,
    ) -> None:
        self.index = index
        self.retriever = retriever
        self.max_sentences = max_sentences
        # One threshold, or one per question language ("en", "zh").
        self.min_support = min_support if isinstance(min_support, dict) else {"en": min_support, "zh": min_support}
        self.max_passages = max_passages
        self.vocabulary = CorpusVocabulary(index)

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
        asked = answer_type(question)
        precision = asked_date_precision(question)
        focus = focus_terms(question, self.vocabulary.gazetteer)
        candidates = candidates_from(results, self.max_passages)
        similarities = self._similarities(question, [c.text for c in candidates])
        ranked = rank_candidates(question, candidates, self.index.idf, similarities)
        support = ranked[0].score if ranked else 0.0

        strict_years = asked in TYPED_ANSWERS

        def names(item: RankedCandidate, term: FocusTerm) -> bool:
            return self.vocabulary.in_evidence(term, item.candidate.scored.chunk, strict_years)

        # What the question asks for comes first: among units that score near the best, those
        # that name the question's subjects and state the asked kind of answer lead.
        ranked = named_article_first(prefer_answers(ranked, focus, names, asked, precision, self.index.superseded))
        page_key = lambda doc_id: self.index.documents[doc_id].page_key  # noqa: E731
        max_units = LIST_MAX_UNITS if asked == "list" else self.max_sentences
        chosen = select_units(ranked, page_key, max_units)
        sub_asks = asks(question)
        chosen = complete_asks(chosen, ranked, sub_asks, precision, page_key)
        if asked == "list" and chosen:
            chosen = table_rows_for_list(chosen, self.index.chunks.values(), question, self.index.idf, LIST_MAX_UNITS)
        checks = [
            answerability.FocusCheck(
                term.text, term.kind, self.vocabulary.mentions(term), any(names(item, term) for item in chosen)
            )
            for term in focus
        ]
        type_found = any(evidence_states(item, asked, precision) for item in chosen)
        open_types: list[str] = []
        if len(sub_asks) > 1:
            # Each ask is judged by its own kind of answer: a two-part question whose date part the
            # evidence answers, but not its figure, is answered with the figure named as open.
            states = {
                ask.answer_type: any(evidence_states(i, ask.answer_type, precision) for i in chosen) for ask in sub_asks
            }
            type_found = any(states.values())
            open_types = [kind for kind, found in states.items() if not found and kind in TYPED_ANSWERS]
        found_terms = {term.start for term, check in zip(focus, checks, strict=True) if check.in_evidence}
        answered_asks = 0
        if len(sub_asks) > 1:
            for ask in sub_asks:
                own = [term.start for term in focus if ask.start <= term.start < ask.end]
                answered_asks += bool(own) and all(start in found_terms for start in own)
        decision = answerability.decide(
            support, lang, self.min_support, checks, asked, type_found, answered_asks, open_types
        )
        if decision.abstain or not chosen:
            nearest = [self._citation(i + 1, r.candidate) for i, r in enumerate(ranked[:3])]
            return AskResult(
                question,
                answerability.explain(decision, lang),
                True,
                [],
                describe(results),
                {},
                nearest,
                support,
                coverage=decision.coverage if decision.abstain else "not_covered",
                missing=decision.missing,
            )
        citations = [self._citation(i + 1, r.candidate) for i, r in enumerate(chosen)]
        separator = "" if lang == "zh" else " "
        if asked == "list" and len(citations) > 2:
            answer = "\n".join(f"- {c.quote} [{c.n}]" for c in citations)
        else:
            answer = separator.join(f"{c.quote} [{c.n}]" for c in citations)
        sentences = [{"text": c.quote, "citations": [c.n], "supported": True} for c in citations]
        return AskResult(
            question,
            answer,
            False,
            citations,
            describe(results),
            {},
            [],
            support,
            sentences=sentences,
            coverage="answered",
            missing=decision.missing,
            notice=answerability.unanswered_part(decision, lang),
        )

    def _citation(self, n: int, candidate: Any) -> Citation:
        chunk = candidate.scored.chunk
        return cite(n, chunk, candidate.start, candidate.end, self.index.documents[chunk.doc_id].text)
