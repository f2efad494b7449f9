"""Extractive answers: pick the sentences (or table rows) that best answer a question.

Scoring is a pure function of the question's terms, each candidate's terms, the
terms' inverse document frequencies, optional embedding similarities and the
retrieval rank, so it can be tested with exact values.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass

from govqa.index.analysis import FocusTerm, SubQuestion, evidence_has_type
from govqa.index.keyword import tokenize
from govqa.index.retriever import ScoredChunk
from govqa.ingest.chunking import Chunk
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


# How much naming the question's subjects, and stating the asked kind of answer, lift a unit.
# Each is worth about a third of the lexical/semantic score scale, so a unit that does both
# overtakes a slightly closer paraphrase that does neither, but not a far better match.
FOCUS_BONUS = 0.15
TYPE_BONUS = 0.15
TYPED_ANSWERS = frozenset({"date", "number", "percentage", "money", "yes_no"})
FIGURES = frozenset({"number", "percentage", "money"})
SUPERSEDED_PENALTY = 0.05


def evidence_states(item: RankedCandidate, asked: str, precision: str = "month") -> bool:
    """Whether a unit states the asked kind of answer (always true for untyped answers)."""
    if asked not in TYPED_ANSWERS:
        return True
    # A figure answers a figure: "how high is the fine" is answered by "3% of turnover" as well
    # as by "EUR 35 million", so money and percentages are checked as numbers (which include both).
    checked = "number" if asked in FIGURES else asked
    return evidence_has_type(item.candidate.text, checked, precision)


def prefer_answers(
    ranked: Sequence[RankedCandidate],
    focus: Sequence[FocusTerm],
    names: Callable[[RankedCandidate, FocusTerm], bool],
    asked: str,
    precision: str = "month",
    superseded: Container[str] = (),
) -> list[RankedCandidate]:
    """Re-rank units by what the question asks for: the share of its focus terms a unit names
    (in its text, page title or section) and whether it states the asked kind of answer. A unit
    of a page that has a newer edition loses a little, so where two editions of a row disagree
    the newer one is quoted."""
    rescored = []
    for item in ranked:
        named = sum(1 for term in focus if names(item, term)) / len(focus) if focus else 0.0
        typed = 1.0 if asked in TYPED_ANSWERS and evidence_states(item, asked, precision) else 0.0
        older = SUPERSEDED_PENALTY if item.candidate.scored.chunk.doc_id in superseded else 0.0
        bonus = FOCUS_BONUS * named + TYPE_BONUS * typed - older
        rescored.append(RankedCandidate(item.candidate, item.score + bonus, item.lexical, item.semantic))
    rescored.sort(key=lambda r: (-r.score, r.candidate.rank, r.candidate.start))
    return rescored


def named_article_first(ranked: Sequence[RankedCandidate]) -> list[RankedCandidate]:
    """Units of the article the question names lead, in their own order, then the rest.

    The retriever's exact article lookup (leg "article") runs only when a question asks what a
    named article of an official text says or requires: the law's own words answer it, and the
    site's commentary follows. Lexical overlap cannot decide this when the question and the law
    are in different languages ("What does Article 7 … require?" over 第七条)."""
    own = [r for r in ranked if "article" in r.candidate.scored.legs]
    return own + [r for r in ranked if "article" not in r.candidate.scored.legs]


def complete_asks(
    chosen: Sequence[RankedCandidate],
    ranked: Sequence[RankedCandidate],
    sub_asks: Sequence[SubQuestion],
    precision: str,
    page_key_of: Callable[[str], str],
) -> list[RankedCandidate]:
    """A question with several asks ("When … and which …?") gets a unit for each typed ask that
    the chosen units leave unanswered, when the evidence has one."""
    result = list(chosen)
    if len(sub_asks) < 2:
        return result
    for ask in sub_asks:
        if ask.answer_type not in TYPED_ANSWERS or any(evidence_states(r, ask.answer_type, precision) for r in result):
            continue
        extra = next(
            (r for r in ranked if r not in result and evidence_states(r, ask.answer_type, precision)),
            None,
        )
        if extra is not None:
            result.append(extra)
    return result


def table_rows_for_list(
    chosen: Sequence[RankedCandidate],
    chunks: Iterable[Chunk],
    question: str,
    idf: Mapping[str, float],
    cap: int = 12,
) -> list[RankedCandidate]:
    """A list question answered by a table row gets the table's other rows that share the
    question's terms (the whole table when it is small), in the table's order, up to ``cap``."""
    top = chosen[0]
    chunk = top.candidate.scored.chunk
    if chunk.kind != "table_row":
        return list(chosen)
    rows = sorted(
        (c for c in chunks if c.doc_id == chunk.doc_id and c.section == chunk.section and c.kind == "table_row"),
        key=lambda c: c.start,
    )
    # Rows of one table are contiguous; another table in the same section is cut off at a gap.
    table = [r for r in rows if abs(r.start - chunk.start) < 4000]
    question_terms = tokenize(question)
    if len(table) > cap:
        coverage = {r.id: term_coverage(question_terms, tokenize(r.text), idf) for r in table}
        table = sorted(sorted(table, key=lambda r: -coverage[r.id])[:cap], key=lambda r: r.start)
    picked = [
        RankedCandidate(
            Candidate(ScoredChunk(row, top.candidate.scored.score), top.candidate.rank, row.start, row.end, row.text),
            top.score,
            top.lexical,
            top.semantic,
        )
        for row in table
    ]
    seen = {r.candidate.scored.chunk.id for r in picked}
    rest = [r for r in chosen if r.candidate.scored.chunk.id not in seen]
    return (picked + rest)[:cap] if len(picked) > 1 else list(chosen)
