"""Incremental ingest into a new index generation: embed only new or changed documents.

The index manifest records the embedder, the chunking settings and a fingerprint
of every document. A changed embedder or chunking setting rebuilds everything (and
says why); otherwise only documents whose fingerprint changed are re-chunked and
re-embedded, and the other chunks' vectors are copied forward. Each ingest writes a
complete new generation and publishes it atomically (``generations.py``), so readers
never see a half-written index and a removed page leaves nothing in the new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from govqa.corpus.documents import Document
from govqa.index import generations, store
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
    generation: str = ""  # the generation published by this ingest ("" when nothing changed)
    removed_generations: list[str] = field(default_factory=list)

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


class IndexBuildError(RuntimeError):
    """The new generation failed its check; it is left unpublished and the current one keeps serving."""


def _previous_state(
    current: Path | None, config: dict[str, object], rebuild: bool
) -> tuple[str, dict[str, str], list[Chunk], dict[str, list[str]], dict[str, np.ndarray]]:
    """(rebuilt_because, fingerprints, chunks, tokens, vectors) of the current generation worth keeping."""
    if rebuild:
        return "asked for with --rebuild", {}, [], {}, {}
    if current is None:
        return "", {}, [], {}, {}
    try:
        manifest = store.read_manifest(current)
    except store.ManifestError as error:
        return f"the current manifest is damaged ({error})", {}, [], {}, {}
    if manifest is None:
        return "the current generation has no manifest", {}, [], {}, {}
    if manifest.get("config") != config:
        old = manifest.get("config") or {}
        changed = ", ".join(f"{k} {old.get(k)!r} → {v!r}" for k, v in config.items() if old.get(k) != v)
        return f"settings changed ({changed})", {}, [], {}, {}
    chunks, tokens = store.read_chunks(current)
    vectors = store.read_vectors(current)
    if vectors is None or len(vectors) != len(chunks) or len(chunks) != manifest.get("chunks"):
        return "the current generation's chunks and vectors disagree", {}, [], {}, {}
    by_id = {c.id: vectors[i] for i, c in enumerate(chunks)}  # row views: no copy of the matrix
    return "", dict(manifest.get("documents", {})), chunks, tokens, by_id


def ingest(
    documents: list[Document],
    index_dir: Path,
    embedder: BaseEmbedding,
    embedder_id: str,
    open_dense: Callable[[Path], DenseIndex],
    max_chars: int,
    skipped: list[tuple[str, str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    rebuild: bool = False,
) -> IngestReport:
    """Build the next index generation from the documents and publish it (call under the writer lock).

    Unchanged documents keep their chunks and vectors: they are copied forward from the
    current generation's ``vectors.npy``, so only new or changed chunks are embedded.
    Nothing is written when nothing changed. ``open_dense(folder)`` gives the (empty)
    vector collection of a new generation; ``progress(done, total)`` is called as chunks
    are embedded.
    """
    started = time.perf_counter()
    report = IngestReport(documents=len(documents), skipped=list(skipped or []))
    config = {"embedder": embedder_id, "max_chars": max_chars, "chunker": CHUNKER_VERSION}
    try:
        current = generations.current_dir(index_dir)
    except generations.IndexStateError as error:
        if not rebuild:
            raise
        logger.warning("rebuild_ignores_current error=%s", error)
        current = None
    report.rebuilt_because, old_prints, old_chunks, old_tokens, old_vectors = _previous_state(current, config, rebuild)
    if current is not None and not report.rebuilt_because:
        # The current vectors may be damaged (a deleted Chroma folder) although nothing changed:
        # the next generation is then rebuilt from vectors.npy, without embedding anything again.
        current_dense = open_dense(current)
        held = current_dense.count()
        current_dense.close()
        if held != len(old_chunks):
            report.rebuilt_because = f"the vector store holds {held} vectors where the manifest lists {len(old_chunks)}"
    if current is None and not rebuild and any((index_dir / e).exists() for e in generations.LEGACY_ENTRIES):
        report.rebuilt_because = "the index predates index generations"

    new_prints = {d.id: document_fingerprint(d) for d in documents}
    changed_ids = {doc_id for doc_id, fp in new_prints.items() if old_prints.get(doc_id) != fp}
    removed_ids = set(old_prints) - set(new_prints)
    report.changed_documents = len(changed_ids)
    report.removed_documents = len(removed_ids)
    kept_chunks = [c for c in old_chunks if c.doc_id not in changed_ids and c.doc_id not in removed_ids]
    report.chunks = len(kept_chunks)
    if current is not None and not (changed_ids or removed_ids or report.rebuilt_because):
        report.seconds = time.perf_counter() - started
        return report

    new_chunks = [c for d in documents if d.id in changed_ids for c in chunk_document(d, max_chars)]
    tokens = {c.id: old_tokens[c.id] for c in kept_chunks}
    vectors = {c.id: old_vectors[c.id] for c in kept_chunks}
    for chunk in new_chunks:
        tokens[chunk.id] = tokenize(chunk.embedding_text())
    for start in range(0, len(new_chunks), EMBED_BATCH):
        batch = new_chunks[start : start + EMBED_BATCH]
        embedded = embedder.get_text_embedding_batch([c.embedding_text() for c in batch])
        vectors.update((c.id, np.asarray(v, dtype=np.float32)) for c, v in zip(batch, embedded, strict=True))
        report.embedded_chunks += len(batch)
        if progress:
            progress(report.embedded_chunks, len(new_chunks))

    order = {d.id: i for i, d in enumerate(documents)}
    all_chunks = sorted(kept_chunks + new_chunks, key=lambda c: (order[c.doc_id], c.start))
    report.chunks = len(all_chunks)
    folder = generations.new_generation(index_dir)
    dense = open_dense(folder)
    matrix = np.stack([vectors[c.id] for c in all_chunks]) if all_chunks else np.zeros((0, 0), np.float32)
    dense.add(all_chunks, matrix)
    KeywordIndex.build([c.id for c in all_chunks], [tokens[c.id] for c in all_chunks]).save(folder / "bm25")
    store.write_chunks(folder, all_chunks, tokens)
    store.write_vectors(folder, matrix)
    store.write_documents(folder, documents)
    store.write_manifest(folder, {"config": config, "documents": new_prints, "chunks": len(all_chunks)})
    held = dense.count()
    if held != len(all_chunks):
        raise IndexBuildError(
            f"the new index generation {folder.name} holds {held} vectors for {len(all_chunks)} chunks; "
            "it was not published, the previous one still serves. Run `govqa ingest --rebuild`."
        )
    dense.close()
    generations.publish(index_dir, folder)
    report.generation = folder.name
    report.seconds = time.perf_counter() - started
    logger.info(
        "ingest generation=%s documents=%d chunks=%d changed=%d removed=%d embedded=%d seconds=%.2f",
        folder.name,
        report.documents,
        report.chunks,
        report.changed_documents,
        report.removed_documents,
        report.embedded_chunks,
        report.seconds,
    )
    return report
