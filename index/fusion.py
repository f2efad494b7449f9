"""Rank fusion (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def fuse_rankings(
    rankings: Mapping[str, Sequence[str]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion: score(d) = Σ_leg w_leg / (k + rank_leg(d)), rank from 1.

    Ties keep the order in which items were first seen across the legs, so the
    result is deterministic.
    """
    scores: dict[str, float] = {}
    for leg, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(leg, 1.0)
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])
