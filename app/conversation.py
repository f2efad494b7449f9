"""Follow-up questions resolved against the conversation, before retrieval, without an LLM.

Retrieval sees one question at a time, so "and the EU?" or "它什么时候生效？" must become a
question that stands alone. Two rules cover the common cases:

- ellipsis: a short follow-up naming another jurisdiction (or company) swaps that entity into
  the previous question ("What are China's labeling rules?" + "and the EU?" →
  "What are the EU's labeling rules?");
- reference: a pronoun ("it", "它", "该法") is replaced by the title of the page the previous
  answer cited first, in the follow-up's language when the page has a twin.

An LLM answerer can pass a ``rewriter`` that is tried first; the rules are its fallback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govqa.corpus.documents import guess_language

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageRef:
    """A page the previous answer cited: enough to name it in either language."""

    title: str
    lang: str
    jurisdiction: str = ""
    company: str = ""
    twin_title: str = ""  # the title of the same page in the other language


@dataclass(frozen=True)
class Turn:
    question: str  # the resolved question of that turn
    pages: tuple[PageRef, ...] = ()


@dataclass(frozen=True)
class Resolution:
    asked: str
    question: str  # what retrieval gets
    reason: str = ""  # "", "ellipsis", "reference", "rewriter"

    @property
    def changed(self) -> bool:
        return self.question != self.asked


# A rewriter gets the follow-up and the earlier turns, and returns a standalone question or None.
Rewriter = Callable[[str, Sequence[Turn]], str | None]

# Entities a follow-up can swap in: kind → key → (English aliases, Chinese aliases). The first
# alias of each language is how the entity is written into a resolved question.
JURISDICTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "china": (("China", "PRC", "Chinese"), ("中国", "我国")),
    "eu": (("the EU", "EU", "the European Union", "European Union", "Europe"), ("欧盟", "欧洲")),
    "us": (("the US", "US", "the U.S.", "U.S.", "the United States", "United States", "USA", "America"), ("美国",)),
}

_EN_ELLIPSIS = re.compile(
    r"^\s*(?:and|but|also|what about|how about|and what about|and how about|same for|what of)\b\s*(?P<rest>.*?)[\s?？.!]*$",
    re.I,
)
_ZH_ELLIPSIS = re.compile(
    r"^\s*(?:那么|那|还有|而|和|至于)?\s*(?P<rest>.*?)(?:的情况|的)?(?:呢|吗|怎么样|如何)[\s?？。!！]*$"
)
_EN_PRONOUN = re.compile(
    r"\b(?:its|it|they|them|their|this (?:law|act|rule|regulation|measure|company)|that (?:law|act|rule|regulation|measure|company)"
    r"|the (?:law|act|rule|regulation|measures?))\b",
    re.I,
)
_ZH_PRONOUN = re.compile(r"它们|它|其|该法|该规定|该办法|该条例|该公司|这部法律?|这项规定|这家公司|此法")
MAX_FOLLOWUP_WORDS = 12
MAX_FOLLOWUP_ZH_CHARS = 24


def _aliases(entities: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> list[tuple[str, str, str]]:
    """(key, lang, alias) for every alias, longest first so "the EU" wins over "EU"."""
    rows = [(key, "en", a) for key, (en, _) in entities.items() for a in en]
    rows += [(key, "zh", a) for key, (_, zh) in entities.items() for a in zh]
    return sorted(rows, key=lambda row: -len(row[2]))


def _alias_pattern(alias: str, lang: str) -> re.Pattern[str]:
    if lang == "zh":
        return re.compile(re.escape(alias))
    return re.compile(rf"(?<![\w.]){re.escape(alias)}(?![\w])", re.I)


def find_entity(
    text: str, entities: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
) -> tuple[str, re.Match[str]] | None:
    """The first-mentioned entity in the text (key and match), longest alias winning at a position."""
    found: tuple[str, re.Match[str]] | None = None
    for key, lang, alias in _aliases(entities):
        match = _alias_pattern(alias, lang).search(text)
        if match and (found is None or match.start() < found[1].start()):
            found = (key, match)
    return found


def _name(key: str, lang: str, entities: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> str:
    en, zh = entities[key]
    return (zh if lang == "zh" and zh else en)[0]


def _subject(turn: Turn, lang: str) -> str:
    """The title of the page the previous answer cited first, in the wanted language if possible."""
    if not turn.pages:
        return ""
    page = turn.pages[0]
    if page.lang != lang and page.twin_title:
        return page.twin_title
    return page.title


def _strip_end(question: str) -> str:
    return question.rstrip(" ?？.。!！")


def _ellipsis_rest(question: str, lang: str) -> str | None:
    """The content of an elliptical follow-up ("and the EU?" → "the EU"), or None if it is not one."""
    if lang == "zh":
        match = _ZH_ELLIPSIS.match(question)
        if match and len(question) <= MAX_FOLLOWUP_ZH_CHARS:
            return match.group("rest").strip()
        return None
    match = _EN_ELLIPSIS.match(question)
    if match and len(question.split()) <= MAX_FOLLOWUP_WORDS // 2:
        return match.group("rest").strip()
    return None


def _swap_entity(previous: str, key: str, entities: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> str:
    """The previous question with its entity replaced by ``key`` (or the entity added)."""
    prev_lang = guess_language(previous)
    new_name = _name(key, prev_lang, entities)
    found = find_entity(previous, entities)
    if found is not None:
        _, match = found
        replacement = new_name
        # "the United States" → "the EU", not "the the EU"
        before = previous[: match.start()]
        if prev_lang == "en" and new_name.lower().startswith("the ") and before.lower().endswith("the "):
            replacement = new_name[4:]
        if prev_lang == "en" and match.start() == 0:
            replacement = replacement[:1].upper() + replacement[1:]
        return before + replacement + previous[match.end() :]
    if prev_lang == "zh":
        return f"在{new_name}，{previous}"
    return f"{_strip_end(previous)} in {new_name}?"


def resolve_followup(
    question: str,
    history: Sequence[Turn],
    rewriter: Rewriter | None = None,
    entities: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
) -> Resolution:
    """A standalone version of ``question`` given the earlier turns (most recent last)."""
    asked = question.strip()
    if not history or not asked:
        return Resolution(asked, asked)
    if rewriter is not None:
        try:
            rewritten = rewriter(asked, history)
        except Exception:  # a failing rewriter must not stop the chat: the rules still apply
            logger.warning("followup_rewriter_failed question=%r", asked, exc_info=True)
            rewritten = None
        if rewritten and rewritten.strip():
            return Resolution(asked, rewritten.strip(), "rewriter" if rewritten.strip() != asked else "")
    entities = {**JURISDICTIONS, **(entities or {})}
    previous = history[-1]
    lang = guess_language(asked)

    rest = _ellipsis_rest(asked, lang)
    if rest is not None:
        found = find_entity(rest, entities)
        if found is not None:
            return Resolution(asked, _swap_entity(previous.question, found[0], entities), "ellipsis")
        subject = _subject(previous, lang)
        if rest and subject:
            joined = f"{subject}{rest}？" if lang == "zh" else f"{rest[:1].upper()}{rest[1:]} of {subject}?"
            return Resolution(asked, joined, "ellipsis")
        return Resolution(asked, asked)

    subject = _subject(previous, lang)
    if not subject or subject.lower() in asked.lower():
        return Resolution(asked, asked)
    if lang == "zh":
        if len(asked) <= MAX_FOLLOWUP_ZH_CHARS and _ZH_PRONOUN.search(asked):
            return Resolution(asked, _ZH_PRONOUN.sub(subject, asked, count=1), "reference")
        return Resolution(asked, asked)
    if len(asked.split()) <= MAX_FOLLOWUP_WORDS:
        match = _EN_PRONOUN.search(asked)
        if match:
            word = match.group(0).lower()
            replacement = f"{subject}'s" if word in ("its", "their") else subject
            return Resolution(asked, asked[: match.start()] + replacement + asked[match.end() :], "reference")
    return Resolution(asked, asked)


def company_entities(names: Mapping[str, str]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Entities for companies from slug → display name (used for English and Chinese alike)."""
    return {slug: ((name,), (name,)) for slug, name in names.items() if name}


def company_names(documents: Iterable[Any]) -> dict[str, str]:
    """slug → display name: the title of the company's own page (English first), else the slug."""
    names: dict[str, str] = {}
    for doc in sorted(documents, key=lambda d: d.lang != "en"):
        if not doc.company:
            continue
        own_page = doc.page_key.rstrip("/").endswith(f"companies/{doc.company}")
        if own_page and names.get(doc.company, doc.company) == doc.company:
            names[doc.company] = doc.title
        names.setdefault(doc.company, doc.company)
    return dict(sorted(names.items()))


def page_ref(document: Any, twin: Any = None) -> PageRef:
    """How a cited page is remembered for the next turn's follow-up resolution."""
    return PageRef(document.title, document.lang, document.jurisdiction, document.company, twin.title if twin else "")
