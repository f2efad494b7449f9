"""Monotone sentence alignment and edition diffs over fixed similarity matrices (exact expectations)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from documents_factory import make_document

from govqa.app.diff_cmd import (
    PageError,
    diff_documents,
    document_sentences,
    format_diff,
    resolve_page,
    sentence_similarities,
)
from govqa.index.alignment import AlignedPair, align, edition_diff, similarity_matrix


def _pairs(sentences_a: list[str], sentences_b: list[str], sims: list[list[float]], **kwargs: object) -> list:
    result = align(sentences_a, sentences_b, sims, **kwargs)  # type: ignore[arg-type]
    return [(p.a, p.b) for p in result.pairs], result.unmatched_a, result.unmatched_b


def test_identical_order_aligns_one_to_one() -> None:
    sims = [[0.9, 0.1, 0.0], [0.2, 0.8, 0.1], [0.0, 0.3, 0.7]]
    result = align(["a0", "a1", "a2"], ["b0", "b1", "b2"], sims)
    assert result.pairs == [
        AlignedPair((0,), (0,), 0.9),
        AlignedPair((1,), (1,), 0.8),
        AlignedPair((2,), (2,), 0.7),
    ]
    assert (result.unmatched_a, result.unmatched_b) == ([], [])


def test_insertions_and_deletions_stay_unmatched() -> None:
    # b inserts b1; a's a2 has no counterpart in b.
    sims = [
        [0.9, 0.1, 0.1, 0.0],
        [0.1, 0.2, 0.8, 0.1],
        [0.0, 0.1, 0.2, 0.3],
        [0.1, 0.0, 0.1, 0.9],
    ]
    assert _pairs(["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"], sims) == (
        [((0,), (0,)), ((1,), (2,)), ((3,), (3,))],
        [2],
        [1],
    )


def test_alignment_is_monotone() -> None:
    # a0~b1 and a1~b0 cross; only one of them can be kept, the stronger one.
    sims = [[0.2, 0.9], [0.7, 0.1]]
    assert _pairs(["a0", "a1"], ["b0", "b1"], sims) == ([((0,), (1,))], [1], [0])


def test_floor_leaves_weak_pairs_unmatched() -> None:
    sims = [[0.45, 0.0], [0.0, 0.8]]
    assert _pairs(["a0", "a1"], ["b0", "b1"], sims) == ([((1,), (1,))], [0], [0])
    assert _pairs(["a0", "a1"], ["b0", "b1"], sims, floor=0.4) == ([((0,), (0,)), ((1,), (1,))], [], [])


def test_two_to_one_and_one_to_two_merges() -> None:
    # a1 and a2 are one sentence of b split in two; b2 and b3 are a3 split in two.
    sims = [
        [0.9, 0.0, 0.0, 0.0],
        [0.0, 0.7, 0.1, 0.0],
        [0.0, 0.65, 0.0, 0.1],
        [0.0, 0.0, 0.6, 0.7],
    ]
    result = align(["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"], sims)
    assert [(p.a, p.b, round(p.similarity, 3)) for p in result.pairs] == [
        ((0,), (0,), 0.9),
        ((1, 2), (1,), 0.675),
        ((3,), (2, 3), 0.65),
    ]
    assert (result.unmatched_a, result.unmatched_b) == ([], [])
    # Without merges the weaker half stays unmatched.
    assert _pairs(["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"], sims, merges=False) == (
        [((0,), (0,)), ((1,), (1,)), ((3,), (3,))],
        [2],
        [2],
    )


def test_merge_needs_both_parts_above_the_floor() -> None:
    sims = [[0.8], [0.3]]
    assert _pairs(["a0", "a1"], ["b0"], sims) == ([((0,), (0,))], [1], [])


def test_empty_sides() -> None:
    assert _pairs([], ["b0", "b1"], []) == ([], [], [0, 1])
    assert _pairs(["a0"], [], []) == ([], [0], [])


def test_wrong_matrix_shape_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        align(["a", "b"], ["c", "d"], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_similarity_matrix_is_cosine() -> None:
    sims = similarity_matrix([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 3.0]])
    assert np.round(sims, 4).tolist() == [[1.0, 0.0], [0.7071, 0.7071], [0.0, 0.0]]
    assert similarity_matrix([], [[1.0]]).shape == (0, 1)


def test_edition_diff_lists_added_removed_changed_in_reading_order() -> None:
    april = ["Title", "Old rule applies.", "Fines reach 3%.", "Globex: not signed", "References"]
    june = ["Title", "Deadline moved to 30 September 2026.", "Fines reach 3%.", "Globex: signed", "References"]
    sims = [
        [1.0, 0.1, 0.0, 0.0, 0.0],
        [0.1, 0.3, 0.1, 0.0, 0.0],
        [0.0, 0.1, 1.0, 0.1, 0.0],
        [0.0, 0.0, 0.1, 0.8, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.0],
    ]
    diff = edition_diff(april, june, sims)
    assert [(c.kind, c.before, c.after) for c in diff.changes] == [
        ("removed", "Old rule applies.", None),
        ("added", None, "Deadline moved to 30 September 2026."),
        ("changed", "Globex: not signed", "Globex: signed"),
    ]
    assert diff.unchanged == 3
    assert [c.after for c in diff.added] == ["Deadline moved to 30 September 2026."]
    assert [c.before for c in diff.removed] == ["Old rule applies."]
    assert [(c.before_index, c.after_index, c.similarity) for c in diff.changed] == [((3,), (3,), 0.8)]


def test_edition_diff_of_identical_editions_is_empty() -> None:
    texts = ["One.", "Two.", "Three."]
    diff = edition_diff(texts, texts, np.eye(3))
    assert (diff.changes, diff.unchanged) == ([], 3)


# --- the diff functions of app/diff_cmd.py --------------------------------------------------------


class CountingEmbed:
    """Deterministic embeddings from a table of concepts; records what it was asked to embed."""

    def __init__(self, concepts: dict[str, list[float]]) -> None:
        self.concepts = concepts
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self.concepts.get(t, [0.0, 0.0, 0.0, 1.0]) for t in texts]


def test_sentence_similarities_embeds_only_changed_sentences_across_editions() -> None:
    embed = CountingEmbed({"Globex: not signed.": [1.0, 0.2, 0.0, 0.0], "Globex: signed.": [1.0, 0.0, 0.0, 0.0]})
    a = ["Same.", "Globex: not signed."]
    b = ["Same.", "Globex: signed.", "Same."]
    sims = sentence_similarities(a, b, embed, shortcut_identical=True)
    assert embed.calls == [["Globex: not signed.", "Globex: signed."]]
    assert np.round(sims, 3).tolist() == [[1.0, 0.0, 1.0], [0.0, 0.981, 0.0]]
    # Between languages every sentence is embedded once.
    sentence_similarities(a, b, embed)
    assert embed.calls[-1] == ["Same.", "Globex: not signed.", "Globex: signed."]


def test_diff_documents_twin_reports_what_each_language_lacks() -> None:
    english = make_document(
        "en/x", "en", "Widget Act", "rules/x", paragraphs=("The Act applies from 1 March 2025.", "Fines reach 3%.")
    )
    chinese = make_document(
        "zh/x",
        "zh",
        "小部件法",
        "rules/x",
        paragraphs=("该法自2025年3月1日起施行。", "2026年5月延长了登记期限。", "罚款最高为营业额的3%。"),
    )
    embed = CountingEmbed(
        {
            "The Act applies from 1 March 2025.": [1.0, 0.0, 0.0, 0.0],
            "该法自2025年3月1日起施行。": [0.9, 0.1, 0.0, 0.0],
            "Fines reach 3%.": [0.0, 1.0, 0.0, 0.0],
            "罚款最高为营业额的3%。": [0.1, 0.9, 0.0, 0.0],
            "2026年5月延长了登记期限。": [0.0, 0.0, 1.0, 0.0],
        }
    )
    diff = diff_documents(english, chinese, embed, mode="twin")
    assert [(c.kind, c.after.text if c.after else None) for c in diff.changes] == [
        ("only_in_b", "2026年5月延长了登记期限。")
    ]
    assert diff.unchanged == 2
    assert diff.changes[0].after is not None and diff.changes[0].after.start == chinese.text.index("2026年5月")
    text = format_diff(diff)
    assert "Only in the June 2026 Chinese edition, as of 2026-06-28, § 小部件法:" in text
    assert "“2026年5月延长了登记期限。”" in text
    assert text.endswith("2 aligned, 0 only in en, 1 only in zh.")


def test_diff_documents_editions_labels_each_side() -> None:
    april = dataclasses.replace(
        make_document("en/x", "en", "Widget Act", "rules/x", paragraphs=("Fines reach 3%.", "Globex: not signed.")),
        as_of="2026-04-21",
        edition="April 2026 English edition",
    )
    june = make_document("x", "en", "Widget Act", "rules/x", paragraphs=("Fines reach 3%.", "Globex: signed."))
    embed = CountingEmbed({"Globex: not signed.": [1.0, 0.2, 0.0, 0.0], "Globex: signed.": [1.0, 0.0, 0.0, 0.0]})
    diff = diff_documents(april, june, embed)
    assert format_diff(diff).splitlines() == [
        "Widget Act: what changed from the April 2026 English edition, as of 2026-04-21 to the June 2026 English "
        "edition, as of 2026-06-28",
        "  https://example.org/en/x/",
        "  https://example.org/x/",
        "",
        "Changed in § Widget Act:",
        "  - April 2026 English edition, as of 2026-04-21: “Globex: not signed.”",
        "  + June 2026 English edition, as of 2026-06-28: “Globex: signed.”",
        "",
        "0 added, 0 removed, 1 changed, 1 unchanged.",
    ]
    assert diff.to_json()["changes"][0]["similarity"] == 0.981
    with pytest.raises(ValueError, match="unknown diff mode 'sideways'"):
        diff_documents(april, june, embed, mode="sideways")


def test_document_sentences_keep_offsets_and_sections() -> None:
    document = make_document("en/y", "en", "Page", "y", paragraphs=("One. Two!", "Three?"))
    assert [(s.text, s.start, s.end, s.section) for s in document_sentences(document)] == [
        ("One.", 0, 4, "Page"),
        ("Two!", 5, 9, "Page"),
        ("Three?", 10, 16, "Page"),
    ]


def test_resolve_page_by_url_id_and_fragment() -> None:
    documents = [
        make_document("en/rules/x", "en", "X", "rules/x"),
        make_document("rules/x", "en", "X", "rules/x"),
        make_document("zh/rules/x", "zh", "X", "rules/x"),
        make_document("en/rules/xy", "en", "XY", "rules/xy"),
    ]
    assert [d.id for d in resolve_page(documents, "https://example.org/rules/x")] == ["rules/x"]
    assert [d.id for d in resolve_page(documents, "zh/rules/x")] == ["zh/rules/x"]
    assert [d.id for d in resolve_page(documents, "rules/x/")] == ["en/rules/x", "rules/x", "zh/rules/x"]
    assert [d.id for d in resolve_page(documents, "xy")] == ["en/rules/xy"]
    with pytest.raises(PageError, match=r"'rules' matches 2 pages \(rules/x, rules/xy\)"):
        resolve_page(documents, "rules")
    with pytest.raises(PageError, match="no page in the index matches 'nope'"):
        resolve_page(documents, "nope")
    with pytest.raises(PageError, match="PAGE is empty"):
        resolve_page(documents, "  ")
