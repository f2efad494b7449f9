"""Heading anchors exactly as the live site makes them.

Starlight gives every heading an id with github-slugger: lower-case the heading's
text, delete every character that is not a letter, mark, number, connector
punctuation, hyphen or ASCII space, then turn each space into a hyphen. Repeated
slugs on one page get ``-1``, ``-2``, ... appended.
"""

from __future__ import annotations

import unicodedata

_KEPT_CATEGORIES = ("L", "M", "N")


def _kept(char: str) -> bool:
    if char in "- ":
        return True
    category = unicodedata.category(char)
    return category.startswith(_KEPT_CATEGORIES) or category == "Pc"


def github_slug(heading_text: str) -> str:
    """Slug of one heading's rendered text, without de-duplication."""
    return "".join(c for c in heading_text.lower() if _kept(c)).replace(" ", "-")


class Slugger:
    """Stateful de-duplication, one instance per page (as github-slugger's class)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def slug(self, heading_text: str) -> str:
        base = github_slug(heading_text)
        candidate = base
        while candidate in self._seen:
            self._seen[base] += 1
            candidate = f"{base}-{self._seen[base]}"
        self._seen[candidate] = 0
        return candidate
