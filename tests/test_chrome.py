"""Site chrome is never in a chunk, and leaving it out moves no offset."""

from __future__ import annotations

import pytest

from govqa.corpus.documents import Document
from govqa.ingest.chrome import is_site_chrome
from govqa.ingest.chunking import chunk_document

from conftest import FULL_CORPUS


@pytest.mark.parametrize(
    "text",
    [
        "Cite this page (generated 2026-04-21):",
        "引用本页（生成于 2026-04-21）：",
        "Comparative AI. Commentary on the Widget Act. Accessed YYYY-MM-DD. https://example.org/x/",
        "Comparative AI. 《小部件法》解读. 访问于 YYYY-MM-DD. https://example.org/zh/x/",
        "详见 中国规则索引。",
        "参见 方法论 §2 · 欧盟。",
        "See Methodology §1 · Inclusion criteria.",
        "See above.",
    ],
)
def test_chrome_is_recognised(text: str) -> None:
    assert is_site_chrome(text)


@pytest.mark.parametrize(
    "text",
    [
        "The Act took effect on 15 August 2023.",
        "See the dedicated rule page GPAI Code of Practice. Key points:",
        "参见各公司页的训练数据分析：OpenAI / Anthropic",
        "Seed-Coder (code)",
        "Users see a label on every generated image, and the provider keeps logs for six months.",
        "",
    ],
)
def test_content_is_not_chrome(text: str) -> None:
    assert not is_site_chrome(text)


def test_chunks_skip_chrome_without_moving_offsets(fixture_pipeline) -> None:  # type: ignore[no-untyped-def]
    index = fixture_pipeline.index
    for chunk in index.chunks.values():
        document = index.documents[chunk.doc_id]
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert "Cite this page" not in chunk.text and "YYYY-MM-DD" not in chunk.text, chunk.id


def test_a_chrome_sentence_between_content_splits_the_chunk() -> None:
    from govqa.corpus.documents import Section, Span

    text = "Heading\nThe Act applies from 2025. See above. Fines reach 3% of turnover."
    body = text.index("The Act")
    document = Document(
        id="t:doc",
        source_id="t",
        source_path="doc.md",
        url="https://example.org/doc/",
        lang="en",
        title="Doc",
        description="",
        as_of=None,
        edition="",
        page_key="doc",
        text=text,
        sections=[Section(title="Doc", level=1, anchor="", path=("Doc",), start=0, end=len(text))],
        spans=[Span(kind="paragraph", start=body, end=len(text), section=0)],
    )
    chunks = chunk_document(document, max_chars=700)
    assert [c.text for c in chunks] == ["The Act applies from 2025.", "Fines reach 3% of turnover."]
    assert all(text[c.start : c.end] == c.text for c in chunks)


@pytest.mark.slow
@pytest.mark.skipif(not FULL_CORPUS.is_dir(), reason="the full corpus is not beside the project")
def test_no_chunk_of_the_full_corpus_holds_chrome() -> None:
    from govqa.app.pipeline import load_corpus
    from govqa.ingest.sentences import sentence_spans
    from govqa.settings import Settings

    documents = load_corpus(Settings()).documents
    offenders = []
    for document in documents:
        for chunk in chunk_document(document):
            assert document.text[chunk.start : chunk.end] == chunk.text
            units = [(0, len(chunk.text))] if chunk.kind == "table_row" else sentence_spans(chunk.text)
            offenders += [chunk.id for s, e in units if is_site_chrome(chunk.text[s:e])]
            if "Cite this page" in chunk.text or "引用本页" in chunk.text or "YYYY-MM-DD" in chunk.text:
                offenders.append(chunk.id)
    assert offenders == []
    assert sum("Cite this page" in d.text or "引用本页" in d.text for d in documents) >= 8  # the pages keep it
