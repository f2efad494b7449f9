"""HTML for the web chat, as pure functions of answers, citations and documents.

Everything that comes from the corpus or the user goes through ``escape`` (text) or
``safe_url`` (links) before it reaches the page: corpus pages and questions may hold
HTML or script, and they must show as characters, never run.

Citation markers ``[n]`` become ``<a href="#cite-T-N">`` links (T = turn number). The
target sits inside a closed ``<details>`` panel: Chromium opens it on fragment
navigation by itself, and the small click handler in ``web.py`` does the same in
browsers that do not.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

from govqa.app.citations import MARKER, Citation, on_page
from govqa.corpus.documents import Document, Section

LANG_NAMES = {"en": "English", "zh": "中文"}
CONTEXT_CHARS = 600  # section text shown on each side of a highlighted quote


_TEMPLATE_CHARS = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"})


def escape(text: object) -> str:
    """Text as HTML characters; quotes too, so the result is also safe inside attributes.

    Braces, dollar signs and backticks become entities as well: gr.HTML fills a JS/Handlebars
    template, and corpus text such as "${x}" or "{{x}}" must stay text there.
    """
    return html.escape(str(text), quote=True).translate(_TEMPLATE_CHARS)


def escape_lines(text: str) -> str:
    """Escaped text whose line breaks survive as <br>."""
    return "<br>".join(escape(line) for line in text.split("\n"))


def safe_url(url: str) -> str:
    """The URL escaped for an href, or "" unless it is http(s) or a file the chat serves (no javascript:, data:, ...)."""
    if urlsplit(url.strip()).scheme.lower() not in ("http", "https") and not url.startswith(SERVED_FILE):
        return ""
    return escape(url.strip())


SERVED_FILE = "/gradio_api/file="  # where Gradio serves the files of launch(allowed_paths=...)


def served_url(url: str, roots: Sequence[Path]) -> str:
    """A file:// URL under one of roots as the chat server's link to that file (fragment kept); others unchanged.

    Your own documents without a public address cite file:///…/report.pdf#page=12; a browser
    will not follow a file: link from a web page, so the chat serves the file itself.
    """
    parts = urlsplit(url)
    if parts.scheme != "file":
        return url
    path = Path(url2pathname(parts.path)).resolve()
    if not any(path.is_relative_to(root) for root in roots):
        return url
    return SERVED_FILE + quote(str(path)) + (f"#{parts.fragment}" if parts.fragment else "")


def cite_id(turn: int, n: int) -> str:
    return f"cite-{turn}-{n}"


def link_markers(escaped: str, turn: int, known: Iterable[int]) -> str:
    """Turn [n] markers of already-escaped text into links to citation panels (only known n)."""
    numbers = set(known)

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return f'<a class="govqa-cite" href="#{cite_id(turn, n)}" title="Show source {n}">[{n}]</a>'

    return MARKER.sub(link, escaped)


def answer_html(answer: str, turn: int, known: Iterable[int] = ()) -> str:
    """The answer text, escaped, with clickable markers for the known citation numbers."""
    return link_markers(escape_lines(answer.strip()), turn, known)


def user_message_html(text: str) -> str:
    return f'<div class="govqa-question">{escape_lines(text)}</div>'


def error_message_html(message: str) -> str:
    return f'<div class="govqa-error"><strong>Could not answer.</strong> {escape(message)}</div>'


def as_of_range(citations: Sequence[Citation]) -> tuple[str, str] | None:
    """Earliest and latest snapshot dates of the cited pages; None when none is dated."""
    dates = sorted(c.as_of for c in citations if c.as_of)
    return (dates[0], dates[-1]) if dates else None


def as_of_text(citations: Sequence[Citation]) -> str:
    span = as_of_range(citations)
    if span is None:
        return "Pages used are undated."
    first, last = span
    return f"Pages used are as of {first}." if first == last else f"Pages used are as of {first} to {last}."


def section_at(document: Document, offset: int) -> Section | None:
    """The innermost section containing the offset (the one that starts last)."""
    best = None
    for section in document.sections:
        if section.start <= offset < section.end and (best is None or section.start >= best.start):
            best = section
    return best


@dataclass(frozen=True)
class Passage:
    """The quote with the section text around it, cut to a readable length."""

    before: str
    quote: str
    after: str
    cut_before: bool
    cut_after: bool


def passage_in_section(
    text: str, start: int, end: int, section_start: int, section_end: int, context: int = CONTEXT_CHARS
) -> Passage:
    """Split the section text into before / quote / after, keeping at most ``context`` characters each side.

    Offsets outside the section are clamped so a stale or odd offset never raises.
    """
    section_start = max(0, min(section_start, len(text)))
    section_end = max(section_start, min(section_end, len(text)))
    start = max(section_start, min(start, section_end))
    end = max(start, min(end, section_end))
    left = max(section_start, start - context)
    right = min(section_end, end + context)
    return Passage(text[left:start], text[start:end], text[end:right], left > section_start, right < section_end)


def highlighted_html(passage: Passage) -> str:
    """The passage escaped, its quote inside <mark>."""
    before = ("… " if passage.cut_before else "") + passage.before
    after = passage.after + (" …" if passage.cut_after else "")
    return f'{escape_lines(before)}<mark class="govqa-quote">{escape_lines(passage.quote)}</mark>{escape_lines(after)}'


def citation_passage(citation: Citation, document: Document | None) -> Passage:
    """The citation's quote inside its section (a PDF: its whole page); the bare quote when the document is unknown."""
    if document is None or document.text[citation.start : citation.end] != citation.quote:
        return Passage("", citation.quote, "", False, False)
    page = next((p for p in document.pages if p.number == citation.page), None)
    if page is not None:
        return passage_in_section(
            document.text, citation.start, citation.end, page.start, page.end, page.end - page.start
        )
    section = section_at(document, citation.start)
    lo, hi = (section.start, section.end) if section else (0, len(document.text))
    return passage_in_section(document.text, citation.start, citation.end, lo, hi)


def _link(url: str, text: str, css: str = "") -> str:
    href = safe_url(url)
    if not href:
        return escape(text)
    cls = f' class="{css}"' if css else ""
    return f'<a{cls} href="{href}" target="_blank" rel="noopener noreferrer">{escape(text)}</a>'


def citation_panel_html(
    citation: Citation, turn: int, document: Document | None = None, twin: Document | None = None, open_: bool = False
) -> str:
    """One citation: page, section, language, as-of, highlighted passage, live link, twin link."""
    meta = [LANG_NAMES.get(citation.lang, citation.lang), f"as of {citation.as_of}" if citation.as_of else "undated"]
    if citation.edition:
        meta.append(citation.edition)
    opens = f"Open the file at p. {citation.page}" if citation.page else "Open the page at this section"
    links = [_link(citation.url, opens, "govqa-live")]
    if twin is not None:
        label = "中文版本" if twin.lang == "zh" else "English version"
        links.append(_link(twin.url, label, "govqa-twin"))
    panel = citation_passage(citation, document)
    heading = (
        f"{escape(citation.title)}, {escape(citation.article)}"
        if citation.article
        else f"{escape(citation.title)} › {escape(citation.section)}"
    )
    return (
        f'<details class="govqa-citation"{" open" if open_ else ""}>'
        f"<summary>[{citation.n}] {heading}{escape(on_page(citation))}</summary>"
        f'<div class="govqa-citation-body" id="{cite_id(turn, citation.n)}">'
        f'<div class="govqa-meta">{escape(" · ".join(meta))}</div>'
        f'<blockquote class="govqa-passage">{highlighted_html(panel)}</blockquote>'
        f'<div class="govqa-links">{" · ".join(links)}</div>'
        f"{''.join(source_html(linked) for linked in citation.sources)}"
        "</div></details>"
    )


def source_html(linked: dict[str, str]) -> str:
    """ "Read the source: 第七条 …": the official text a site passage cites, opening to the article's words."""
    name = " ".join(p for p in (linked.get("article", ""), linked.get("title", "")) if p)
    body = (
        f'<blockquote class="govqa-source-text">{escape_lines(linked["quote"])}</blockquote>'
        if linked.get("quote")
        else ""
    )
    return (
        '<details class="govqa-source">'
        f"<summary>Read the source: {escape(name)}</summary>{body}"
        f'<div class="govqa-links">{_link(linked.get("url", ""), "Official text", "govqa-official")}</div>'
        "</details>"
    )


def group_by_page(citations: Sequence[Citation]) -> list[list[Citation]]:
    """Citations grouped by page, pages in order of first citation."""
    groups: dict[str, list[Citation]] = {}
    for citation in citations:
        groups.setdefault(citation.page_url, []).append(citation)
    return list(groups.values())


def sources_html(citations: Sequence[Citation], turn: int) -> str:
    """The sources list under an answer: one item per page, its citations linked to their panels."""
    if not citations:
        return ""
    items = []
    for group in group_by_page(citations):
        first = group[0]
        by_section: dict[str, list[Citation]] = {}
        for c in group:
            by_section.setdefault(c.section, []).append(c)
        marks = "; ".join(
            " ".join(f'<a class="govqa-cite" href="#{cite_id(turn, c.n)}">[{c.n}]</a>' for c in cites)
            + f" {escape(section)}"
            for section, cites in by_section.items()
        )
        when = f"as of {first.as_of}" if first.as_of else "undated"
        items.append(f"<li>{_link(first.page_url, first.title)} ({escape(first.lang)}, {escape(when)}): {marks}</li>")
    return f'<div class="govqa-sources"><strong>Sources</strong><ul>{"".join(items)}</ul></div>'


def nearest_html(nearest: Sequence[Citation], turn: int) -> str:
    """For an abstention: the nearest passages, so the user sees why."""
    if not nearest:
        return ""
    items = [
        f'<li><a class="govqa-cite" href="#{cite_id(turn, c.n)}">[{c.n}]</a> '
        f"{_link(c.url, f'{c.title} › {c.section}')}: “{escape(c.quote)}”</li>"
        for c in nearest
    ]
    return f'<div class="govqa-nearest"><strong>Nearest passages</strong><ul>{"".join(items)}</ul></div>'


def assistant_message_html(
    answer: str,
    citations: Sequence[Citation],
    turn: int,
    *,
    abstained: bool = False,
    nearest: Sequence[Citation] = (),
    resolved_question: str = "",
    notice: str = "",
) -> str:
    """The whole chat reply: answer with linked markers, resolved question, as-of range, sources."""
    shown = list(nearest if abstained else citations)
    parts = [
        f'<div class="govqa-answer">{answer_html(answer, turn, [] if abstained else [c.n for c in citations])}</div>'
    ]
    if resolved_question:
        parts.append(f'<div class="govqa-resolved"><em>Resolved question:</em> {escape(resolved_question)}</div>')
    if notice:
        parts.append(f'<div class="govqa-notice">{escape(notice)}</div>')
    if abstained:
        parts.append(nearest_html(nearest, turn))
    else:
        parts.append(sources_html(citations, turn))
    if shown:
        parts.append(f'<div class="govqa-asof">{escape(as_of_text(shown))}</div>')
    return "".join(p for p in parts if p)


def evidence_html(turn: int, question: str, panels: Sequence[str], citations: Sequence[Citation]) -> str:
    """The evidence block of one turn: its question, as-of range and citation panels."""
    return (
        f'<section class="govqa-turn" id="turn-{turn}">'
        f'<div class="govqa-turn-head"><strong>Question {turn}:</strong> {escape(question)}</div>'
        f'<div class="govqa-asof">{escape(as_of_text(citations))}</div>'
        f"{''.join(panels)}</section>"
    )
