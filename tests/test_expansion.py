"""Bilingual query expansion from the corpus's own term pairs."""

from __future__ import annotations

from pathlib import Path

from govqa.corpus.loader import load_source
from govqa.corpus.sources import locate_source, read_sources
from govqa.index.expansion import bilingual_terms, expand_query
from govqa.settings import PROJECT_ROOT

from conftest import FIXTURE_SOURCES


def _terms() -> list[tuple[str, str]]:
    spec = read_sources(FIXTURE_SOURCES)[0]
    documents = load_source(spec, locate_source(spec, PROJECT_ROOT, Path("/nonexistent"), clone=False)).documents
    return bilingual_terms(documents)


def test_twin_titles_become_term_pairs() -> None:
    assert _terms() == [("Synthetic Content Labeling Rules", "合成内容标识规则"), ("Widget Safety Act", "小部件安全法")]


def test_expansion_adds_the_other_language_name_once() -> None:
    terms = _terms()
    assert expand_query("小部件安全法的罚款是多少？", terms) == "小部件安全法的罚款是多少？ Widget Safety Act"
    assert (
        expand_query("When did the widget safety act start?", terms)
        == "When did the widget safety act start? 小部件安全法"
    )
    assert expand_query("Widget Safety Act 小部件安全法", terms) == "Widget Safety Act 小部件安全法"
    assert expand_query("What is a widget?", terms) == "What is a widget?"


def test_short_or_untranslated_titles_are_not_used() -> None:
    from govqa.index.expansion import _usable

    assert not _usable("About", "项目简介")  # would fire on every "about"
    assert not _usable("NVIDIA", "NVIDIA")
    assert _usable("Methodology", "方法论") and _usable("Usage Policy", "使用政策")
