"""HTML archive → title and cleaned blocks, headings preserved (BeautifulSoup, not regexes)."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from govqa.corpus.markdown import Block

# The CAC pages keep the article in #BodyLabel; other pages fall back to <article>, <main>, <body>.
_CONTENT_SELECTORS = ("#BodyLabel", "article", "main", "body")
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SPACES = re.compile(r"\s+")
# A short paragraph that is all bold ("第一章 总 则", "Article 3") is a heading on these pages.
_MAX_BOLD_HEADING_CHARS = 40


def _text(node: Tag) -> str:
    return _SPACES.sub(" ", node.get_text(" ", strip=True)).strip()


def _is_bold_heading(paragraph: Tag) -> bool:
    text = _text(paragraph)
    strong = paragraph.find(["strong", "b"])
    if not text or not strong or len(text) > _MAX_BOLD_HEADING_CHARS:
        return False
    return _text(strong) == text and not text.startswith("—")


def html_blocks(html: str) -> tuple[str, list[Block]]:
    soup = BeautifulSoup(html, "html.parser")
    for node in soup(["script", "style", "noscript", "form", "iframe"]):
        node.decompose()
    title_node = soup.select_one("h1.title") or soup.find("h1") or soup.find("title")
    title = _text(title_node) if title_node else ""
    content: Tag = next((found for s in _CONTENT_SELECTORS if (found := soup.select_one(s)) is not None), soup)
    blocks: list[Block] = [Block("heading", title, level=1)] if title else []
    for node in content.find_all([*_HEADING_TAGS, "p", "li", "tr"]):
        if node.find_parent(["p", "li", "tr"]) is not None:
            continue  # nested inside a block already taken whole
        text = _text(node)
        if not text:
            continue
        if node.name in _HEADING_TAGS:
            if text != title:
                blocks.append(Block("heading", text, level=int(node.name[1])))
        elif node.name == "p" and _is_bold_heading(node):
            blocks.append(Block("heading", text, level=2))
        elif node.name == "tr":
            blocks.append(Block("table_row", "; ".join(_text(c) for c in node.find_all(["td", "th"]))))
        else:
            blocks.append(Block("list_item" if node.name == "li" else "paragraph", text))
    return title, blocks
