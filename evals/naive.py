"""The naive LlamaIndex pipeline a new user would write, as a baseline for eval and bench."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from govqa.app.result import AskResult, check_question
from govqa.settings import PROJECT_ROOT, Settings

NAIVE_TOP_K = 2


@dataclass
class NaiveCitation:
    """Duck-types app.citations.Citation for to_json(): the chunk itself is the quote."""

    n: int
    url: str
    page_url: str
    title: str
    quote: str
    source_path: str

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "url": self.url,
            "page_url": self.page_url,
            "title": self.title,
            "section": "",
            "lang": "",
            "as_of": "",
            "quote": self.quote,
            "source_path": self.source_path,
        }


class NaivePipeline:
    def __init__(self, retriever: Any, build_seconds: float, nodes: int) -> None:
        self.retriever = retriever
        self.build_seconds = build_seconds
        self.nodes = nodes

    @classmethod
    def build(cls, settings: Settings) -> NaivePipeline:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        from govqa.corpus.loader import load_source
        from govqa.corpus.sources import locate_source, read_sources
        from govqa.index.embedders import build_embedder

        started = time.perf_counter()
        documents = []
        for spec in read_sources(settings.sources_file):
            root = locate_source(spec, PROJECT_ROOT, settings.data_dir)
            for doc in load_source(spec, root).documents:
                raw = (root / doc.source_path).read_text(encoding="utf-8")
                documents.append(
                    Document(
                        text=raw, metadata={"page_url": doc.url, "title": doc.title, "source_path": doc.source_path}
                    )
                )
        index = VectorStoreIndex.from_documents(
            documents, embed_model=build_embedder("minilm"), transformations=[SentenceSplitter()]
        )
        nodes = len(index.docstore.docs)
        return cls(index.as_retriever(similarity_top_k=NAIVE_TOP_K), time.perf_counter() - started, nodes)

    def ask(self, question: str, filters: Any = None) -> AskResult:
        question = check_question(question)
        started = time.perf_counter()
        hits = self.retriever.retrieve(question)
        elapsed = (time.perf_counter() - started) * 1000
        citations = [
            NaiveCitation(
                i,
                h.node.metadata["page_url"],
                h.node.metadata["page_url"],
                h.node.metadata["title"],
                h.node.get_content(),
                h.node.metadata["source_path"],
            )
            for i, h in enumerate(hits, start=1)
        ]
        answer = "\n\n".join(f"{c.quote} [{c.n}]" for c in citations)
        retrieved = [
            {"page_url": h.node.metadata["page_url"], "chunk_id": h.node.node_id, "score": float(h.score or 0)}
            for h in hits
        ]
        sentences = [{"text": c.quote, "citations": [c.n], "supported": True} for c in citations]
        return AskResult(
            question,
            answer,
            False,
            citations,
            retrieved,
            {"total_ms": elapsed},  # type: ignore[arg-type]
            backend="naive-llamaindex",
            sentences=sentences,
        )
