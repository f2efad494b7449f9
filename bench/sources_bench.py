"""Scale check of the second source: ingest time and chunk count per source, and warm `ask`
p50/p95 on the site-only index against the site + official texts index; prints figures.

Usage: python bench/sources_bench.py [--data DIR] [--questions 60]
The site is ingested alone into DIR/site-only, then the official texts are added to a copy by an
incremental ingest (DIR/both), so the second ingest's time is the official texts' own. The same
questions (site questions, then official-text questions, interleaved) are asked of both indexes.
Without --data a temporary folder is used and removed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from govqa.app.pipeline import build_pipeline, run_ingest
from govqa.evals.metrics import percentile
from govqa.evals.questions import QUESTIONS_DIR, load_questions
from govqa.settings import load_settings


def timed_asks(pipeline: Any, questions: list[str]) -> list[float]:
    pipeline.ask(questions[0])  # warm
    times = []
    for question in questions:
        started = time.perf_counter()
        pipeline.ask(question)
        times.append((time.perf_counter() - started) * 1000)
    return times


def chunks_per_source(pipeline: Any) -> Counter[str]:
    documents = pipeline.index.documents
    return Counter(documents[c.doc_id].source_id for c in pipeline.index.chunks.values())


def top5_shares(pipeline: Any, questions: list[str]) -> tuple[int, int, int]:
    """(recital slots, official-text slots, all slots) in the top 5 passages retrieved for the questions."""
    recitals = official = slots = 0
    for question in questions:
        for result in pipeline.retriever.search(question, top_k=5):
            slots += 1
            official += result.chunk.doc_id in pipeline.index.official_ids
            recitals += result.article.startswith("Recital")
    return recitals, official, slots


def bench(data: Path, count: int) -> None:
    site_dir, both_dir = data / "site-only", data / "both"
    site_settings = load_settings(data_dir=site_dir, source_ids=["comparativeai"])
    started = time.perf_counter()
    site_report = run_ingest(site_settings)
    site_seconds = time.perf_counter() - started
    print(
        f"ingest comparativeai alone: {site_seconds:.1f} s, {site_report.documents} documents, {site_report.chunks} chunks"
    )
    if both_dir.exists():
        shutil.rmtree(both_dir)
    shutil.copytree(site_dir, both_dir)
    both_settings = load_settings(data_dir=both_dir)
    started = time.perf_counter()
    both_report = run_ingest(both_settings)
    added_seconds = time.perf_counter() - started
    print(
        f"add primary (incremental): {added_seconds:.1f} s, {both_report.changed_documents} documents, "
        f"{both_report.embedded_chunks} chunks embedded; total {both_report.documents} documents, {both_report.chunks} chunks"
    )
    site_questions = [q["question"] for q in load_questions() if not q["id"].startswith("PR-")]
    primary_questions = [q["question"] for q in load_questions(QUESTIONS_DIR / "primary.jsonl")]
    mixed = [q for pair in zip(site_questions, primary_questions, strict=False) for q in pair][:count]
    for name, settings in (("site only", site_settings), ("site + primary", both_settings)):
        pipeline = build_pipeline(settings)
        per_source = ", ".join(f"{source} {n}" for source, n in sorted(chunks_per_source(pipeline).items()))
        times = timed_asks(pipeline, mixed)
        print(
            f"ask on {name} ({per_source} chunks): p50 {percentile(times, 50):.0f} ms, "
            f"p95 {percentile(times, 95):.0f} ms over {len(times)} questions"
        )
        if name == "site + primary":
            recitals, official, slots = top5_shares(pipeline, site_questions)
            print(
                f"top-5 slots on the {len(site_questions)} site questions: {official / slots:.1%} official-text passages, "
                f"{recitals / slots:.1%} AI Act recitals"
            )
            report = pipeline.answerer.linker.report()
            print(
                f"site references: {report['site_references']}, resolved to an official text: {report['resolved']} "
                f"on {report['pages_linked']} pages"
            )
            for title, resolved in report["per_text"].items():
                print(f"  {title}: {resolved}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, help="keep the two indexes in this folder (default: a temporary one)")
    parser.add_argument("--questions", type=int, default=60, help="questions asked of each index (default: 60)")
    args = parser.parse_args()
    if args.data:
        bench(args.data, args.questions)
        return
    with tempfile.TemporaryDirectory() as tmp:
        bench(Path(tmp), args.questions)


if __name__ == "__main__":
    main()
