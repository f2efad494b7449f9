"""The sources a page cites, read from its references list."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Headings under which the site lists what a page cites (English and Chinese editions).
REFERENCE_HEADINGS = re.compile(
    r"^(cited sources|references|sources|primary sources?|source text.*|primary text.*|text and .*"
    r"|引用来源|参考|参考文献|一手来源|原文.*|文本与.*)$",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://[^\s)>\]]+")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_QUOTED = re.compile(r"[\"“《]([^\"”》]{4,})[\"”》]")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


@dataclass(frozen=True)
class Reference:
    title: str
    authors: str = ""
    year: int | None = None
    url: str = ""


def is_reference_heading(heading: str) -> bool:
    return bool(REFERENCE_HEADINGS.match(heading.strip()))


def parse_reference(raw_item: str, cleaned_item: str) -> Reference | None:
    """Read title, authors, year and link from one Markdown list item of a references list."""
    link = _MD_LINK.search(raw_item)
    url_match = _URL.search(raw_item)
    url = link.group(2) if link else (url_match.group(0).rstrip(".,;") if url_match else "")
    quoted = _QUOTED.search(cleaned_item)
    bold = _BOLD.search(raw_item)
    if link:
        title = link.group(1)
    elif quoted:
        title = quoted.group(1)
    else:
        title = _URL.sub("", cleaned_item).strip(" :：—-")
    authors = ""
    if bold and bold.group(1).strip() != title.strip():
        authors = bold.group(1).strip()
    year = _YEAR.search(cleaned_item)
    title = title.strip(" :：—-")
    if not title and not url:
        return None
    return Reference(title=title or url, authors=authors, year=int(year.group(1)) if year else None, url=url)
