"""Small Document objects built in code, for tests of functions that read documents."""

from __future__ import annotations

from govqa.corpus.documents import Document, Section, Span


def make_document(
    doc_id: str,
    lang: str,
    title: str,
    page_key: str,
    paragraphs: tuple[str, ...] = (),
    table_rows: tuple[str, ...] = (),
    twin_id: str | None = None,
    metadata: dict[str, str] | None = None,
    company: str = "",
) -> Document:
    """A small document: paragraphs then one table (rows as corpus.markdown writes them)."""
    pieces: list[tuple[str, str]] = [("paragraph", p) for p in paragraphs] + [("table_row", r) for r in table_rows]
    text, spans, offset = "", [], 0
    for kind, piece in pieces:
        if text:
            text += "\n"
            offset += 1
        spans.append(Span(kind, offset, offset + len(piece), 0))
        text += piece
        offset += len(piece)
    return Document(
        id=doc_id,
        source_id="test",
        source_path=f"{doc_id}.md",
        url=f"https://example.org/{doc_id}/",
        lang=lang,
        title=title,
        description="",
        as_of="2026-06-28",
        edition="June 2026 English edition" if lang == "en" else "June 2026 Chinese edition",
        page_key=page_key,
        text=text,
        sections=[Section(title, 0, "", (title,), 0, len(text))],
        spans=spans,
        twin_id=twin_id,
        metadata=metadata or {},
        company=company,
    )
