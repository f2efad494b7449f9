"""A folder of the user's own documents as a source: PDF, HTML and Markdown files.

``kind = "folder"`` in the source manifest (``govqa sources add`` writes it). Every file
under the folder is read, sub-folders included; hidden files and folders (``.git``) are
passed over. A PDF becomes one document whose sections follow its outline and are cut at
page boundaries (``corpus/pdf.py``), so every chunk and citation lies on one page; pages
without a text layer are listed in the ingest report's skipped list.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from govqa.corpus.documents import Document, Page, Section, Span, assemble, guess_language
from govqa.corpus.html import html_blocks
from govqa.corpus.loader import LoadResult, link_twins_and_editions
from govqa.corpus.markdown import markdown_blocks, split_frontmatter
from govqa.corpus.pdf import (
    NO_TEXT_LAYER,
    OutlineEntry,
    PdfError,
    heading_key,
    page_blocks,
    read_pdf,
    strip_running_lines,
)
from govqa.corpus.sources import SourceSpec

FOLDER_SUFFIXES = (".pdf", ".html", ".htm", ".md", ".mdx")
# Far above any report or standard we expect; a bigger file is more likely a mistake than a source.
MAX_FILE_BYTES = 200 * 1024 * 1024


def load_folder(spec: SourceSpec, root: Path) -> LoadResult:
    """Read every PDF, HTML and Markdown file under root. Files that cannot be used are skipped with a reason."""
    result = LoadResult()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if path.is_symlink():
            result.skipped.append((rel, "symbolic link (not followed)"))
            continue
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix not in FOLDER_SUFFIXES:
            result.skipped.append((rel, f"not a PDF, HTML or Markdown file ({suffix or 'no extension'})"))
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            result.skipped.append((rel, f"larger than {MAX_FILE_BYTES // 2**20} MB"))
            continue
        if suffix == ".pdf":
            document = _load_pdf(spec, path, rel, result.skipped)
        else:
            try:
                raw = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                result.skipped.append((rel, "not UTF-8 text"))
                continue
            document = _load_text(spec, path, rel, raw, result.skipped)
        if document is None:
            continue
        if not document.text.strip():
            result.skipped.append((rel, "no text"))
            continue
        result.documents.append(document)
    link_twins_and_editions(result.documents)
    return result


def _document(spec: SourceSpec, rel: str, title: str, text: str, as_of: str | None = None) -> dict[str, object]:
    """The fields every document of a folder source shares."""
    return {
        "id": f"{spec.id}:{rel}",
        "source_id": spec.id,
        "source_path": rel,
        "url": spec.base_url + quote(rel),
        "lang": guess_language(text),
        "title": title,
        "description": "",
        "as_of": as_of,
        "edition": "",
        # The file name keeps its extension, so report.pdf and report.md stay two documents.
        "page_key": f"{spec.id}/{rel}",
    }


def _load_text(spec: SourceSpec, path: Path, rel: str, raw: str, skipped: list[tuple[str, str]]) -> Document | None:
    if path.suffix.lower() in (".html", ".htm"):
        html_title, blocks = html_blocks(raw)
        title = html_title or path.stem
        # A local HTML file's headings carry no ids we know, so citations link to the file itself.
        text, sections, spans, references = assemble(blocks, title, use_anchors=False)
        as_of = None
    else:
        frontmatter, body = split_frontmatter(raw)
        if frontmatter.get("draft") is True:
            skipped.append((rel, "draft: true"))
            return None
        title = str(frontmatter.get("title") or path.stem)
        text, sections, spans, references = assemble(markdown_blocks(body), title)
        date = frontmatter.get("snapshotDate") or frontmatter.get("date")
        as_of = str(date) if date else None
    return Document(
        **_document(spec, rel, title, text, as_of),  # type: ignore[arg-type]
        text=text,
        sections=sections,
        spans=spans,
        references=references,
    )


def _load_pdf(spec: SourceSpec, path: Path, rel: str, skipped: list[tuple[str, str]]) -> Document | None:
    try:
        pdf = read_pdf(path)
    except PdfError as error:
        skipped.append((rel, str(error)))
        return None
    title = pdf.title or path.stem
    text, sections, spans, pages, blank = assemble_pages(strip_running_lines(pdf.texts), pdf.outline, title)
    if not pages:
        skipped.append((rel, f"{NO_TEXT_LAYER.replace('page', 'PDF')} on all {len(pdf.texts)} pages"))
        return None
    skipped += [(f"{rel} p. {n}", NO_TEXT_LAYER) for n in blank]
    return Document(
        **_document(spec, rel, title, text),  # type: ignore[arg-type]
        text=text,
        sections=sections,
        spans=spans,
        pages=pages,
        metadata={"format": "pdf", "page_count": str(len(pdf.texts))},
    )


def assemble_pages(
    texts: list[str], outline: list[OutlineEntry], title: str
) -> tuple[str, list[Section], list[Span], list[Page], list[int]]:
    """Join the pages' blocks into one text: (text, sections, spans, pages, numbers of pages without text).

    Pure. An outline entry opens its section at the heading line that reads as its title,
    else at the top of its page; every section is also cut where a page begins, and its
    anchor is ``page=N``.
    """
    pieces: list[str] = []
    offset = 0
    sections: list[Section] = []
    spans: list[Span] = []
    pages: list[Page] = []
    blank: list[int] = []
    stack: list[OutlineEntry] = []  # the enclosing outline entries, outermost first

    def enter(entry: OutlineEntry) -> None:
        while stack and stack[-1].level >= entry.level:
            stack.pop()
        stack.append(entry)

    def open_section(start: int, number: int) -> None:
        path = tuple(e.title for e in stack) or (title,)
        sections.append(Section(path[-1], len(stack), f"page={number}", path, start, start))

    def close_section(end: int) -> None:
        if sections and sections[-1].end < end:
            sections[-1] = Section(**{**sections[-1].__dict__, "end": end})

    for number, raw in enumerate(texts, start=1):
        on_page = [e for e in outline if e.page == number]
        blocks = page_blocks(raw, [e.title for e in on_page])
        headings = {heading_key(text) for kind, text in blocks if kind == "heading"}
        # Entries whose title is not printed on the page start at its top.
        for entry in on_page:
            if heading_key(entry.title) not in headings:
                enter(entry)
        if not any(kind == "paragraph" for kind, _ in blocks):
            blank.append(number)
            for entry in on_page:
                enter(entry)  # an outline entry on a blank page still encloses what follows
            continue
        if pieces:
            pieces.append("\n")
            offset += 1
        page_start = offset
        open_section(offset, number)
        for kind, block in blocks:
            if pieces and offset > page_start:
                pieces.append("\n")
                offset += 1
            start = offset
            pieces.append(block)
            offset += len(block)
            if kind == "heading":
                entry = next(e for e in on_page if heading_key(e.title) == heading_key(block))
                if sections[-1].end > sections[-1].start:
                    close_section(start)
                else:
                    sections.pop()  # nothing but this heading's page top: no empty section
                enter(entry)
                open_section(start, number)
            spans.append(Span(kind, start, offset, len(sections) - 1))
            close_section(offset)
        pages.append(Page(number, page_start, offset))
    return "".join(pieces), sections, spans, pages, blank
