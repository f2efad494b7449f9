"""Scale: an N-copy corpus (distinct ids and URLs) ingested and asked, embedded Chroma and Chroma server.

Usage: python bench/scale_bench.py --copies 1 3 10 [--mode persistent http] [--questions 50]

Each copy is the configured corpus under its own source id and base URL (the same files, read in
place), so documents, chunks and URLs are distinct and the index really holds N times the chunks.
Everything is written under <data_dir>/scale/. Per N and mode it prints ingest chunks/s, no-op
re-ingest seconds, ask p50/p95, resident memory of a fresh process that opened the index and asked,
index size on disk, and where an ask's time goes (keyword leg, query embedding, Chroma query,
embedding the candidate sentences, the rest of composing).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from govqa.evals.metrics import percentile
from govqa.settings import PROJECT_ROOT, load_settings


def write_copies(sources_file: Path, target: Path, copies: int) -> None:
    """A source manifest naming each configured source ``copies`` times, with distinct ids and base URLs."""
    import tomllib

    data = tomllib.loads(sources_file.read_text(encoding="utf-8"))
    lines: list[str] = []
    for source in data.get("source", []):
        root = (PROJECT_ROOT / source["path"]).resolve()
        for n in range(1, copies + 1):
            scheme, _, host = source["base_url"].rstrip("/").partition("://")
            name, title = source["id"], source["title"]
            lines += [
                "[[source]]",
                f"id = {json.dumps(f'{name}-copy{n}')}",
                f"title = {json.dumps(f'{title} (copy {n})')}",
                f"base_url = {json.dumps(f'{scheme}://copy{n}.{host}/')}",
                f"path = {json.dumps(str(root))}",
                f"content_dirs = {json.dumps(list(source.get('content_dirs', [])))}",
                "[source.editions]",
                *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in source.get("editions", {}).items()),
                "",
            ]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines), encoding="utf-8")


def size_mib(*paths: Path) -> float:
    total = sum(f.stat().st_size for p in paths if p.exists() for f in p.rglob("*") if f.is_file())
    return total / 2**20


class TimedEmbedder:
    """Forwards to the embedder and adds the time of candidate-sentence batches to ``batch_ms``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.batch_ms = 0.0

    def get_text_embedding_batch(self, texts: list[str], **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.get_text_embedding_batch(texts, **kwargs)
        finally:
            self.batch_ms += (time.perf_counter() - started) * 1000

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def ask_figures(questions: int) -> dict[str, Any]:
    """Open the index the environment names, ask, and measure (run in a fresh process)."""
    from govqa.app.pipeline import build_pipeline
    from govqa.evals.questions import load_questions

    pipeline = build_pipeline(load_settings())
    timed = TimedEmbedder(pipeline.index.embedder)
    pipeline.index.embedder = timed
    asked = [q["question"] for q in load_questions()][:questions]
    pipeline.ask(asked[0])
    parts: dict[str, list[float]] = {
        k: [] for k in ("total", "bm25", "embed_query", "chroma", "embed_candidates", "compose_rest")
    }
    for question in asked:
        timed.batch_ms = 0.0
        started = time.perf_counter()
        result = pipeline.ask(question)
        parts["total"].append((time.perf_counter() - started) * 1000)
        t = result.timings_ms
        parts["bm25"].append(t.get("bm25_ms", 0.0))
        parts["embed_query"].append(t.get("embed_ms", 0.0))
        parts["chroma"].append(t.get("dense_ms", 0.0))
        parts["embed_candidates"].append(timed.batch_ms)
        parts["compose_rest"].append(t.get("compose_ms", 0.0) - timed.batch_ms)
    with open("/proc/self/status", encoding="utf-8") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
    return {
        "chunks": len(pipeline.index.chunks),
        "rss_mib": rss,
        **{f"{k}_p50": percentile(v, 50) for k, v in parts.items()},
        **{f"{k}_p95": percentile(v, 95) for k, v in parts.items()},
    }


def start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).close()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("chroma run did not come up")


def bench(base: Any, copies: int, mode: str, questions: int) -> None:
    """One N and mode; ``base`` are the settings from before any run changed the environment."""
    from govqa.app.pipeline import index_dir_for, run_ingest

    folder = base.data_dir / "scale" / f"{copies}x-{mode}"
    shutil.rmtree(folder, ignore_errors=True)
    write_copies(base.sources_file, folder / "sources.toml", copies)
    env = {"GOVQA_DATA_DIR": str(folder), "GOVQA_SOURCES_FILE": str(folder / "sources.toml"), "GOVQA_CHROMA_MODE": mode}
    server = None
    if mode == "http":
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = start_chroma(folder / "chroma-server", port)
        env.update(GOVQA_CHROMA_PORT=str(port), GOVQA_CHROMA_COLLECTION=f"scale{copies}")
    os.environ.update(env)
    try:
        settings = load_settings()
        started = time.perf_counter()
        report = run_ingest(settings)
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        run_ingest(settings)
        noop_s = time.perf_counter() - started
        child = subprocess.run(
            [sys.executable, __file__, "--ask-only", "--questions", str(questions)],
            capture_output=True,
            text=True,
            check=True,
        )
        asked = json.loads(child.stdout.strip().splitlines()[-1])
        disk = size_mib(index_dir_for(settings), folder / "chroma-server")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"{copies}x {mode}: {report.chunks} chunks, ingest {ingest_s:.0f} s ({report.chunks / ingest_s:.0f} chunks/s), "
        f"no-op re-ingest {noop_s:.2f} s, ask p50 {asked['total_p50']:.0f} ms / p95 {asked['total_p95']:.0f} ms, "
        f"RSS {asked['rss_mib']:.0f} MiB, index {disk:.0f} MiB",
        flush=True,
    )
    print(
        "  ask p50 by part (ms): "
        + ", ".join(
            f"{k} {asked[f'{k}_p50']:.1f}"
            for k in ("bm25", "embed_query", "chroma", "embed_candidates", "compose_rest")
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, nargs="+", default=[1], help="corpus copies to bench (default: 1)")
    parser.add_argument("--mode", nargs="+", choices=["persistent", "http"], default=["persistent", "http"])
    parser.add_argument("--questions", type=int, default=50, help="questions asked per index (default: 50)")
    parser.add_argument("--ask-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ask_only:
        print(json.dumps(ask_figures(args.questions)))
        return
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    base = load_settings()
    for copies in args.copies:
        for mode in args.mode:
            bench(base, copies, mode, args.questions)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
