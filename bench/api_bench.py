"""Concurrent clients against one `govqa serve`: the JSON API and the Gradio API in the same run.

Usage: python bench/api_bench.py [--clients 20] [--per-client 10] [--workers N]
Prints answers/s, p50/p95 latency and errors per path. Uses the project's index (builds it if
there is none) and the eval questions, English and Chinese.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from serving import running_server

from govqa.app.pipeline import index_exists, run_ingest
from govqa.evals.metrics import percentile
from govqa.evals.questions import load_questions
from govqa.settings import load_settings


def run_clients(
    make_call: Callable[[], Callable[[str], Any]], questions: list[str], clients: int, per_client: int
) -> str:
    """Each client asks ``per_client`` questions back to back; all start together. Returns a summary line."""
    calls = [make_call() for _ in range(clients)]  # connections and Gradio handshakes before the clock
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        start.wait()
        for i in range(per_client):
            question = questions[(number * per_client + i) % len(questions)]
            began = time.perf_counter()
            try:
                calls[number](question)
            except Exception as error:
                with lock:
                    errors.append(f"{type(error).__name__}: {error}"[:200])
                continue
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    line = (
        f"{len(latencies) / elapsed:.1f} answers/s, p50 {percentile(latencies, 50):.0f} ms, "
        f"p95 {percentile(latencies, 95):.0f} ms, {len(errors)} errors ({clients} clients x {per_client}, {elapsed:.1f} s)"
    )
    if errors:
        line += f"; first error: {errors[0]}"
    return line


def json_api(url: str) -> Callable[[], Callable[[str], Any]]:
    import httpx

    def make() -> Callable[[str], Any]:
        client = httpx.Client(base_url=url, timeout=120)

        def call(question: str) -> Any:
            response = client.post("api/ask", json={"question": question})
            response.raise_for_status()
            return response.json()

        return call

    return make


def gradio_api(url: str) -> Callable[[], Callable[[str], Any]]:
    from gradio_client import Client

    def make() -> Callable[[str], Any]:
        client = Client(url, verbose=False)
        return lambda question: client.predict(question, api_name="/ask")

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default: 20)")
    parser.add_argument("--per-client", type=int, default=10, help="questions each client asks (default: 10)")
    parser.add_argument("--workers", type=int, default=None, help="GOVQA_SERVER_WORKERS (default: core count)")
    args = parser.parse_args()
    settings = load_settings()
    if not index_exists(settings):
        run_ingest(settings)
    if args.workers:
        os.environ["GOVQA_SERVER_WORKERS"] = str(args.workers)
    questions = [q["question"] for q in load_questions()]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with running_server() as (url, ready):
        print(f"govqa serve ready in {ready:.1f} s ({settings.embedder}, workers {args.workers or os.cpu_count()})")
        json_api(url)()(questions[0])  # warm both paths once
        gradio_api(url)()(questions[0])
        print(f"sequential JSON API:  {run_clients(json_api(url), questions, 1, 50)}")
        print(f"JSON API /api/ask:    {run_clients(json_api(url), questions, args.clients, args.per_client)}")
        print(f"Gradio API /ask:      {run_clients(gradio_api(url), questions, args.clients, args.per_client)}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
