"""Sentence boundaries for English and Chinese, as character spans (pure functions)."""

from __future__ import annotations

import re

from govqa.corpus.cjk import CJK_RANGE

# A sentence ends after Chinese 。！？； (with any closing quotes/brackets), or after
# English .?! followed by whitespace and then something that can start a sentence.
_CJK_END = re.compile(r"[。！？；!?][”’」』）)\]]*")
_EN_END = re.compile(r"[.?!][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9" + CJK_RANGE + "])")
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "cf",
    "no",
    "art",
    "arts",
    "para",
    "paras",
    "sec",
    "ch",
    "fig",
    "p",
    "pp",
    "mr",
    "ms",
    "mrs",
    "dr",
    "prof",
    "inc",
    "ltd",
    "co",
    "corp",
    "st",
    "jr",
    "sr",
    "u.s",
    "u.k",
    "e.u",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "approx",
    "ed",
    "eds",
    "vol",
    "rev",
    "est",
    "al",
}
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def _is_abbreviation(text: str, dot_index: int) -> bool:
    if text[dot_index] != ".":
        return False
    match = _WORD_BEFORE.search(text[:dot_index])
    if not match:
        return False
    word = match.group(1).lower()
    # Single capital initials ("J. Smith") and listed abbreviations do not end sentences.
    return word in _ABBREVIATIONS or (len(word) == 1 and text[match.start()].isupper())


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentence spans (absolute offsets), trimmed of whitespace."""
    end = len(text) if end is None else end
    cuts: set[int] = set()
    for match in _CJK_END.finditer(text, start, end):
        cuts.add(match.end())
    for match in _EN_END.finditer(text, start, end):
        if not _is_abbreviation(text, match.start()):
            cuts.add(match.end())
    for index in range(start, end):  # line breaks always end a sentence
        if text[index] == "\n":
            cuts.add(index)
    spans = []
    previous = start
    for cut in [*sorted(cuts), end]:
        if cut <= previous:
            continue
        span = _trim(text, previous, cut)
        if span:
            spans.append(span)
        previous = cut
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, for callers that need strings rather than spans."""
    return [text[a:b] for a, b in sentence_spans(text)]
