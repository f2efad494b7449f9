"""Pure scoring functions: fusion and eval metrics, with exact values."""

from __future__ import annotations

import math

import pytest

from govqa.evals.metrics import (
    aggregate,
    citation_scores,
    fact_recall,
    hit_at,
    mrr_at,
    ndcg_at,
    percentile,
    question_metrics,
    ranked_pages,
    recall_at,
    supports,
)
from govqa.index.fusion import fuse_rankings


def test_reciprocal_rank_fusion_exact() -> None:
    fused = fuse_rankings({"bm25": ["a", "b"], "dense": ["b", "c"]}, k=60)
    assert [i for i, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1][1] == pytest.approx(1 / 61)
    weighted = fuse_rankings({"bm25": ["a"], "dense": ["c"]}, k=1, weights={"dense": 0.5})
    assert weighted == [("a", 0.5), ("c", 0.25)]


def test_page_metrics_exact() -> None:
    pages = ranked_pages([{"page_url": "x#s"}, {"page_url": "x"}, {"page_url": "y"}, {"page_url": "z"}])
    assert pages == ["x", "y", "z"]
    expected = {"y", "q"}
    assert hit_at(pages, expected, 1) == 0.0 and hit_at(pages, expected, 5) == 1.0
    assert mrr_at(pages, expected, 10) == 0.5
    assert ndcg_at(pages, expected, 10) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert recall_at(pages, expected, 10) == 0.5


def test_fact_recall_and_support() -> None:
    assert fact_recall(
        "DeepSeek has NOT SIGNED it; 2023-08-15", [["not signed", "未签署"], ["2023-08-15"], ["x"]]
    ) == pytest.approx(2 / 3)
    assert supports("Fines reach 3% of turnover [1]", "Fines reach 3% of global annual turnover.")
    assert not supports("Fines reach 5% of turnover [1]", "Fines reach 3% of global annual turnover.")
    assert not supports("The moon is made of cheese [1]", "Fines reach 3% of global annual turnover.")


def test_citation_scores_and_question_metrics() -> None:
    citations = [
        {"n": 1, "page_url": "p1", "quote": "Fines reach 3%."},
        {"n": 2, "page_url": "p2", "quote": "not on the page"},
    ]
    sentences = [
        {"text": "Fines reach 3%.", "citations": [1]},
        {"text": "Unrelated claim about 9 moons.", "citations": [2]},
    ]
    scores = citation_scores(citations, sentences, {"p1": "x Fines reach 3%. y", "p2": "other"}, {"p1"})
    assert scores == {"citation_validity": 0.5, "citation_relevance": 0.5, "citation_support": 0.5}
    question = {"answerable": False, "expected_urls": [], "expected_facts": []}
    metrics = question_metrics(question, {"abstained": True, "timings_ms": {"total_ms": 12}}, {})
    assert metrics["refusal_recall"] == 1.0 and metrics["latency_ms"] == 12.0 and "hit@5" not in metrics


def test_aggregate_skips_missing_values_and_percentiles() -> None:
    rows = [{"metrics": {"hit@5": 1.0, "latency_ms": 10.0}}, {"metrics": {"hit@5": None, "latency_ms": 30.0}}]
    summary = aggregate(rows)
    assert summary["hit@5"] == 1.0 and summary["fact_recall"] is None and summary["questions"] == 2
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile([1, 2, 3, 4], 95) == 4 and percentile([], 50) == 0.0
