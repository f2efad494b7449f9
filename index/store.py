"""The on-disk index folder: manifest, documents, chunks, keyword index, Chroma.

Layout of ``<data_dir>/index/<embedder>/``::

    manifest.json     embedder identity, chunking settings, per-document content hashes
    documents.jsonl   cleaned text, sections and provenance of every document
    chunks.jsonl      every chunk with its metadata and keyword tokens
    bm25/             the bm25s index
    chroma/           the Chroma PersistentClient folder (when Chroma runs embedded)
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from govqa.corpus.documents import Document, Page, Section, Span
from govqa.corpus.references import Reference
from govqa.ingest.chunking import Chunk

MANIFEST_VERSION = 1


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file so an interrupted ingest never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    path = index_dir / "manifest.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    return data if data.get("version") == MANIFEST_VERSION else None


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
