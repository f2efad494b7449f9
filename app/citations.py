"""Citations and their formatting (pure functions)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from govqa.ingest.chunking import Chunk

# A citation marker in an answer: [n], n the citation's number.
MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Citation:
    n: int
    url: str  # page URL with section anchor
    page_url: str
    title: str
    section: str
    lang: str
    as_of: str
    edition: str
    quote: str  # verbatim from the page's cleaned text
    source_path: str
    chunk_id: str
    doc_id: str
    start: int  # offsets of the quote in the page's cleaned text
    end: int
    page: int | None = None  # PDFs: the page of the quote, cited as "p. 12"
    article: str = ""  # official texts: the unit quoted ("Article 50(2)", "第七条")
    # Official texts a site passage cites (app/sources.py): title, article, url, quote of the article.
    sources: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def cite(n: int, chunk: Chunk, start: int, end: int, document_text: str) -> Citation:
    """A citation of document_text[start:end], which lies inside chunk."""
    return Citation(
        n=n,
        url=chunk.url,
        page_url=chunk.page_url,
        title=chunk.title,
        section=chunk.section,
        lang=chunk.lang,
        as_of=chunk.as_of,
        edition=chunk.edition,
        quote=document_text[start:end],
        source_path=chunk.source_path,
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        start=start,
        end=end,
        page=chunk.page or None,
    )


def dated(citation: Citation) -> str:
    """ "as of 2026-04-21, April 2026 English edition" — which edition a citation comes from."""
    parts = [f"as of {citation.as_of}" if citation.as_of else "undated", citation.edition]
    return ", ".join(p for p in parts if p)


def on_page(citation: Citation) -> str:
    """ ", p. 12" for a quote from a PDF page, else ""."""
    return f", p. {citation.page}" if citation.page else ""


def cited_as(citation: Citation) -> str:
    """How the passage is named: "AI Act, Article 50(2)" for an official text, else "Title › Section"."""
    if citation.article:
        return (
            f"{citation.title}, {citation.article}"
            if citation.title.isascii()
            else f"{citation.title} {citation.article}"
        )
    return f"{citation.title} › {citation.section}"


def format_reference(citation: Citation) -> str:
    """One line of a references list: [n] Title › Section[, p. N] (lang, as of …). URL"""
    return (
        f"[{citation.n}] {cited_as(citation)}{on_page(citation)} ({citation.lang}, {dated(citation)}). {citation.url}"
    )


def format_plain(answer: str, citations: list[Citation]) -> str:
    """The answer with a numbered references list, as plain text."""
    lines = [answer.strip(), "", "References:"]
    lines += [f"{format_reference(c)}\n    “{c.quote}”" for c in citations]
    return "\n".join(lines)


def format_markdown_footnotes(answer: str, citations: list[Citation]) -> str:
    """The answer with Markdown footnotes ([^n]) that carry quote, page, section and date."""
    body = MARKER.sub(lambda m: f"[^{m.group(1)}]", answer.strip())
    notes = [
        f"[^{c.n}]: “{c.quote}” — [{c.title} › {c.section}{on_page(c)}]({c.url}) ({c.lang}, {dated(c)})"
        for c in citations
    ]
    return body + "\n\n" + "\n".join(notes)
