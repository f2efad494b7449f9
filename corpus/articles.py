"""Article references in English and Chinese: parsing, numbering and labels (pure functions).

"Article 50(2)", "Art. 3", "第十四条", "第一百一十三条", "Annex III", "Recital 12",
"Section 4.2", "GOVERN 1.1" all become an :class:`ArticleRef`, so a question, a site
sentence and a heading of an official text can be compared by key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMBER = "[零〇一二两三四五六七八九十百千0-9０-９]+"
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def chinese_number(text: str) -> int | None:
    """一百一十三 → 113, 十四 → 14, 二十 → 20, 一百零三 → 103, 113 → 113; None when not a number."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text.isdigit():
        return int(text)
    if not text or any(c not in _DIGITS and c not in _UNITS for c in text):
        return None
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        else:
            total += (1 if digit is None else digit) * _UNITS[char]
            digit = None
    return total + (digit or 0)


def chinese_numeral(number: int) -> str:
    """113 → 一百一十三, 14 → 十四, 20 → 二十, 103 → 一百零三 (1–9999), as Chinese laws number articles."""
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    if number < 20:
        return "十" + (digits[number % 10] if number % 10 else "")
    parts: list[str] = []
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // value % 10
        if digit:
            if zero and parts:
                parts.append("零")
            parts.append(digits[digit] + unit)
            zero = False
        elif parts:
            zero = True
    return "".join(parts)


def roman_number(text: str) -> int | None:
    text = text.upper()
    if not text or any(c not in _ROMAN for c in text):
        return None
    values = [_ROMAN[c] for c in text]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


@dataclass(frozen=True)
class ArticleRef:
    """A numbered unit of an official text. ``kind``: article, annex, recital, section or function."""

    kind: str
    number: str  # "50", "III", "4.2", "GOVERN 1.1"
    paragraph: int | None = None  # Article 50(2), 第七条第二款

    @property
    def whole(self) -> ArticleRef:
        return ArticleRef(self.kind, self.number)

    def label(self, lang: str = "en") -> str:
        """How a citation names the unit: "Article 50(2)", "第七条", "Annex III", "GOVERN 1.1"."""
        if self.kind == "article" and lang == "zh" and self.number.isdigit():
            label = f"第{chinese_numeral(int(self.number))}条"
            return label + (f"第{chinese_numeral(self.paragraph)}款" if self.paragraph else "")
        if self.kind == "article":
            return f"Article {self.number}" + (f"({self.paragraph})" if self.paragraph else "")
        if self.kind == "annex":
            return f"Annex {self.number}" + (f", point {self.paragraph}" if self.paragraph else "")
        if self.kind == "recital":
            return f"Recital {self.number}"
        if self.kind == "section":
            return f"Section {self.number}"
        return self.number


_EN_ARTICLE = re.compile(r"\b(?:Articles?|Art\.?)\s*(\d{1,3})(?:\s*\((\d{1,2})\))?", re.IGNORECASE)
_ZH_ARTICLE = re.compile(rf"第({_ZH_NUMBER})条(?:第({_ZH_NUMBER})款)?")
_ANNEX = re.compile(r"\bAnnex\s+([IVXLC]+)\b(?:,?\s*point\s*(\d+))?", re.IGNORECASE)
_ZH_ANNEX = re.compile(r"附件\s*([IVXLC]+|[一二三四五六七八九十]+)")
_RECITAL = re.compile(r"\bRecitals?\s*\(?(\d{1,3})\)?", re.IGNORECASE)
_SECTION = re.compile(r"\b(?:Section|Sec\.)\s*(\d{1,2}(?:\.\d{1,2})?)(?![\d.]*\d)", re.IGNORECASE)
_FUNCTION = re.compile(r"\b(GOVERN|MAP|MEASURE|MANAGE)\s+(\d{1,2}(?:\.\d{1,2})?)\b", re.IGNORECASE)


def parse_article_refs(text: str) -> list[ArticleRef]:
    """Every article-like reference in a text, in order of appearance, without repeats."""
    found: list[tuple[int, ArticleRef]] = []
    for match in _EN_ARTICLE.finditer(text):
        paragraph = int(match.group(2)) if match.group(2) else None
        found.append((match.start(), ArticleRef("article", str(int(match.group(1))), paragraph)))
    for match in _ZH_ARTICLE.finditer(text):
        number = chinese_number(match.group(1))
        paragraph = chinese_number(match.group(2)) if match.group(2) else None
        if number:
            found.append((match.start(), ArticleRef("article", str(number), paragraph or None)))
    for match in _ANNEX.finditer(text):
        if roman_number(match.group(1)):
            point = int(match.group(2)) if match.group(2) else None
            found.append((match.start(), ArticleRef("annex", match.group(1).upper(), point)))
    for match in _ZH_ANNEX.finditer(text):
        value = roman_number(match.group(1)) or chinese_number(match.group(1))
        if value:
            found.append((match.start(), ArticleRef("annex", to_roman(value))))
    for match in _RECITAL.finditer(text):
        found.append((match.start(), ArticleRef("recital", str(int(match.group(1))))))
    for match in _SECTION.finditer(text):
        found.append((match.start(), ArticleRef("section", match.group(1))))
    for match in _FUNCTION.finditer(text):
        found.append((match.start(), ArticleRef("function", f"{match.group(1).upper()} {match.group(2)}")))
    refs: list[ArticleRef] = []
    for _, ref in sorted(found, key=lambda pair: pair[0]):
        if ref not in refs:
            refs.append(ref)
    return refs


def to_roman(number: int) -> str:
    result = ""
    for value, letters in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV")):
        while number >= value:
            result += letters
            number -= value
    return result + "I" * number


# Headings of official texts: "Article 50 Transparency…", "第七条", "ANNEX III …", "Sec. 4. …".
_HEADING_ARTICLE = re.compile(r"^Article\s+(\d+)\b")
_HEADING_ZH_ARTICLE = re.compile(rf"^第({_ZH_NUMBER})条$")
_HEADING_ANNEX = re.compile(r"^ANNEX\s+([IVXLC]+)\b")
_HEADING_SECTION = re.compile(r"^(?:Section|Sec\.)\s+(\d+)\.")


def heading_ref(heading: str) -> ArticleRef | None:
    """The unit a heading of an official text opens, if it opens one."""
    heading = heading.strip()
    if match := _HEADING_ARTICLE.match(heading):
        return ArticleRef("article", match.group(1))
    if match := _HEADING_ZH_ARTICLE.match(heading):
        number = chinese_number(match.group(1))
        return ArticleRef("article", str(number)) if number else None
    if match := _HEADING_ANNEX.match(heading):
        return ArticleRef("annex", match.group(1))
    if match := _HEADING_SECTION.match(heading):
        return ArticleRef("section", match.group(1))
    return None


_NUMBERED_PARAGRAPH = re.compile(r"^(?:(\d{1,2})\.\s|\((\d{1,3})\)\s)")
_SUBSECTION = re.compile(r"^(\d{1,2})\.(\d{1,2})\.\s")
_FUNCTION_LABEL = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE)\s+(\d{1,2}(?:\.\d{1,2})?):")
_RECITAL_PARAGRAPH = re.compile(r"^\((\d{1,3})\)\s")


def paragraph_ref(paragraph: str, within: ArticleRef | None, in_recitals: bool = False) -> ArticleRef | None:
    """The sub-unit a paragraph opens: "2. Providers …" in Article 50 is Article 50(2);
    "4.2. Ensuring …" in Sec. 4 is Section 4.2; "GOVERN 1.1: …" anywhere; "(12) …" among recitals."""
    if match := _FUNCTION_LABEL.match(paragraph):
        return ArticleRef("function", f"{match.group(1)} {match.group(2)}")
    if in_recitals:
        match = _RECITAL_PARAGRAPH.match(paragraph)
        return ArticleRef("recital", match.group(1)) if match else None
    if within is None:
        return None
    if within.kind == "section":
        match = _SUBSECTION.match(paragraph)
        if match and match.group(1) == within.number:
            return ArticleRef("section", f"{match.group(1)}.{match.group(2)}")
        return None
    if within.kind in ("article", "annex") and (match := _NUMBERED_PARAGRAPH.match(paragraph)):
        return ArticleRef(within.kind, within.number, int(match.group(1) or match.group(2)))
    return None
