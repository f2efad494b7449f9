"""Calibrate the LLM-answer support check (app/verify.py) on the eval set; prints figures.

Pairs (claim, passage) are built from the question set and the default pipeline:
- positive: a sentence stating an expected fact, taken from an expected page, paired with the
  retrieved passage of *another* expected page (twin or other edition) that states the same fact
  (same-language pairs are paraphrase-free, cross-language pairs test the similarity rule);
- negative: the same sentence paired with a retrieved passage from a page that is not expected
  (same topic, wrong source: the citation mistake users complain about).
Prints accuracy of check_support as shipped, and the overlap/similarity distributions.
"""

from __future__ import annotations

import statistics

import numpy as np

from govqa.app.pipeline import build_pipeline
from govqa.app.verify import check_support, content_overlap
from govqa.corpus.documents import guess_language
from govqa.evals.questions import load_questions
from govqa.ingest.sentences import split_sentences
from govqa.settings import load_settings


def sweep(rows: list[tuple[bool, bool, bool, float, float]]) -> None:
    """Acceptance of supported vs wrong-source pairs for candidate thresholds (numbers/names rule aside)."""
    same = [r for r in rows if not r[2]]
    cross = [r for r in rows if r[2]]
    for threshold in (0.3, 0.4, 0.5, 0.6):
        pos = [r for r in same if r[0]]
        neg = [r for r in same if not r[0]]
        print(
            f"  same language, overlap ≥ {threshold}: accepts {sum(r[3] >= threshold for r in pos) / len(pos):.1%} "
            f"of supported, {sum(r[3] >= threshold for r in neg) / len(neg):.1%} of wrong-source"
        )
    for threshold in (0.35, 0.4, 0.45, 0.5, 0.6, 0.7):
        pos = [r for r in cross if r[0]]
        neg = [r for r in cross if not r[0]]
        print(
            f"  cross language, similarity ≥ {threshold}: accepts {sum(r[4] >= threshold for r in pos) / len(pos):.1%} "
            f"of supported, {sum(r[4] >= threshold for r in neg) / len(neg):.1%} of wrong-source"
        )


def main() -> None:
    pipeline = build_pipeline(load_settings())
    embedder = pipeline.index.embedder
    pairs: list[tuple[str, str, bool]] = []
    for question in load_questions():
        if not question["answerable"]:
            continue
        expected = set(question["expected_urls"])
        aliases = [a.lower() for fact in question["expected_facts"] for a in fact]
        results = pipeline.retriever.search(question["question"], top_k=10)
        claims = []
        for result in results:
            if result.chunk.page_url in expected:
                claims += [
                    (s, result.chunk.page_url)
                    for s in split_sentences(result.chunk.text)
                    if any(a in s.lower() for a in aliases)
                ]
        for claim, page in claims[:2]:
            for result in results:
                if result.chunk.page_url == page:
                    continue
                states_fact = any(a in result.chunk.text.lower() for a in aliases)
                if result.chunk.page_url in expected and states_fact:
                    pairs.append((claim, result.chunk.text, True))
                elif result.chunk.page_url not in expected:
                    pairs.append((claim, result.chunk.text, False))
    vectors = {}
    texts = sorted({t for c, p, _ in pairs for t in (c, p)})
    for start in range(0, len(texts), 64):
        batch = texts[start : start + 64]
        for text, vector in zip(batch, embedder.get_text_embedding_batch(batch), strict=True):
            vectors[text] = np.asarray(vector)
    rows = []
    for claim, passage, label in pairs:
        similarity = float(vectors[claim] @ vectors[passage])
        verdict = check_support(claim, passage, similarity).supported
        cross = guess_language(claim) != guess_language(passage)
        rows.append((label, verdict, cross, content_overlap(claim, passage), similarity))
    for name, subset in (
        ("same language", [r for r in rows if not r[2]]),
        ("cross language", [r for r in rows if r[2]]),
    ):
        positives = [r for r in subset if r[0]]
        negatives = [r for r in subset if not r[0]]
        if not positives or not negatives:
            continue
        recall = sum(r[1] for r in positives) / len(positives)
        false_accept = sum(r[1] for r in negatives) / len(negatives)
        print(
            f"{name}: {len(positives)} supported pairs, {len(negatives)} wrong-source pairs; "
            f"check accepts {recall:.1%} of supported, {false_accept:.1%} of wrong-source"
        )
        for label, group in (("supported", positives), ("wrong-source", negatives)):
            print(
                f"  {label}: overlap median {statistics.median(r[3] for r in group):.2f}, "
                f"similarity median {statistics.median(r[4] for r in group):.2f}"
            )
    sweep(rows)


if __name__ == "__main__":
    main()
