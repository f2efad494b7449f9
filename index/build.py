"""Incremental ingest: embed only new or changed documents, delete removed ones.

The index manifest records the embedder, the chunking settings and a fingerprint
of every document. A changed embedder or chunking setting rebuilds everything (and
says why); otherwise only documents whose fingerprint changed are re-chunked and
re-embedded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding

from govqa.corpus.documents import Document
from govqa.index import store
from govqa.index.keyword import KeywordIndex, tokenize
from govqa.index.vector import DenseIndex
from govqa.ingest.chunking import Chunk, chunk_document

logger = logging.getLogger(__name__)

CHUNKER_VERSION = 2  # bump when chunk_document's output changes for the same settings
EMBED_BATCH = 64


@dataclass
class IngestReport:
    documents: int = 0
    chunks: int = 0
    changed_documents: int = 0
    removed_documents: int = 0
    embedded_chunks: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    rebuilt_because: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"{self.documents} documents, {self.chunks} chunks; {self.changed_documents} new or changed, "
            f"{self.removed_documents} removed, {self.embedded_chunks} chunks embedded, "
            f"{len(self.skipped)} files skipped, {self.seconds:.1f} s"
        ]
        if self.rebuilt_because:
            lines.insert(0, f"Rebuilt the whole index: {self.rebuilt_because}")
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        return "\n".join(lines)


def document_fingerprint(document: Document) -> str:
    payload = json.dumps(store.document_to_json(document), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


def ingest(
    documents: list[Document],
    index_dir: Path,
    embedder: BaseEmbedding,
    embedder_id: str,
    dense: DenseIndex,
    max_chars: int,
    skipped: list[tuple[str, str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Bring the index folder and the dense collection in line with the documents.

    ``progress(done, total)`` is called as chunks are embedded.
    """
    started = time.perf_counter()
    report = IngestReport(documents=len(documents), skipped=list(skipped or []))
    config = {"embedder": embedder_id, "max_chars": max_chars, "chunker": CHUNKER_VERSION}
    manifest = store.read_manifest(index_dir)
    old_prints: dict[str, str] = {}
    old_chunks: list[Chunk] = []
    old_tokens: dict[str, list[str]] = {}
    if manifest is not None and manifest.get("config") != config:
        old = manifest.get("config", {})
        changed = ", ".join(f"{k} {old.get(k)!r} → {v!r}" for k, v in config.items() if old.get(k) != v)
        report.rebuilt_because = f"settings changed ({changed})"
        dense.reset()
    elif manifest is not None:
        old_prints = manifest.get("documents", {})
        old_chunks, old_tokens = store.read_chunks(index_dir)
        if dense.count() != len(old_chunks):
            report.rebuilt_because = (
                f"the vector store holds {dense.count()} chunks where the manifest expects {len(old_chunks)}"
            )
            dense.reset()
            old_prints, old_chunks, old_tokens = {}, [], {}
    elif dense.count():
        report.rebuilt_because = "no index manifest beside a non-empty vector store"
        dense.reset()

    new_prints = {d.id: document_fingerprint(d) for d in documents}
    changed_ids = {doc_id for doc_id, fp in new_prints.items() if old_prints.get(doc_id) != fp}
    removed_ids = set(old_prints) - set(new_prints)
    report.changed_documents = len(changed_ids)
    report.removed_documents = len(removed_ids)

    kept_chunks = [c for c in old_chunks if c.doc_id not in changed_ids and c.doc_id not in removed_ids]
    new_chunks = [c for d in documents if d.id in changed_ids for c in chunk_document(d, max_chars)]
    tokens = {c.id: old_tokens[c.id] for c in kept_chunks}
    for chunk in new_chunks:
        tokens[chunk.id] = tokenize(chunk.embedding_text())

    stale = sorted((changed_ids & set(old_prints)) | removed_ids)
    if stale:
        dense.delete_documents(stale)
    for start in range(0, len(new_chunks), EMBED_BATCH):
        batch = new_chunks[start : start + EMBED_BATCH]
        vectors = embedder.get_text_embedding_batch([c.embedding_text() for c in batch])
        dense.add(batch, vectors)
        report.embedded_chunks += len(batch)
        if progress:
            progress(report.embedded_chunks, len(new_chunks))

    order = {d.id: i for i, d in enumerate(documents)}
    all_chunks = sorted(kept_chunks + new_chunks, key=lambda c: (order[c.doc_id], c.start))
    report.chunks = len(all_chunks)
    if changed_ids or removed_ids or manifest is None or report.rebuilt_because:
        KeywordIndex.build([c.id for c in all_chunks], [tokens[c.id] for c in all_chunks]).save(index_dir / "bm25")
        store.write_chunks(index_dir, all_chunks, tokens)
        store.write_documents(index_dir, documents)
        store.write_manifest(index_dir, {"config": config, "documents": new_prints, "chunks": len(all_chunks)})
    report.seconds = time.perf_counter() - started
    logger.info(
        "ingest documents=%d chunks=%d changed=%d removed=%d embedded=%d seconds=%.2f",
        report.documents,
        report.chunks,
        report.changed_documents,
        report.removed_documents,
        report.embedded_chunks,
        report.seconds,
    )
    return report
