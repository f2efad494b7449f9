"""The exact article-lookup leg and the question-form preference between official texts and the site.

A question that names a law ("AI Act", "暂行办法", "PIPL") and one of its units
("Article 50(2)", "第七条", "Annex III", "GOVERN 1.1") gets that unit's passages first,
found by parsing, not by similarity. Pure functions over documents and chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from govqa.corpus.articles import ArticleRef, parse_article_refs
from govqa.corpus.documents import Document, Section
from govqa.corpus.primary import is_official
from govqa.ingest.chunking import Chunk

# Question forms. "What does Article 50 require / 规定了什么" asks for the law's own words;
# "compare / analyse / 对比 / 有何不同" asks for the site's commentary.
_LAW_FORM = re.compile(
    r"\b(what|how|which|whom?)\b.*\b(say|says|said|require|requires|required|provide|provides|state|states|"
    r"stipulate|stipulates|prohibit|prohibits|define|defines|oblige|obliges|set|sets|impose|imposes|mean|means|"
    r"listed)\b|\b(text|wording) of\b|\bdefinition\b|\baccording to\b|"
    r"\bunder\s+(?:the\s+)?(?:[\w.'’()-]+\s+){0,4}?(?:article|art\.|section|sec\.|annex|recital)\s*\d|"
    r"规定|要求|条文|原文|定义|所说|根据|第[零〇一二两三四五六七八九十百千0-9]+条",
    re.IGNORECASE,
)
_ANALYSIS_FORM = re.compile(
    r"\b(compare|compared|comparison|differ|difference|versus|vs\.?|analy[sz]e|analysis|why|"
    r"implications?|assess|contrast|stricter|weaker|unlike)\b|比较|对比|区别|不同|异同|分析|为什么|评价",
    re.IGNORECASE,
)
MAX_LOOKUP_CHUNKS = 4  # passages of a named article put first; the rest of the list stays similarity's


def question_form(question: str) -> str:
    """ "law" when the question asks what a text says or requires, "analysis" for comparisons
    and analysis, else "neutral". Analysis wins when both match ("compare what A and B require")."""
    if _ANALYSIS_FORM.search(question):
        return "analysis"
    if _LAW_FORM.search(question):
        return "law"
    return "neutral"


@dataclass(frozen=True)
class Unit:
    doc_id: str
    section: Section
    ref: ArticleRef


def _ascii_alias(alias: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(alias)}(?![A-Za-z0-9])", re.IGNORECASE)


_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
SHORT_NAME = 4  # a Chinese name this short ("暂行办法") counts only at a word start: 《暂行办法》, not 拟人化…暂行办法


def _names_cjk(lowered: str, name: str) -> bool:
    """A Chinese name occurs as the name of this law, not as the tail of another law's title."""
    name = name.lower()
    start = lowered.find(name)
    while start >= 0:
        if len(name) > SHORT_NAME or start == 0 or not _CJK_CHAR.match(lowered[start - 1]):
            return True
        start = lowered.find(name, start + 1)
    return False


class ArticleCatalogue:
    """Every official text's names and numbered units."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.names: list[tuple[str, str, re.Pattern[str] | None]] = []  # (name, doc id, matcher for Latin names)
        self.units: dict[str, list[Unit]] = {}
        self.documents: dict[str, Document] = {}
        for document in documents:
            if not is_official(document):
                continue
            self.documents[document.id] = document
            names = {document.title, document.metadata.get("full_title", "")}
            names |= {document.metadata.get("title_en", ""), document.metadata.get("title_zh", "")}
            names |= set(document.metadata.get("aliases", []))
            for name in sorted(n for n in names if n):
                self.names.append((name, document.id, _ascii_alias(name) if name.isascii() else None))
            units = []
            for section in document.sections:
                refs = parse_article_refs(section.article) if section.article else []
                if refs:
                    units.append(Unit(document.id, section, refs[0]))
            self.units[document.id] = units

    def laws_named(self, text: str) -> list[str]:
        """Doc ids of the official texts a text names, longest name first (网络安全法 vs 2016年网络安全法)."""
        found: list[tuple[int, str]] = []
        lowered = text.lower()
        for name, doc_id, pattern in self.names:
            hit = bool(pattern.search(text)) if pattern else _names_cjk(lowered, name)
            if hit:
                found.append((len(name), doc_id))
        ordered: list[str] = []
        for _, doc_id in sorted(found, key=lambda pair: -pair[0]):
            if doc_id not in ordered:
                ordered.append(doc_id)
        return ordered

    def find(self, doc_id: str, ref: ArticleRef) -> list[Unit]:
        """The units of a text a reference names: the paragraph itself, or the whole article with its paragraphs."""
        units = self.units.get(doc_id, [])
        exact = [u for u in units if u.ref == ref]
        if exact and ref.paragraph is not None:
            return exact
        whole = [u for u in units if u.ref.whole == ref.whole and u.ref.kind == ref.kind]
        return whole or exact

    def lookup(self, question: str) -> list[Unit]:
        """Units a question names, with the law it names; [] when it names no law or no unit."""
        refs = parse_article_refs(question)
        laws = self.laws_named(question)
        if not refs or not laws:
            return []
        for doc_id in laws:  # the most specific name that has the unit wins
            units = [u for ref in refs for u in self.find(doc_id, ref)]
            if units:
                return units
        return []


def unit_chunks(units: list[Unit], chunks_by_doc: dict[str, list[Chunk]], limit: int = MAX_LOOKUP_CHUNKS) -> list[str]:
    """Chunk ids inside the units, in reading order, at most ``limit``."""
    found: list[str] = []
    for unit in units:
        for chunk in chunks_by_doc.get(unit.doc_id, []):
            if unit.section.start <= chunk.start < unit.section.end and chunk.id not in found:
                found.append(chunk.id)
    return found[:limit]


def unit_text(document: Document, unit: Unit, max_chars: int = 1200) -> str:
    """The unit's text verbatim (its paragraphs, for a whole article), cut at a sentence end near max_chars."""
    sections = [s for s in document.sections if unit.section.start <= s.start < unit.section.end] or [unit.section]
    end = max(s.end for s in sections)
    if unit.section.level > 0 and unit.ref.paragraph is None:
        end = max(end, _article_end(document, unit))
    text = document.text[unit.section.start : end].strip()
    if len(text) <= max_chars:
        return text
    cut = max(text.rfind(mark, 0, max_chars) for mark in ("。", ". ", "；", "; "))
    return text[: cut + 1] if cut > max_chars // 3 else text[:max_chars]


def _article_end(document: Document, unit: Unit) -> int:
    """End of a whole article: its last paragraph section."""
    end = unit.section.end
    for section in document.sections:
        refs = parse_article_refs(section.article) if section.article else []
        if section.start >= unit.section.start and refs and refs[0].whole == unit.ref.whole:
            end = max(end, section.end)
    return end
