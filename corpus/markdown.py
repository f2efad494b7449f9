"""Markdown/MDX page → cleaned text made of typed blocks.

The cleaned text is what a reader sees on the page: inline markup removed, links
reduced to their text, MDX imports and component tags dropped (their text and
title/description attributes kept), and each Markdown table row rewritten as one
self-contained record that repeats the header ("Header: cell; Header: cell").
Every block knows its character span in the cleaned text, so chunks and quotes
can point back to an exact passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

BlockKind = Literal["heading", "paragraph", "list_item", "table_row", "quote", "code"]


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str
    level: int = 0  # heading level for headings, nesting depth for list items
    raw: str = ""  # the Markdown source of list items, where link targets survive


_FRONTMATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HR = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_MDX_IMPORT_EXPORT = re.compile(r"^(import|export)\s")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_JSX_TAG = re.compile(r"<(/?)([A-Z][A-Za-z0-9.]*)((?:\s+[^<>]*?)?)\s*(/?)>", re.DOTALL)
_JSX_TEXT_ATTR = re.compile(r'\b(title|description|label)=(?:"([^"]*)"|\'([^\']*)\')')
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>")
_CODE_SPAN = re.compile(r"`([^`]*)`")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(.+?)~~")
_SPACES = re.compile(r"[ \t\u00a0]+")


class FrontmatterError(ValueError):
    """The page's YAML frontmatter does not parse (the message says where)."""


def split_frontmatter(text: str, strict: bool = False) -> tuple[dict[str, Any], str]:
    """Return the YAML frontmatter (empty when absent or unreadable) and the body.

    With ``strict``, frontmatter that is not a YAML mapping raises FrontmatterError instead.
    """
    match = _FRONTMATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        if strict:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark is not None else ""
            raise FrontmatterError(f"frontmatter is not valid YAML{where}") from None
        data = {}
    if strict and not isinstance(data, dict):
        raise FrontmatterError("frontmatter is not a YAML mapping")
    return (data if isinstance(data, dict) else {}), text[match.end() :]


def clean_inline(text: str) -> str:
    """Reduce inline Markdown/HTML to the text a reader sees."""
    text = _COMMENT.sub("", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    text = _HTML_TAG.sub("", text)
    text = _CODE_SPAN.sub(r"\1", text)
    for _ in range(2):  # nested emphasis such as ***x***
        text = _STRONG.sub(r"\2", text)
        text = _EMPHASIS_STAR.sub(r"\1", text)
        text = _EMPHASIS_UNDERSCORE.sub(r"\1", text)
    text = _STRIKE.sub(r"\1", text)
    text = text.replace("\\|", "|").replace("\\*", "*").replace("\\_", "_")
    return _SPACES.sub(" ", text).strip()


def _strip_mdx(body: str) -> str:
    """Drop import/export lines and component tags, keeping their readable text."""
    lines = [line for line in body.split("\n") if not _MDX_IMPORT_EXPORT.match(line)]
    body = "\n".join(lines)

    def replace(match: re.Match[str]) -> str:
        attrs = match.group(3) or ""
        texts = [a or b for _, a, b in _JSX_TEXT_ATTR.findall(attrs)]
        return "\n\n" + "\n\n".join(t for t in texts if t.strip()) + "\n\n" if texts else ""

    return _JSX_TAG.sub(replace, body)


def _table_cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [clean_inline(cell) for cell in re.split(r"(?<!\\)\|", line)]


def table_row_records(lines: list[str]) -> list[str]:
    """Rewrite a Markdown table as one record per body row that repeats the header."""
    if len(lines) < 2 or not _TABLE_SEPARATOR.match(lines[1].strip()):
        return [clean_inline(line) for line in lines]
    header = _table_cells(lines[0])
    records = []
    for line in lines[2:]:
        cells = _table_cells(line)
        parts = []
        for index, cell in enumerate(cells):
            if not cell:
                continue
            name = header[index] if index < len(header) else ""
            parts.append(f"{name}: {cell}" if name else cell)
        if parts:
            records.append("; ".join(parts))
    return records


def markdown_blocks(body: str) -> list[Block]:
    """Parse a Markdown/MDX body into cleaned blocks in reading order."""
    body = _COMMENT.sub("", _strip_mdx(body.replace("\r\n", "\n")))
    lines = body.split("\n")
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            text = clean_inline(" ".join(p.strip() for p in paragraph))
            if text:
                blocks.append(Block("paragraph", text))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _FENCE.match(line):
            flush()
            fence = _FENCE.match(line).group(1)  # type: ignore[union-attr]
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i])
                i += 1
            text = "\n".join(code).strip()
            if text:
                blocks.append(Block("code", text))
        elif not stripped or _HR.match(line):
            flush()
        elif heading := _HEADING.match(line):
            flush()
            text = clean_inline(heading.group(2))
            if text:
                blocks.append(Block("heading", text, level=len(heading.group(1))))
        elif stripped.startswith("|"):
            flush()
            table: list[str] = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                table.append(lines[i])
                i += 1
            blocks.extend(Block("table_row", r) for r in table_row_records(table) if r)
            continue
        elif item := _LIST_ITEM.match(line):
            flush()
            depth = len(item.group(1).replace("\t", "  ")) // 2
            parts = [item.group(2)]
            # Lazy continuation lines belong to the item.
            while i + 1 < len(lines):
                nxt = lines[i + 1]
                if not nxt.strip() or _LIST_ITEM.match(nxt) or _HEADING.match(nxt) or nxt.strip().startswith("|"):
                    break
                if _FENCE.match(nxt):
                    break
                parts.append(nxt.strip())
                i += 1
            raw = " ".join(parts)
            text = clean_inline(raw)
            if text:
                blocks.append(Block("list_item", text, level=depth, raw=raw))
        elif stripped.startswith(">"):
            flush()
            quote: list[str] = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quote.append(lines[i].strip().lstrip(">").strip())
                i += 1
            text = clean_inline(" ".join(q for q in quote if q))
            if text:
                blocks.append(Block("quote", text))
            continue
        else:
            paragraph.append(line)
        i += 1
    flush()
    return blocks
