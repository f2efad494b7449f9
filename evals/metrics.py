"""Evaluation metrics (pure functions of the question, the answer object and page texts).

Keys follow beir's style: ``hit@1``, ``hit@5``, ``mrr@10``, ``ndcg@10``, ``recall@10``.
Retrieval is judged at page level: a page counts when its URL (without anchor) is
one of the question's expected URLs, any of which is a correct source.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# A sentence counts as supported by its cited passages when at least this share of
# its content words occur in them and every number in it occurs there too. Deliberately
# not app/verify.check_support: the eval audits the product's verifier with an independent,
# simpler criterion (character-level CJK words, no stemming, no embeddings).
SUPPORT_MIN_OVERLAP = 0.6
_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were with".split()
)


def ranked_pages(retrieved: Sequence[Mapping[str, Any]]) -> list[str]:
    """Distinct page URLs in retrieval order."""
    seen: list[str] = []
    for item in retrieved:
        url = str(item["page_url"]).split("#")[0]
        if url not in seen:
            seen.append(url)
    return seen


def hit_at(pages: Sequence[str], expected: set[str], k: int) -> float:
    return 1.0 if any(p in expected for p in pages[:k]) else 0.0


def mrr_at(pages: Sequence[str], expected: set[str], k: int) -> float:
    for rank, page in enumerate(pages[:k], start=1):
        if page in expected:
            return 1.0 / rank
    return 0.0


def ndcg_at(pages: Sequence[str], expected: set[str], k: int) -> float:
    """Binary-relevance nDCG: every expected page is relevant."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, page in enumerate(pages[:k], start=1) if page in expected)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(expected), k) + 1))
    return dcg / ideal if ideal else 0.0


def recall_at(pages: Sequence[str], expected: set[str], k: int) -> float:
    return len(expected & set(pages[:k])) / len(expected) if expected else 0.0


def fact_recall(answer: str, facts: Sequence[Sequence[str]]) -> float:
    """Share of expected facts with at least one alias in the answer (case-insensitive)."""
    if not facts:
        return 0.0
    lowered = answer.lower()
    return sum(1 for aliases in facts if any(a.lower() in lowered for a in aliases)) / len(facts)


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def supports(sentence: str, passage: str) -> bool:
    """The documented lexical support criterion (see module constants)."""
    clean = re.sub(r"\[\d+\]", "", sentence)
    words = content_words(clean)
    if not words:
        return True
    numbers = set(_NUMBER.findall(clean))
    passage_numbers = set(_NUMBER.findall(passage))
    if not numbers <= passage_numbers:
        return False
    return len(words & content_words(passage)) / len(words) >= SUPPORT_MIN_OVERLAP


def _joins_word(left: str, right: str) -> bool:
    """True when a boundary between these two characters would cut a word (or a run of CJK)."""
    return left.isalnum() and right.isalnum()


def valid_citation(citation: Mapping[str, Any], page_text: str) -> bool:
    """The quote stands verbatim in the cited page at the cited offsets, and starts and ends
    on a word boundary: a quote or offsets shifted by even one character fail."""
    quote = str(citation.get("quote") or "")
    start, end = citation.get("start"), citation.get("end")
    if not quote or not isinstance(start, int) or not isinstance(end, int):
        return bool(quote) and quote in page_text  # a citation without offsets: verbatim somewhere
    if page_text[start:end] != quote:
        return False
    cut_before = start > 0 and _joins_word(page_text[start - 1], quote[0])
    cut_after = end < len(page_text) and _joins_word(quote[-1], page_text[end])
    return not (cut_before or cut_after)


def citation_scores(
    citations: Sequence[Mapping[str, Any]],
    sentences: Sequence[Mapping[str, Any]],
    page_texts: Mapping[str, str],
    expected: set[str],
) -> dict[str, float | None]:
    """Validity (quote verbatim in the cited page at its offsets, on word boundaries), relevance
    (cited page expected), support."""
    if not citations:
        return {"citation_validity": None, "citation_relevance": None, "citation_support": None}
    valid = sum(1 for c in citations if valid_citation(c, page_texts.get(c["page_url"], "")))
    relevant = sum(1 for c in citations if c["page_url"] in expected) if expected else 0
    by_n = {int(c["n"]): c for c in citations}
    judged = [s for s in sentences if s.get("citations")]
    supported = sum(
        1 for s in judged if supports(s["text"], " ".join(by_n[n]["quote"] for n in s["citations"] if n in by_n))
    )
    return {
        "citation_validity": valid / len(citations),
        "citation_relevance": relevant / len(citations) if expected else None,
        "citation_support": supported / len(judged) if judged else None,
    }


def article_matches(found: str, expected: str) -> bool:
    """A retrieved unit answers an expected one when it is that unit or one of its paragraphs
    ("Article 113(1)" for "Article 113"; "第七条" only for "第七条")."""
    return found == expected or found.startswith(expected + "(") or found.startswith(expected + ", point")


def article_hit_at_1(retrieved: Sequence[Mapping[str, Any]], expected_articles: Sequence[str]) -> float:
    """1.0 when the first retrieved passage is from one of the expected articles (its ``article`` label)."""
    if not retrieved:
        return 0.0
    found = str(retrieved[0].get("article", ""))
    return 1.0 if found and any(article_matches(found, e) for e in expected_articles) else 0.0


def question_metrics(
    question: Mapping[str, Any], result: Mapping[str, Any], page_texts: Mapping[str, str]
) -> dict[str, float | None]:
    """All per-question metrics; None where a metric does not apply to the question."""
    expected = set(question.get("expected_urls", []))
    abstained = bool(result.get("abstained"))
    metrics: dict[str, float | None] = {"latency_ms": float(result.get("timings_ms", {}).get("total_ms", 0.0))}
    if question["answerable"]:
        pages = ranked_pages(result.get("retrieved", []))
        metrics.update(
            {
                "hit@1": hit_at(pages, expected, 1),
                "hit@5": hit_at(pages, expected, 5),
                "mrr@10": mrr_at(pages, expected, 10),
                "ndcg@10": ndcg_at(pages, expected, 10),
                "recall@10": recall_at(pages, expected, 10),
                "fact_recall": 0.0
                if abstained
                else fact_recall(result.get("answer", ""), question.get("expected_facts", [])),
                "false_refusal": 1.0 if abstained else 0.0,
                "refusal_recall": None,
            }
        )
        if question.get("expected_articles"):
            metrics["article_hit@1"] = article_hit_at_1(result.get("retrieved", []), question["expected_articles"])
    else:
        metrics["refusal_recall"] = 1.0 if abstained else 0.0
    metrics.update(
        citation_scores(result.get("citations", []), result.get("sentences", []), page_texts, expected)
        if not abstained
        else {"citation_validity": None, "citation_relevance": None, "citation_support": None}
    )
    return metrics


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


METRIC_KEYS = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "ndcg@10",
    "recall@10",
    "fact_recall",
    "refusal_recall",
    "false_refusal",
    "citation_validity",
    "citation_relevance",
    "citation_support",
    "article_hit@1",  # only questions with expected_articles (evals/questions/primary.jsonl)
)


def aggregate(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean of every metric, plus latency p50/p95; rows carry ``metrics``."""
    summary: dict[str, Any] = {"questions": len(rows)}
    for key in METRIC_KEYS:
        summary[key] = mean(r["metrics"].get(key) for r in rows)
    latencies = [r["metrics"]["latency_ms"] for r in rows]
    summary["latency_p50_ms"] = percentile(latencies, 50)
    summary["latency_p95_ms"] = percentile(latencies, 95)
    return summary


def aggregate_by(rows: Sequence[Mapping[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[field]), []).append(row)
    return {name: aggregate(group) for name, group in sorted(groups.items())}
