"""index/similarity.py: cosine similarity with exact values, zero vectors included."""

from __future__ import annotations

import pytest

from govqa.index.similarity import cosine_to_each, paired_cosines, unit_rows


def test_unit_rows_scales_to_length_one_and_keeps_zero_rows() -> None:
    assert unit_rows([[3.0, 4.0], [0.0, 0.0]]).tolist() == [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    assert unit_rows([0.0, 2.0]).tolist() == [0.0, 1.0]


def test_cosine_to_each_compares_one_vector_with_every_row() -> None:
    similarities = cosine_to_each([1.0, 0.0], [[2.0, 0.0], [0.0, 5.0], [-1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    assert similarities == pytest.approx([1.0, 0.0, -1.0, 0.70710678, 0.0])
    assert cosine_to_each([1.0, 0.0], []) == []


def test_paired_cosines_compares_row_i_with_row_i() -> None:
    assert paired_cosines([[1.0, 0.0], [0.0, 3.0]], [[0.0, 1.0], [0.0, 1.0]]) == pytest.approx([0.0, 1.0])
    assert paired_cosines([], []) == []
    with pytest.raises(ValueError, match="one shape"):
        paired_cosines([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]])
