"""Documents with provenance: cleaned text, sections with live-site anchors, cited references."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from govqa.corpus.cjk import CJK
from govqa.corpus.markdown import Block
from govqa.corpus.references import Reference, is_reference_heading, parse_reference
from govqa.corpus.slugs import Slugger


@dataclass(frozen=True)
class Span:
    """One block's place in the cleaned text."""

    kind: str
    start: int
    end: int
    section: int  # index into Document.sections


@dataclass(frozen=True)
class Section:
    title: str
    level: int  # 0 for the text before the first heading
    anchor: str  # "" where the page has no heading id (preamble, archives)
    path: tuple[str, ...]  # titles of the enclosing headings, outermost first, this one last
    start: int
    end: int
    article: str = ""  # official texts: the unit this section is, as cited ("Article 50(2)", "第七条")


@dataclass(frozen=True)
class Page:
    """One page of a paged document (PDF) in the cleaned text; pages without text are absent."""

    number: int  # 1-based, as printed in citations ("p. 12")
    start: int
    end: int


@dataclass
class Document:
    id: str
    source_id: str
    source_path: str  # relative to the source root, e.g. src/content/docs/en/rules/eu/ai-act.md
    url: str  # public page URL without anchor
    lang: str  # en | zh
    title: str
    description: str
    as_of: str | None  # the page's snapshotDate
    edition: str  # e.g. "April 2026 English edition"
    page_key: str  # the route without its locale folder: twins and editions share it
    text: str
    sections: list[Section]
    spans: list[Span]
    references: list[Reference] = field(default_factory=list)
    jurisdiction: str = "international"
    company: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    twin_id: str | None = None  # the same page in the other language
    other_edition_ids: list[str] = field(default_factory=list)  # the same page and language, another date
    pages: list[Page] = field(default_factory=list)  # PDFs only: where each page's text lies

    def page_at(self, offset: int) -> int:
        """The number of the page holding the offset; 0 for documents without pages."""
        for page in self.pages:
            if page.start <= offset < page.end:
                return page.number
        return 0

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def section_url(self, section: Section) -> str:
        return f"{self.url}#{section.anchor}" if section.anchor else self.url


def assemble(
    blocks: list[Block], title: str, use_anchors: bool = True
) -> tuple[str, list[Section], list[Span], list[Reference]]:
    """Join cleaned blocks into one text; record sections (with anchors) and block spans.

    Pure: the same blocks always give the same text, offsets and anchors.
    """
    slugger = Slugger()
    pieces: list[str] = []
    offset = 0
    sections: list[Section] = []
    spans: list[Span] = []
    references: list[Reference] = []
    stack: list[tuple[int, str]] = []  # (level, title) of enclosing headings
    open_section = {"title": title, "level": 0, "anchor": "", "path": (title,), "start": 0}
    in_references_level: int | None = None

    def close(end: int) -> None:
        sections.append(Section(end=end, **open_section))  # type: ignore[arg-type]

    for block in blocks:
        if pieces:
            pieces.append("\n")
            offset += 1
        start = offset
        pieces.append(block.text)
        offset += len(block.text)
        if block.kind == "heading":
            close(start)
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, block.text))
            anchor = slugger.slug(block.text) if use_anchors else ""
            open_section = {
                "title": block.text,
                "level": block.level,
                "anchor": anchor,
                "path": tuple(t for _, t in stack),
                "start": start,
            }
            if in_references_level is not None and block.level <= in_references_level:
                in_references_level = None
            if is_reference_heading(block.text):
                in_references_level = block.level
        elif block.kind == "list_item" and in_references_level is not None:
            reference = parse_reference(block.raw, block.text)
            if reference:
                references.append(reference)
        spans.append(Span(block.kind, start, offset, len(sections)))
    close(offset)
    # Drop the empty preamble when the page starts with a heading, renumbering spans.
    if sections and sections[0].start == sections[0].end and len(sections) > 1:
        sections = sections[1:]
        spans = [Span(s.kind, s.start, s.end, s.section - 1) for s in spans]
    return "".join(pieces), sections, spans, references


_JURISDICTIONS = {"china": "china", "eu": "eu", "us": "us"}


def classify(page_key: str) -> tuple[str, str]:
    """(jurisdiction, company) from a page's route, e.g. rules/eu/ai-act → ("eu", "")."""
    parts = page_key.strip("/").split("/")
    if parts and parts[0] == "companies":
        return "international", parts[1] if len(parts) > 1 else ""
    if parts and parts[0] == "archives":
        return "china", ""
    for part in parts[1:]:
        if part in _JURISDICTIONS:
            return _JURISDICTIONS[part], ""
    return "international", ""


def guess_language(text: str) -> str:
    sample = text[:4000]
    letters = sum(c.isalpha() for c in sample) or 1
    return "zh" if len(CJK.findall(sample)) / letters > 0.3 else "en"
