"""Official texts (laws, regulations, executive orders, frameworks) as documents with article structure.

An official source is a folder of Markdown files with YAML frontmatter (title, jurisdiction,
doc_type, adopted, effective, official_url, lang, licence_note, ...) listed in its
MANIFEST.tsv. Headings are chapters and articles (``### 第七条``, ``### Article 50 …``,
``## ANNEX III …``, ``### Sec. 4. …``); numbered paragraphs inside them ("2. Providers …",
"4.2. …", "GOVERN 1.1: …", the recitals "(12) …") become sub-sections of their own, so a
chunk never crosses an article or paragraph and every passage knows the unit it quotes.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from govqa.corpus.articles import ArticleRef, heading_ref, paragraph_ref
from govqa.corpus.documents import Document, Section, Span
from govqa.corpus.loader import LoadResult, link_twins_and_editions, read_manifest
from govqa.corpus.markdown import Block, clean_inline, split_frontmatter
from govqa.corpus.sources import SourceSpec

OFFICIAL = "official"  # Document.metadata["kind"] of an official text
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_CLOSING = re.compile(r"^Done at [A-Z][a-z]+, \d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EDITION_SUFFIX = re.compile(r"-(?:19|20)\d\d$")  # cybersecurity-law-2016 is an edition of cybersecurity-law
FRONTMATTER_FIELDS = (
    "title_en",
    "title_zh",
    "issuer",
    "doc_type",
    "adopted",
    "published",
    "effective",
    "official_url",
    "consolidated_text_url",
    "version_note",
    "source_repo",
    "source_commit",
    "retrieved",
)


def is_official(document: Document) -> bool:
    return document.metadata.get("kind") == OFFICIAL


def normalise_url(url: str) -> str:
    """Compare URLs the way a reader would: no scheme, no www, no trailing slash, no anchor,
    percent-escapes decoded (eur-lex links appear as both ``CELEX%3A…`` and ``CELEX:…``)."""
    parts = urlsplit(unquote(url.strip()))
    host = parts.netloc.lower().removeprefix("www.")
    query = parts.query.rstrip("/")
    return f"{host}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")


def text_blocks(body: str) -> list[Block]:
    """Headings and paragraphs (blank-line separated) of an official text, inline markup removed.

    Numbered paragraphs keep their numbers ("2. Providers …"): the site's Markdown list
    parser would drop them, and they are what a citation names.
    """
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            text = clean_inline(" ".join(paragraph))
            if text:
                blocks.append(Block("paragraph", text))
            paragraph.clear()

    for line in body.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            flush()
        elif heading := _HEADING.match(line):
            flush()
            text = clean_inline(heading.group(2))
            if text:
                blocks.append(Block("heading", text, level=len(heading.group(1))))
        else:
            paragraph.append(line.strip())
    flush()
    return blocks


def eurlex_anchor(ref: ArticleRef) -> str:
    """EUR-Lex's element ids in the Official Journal HTML: art_50, anx_III, rct_12."""
    prefix = {"article": "art", "annex": "anx", "recital": "rct"}.get(ref.kind)
    return f"{prefix}_{ref.number}" if prefix else ""


def structure(
    blocks: list[Block], title: str, lang: str, anchors: bool = False
) -> tuple[str, list[Section], list[Span]]:
    """Join blocks into one text with sections for headings and for numbered paragraphs.

    Pure. A section's ``article`` names the unit it belongs to ("Article 50(2)", "第七条");
    sections above articles (chapters, the preamble) have none.
    """
    pieces: list[str] = []
    offset = 0
    sections: list[Section] = []
    spans: list[Span] = []
    stack: list[tuple[int, str]] = []
    heading: dict[str, Any] = {"title": title, "level": 0, "anchor": "", "path": (title,), "article": ""}
    unit_ref: ArticleRef | None = None  # the article/annex/section the current heading opened
    open_section: dict[str, Any] = {**heading, "start": 0}
    in_recitals = False

    def close(end: int) -> None:
        sections.append(Section(end=end, **open_section))

    for block in blocks:
        if pieces:
            pieces.append("\n")
            offset += 1
        start = offset
        pieces.append(block.text)
        offset += len(block.text)
        if block.kind == "heading":
            close(start)
            in_recitals = False
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, block.text))
            ref = heading_ref(block.text)
            # A sub-heading inside an article or annex (ANNEX VII "1. Introduction") stays in that unit.
            if ref is None and unit_ref is not None and block.level > 3:
                ref = unit_ref
            unit_ref = ref
            heading = {
                "title": block.text,
                "level": block.level,
                "anchor": eurlex_anchor(ref) if anchors and ref else "",
                "path": tuple(t for _, t in stack),
                "article": ref.label(lang) if ref else "",
            }
            open_section = {**heading, "start": start}
        elif _CLOSING.match(block.text):
            # The closing formula ends the enacting terms; the signatures and the Official
            # Journal's footnotes ("(1) OJ C 517 …") that follow belong to no article.
            close(start)
            unit_ref = None
            open_section = {**heading, "title": block.text, "article": "", "start": start}
        else:
            sub = paragraph_ref(block.text, unit_ref if lang == "en" else None, in_recitals)
            if sub is not None:
                close(start)
                label = sub.label(lang)
                anchor = eurlex_anchor(sub) if anchors and sub.kind == "recital" else heading["anchor"]
                open_section = {
                    "title": label,
                    "level": heading["level"] + 1,
                    "anchor": anchor,
                    "path": (*heading["path"], label),
                    "article": label,
                    "start": start,
                }
            if block.text.strip() == "Whereas:":
                in_recitals = True
        spans.append(Span(block.kind, start, offset, len(sections)))
    close(offset)
    kept = [i for i, s in enumerate(sections) if s.end > s.start or i == len(sections) - 1]
    renumber = {old: new for new, old in enumerate(kept)}
    sections = [sections[i] for i in kept]
    spans = [Span(s.kind, s.start, s.end, renumber.get(s.section, len(sections) - 1)) for s in spans]
    return "".join(pieces), sections, spans


def load_official_source(spec: SourceSpec, root: Path) -> LoadResult:
    """Every official text listed in the source's MANIFEST*.tsv (else every .md but SOURCE/README)."""
    result = LoadResult()
    manifest = read_manifest(root)
    paths = sorted(manifest) or sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*.md") if p.name not in ("SOURCE.md", "README.md")
    )
    resolved_root = root.resolve()
    for rel in paths:
        path = (root / rel).resolve()
        if resolved_root not in path.parents or not path.is_file():
            result.skipped.append((rel, "listed in the manifest but not a file inside the source"))
            continue
        try:
            raw = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            result.skipped.append((rel, "not UTF-8 text"))
            continue
        document = official_document(spec, rel, raw, manifest.get(rel, {}))
        if document is None:
            result.skipped.append((rel, "no frontmatter with title and official_url"))
            continue
        result.documents.append(document)
    link_twins_and_editions(result.documents)
    return result


def official_document(spec: SourceSpec, rel: str, raw: str, row: dict[str, str]) -> Document | None:
    """One official text as a document; None without the frontmatter that says what it is."""
    frontmatter, body = split_frontmatter(raw)
    title = str(frontmatter.get("title") or row.get("title") or "")
    official_url = str(frontmatter.get("official_url") or row.get("official_url") or "")
    if not title or not official_url:
        return None
    lang = str(frontmatter.get("lang") or row.get("lang") or "en")
    anchors = normalise_url(official_url).startswith("eur-lex.europa.eu")
    text, sections, spans = structure(text_blocks(body), title, lang, anchors=anchors)
    stem = str(PurePosixPath(rel).with_suffix(""))
    effective = str(frontmatter.get("effective") or "")
    as_of = _DATE.search(effective)
    settings = spec.documents.get(rel, {})
    metadata: dict[str, Any] = {k: str(frontmatter[k]) for k in FRONTMATTER_FIELDS if frontmatter.get(k)}
    metadata.update(
        kind=OFFICIAL,
        licence=str(frontmatter.get("licence_note") or spec.licence),
        full_title=title,
        aliases=[str(a) for a in settings.get("aliases", [])],
    )
    other_title = metadata.get("title_en" if lang == "zh" else "title_zh", "")
    return Document(
        id=f"{spec.id}:{stem}",
        source_id=spec.id,
        source_path=rel,
        # A consolidated text has its own address; the official URL stays in the metadata for linking.
        url=str(frontmatter.get("consolidated_text_url") or official_url),
        lang=lang,
        # Citations name the text as a reader would ("AI Act, Article 50(2)"); the full title stays in metadata.
        title=str(settings.get("short_title") or title),
        description=other_title,
        as_of=as_of.group(0) if as_of else None,
        edition=spec.editions.get("official", "Official text"),
        page_key=f"official/{_EDITION_SUFFIX.sub('', stem)}",
        text=text,
        sections=sections,
        spans=spans,
        jurisdiction=str(frontmatter.get("jurisdiction") or "international"),
        metadata=metadata,
    )


def article_at(document: Document, offset: int) -> str:
    """The article label of the innermost section holding the offset ("" outside any article)."""
    best: Section | None = None
    for section in document.sections:
        if section.start <= offset < section.end and (best is None or section.level >= best.level):
            best = section
    return best.article if best else ""
