"""Warm `ask` latency (p50/p95 over 50 questions), `govqa serve` readiness, naive baseline; prints figures.

Usage: python bench/ask_bench.py   (builds the default index first if there is none)
"""

from __future__ import annotations

import resource
import time

from serving import running_server

from govqa.app.pipeline import build_pipeline, index_exists, run_ingest
from govqa.evals.metrics import percentile
from govqa.evals.questions import load_questions
from govqa.settings import load_settings

QUESTIONS = 50


def timed_asks(ask, questions: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    ask(questions[0])  # warm
    times = []
    for question in questions:
        started = time.perf_counter()
        ask(question)
        times.append((time.perf_counter() - started) * 1000)
    return times


def serve_ready_seconds() -> float:
    with running_server() as (_, seconds):
        return seconds


def main() -> None:
    settings = load_settings()
    if not index_exists(settings):
        run_ingest(settings)
    questions = [q["question"] for q in load_questions()][:QUESTIONS]
    started = time.perf_counter()
    pipeline = build_pipeline(settings)
    print(f"pipeline open (warm models): {time.perf_counter() - started:.2f} s")
    times = timed_asks(pipeline.ask, questions)
    print(
        f"govqa ask ({settings.embedder}, legs {settings.retrieval.legs}): p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms over {len(times)} questions"
    )
    print(f"govqa serve ready: {serve_ready_seconds():.1f} s")
    from govqa.evals.naive import NaivePipeline

    naive = NaivePipeline.build(settings)
    naive_times = timed_asks(naive.ask, questions)
    print(
        f"naive LlamaIndex ask (MiniLM top-2, in memory): p50 {percentile(naive_times, 50):.0f} ms, p95 {percentile(naive_times, 95):.0f} ms"
    )
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
