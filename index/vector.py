"""Dense leg: Chroma (embedded PersistentClient, or a `chroma run` server) through LlamaIndex."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
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


class DenseIndex:
    """Chunk vectors in one Chroma collection, read and written through LlamaIndex's ChromaVectorStore."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name
        self._open()

    def _open(self) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        # Cosine space: both packaged embedders return L2-normalised vectors.
        self.collection = self.client.get_or_create_collection(self.name, metadata={"hnsw:space": "cosine"})
        self.store = ChromaVectorStore(chroma_collection=self.collection)

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

    def delete_documents(self, doc_ids: list[str]) -> None:
        for doc_id in doc_ids:
            self.store.delete(ref_doc_id=doc_id)

    def search(
        self, embedding: list[float], k: int, filters: dict[str, list[str]] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, cosine similarity)."""
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
