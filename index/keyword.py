"""Keyword leg: BM25 (bm25s) over jieba-segmented Chinese and stemmed English."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from govqa.corpus.cjk import CJK

logger = logging.getLogger(__name__)

_LATIN_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
ENGLISH_STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if in into is it its
    of on or our so such than that the their them then there these they this to was were what when where which
    who whom why will with would you your about after before any all also more most other over under up per via
    not no yes""".split()
)
CHINESE_STOPWORDS = frozenset(
    "的 了 和 是 在 与 及 或 等 对 中 为 以 由 于 将 其 之 也 而 并 就 都 被 把 吗 呢 吧 啊 哪些 什么 怎么 如何 多少 是否 哪个 哪 谁 何时 什么时候 有 没有 这 那 个 一个".split()
)


_per_thread = threading.local()


def _stemmer() -> Any:
    # One stemmer per thread: PyStemmer objects keep a stem cache and are not thread-safe,
    # and the server answers several questions at once.
    stemmer = getattr(_per_thread, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _per_thread.stemmer = Stemmer.Stemmer("english")
    return stemmer


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Index terms of a text: jieba words for Chinese runs, stemmed words for Latin runs."""
    lowered = text.lower()
    tokens: list[str] = []
    if CJK.search(lowered):
        pieces = _jieba().lcut(lowered)
    else:
        pieces = [lowered]
    stemmer = _stemmer()
    for piece in pieces:
        if CJK.search(piece):
            word = piece.strip()
            if word and word not in CHINESE_STOPWORDS and not re.fullmatch(r"\W+", word):
                tokens.append(word)
            continue
        for word in _LATIN_TOKEN.findall(piece):
            if word not in ENGLISH_STOPWORDS:
                tokens.append(stemmer.stemWord(word))
    return tokens


class KeywordIndex:
    """BM25 over chunk ids; persisted as bm25s files plus the id order."""

    def __init__(self, chunk_ids: list[str], retriever: Any) -> None:
        self.chunk_ids = chunk_ids
        self._retriever = retriever
        self._position = {cid: i for i, cid in enumerate(chunk_ids)}

    @classmethod
    def build(
        cls, chunk_ids: list[str], token_lists: Sequence[list[str]], k1: float = 1.5, b: float = 0.75
    ) -> KeywordIndex:
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b)
        if chunk_ids:
            # An empty token list would make bm25s drop the row; keep positions aligned.
            retriever.index([tokens or ["\u2400"] for tokens in token_lists], show_progress=False)
        return cls(list(chunk_ids), retriever)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.chunk_ids:
            self._retriever.save(str(directory), show_progress=False)
        (directory / "chunk_ids.json").write_text(json.dumps(self.chunk_ids), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        import bm25s

        chunk_ids = json.loads((directory / "chunk_ids.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(directory), show_progress=False) if chunk_ids else bm25s.BM25()
        return cls(chunk_ids, retriever)

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) with a positive score, optionally within allowed ids."""
        tokens = tokenize(query)
        vocab = getattr(self._retriever, "vocab_dict", {}) or {}
        tokens = [t for t in tokens if t in vocab]
        if not tokens or not self.chunk_ids:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self.chunk_ids), dtype=np.float32)
            for cid in allowed:
                if cid in self._position:
                    mask[self._position[cid]] = 1.0
            if not mask.any():
                return []
        k = min(k, len(self.chunk_ids))
        documents, scores = self._retriever.retrieve([tokens], k=k, show_progress=False, weight_mask=mask, n_threads=1)
        return [
            (self.chunk_ids[int(doc)], float(score))
            for doc, score in zip(documents[0], scores[0], strict=True)
            if score > 0
        ]


def inverse_document_frequencies(token_lists: Sequence[Sequence[str]]) -> dict[str, float]:
    """BM25-style idf of every term over the chunks."""
    counts: dict[str, int] = {}
    for tokens in token_lists:
        for token in set(tokens):
            counts[token] = counts.get(token, 0) + 1
    total = len(token_lists)
    return {t: math.log(1 + (total - c + 0.5) / (c + 0.5)) for t, c in counts.items()}
