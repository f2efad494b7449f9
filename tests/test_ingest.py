"""ingest/: sentence boundaries and section-aware chunks."""

from __future__ import annotations

from pathlib import Path

from govqa.corpus.loader import load_source
from govqa.corpus.sources import locate_source, read_sources
from govqa.ingest.chunking import chunk_document
from govqa.ingest.sentences import split_sentences
from govqa.settings import PROJECT_ROOT

from conftest import FIXTURE_SOURCES


def test_english_sentences_respect_abbreviations() -> None:
    text = "The U.S. Congress acted, e.g. in art. 5 of the Act. It took effect on 1 Jan. 2025! Did it? Yes."
    assert split_sentences(text) == [
        "The U.S. Congress acted, e.g. in art. 5 of the Act.",
        "It took effect on 1 Jan. 2025!",
        "Did it?",
        "Yes.",
    ]


def test_chinese_sentences() -> None:
    assert split_sentences("该法自2025年3月1日起施行。罚款最高为3%；监管机构是谁？答案：“办公室！”之后") == [
        "该法自2025年3月1日起施行。",
        "罚款最高为3%；",
        "监管机构是谁？",
        "答案：“办公室！”",
        "之后",
    ]


def test_decimals_and_versions_are_not_boundaries() -> None:
    assert split_sentences("Framework 2.0 was released. Version v3.1 followed.") == [
        "Framework 2.0 was released.",
        "Version v3.1 followed.",
    ]


def _documents():  # type: ignore[no-untyped-def]
    spec = read_sources(FIXTURE_SOURCES)[0]
    return load_source(spec, locate_source(spec, PROJECT_ROOT, Path("/nonexistent"), clone=False)).documents


def test_chunks_are_verbatim_spans_within_one_section() -> None:
    for document in _documents():
        for chunk in chunk_document(document, max_chars=120):
            assert document.text[chunk.start : chunk.end] == chunk.text
            sections = [s for s in document.sections if s.start <= chunk.start and chunk.end <= s.end]
            assert sections, f"chunk {chunk.id} crosses a section"
            assert len(chunk.text) <= 120


def test_widget_act_chunks_exactly() -> None:
    april = next(d for d in _documents() if d.id == "fixture:en/rules/eu/widget-act")
    chunks = chunk_document(april, max_chars=150)
    assert [(c.kind, c.text) for c in chunks[1:3]] == [
        (
            "text",
            "The Widget Safety Act applies to every household widget placed on the EU market. It entered into force on 1 March 2025.",
        ),
        ("text", "Providers must register each widget model with the Widget Office before sale."),
    ]
    rows = [c for c in chunks if c.kind == "table_row"]
    assert [r.text for r in rows] == [
        "Company: Acme Widgets; Signed: Signed; Date: 2025-04-02",
        "Company: Globex; Signed: Not signed; Date: —",
    ]
    assert rows[0].url == "https://example.org/en/rules/eu/widget-act/#signatories"
    assert rows[0].section == "Signatories" and rows[0].as_of == "2026-04-21" and rows[0].lang == "en"
    assert len({c.content_hash for c in chunks}) == len(chunks)
