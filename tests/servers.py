"""Real `govqa serve` subprocesses on free loopback ports, for tests that talk HTTP to them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import FIXTURE_SOURCES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_environment(data_dir: Path, **env: str) -> dict[str, str]:
    """The fixture corpus, the fake embedder, an empty config: nothing from the developer's shell."""
    config = data_dir / "govqa.toml"
    data_dir.mkdir(parents=True, exist_ok=True)
    config.write_text("", encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GOVQA_")}
    environment.update(
        GOVQA_SOURCES_FILE=str(FIXTURE_SOURCES),
        GOVQA_EMBEDDER="fake",
        GOVQA_DATA_DIR=str(data_dir),
        GOVQA_CONFIG=str(config),
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    environment.update(env)
    return environment


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    """Until ``url`` answers 200; fails with the end of the log when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def start_server(data_dir: Path, log: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """`govqa serve` over the fixture corpus; returns the process and its base URL (ending in /)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "govqa.app.cli", "serve", "--port", str(port)],
        env=server_environment(data_dir, **env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    wait_for(url + "api/health", process, log)
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextmanager
def serving(data_dir: Path, **env: str) -> Iterator[str]:
    """A `govqa serve` over the fixture corpus in ``data_dir`` for the duration of the block; yields its URL."""
    process, url = start_server(data_dir, data_dir / "serve.log", **env)
    try:
        yield url
    finally:
        stop(process)
