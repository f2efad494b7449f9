"""Bilingual query expansion for the keyword leg, from the corpus's own term pairs (pure functions).

BM25 cannot match 网络安全法 to "Cybersecurity Law". The site names every page in both
languages (an English page and its Chinese twin have parallel titles) and every rule in
both (frontmatter ``ruleName: Interim Measures … (《生成式人工智能服务管理暂行办法》)``), so
a question that names one side of such a pair also searches for the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from govqa.corpus.cjk import CJK
from govqa.corpus.documents import Document

_TRAILING_PARENTHESIS = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")
_RULE_NAME = re.compile(r"(.+?)\s*[（(]《(.+?)》")
MIN_ENGLISH_CHARS = 8  # single short words ("About", "Usage") would fire on ordinary questions


def _core(title: str) -> str:
    return _TRAILING_PARENTHESIS.sub("", title).strip()


def _usable(english: str, chinese: str) -> bool:
    if english.casefold() == chinese.casefold() or not CJK.search(chinese) or CJK.search(english):
        return False
    return len(english) >= MIN_ENGLISH_CHARS or " " in english


def bilingual_terms(documents: Iterable[Document]) -> list[tuple[str, str]]:
    """(English, Chinese) name pairs: twin page titles and bilingual rule names."""
    by_id = {d.id: d for d in documents}
    pairs: dict[tuple[str, str], None] = {}
    for document in by_id.values():
        twin = by_id.get(document.twin_id or "")
        if document.lang == "en" and twin is not None:
            pair = (_core(document.title), _core(twin.title))
            if _usable(*pair):
                pairs[pair] = None
        match = _RULE_NAME.match(document.metadata.get("ruleName", ""))
        if match:
            pair = (_core(match.group(1)), match.group(2).strip())
            if _usable(*pair):
                pairs[pair] = None
    return list(pairs)


def _mentions(text: str, term: str) -> bool:
    if CJK.search(term):
        return term in text
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(term.casefold())}(?![A-Za-z0-9])", text) is not None


def expand_query(question: str, terms: Sequence[tuple[str, str]]) -> str:
    """The question followed by the other-language name of every term pair it mentions."""
    folded = question.casefold()
    extra = []
    for english, chinese in terms:
        if _mentions(folded, english) and chinese not in question:
            extra.append(chinese)
        elif chinese in question and not _mentions(folded, english):
            extra.append(english)
    return " ".join([question, *dict.fromkeys(extra)])
