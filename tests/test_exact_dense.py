"""The dense leg's exact search over a real embedded Chroma collection.

Chroma's HNSW search is approximate and its graph depends on the build; exact search must
return the true nearest vectors, honour the store's filters, and rank identically however the
same vectors were inserted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from govqa.index.vector import DenseIndex, chroma_client
from govqa.ingest.chunking import Chunk


def _chunk(number: int) -> Chunk:
    lang = "en" if number % 2 == 0 else "zh"
    return Chunk(
        id=f"site:page-{number % 7}@{number}",
        doc_id=f"site:page-{number % 7}",
        text=f"passage {number}",
        start=0,
        end=10,
        kind="text",
        url=f"https://example.org/page-{number % 7}/",
        page_url=f"https://example.org/page-{number % 7}/",
        title=f"Page {number % 7}",
        section="",
        lang=lang,
        as_of="2026-06-01",
        edition="",
        jurisdiction="EU",
        company="",
        source_path="",
        content_hash=f"hash-{number}",
    )


@pytest.fixture
def vectors() -> np.ndarray:
    rng = np.random.default_rng(7)
    # 2,000 random 64-d vectors: enough that Chroma's approximate search misses true
    # neighbours of some queries (12 of 50 top-40 lists when this test was written).
    matrix = rng.normal(size=(2000, 64)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _index(folder: Path, order: list[int], vectors: np.ndarray) -> DenseIndex:
    index = DenseIndex(chroma_client("persistent", folder), "exact-test")
    index.add([_chunk(n) for n in order], vectors[order])
    return index


def test_exact_search_returns_the_true_nearest_vectors(tmp_path: Path, vectors: np.ndarray) -> None:
    index = _index(tmp_path / "a", list(range(2000)), vectors)
    for query in np.random.default_rng(11).normal(size=(50, 64)).astype(np.float32):
        query /= np.linalg.norm(query)
        expected = np.argsort(-(vectors @ query))[:40]
        hits = index.search(query.tolist(), 40)
        assert [cid for cid, _ in hits] == [_chunk(int(n)).id for n in expected]
        assert hits[0][1] == pytest.approx(float(vectors[expected[0]] @ query), abs=1e-5)


def test_same_vectors_inserted_in_another_order_rank_identically(tmp_path: Path, vectors: np.ndarray) -> None:
    forward = _index(tmp_path / "a", list(range(2000)), vectors)
    shuffled = list(np.random.default_rng(3).permutation(2000))
    backward = _index(tmp_path / "b", [int(n) for n in shuffled], vectors)
    for row in range(0, 2000, 41):
        assert forward.search(vectors[row].tolist(), 40) == backward.search(vectors[row].tolist(), 40)


def test_exact_search_applies_the_stores_filters(tmp_path: Path, vectors: np.ndarray) -> None:
    index = _index(tmp_path / "a", list(range(300)), vectors)
    hits = index.search(vectors[4].tolist(), 10, {"lang": ["zh"], "doc_id": ["site:page-1", "site:page-2"]})
    assert len(hits) == 10
    for cid, _ in hits:
        number = int(cid.rsplit("@", 1)[1])
        assert number % 2 == 1 and number % 7 in (1, 2)
    approximate = DenseIndex(index.client, "exact-test", exact=False)
    same_filter = approximate.search(
        vectors[4].tolist(), 10, {"lang": ["zh"], "doc_id": ["site:page-1", "site:page-2"]}
    )
    assert {cid for cid, _ in same_filter} <= {
        cid for cid, _ in index.search(vectors[4].tolist(), 60, {"lang": ["zh"]})
    }


def test_writes_are_seen_by_the_next_exact_search(tmp_path: Path, vectors: np.ndarray) -> None:
    index = _index(tmp_path / "a", list(range(100)), vectors)
    assert index.search(vectors[250].tolist(), 1)[0][0] != _chunk(250).id
    index.add([_chunk(250)], vectors[[250]])
    assert index.search(vectors[250].tolist(), 1)[0][0] == _chunk(250).id
    index.delete_documents([_chunk(250).doc_id])
    assert all(not cid.startswith(_chunk(250).doc_id + "@") for cid, _ in index.search(vectors[250].tolist(), 50))


def test_an_empty_collection_finds_nothing(tmp_path: Path) -> None:
    index = DenseIndex(chroma_client("persistent", tmp_path / "empty"), "exact-test")
    assert index.search([1.0, 0.0], 5) == []
