"""Two `govqa serve` replicas over one Chroma server and one data folder, through a re-ingest.

A round-robin client keeps asking both replicas while the corpus changes and is re-ingested: no
request may fail, both replicas must give identical answers before, and both must move to the new
index and again agree after.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURE_SOURCES
from servers import free_port, server_environment, start_server, stop, wait_for

QUESTION = "What fines does the Widget Safety Act set?"
PAGES = ("src/content/docs/en/rules/eu/widget-act.md", "src/content/docs/zh/rules/eu/widget-act.md")

pytestmark = pytest.mark.slow


def ask(url: str, question: str = QUESTION) -> dict[str, Any]:
    request = urllib.request.Request(
        url + "api/ask", json.dumps({"question": question}).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        result = json.loads(response.read())
    return {k: v for k, v in result.items() if k != "timings_ms"}


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """A Chroma server, a copy of the fixture corpus we may edit, an index, and two replicas."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_SOURCES.parent / "corpus", corpus)
    sources = tmp_path / "sources.toml"
    sources.write_text(
        FIXTURE_SOURCES.read_text(encoding="utf-8").replace('path = "tests/fixtures/corpus"', f'path = "{corpus}"'),
        encoding="utf-8",
    )
    data = tmp_path / "data"
    chroma_port = free_port()
    chroma_log = tmp_path / "chroma.log"
    chroma_cli = str(Path(sys.executable).parent / "chroma")
    chroma = subprocess.Popen(
        [chroma_cli, "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1", "--port", str(chroma_port)],
        stdout=chroma_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    env = {
        "GOVQA_SOURCES_FILE": str(sources),
        "GOVQA_CHROMA_MODE": "http",
        "GOVQA_CHROMA_PORT": str(chroma_port),
        "GOVQA_SERVER_WORKERS": "2",
    }
    replicas: list[subprocess.Popen[bytes]] = []
    try:
        wait_for(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", chroma, chroma_log, timeout=60)
        ingest(data, env)
        urls = []
        for n in (1, 2):
            process, url = start_server(data, tmp_path / f"replica{n}.log", **env)
            replicas.append(process)
            urls.append(url)
        yield urls, {**env, "corpus": str(corpus), "data": str(data)}
    finally:
        for process in [*replicas, chroma]:
            stop(process)


def ingest(data: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "govqa.app.cli", "ingest"],
        env=server_environment(data, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


class RoundRobin(threading.Thread):
    """Asks the replicas in turn until stopped; counts answers and keeps every failure."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__(daemon=True)
        self.urls = urls
        self.answers = 0
        self.failures: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        turn = 0
        while not self.stopping.is_set():
            url = self.urls[turn % len(self.urls)]
            turn += 1
            try:
                ask(url)
                self.answers += 1
            except Exception as error:
                self.failures.append(f"{url}: {type(error).__name__}: {error}")


def test_replicas_answer_alike_through_a_reingest(deployment: tuple[list[str], dict[str, str]]) -> None:
    urls, env = deployment
    before = [ask(url) for url in urls]
    assert before[0] == before[1]
    assert "3%" in before[0]["answer"]

    client = RoundRobin(urls)
    client.start()
    for page in PAGES:
        path = Path(env["corpus"]) / page
        path.write_text(path.read_text(encoding="utf-8").replace("3%", "5%"), encoding="utf-8")
    ingest(Path(env["data"]), {k: v for k, v in env.items() if k.startswith("GOVQA_")})

    deadline = time.monotonic() + 120
    after = [ask(url) for url in urls]
    while not all("5%" in a["answer"] for a in after) and time.monotonic() < deadline:
        time.sleep(0.5)
        after = [ask(url) for url in urls]
    client.stopping.set()
    client.join(timeout=60)

    assert client.failures == []
    assert client.answers > 0
    assert all("5%" in a["answer"] for a in after), "a replica still answers from the old index"
    assert after[0] == after[1]
