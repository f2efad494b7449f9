"""Extractive answers: pick the sentences (or table rows) that best answer a question.

Scoring is a pure function of the question's terms, each candidate's terms, the
terms' inverse document frequencies, optional embedding similarities and the
retrieval rank, so it can be tested with exact values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from govqa.index.keyword import tokenize
from govqa.index.retriever import ScoredChunk
from govqa.ingest.sentences import sentence_spans

MIN_UNIT_CHARS = {"en": 12, "zh": 6}
RANK_PRIOR = 0.05  # how much a passage's retrieval rank adds to its sentences' scores (tuned on the eval set)


@dataclass(frozen=True)
class Candidate:
    """One quotable unit: a sentence of a passage, or a whole table row."""

    scored: ScoredChunk
    rank: int  # retrieval rank of its passage, from 0
    start: int  # offsets in the document's cleaned text
    end: int
    text: str


@dataclass(frozen=True)
class RankedCandidate:
    candidate: Candidate
    score: float
    lexical: float
    semantic: float


def candidates_from(results: Sequence[ScoredChunk], max_passages: int = 6) -> list[Candidate]:
    """Split the top passages into quotable units with absolute offsets."""
    units = []
    for rank, scored in enumerate(results[:max_passages]):
        chunk = scored.chunk
        spans = [(0, len(chunk.text))] if chunk.kind == "table_row" else sentence_spans(chunk.text)
        for start, end in spans:
            text = chunk.text[start:end]
            if len(text) < MIN_UNIT_CHARS.get(chunk.lang, 8) and chunk.kind != "table_row":
                continue
            units.append(Candidate(scored, rank, chunk.start + start, chunk.start + end, text))
    return units


def term_coverage(question_terms: Sequence[str], unit_terms: Sequence[str], idf: Mapping[str, float]) -> float:
    """IDF-weighted share of the question's distinct terms that occur in the unit (0..1)."""
    wanted = set(question_terms)
    if not wanted:
        return 0.0
    have = set(unit_terms)
    total = sum(idf.get(t, 1.0) for t in wanted)
    return sum(idf.get(t, 1.0) for t in wanted & have) / total if total else 0.0


def rank_candidates(
    question: str,
    candidates: Sequence[Candidate],
    idf: Mapping[str, float],
    similarities: Sequence[float] | None = None,
    semantic_weight: float = 0.5,
) -> list[RankedCandidate]:
    """Score every unit: lexical coverage and embedding similarity, plus a retrieval-rank prior."""
    question_terms = tokenize(question)
    context_terms: dict[str, list[str]] = {}
    ranked = []
    for index, candidate in enumerate(candidates):
        chunk = candidate.scored.chunk
        # A sentence is read in its page and section: "Headquarters: Springfield" on the
        # Acme page answers "Where is Acme headquartered?".
        if chunk.id not in context_terms:
            context_terms[chunk.id] = tokenize(f"{chunk.title} {chunk.section}")
        lexical = term_coverage(question_terms, tokenize(candidate.text) + context_terms[chunk.id], idf)
        semantic = max(0.0, similarities[index]) if similarities is not None else 0.0
        weight = semantic_weight if similarities is not None else 0.0
        score = (1 - weight) * lexical + weight * semantic + RANK_PRIOR / (1 + candidate.rank)
        ranked.append(RankedCandidate(candidate, score, lexical, semantic))
    ranked.sort(key=lambda r: (-r.score, r.candidate.rank, r.candidate.start))
    return ranked


def select_units(
    ranked: Sequence[RankedCandidate],
    page_key_of: Callable[[str], str],
    max_units: int = 3,
    relative_floor: float = 0.75,
) -> list[RankedCandidate]:
    """The best units: within relative_floor of the best, one edition/language per page, no repeats."""
    if not ranked:
        return []
    best = ranked[0].score
    chosen: list[RankedCandidate] = []
    doc_for_page: dict[str, str] = {}
    seen_text: set[str] = set()
    for item in ranked:
        if len(chosen) >= max_units or item.score < best * relative_floor:
            break
        chunk = item.candidate.scored.chunk
        page = page_key_of(chunk.doc_id)
        if doc_for_page.get(page, chunk.doc_id) != chunk.doc_id:
            continue  # a twin or another edition of a page already quoted says the same
        normalized = " ".join(item.candidate.text.lower().split())
        if normalized in seen_text:
            continue
        seen_text.add(normalized)
        doc_for_page[page] = chunk.doc_id
        chosen.append(item)
    return chosen
