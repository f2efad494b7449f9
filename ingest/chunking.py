"""Section-aware chunking into passages that can be quoted verbatim.

Chunks never cross a section, split only at sentence boundaries (a sentence longer
than the budget is cut at a clause or word boundary), every Markdown table row
is a chunk of its own, and site chrome (ingest/chrome.py) is in no chunk. Each chunk's text is exactly ``document.text[start:end]``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from typing import Any

from govqa.corpus.documents import Document, guess_language
from govqa.ingest.chrome import is_site_chrome
from govqa.ingest.sentences import sentence_spans

DEFAULT_MAX_CHARS = 700
_SOFT_BREAK = re.compile(r"[，,、；;:：—)\s]")


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    text: str
    start: int
    end: int
    kind: str  # "text" or "table_row"
    url: str  # page URL with the section anchor
    page_url: str
    title: str
    section: str  # section path joined with " › "
    lang: str
    as_of: str
    edition: str
    jurisdiction: str
    company: str
    source_path: str
    content_hash: str
    page: int = 0  # PDFs: the page the chunk lies on (chunks never cross a page); 0 elsewhere

    def embedding_text(self) -> str:
        """What embedders and the keyword index see: the passage with its page and section."""
        return f"{self.title} › {self.section}\n{self.text}"

    def metadata(self) -> dict[str, Any]:
        """Flat metadata (str/int only) for vector stores."""
        data = asdict(self)
        data.pop("text")
        data.pop("id")
        return data


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        breaks = [m.end() for m in _SOFT_BREAK.finditer(window) if m.end() > max_chars // 2]
        cut = start + (breaks[-1] if breaks else max_chars)
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def chunk_spans(document: Document, max_chars: int = DEFAULT_MAX_CHARS) -> list[tuple[int, int, int, str]]:
    """(start, end, section index, kind) of each chunk of a document, in reading order."""
    text = document.text
    result: list[tuple[int, int, int, str]] = []
    current: list[tuple[int, int]] = []
    current_section = -1

    def flush() -> None:
        if current:
            result.append((current[0][0], current[-1][1], current_section, "text"))
            current.clear()

    for span in document.spans:
        if span.section != current_section:
            flush()
            current_section = span.section
        if span.kind == "heading":
            continue
        if span.kind == "table_row":
            flush()
            if not is_site_chrome(text[span.start : span.end]):
                result.append((span.start, span.end, span.section, "table_row"))
            continue
        for s_start, s_end in sentence_spans(text, span.start, span.end):
            if is_site_chrome(text[s_start:s_end]):
                flush()  # a chunk is one contiguous span: end it before the chrome, start after
                continue
            for piece in _cut_long(text, s_start, s_end, max_chars):
                if current and piece[1] - current[0][0] > max_chars:
                    flush()
                current.append(piece)
    flush()
    return result


def chunk_document(document: Document, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    chunks = []
    for start, end, section_index, kind in chunk_spans(document, max_chars):
        section = document.sections[section_index]
        body = document.text[start:end]
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
        chunks.append(
            Chunk(
                id=f"{document.id}@{start}-{end}",
                doc_id=document.id,
                text=body,
                start=start,
                end=end,
                kind=kind,
                url=document.section_url(section),
                page_url=document.url,
                title=document.title,
                section=" › ".join(section.path),
                lang=guess_language(body)
                if document.pages or document.page_key.startswith("archives")
                else document.lang,
                as_of=document.as_of or "",
                edition=document.edition,
                jurisdiction=document.jurisdiction,
                company=document.company,
                source_path=document.source_path,
                content_hash=digest,
                page=document.page_at(start),
            )
        )
    return chunks
