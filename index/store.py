"""The on-disk folder of one index generation: manifest, documents, chunks, vectors, keyword index, Chroma.

Layout of ``<data_dir>/index/<embedder>/generations/<name>/`` (see ``generations.py``)::

    manifest.json     embedder identity, chunking settings, per-document content hashes
    documents.jsonl   cleaned text, sections and provenance of every document
    chunks.jsonl      every chunk with its metadata and keyword tokens
    vectors.npy       every chunk's vector, in chunks.jsonl order (copied forward by the next ingest)
    bm25/             the bm25s index
    chroma/           the Chroma PersistentClient folder (when Chroma runs embedded)
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from govqa.corpus.documents import Document, Page, Section, Span
from govqa.corpus.references import Reference
from govqa.index.generations import IndexStateError
from govqa.ingest.chunking import Chunk

MANIFEST_VERSION = 1


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file so an interrupted ingest never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class ManifestError(IndexStateError):
    """A manifest exists but cannot be used; ingest rebuilds, readers stop with this message."""


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The generation's manifest; None when there is none, ManifestError when it is damaged."""
    path = index_dir / "manifest.json"
    if not path.exists():
        return None
    fix = "run `govqa ingest --rebuild`."
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ManifestError(f"unreadable index manifest ({error.__class__.__name__}) in {path}; {fix}") from None
    if not isinstance(data, dict) or not isinstance(data.get("documents", {}), dict):
        raise ManifestError(f"index manifest is not a JSON object of the expected shape in {path}; {fix}")
    if data.get("version") != MANIFEST_VERSION:
        raise ManifestError(
            f"index manifest version {data.get('version')!r} (expected {MANIFEST_VERSION}) in {path}; {fix}"
        )
    return data


def write_manifest(index_dir: Path, manifest: dict[str, Any]) -> None:
    _write_atomic(index_dir / "manifest.json", json.dumps({"version": MANIFEST_VERSION, **manifest}, indent=1))


def document_to_json(document: Document) -> dict[str, Any]:
    return asdict(document)


def document_from_json(data: dict[str, Any]) -> Document:
    data = dict(data)
    data["sections"] = [Section(**{**s, "path": tuple(s["path"])}) for s in data["sections"]]
    data["spans"] = [Span(**s) for s in data["spans"]]
    data["references"] = [Reference(**r) for r in data["references"]]
    data["pages"] = [Page(**p) for p in data.get("pages", [])]
    return Document(**data)


def write_documents(index_dir: Path, documents: list[Document]) -> None:
    lines = (json.dumps(document_to_json(d), ensure_ascii=False) for d in documents)
    _write_atomic(index_dir / "documents.jsonl", "\n".join(lines) + "\n")


def read_documents(index_dir: Path) -> list[Document]:
    path = index_dir / "documents.jsonl"
    with path.open(encoding="utf-8") as handle:
        return [document_from_json(json.loads(line)) for line in handle if line.strip()]


def write_chunks(index_dir: Path, chunks: list[Chunk], tokens: dict[str, list[str]]) -> None:
    lines = (json.dumps({**asdict(c), "tokens": tokens[c.id]}, ensure_ascii=False) for c in chunks)
    _write_atomic(index_dir / "chunks.jsonl", "\n".join(lines) + "\n")


def read_chunks(index_dir: Path) -> tuple[list[Chunk], dict[str, list[str]]]:
    chunks: list[Chunk] = []
    tokens: dict[str, list[str]] = {}
    path = index_dir / "chunks.jsonl"
    if not path.is_file():
        return chunks, tokens
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                data = json.loads(line)
                tokens[data["id"]] = data.pop("tokens")
                chunks.append(Chunk(**data))
    return chunks, tokens


def write_vectors(index_dir: Path, vectors: np.ndarray) -> None:
    tmp = index_dir / "vectors.tmp.npy"
    np.save(tmp, vectors.astype(np.float32, copy=False))
    os.replace(tmp, index_dir / "vectors.npy")


def read_vectors(index_dir: Path) -> np.ndarray | None:
    """The chunk vectors in chunks.jsonl order, or None when the file is missing or unreadable."""
    try:
        vectors: np.ndarray = np.load(index_dir / "vectors.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None
    return vectors
