"""Dense leg: Chroma (embedded PersistentClient, or a `chroma run` server) through LlamaIndex."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import BaseNode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from govqa.ingest.chunking import Chunk

logger = logging.getLogger(__name__)


class VectorStoreError(RuntimeError):
    """Chroma cannot be reached or opened; the message says what to do."""


def collection_name(base: str, embedder: str) -> str:
    """Chroma wants 3-512 characters of [a-zA-Z0-9._-], starting and ending alphanumeric."""
    name = re.sub(r"[^a-zA-Z0-9._-]+", "-", f"{base}-{embedder}").strip("-._")
    return (name + "-idx")[:512] if len(name) < 3 else name[:512]


def chroma_client(mode: str, path: Path | None = None, host: str = "127.0.0.1", port: int = 8000) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaConfig

    config = ChromaConfig(anonymized_telemetry=False)
    if mode == "persistent":
        assert path is not None
        try:
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=config)
        except Exception as error:  # sqlite and Rust errors alike: one line for the user
            detail = str(error).splitlines()[0] if str(error) else error.__class__.__name__
            raise VectorStoreError(
                f"Cannot open the vector store ({detail}) in {path}; Chroma writes even to read, "
                "so GOVQA_DATA_DIR must be a writable folder."
            ) from None
    if mode == "http":
        try:
            client = chromadb.HttpClient(host=host, port=port, settings=config)
            client.heartbeat()
        except Exception as error:
            raise VectorStoreError(
                f"No Chroma server answers at {host}:{port} ({error.__class__.__name__}). "
                f"Start one with `chroma run --path DIR --host {host} --port {port}` or set GOVQA_CHROMA_MODE=persistent."
            ) from error
        return client
    raise VectorStoreError(f"Unknown Chroma mode {mode!r}: use persistent or http.")


@dataclass
class ExactVectors:
    """Every vector of a collection in memory, rows in chunk-id order, for exact cosine search.

    Chroma's HNSW search is approximate, and its graph differs between two builds of the same
    vectors: on the 272 eval questions 53 top-10 lists differed from exact search, and a rebuild
    could move a gate metric by a question. Exact search over a few thousand rows costs a
    few milliseconds and gives the same ranking on every build of the same vectors.
    """

    ids: list[str]
    matrix: np.ndarray  # float32, one L2-normalised row per chunk
    metadatas: list[dict[str, Any]]
    _rows_by_value: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    @classmethod
    def load(cls, collection: Any) -> ExactVectors:
        got = collection.get(include=["embeddings", "metadatas"])
        order = sorted(range(len(got["ids"])), key=lambda i: got["ids"][i])
        if not order:
            return cls([], np.zeros((0, 1), dtype=np.float32), [])
        matrix = np.asarray(got["embeddings"], dtype=np.float32)[order]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix /= np.where(norms == 0, 1.0, norms)
        metadatas = got.get("metadatas") or [{}] * len(order)
        return cls([got["ids"][i] for i in order], matrix, [metadatas[i] or {} for i in order])

    def rows(self, filters: dict[str, list[str]]) -> np.ndarray | None:
        """Rows that pass every filter (None: no filter), like the store's `IN ... AND` filters."""
        allowed: set[int] | None = None
        for key, values in filters.items():
            by_value = self._rows_by_value.get(key)
            if by_value is None:
                by_value = {}
                for row, metadata in enumerate(self.metadatas):
                    by_value.setdefault(str(metadata.get(key)), []).append(row)
                self._rows_by_value[key] = by_value
            matching = {row for value in values for row in by_value.get(str(value), [])}
            allowed = matching if allowed is None else allowed & matching
        return None if allowed is None else np.fromiter(sorted(allowed), dtype=np.int64)

    def search(self, embedding: Sequence[float], k: int, filters: dict[str, list[str]]) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        query = np.asarray(embedding, dtype=np.float32)
        query /= max(float(np.linalg.norm(query)), 1e-12)
        rows = self.rows(filters)
        scores = (self.matrix if rows is None else self.matrix[rows]) @ query
        # Stable sort over id-ordered rows: equal scores keep chunk-id order, on every build.
        best = np.argsort(-scores, kind="stable")[:k]
        picked = best if rows is None else rows[best]
        return [(self.ids[row], float(score)) for row, score in zip(picked, scores[best], strict=True)]


class DenseIndex:
    """Chunk vectors in one Chroma collection, read and written through LlamaIndex's ChromaVectorStore.

    ``exact`` (the default) searches every vector in memory instead of Chroma's approximate
    HNSW graph: see ExactVectors for why.
    """

    def __init__(self, client: Any, name: str, exact: bool = True) -> None:
        self.client = client
        self.name = name
        self.exact = exact
        self._exact_vectors: ExactVectors | None = None
        self._open()

    def _open(self) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        # Cosine space: both packaged embedders return L2-normalised vectors.
        self.collection = self.client.get_or_create_collection(self.name, metadata={"hnsw:space": "cosine"})
        self.store = ChromaVectorStore(chroma_collection=self.collection)
        self._exact_vectors = None  # written collections are reloaded on the next exact search

    def count(self) -> int:
        return int(self.collection.count())

    def reset(self) -> None:
        """Drop every vector (a rebuild starts from an empty collection)."""
        self.client.delete_collection(self.name)
        self._open()

    def close(self) -> None:
        """Release the client (an embedded Chroma keeps its folder open until the last client closes)."""
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    def drop(self) -> None:
        """Delete the collection (gc of a generation whose vectors live in a Chroma server)."""
        self.client.delete_collection(self.name)

    def add(self, chunks: list[Chunk], embeddings: Sequence[Sequence[float]] | np.ndarray) -> None:
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} vectors")
        for start in range(0, len(chunks), 2000):  # stay under Chroma's max batch size
            nodes: list[BaseNode] = []
            for chunk, embedding in zip(chunks[start : start + 2000], embeddings[start : start + 2000], strict=True):
                vector = embedding.tolist() if isinstance(embedding, np.ndarray) else list(embedding)
                node = TextNode(id_=chunk.id, text=chunk.embedding_text(), embedding=vector, metadata=chunk.metadata())
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.doc_id)
                nodes.append(node)
            self.store.add(nodes)
        self._exact_vectors = None

    def delete_documents(self, doc_ids: list[str]) -> None:
        for doc_id in doc_ids:
            self.store.delete(ref_doc_id=doc_id)
        self._exact_vectors = None

    def search(
        self, embedding: list[float], k: int, filters: dict[str, list[str]] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, cosine similarity)."""
        if self.exact:
            if self._exact_vectors is None:
                self._exact_vectors = ExactVectors.load(self.collection)
            return self._exact_vectors.search(embedding, k, filters or {})
        total = self.count()
        if total == 0:
            return []
        metadata_filters = None
        if filters:
            metadata_filters = MetadataFilters(
                filters=[
                    MetadataFilter(key=key, value=list(values), operator=FilterOperator.IN)
                    for key, values in filters.items()
                ],
                condition=FilterCondition.AND,
            )
        result = self.store.query(
            VectorStoreQuery(query_embedding=embedding, similarity_top_k=min(k, total), filters=metadata_filters)
        )
        ids = result.ids or []
        similarities = result.similarities or [0.0] * len(ids)
        return list(zip(ids, (float(s) for s in similarities), strict=True))
