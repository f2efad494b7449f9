"""Cosine similarity of embedding vectors (pure functions; zero vectors have similarity 0)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def unit_rows(vectors: ArrayLike) -> NDArray[np.float32]:
    """Each row (or the one vector) scaled to length 1; an all-zero row stays zero."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(array / norms, dtype=np.float32)


def cosine_to_each(query: ArrayLike, vectors: ArrayLike) -> list[float]:
    """Cosine similarity of one vector with each row of ``vectors``."""
    rows = unit_rows(vectors)
    if rows.size == 0:
        return []
    return [float(x) for x in np.matmul(rows, unit_rows(query))]


def paired_cosines(first: ArrayLike, second: ArrayLike) -> list[float]:
    """Cosine similarity of row i of ``first`` with row i of ``second``."""
    left, right = unit_rows(first), unit_rows(second)
    if left.shape != right.shape:
        raise ValueError(f"paired_cosines needs two arrays of one shape, got {left.shape} and {right.shape}")
    if left.size == 0:
        return []
    return [float(x) for x in (left * right).sum(axis=1)]
