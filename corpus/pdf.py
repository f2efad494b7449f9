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

    Two columns: at least two rows have text on both sides of the middle, and the left
    side's lines are long (reach most of the way to the middle; table cells do not).
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
    line closes a paragraph; so does a line that ends a sentence and is clearly shorter than
    the longest line of the page (the last line of a paragraph).
    """
    wanted = {_normal(t) for t in titles}
    lines = [_SPACES.sub(" ", line).strip() for line in raw.replace("\r", "\n").split("\n")]
    longest = max((len(line) for line in lines), default=0)
    blocks: list[tuple[str, str]] = []
    current = ""
    for line in lines:
        if not line or _normal(line) in wanted:
            if current:
                blocks.append(("paragraph", current))
            current = ""
            if line:
                wanted.discard(_normal(line))
                blocks.append(("heading", line))
            continue
        current = _join_line(current, line)
        if _SENTENCE_END.search(line) and len(line) < 0.8 * longest:
            blocks.append(("paragraph", current))
            current = ""
    if current:
        blocks.append(("paragraph", current))
    return blocks


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def _join_line(current: str, line: str) -> str:
    if not current:
        return line
    if current.endswith("-") and line[:1].islower() and current[-2:-1].isalpha():
        return current[:-1] + line  # a word hyphenated at the line end
    if _CJK_END.search(current) and _CJK_START.search(line):
        return current + line
    return f"{current} {line}"
