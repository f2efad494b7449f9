"""PDF file → cleaned text per page, sections from the PDF outline, and pages with no text layer.

pypdf (pure Python) reads the text layer page by page. Lines are joined into paragraphs
(a blank line or a short line ending a sentence closes one; a hyphen at a line end joins
the word; CJK lines join without a space). Sections come from the outline ("bookmarks"):
an outline entry starts its section where its title appears on its page, else at the top
of the page. Every section is also cut at page boundaries, so a chunk (which never crosses
a section) never crosses a page, and each section's anchor is ``page=N``: the fragment a
browser's PDF viewer opens at.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

NO_TEXT_LAYER = "no text layer (scanned page?)"

_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_END = re.compile(f"[{_CJK}]$")
_CJK_START = re.compile(f"^[{_CJK}]")
_SENTENCE_END = re.compile(r"[.!?:;。！？；：]['\"”’)）」』]?$")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BULLET = re.compile(r"^[•·▪◦‣●■–*-]\s")


class PdfError(ValueError):
    """The file cannot be read as a PDF; the message says why."""


@dataclass(frozen=True)
class OutlineEntry:
    title: str
    level: int  # 1 for top-level bookmarks
    page: int  # 1-based


@dataclass(frozen=True)
class PdfPages:
    texts: list[str]  # raw extracted text of each page, 1-based page n at index n-1
    outline: list[OutlineEntry]
    title: str  # from the document info, "" when absent


def read_pdf(path: Path) -> PdfPages:
    """The text layer of each page and the outline of a PDF file."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            # An empty user password opens many "protected" PDFs; anything else we cannot read.
            try:
                if not reader.decrypt(""):
                    raise PdfError("encrypted PDF (needs a password)")
            except (NotImplementedError, PdfReadError) as error:
                raise PdfError(f"encrypted PDF ({error})") from None
        texts = [_page_text(page) for page in reader.pages]
        outline = _outline(reader, reader.outline, 1)
        info = reader.metadata
        title = str(info.title).strip() if info is not None and info.title else ""
    except PdfError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as error:
        raise PdfError(f"unreadable PDF ({type(error).__name__}: {error})") from None
    return PdfPages(texts, outline, title)


def _page_text(page: Any) -> str:
    """The page's text; a two-column page is read column by column rather than line across line."""
    fragments: list[tuple[float, float, float, str]] = []  # x, y, font size, text

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            fragments.append((x, y, float(size or 0) * abs(cm[0] or 1), text))

    try:
        text = str(page.extract_text(visitor_text=visit) or "")
        box = page.mediabox
        left_edge, width = float(box.left), float(box.width)
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        # One broken page must not lose the rest of the file.
        logger.warning("pdf_page_unreadable error=%s", error)
        return ""
    columns = two_columns(fragments, left_edge + width / 2)
    return columns if columns is not None else text


def _estimated_width(size: float, text: str) -> float:
    # Average glyph widths: about half the font size for Latin letters, the full size for CJK.
    return sum(size if _CJK_CHAR.match(c) else size / 2 for c in text.strip())


def two_columns(fragments: list[tuple[float, float, float, str]], middle: float) -> str | None:
    """The text of a two-column page, left column first; None when the page is not laid out so.

    Two columns: at least two rows have text on both sides of the middle, the left side's
    lines are long (reach most of the way to the middle; table cells do not), and hardly
    any runs across the middle (on a one-column page, a word in another font starts a
    fragment right of the middle, but the line it continues crosses it).
    pypdf returns text in drawing order, which on such a page may alternate between columns.
    """
    left = [f for f in fragments if f[0] < middle]
    right = [f for f in fragments if f[0] >= middle]
    if len(left) < 2 or len(right) < 2:
        return None
    shared_rows = {round(f[1]) for f in left} & {round(f[1]) for f in right}
    if len(shared_rows) < 2:
        return None
    margin = min(f[0] for f in left)
    widths = sorted(_estimated_width(f[2], f[3]) for f in left)
    if widths[len(widths) // 2] < 0.35 * (middle - margin):
        return None
    # Glyph widths are estimated, so a line counts as crossing only well past the middle.
    crossing = sum(f[0] + _estimated_width(f[2], f[3]) > middle * 1.15 for f in left)
    if crossing > 0.1 * len(left):
        return None
    # A blank line between the columns: a paragraph does not run on from one column into the other.
    columns = (sorted(side, key=lambda f: -f[1]) for side in (left, right))
    return "\n\n".join("\n".join(f[3].strip("\n") for f in side) for side in columns) + "\n"


def _outline(reader: Any, items: Any, level: int) -> list[OutlineEntry]:
    """Flatten pypdf's nested outline (a list whose sub-lists are the children of the item before)."""
    entries: list[OutlineEntry] = []
    for item in items or []:
        if isinstance(item, list):
            entries += _outline(reader, item, level + 1)
            continue
        try:
            page_index = reader.get_destination_page_number(item)
        except (KeyError, ValueError, TypeError, AttributeError):
            continue
        title = " ".join(str(getattr(item, "title", "") or "").split())
        if title and page_index is not None and page_index >= 0:
            entries.append(OutlineEntry(title, level, page_index + 1))
    return entries


def page_blocks(raw: str, titles: Sequence[str] = ()) -> list[tuple[str, str]]:
    """("heading" | "paragraph", text) blocks of one page's extracted text, each on one line.

    A line that reads as one of ``titles`` (the page's outline entries) is a heading. A blank
    line or a bullet ("• ") closes a paragraph; so does a line that ends a sentence and is clearly shorter than
    the longest line of the page (the last line of a paragraph).
    """
    wanted = {heading_key(t) for t in titles}
    lines = [_SPACES.sub(" ", line).strip() for line in raw.replace("\r", "\n").split("\n")]
    longest = max((len(line) for line in lines), default=0)
    blocks: list[tuple[str, str]] = []
    current = ""
    for line in lines:
        if not line or heading_key(line) in wanted:
            if current:
                blocks.append(("paragraph", current))
            current = ""
            if line:
                wanted.discard(heading_key(line))
                blocks.append(("heading", line))
            continue
        if _BULLET.match(line) and current:
            blocks.append(("paragraph", current))  # a list item starts a paragraph of its own
            current = ""
        current = _join_line(current, line)
        if _SENTENCE_END.search(line) and len(line) < 0.8 * longest:
            blocks.append(("paragraph", current))
            current = ""
    if current:
        blocks.append(("paragraph", current))
    return blocks


_NUMBERING = re.compile(r"^(?:chapter |section |part |annex )?(?:\d+(?:\.\d+)*|[ivxlc]+|[a-z])[.:)]?\s+")


def heading_key(text: str) -> str:
    """A title as compared with a page line: case, spacing and a leading number ("2.1", "Chapter 3:") ignored.

    Outlines often leave out the number the page prints ("ASN.1 syntax" for "2.1 ASN.1 syntax").
    """
    key = " ".join(text.casefold().split())
    return _NUMBERING.sub("", key, count=1) or key


_DIGITS = re.compile(r"\d+")


def strip_running_lines(texts: list[str], edge: int = 2) -> list[str]:
    """The pages without their running headers and footers (page numbers included).

    A line among the first or last ``edge`` non-blank lines of a page is furniture when,
    digits aside, it stands there on at least 3 pages and on a fifth of the pages with text.
    """

    def key(line: str) -> str:
        return _DIGITS.sub("#", " ".join(line.casefold().split()))

    def edges(lines: list[str]) -> set[int]:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        return set(filled[:edge] + filled[-edge:])

    pages = [text.split("\n") for text in texts]
    counts: dict[str, int] = {}
    for lines in pages:
        for k in {key(lines[i]) for i in edges(lines)}:
            counts[k] = counts.get(k, 0) + 1
    floor = max(3.0, 0.2 * sum(1 for text in texts if text.strip()))
    furniture = {k for k, n in counts.items() if n >= floor}
    result = []
    for lines in pages:
        at_edge = edges(lines)
        result.append("\n".join(line for i, line in enumerate(lines) if i not in at_edge or key(line) not in furniture))
    return result


def _join_line(current: str, line: str) -> str:
    if not current:
        return line
    if current.endswith("-") and line[:1].islower() and current[-2:-1].isalpha():
        return current[:-1] + line  # a word hyphenated at the line end
    if _CJK_END.search(current) and _CJK_START.search(line):
        return current + line
    return f"{current} {line}"
