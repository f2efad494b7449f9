"""Sweep retrieval constants on the TUNING half of the question set; print both halves.

Choose by the tuning columns only; the held-out columns are printed so the README can
report how the choice holds on questions it was not made on. Retrieval metrics only
(no answer composition), so a sweep over the full corpus takes seconds per setting.

    .venv/bin/python bench/tune_retrieval.py
"""

from __future__ import annotations

import itertools
import sys

from govqa.app.pipeline import build_pipeline, index_exists, run_ingest
from govqa.evals.metrics import hit_at, mrr_at, ranked_pages
from govqa.evals.questions import load_questions
from govqa.evals.split import HELDOUT, TUNING, split_of
from govqa.index import retriever as retriever_module
from govqa.index.retriever import describe
from govqa.settings import load_settings


def score(pipeline, questions) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rows = []
    for q in questions:
        pages = ranked_pages(describe(pipeline.retriever.search(q["question"])))
        expected = set(q["expected_urls"])
        rows.append((hit_at(pages, expected, 1), hit_at(pages, expected, 5), mrr_at(pages, expected, 10)))
    n = len(rows) or 1
    return {key: sum(r[i] for r in rows) / n for i, key in enumerate(("hit@1", "hit@5", "mrr@10"))}


def main() -> None:
    settings = load_settings()
    if not index_exists(settings):
        run_ingest(settings)
    pipeline = build_pipeline(settings)
    answerable = [q for q in load_questions() if q["answerable"]]
    halves = {s: [q for q in answerable if split_of(q["id"]) == s] for s in (TUNING, HELDOUT)}
    print(f"answerable questions: tuning {len(halves[TUNING])}, held-out {len(halves[HELDOUT])}", file=sys.stderr)
    grid = {
        "rrf_k": [10, 30],
        "dense_weight": [0.5, 0.75, 1.0],
        "title_weight": [0.0],
        "same_language_boost": [1.0],
    }
    print("rrf_k dense_w title_w lang_boost | tuning hit@1 hit@5 mrr | held-out hit@1 hit@5 mrr")
    for rrf_k, dense_weight, title_weight, boost in itertools.product(*grid.values()):
        pipeline.retriever.rrf_k = rrf_k
        pipeline.retriever.weights["dense"] = dense_weight
        pipeline.retriever.weights["title"] = title_weight
        retriever_module.SAME_LANGUAGE_BOOST = boost
        t, h = score(pipeline, halves[TUNING]), score(pipeline, halves[HELDOUT])
        print(
            f"{rrf_k:5d} {dense_weight:7.2f} {title_weight:7.2f} {boost:10.2f}"
            f" | {t['hit@1']:.3f} {t['hit@5']:.3f} {t['mrr@10']:.3f}"
            f" | {h['hit@1']:.3f} {h['hit@5']:.3f} {h['mrr@10']:.3f}"
        )


if __name__ == "__main__":
    main()
