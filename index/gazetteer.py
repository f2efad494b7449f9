"""A bilingual gazetteer: names the corpus gives in English and Chinese, plus places and bodies.

A question about 巴西 must find "Brazil", and one about the Cybersecurity Law must find 网络安全法.
The corpus itself pairs most names (twin page titles, bilingual ``ruleName``s, the headers and
first cells of the same table on a page and its twin, company titles such as "Baidu 百度"); a
short hand-kept list adds countries, regions and the public bodies questions name. Identifiers
have generated variants (Article 50 ↔ Art. 50 ↔ 第五十条, EO 14179 ↔ Executive Order 14179).
Everything here is a pure function of the documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from govqa.corpus.cjk import CJK, CJK_RANGE
from govqa.corpus.documents import Document
from govqa.index.expansion import bilingual_terms

# Kinds, most specific first; an entry merged from several sources keeps the first.
KINDS = ("place", "organisation", "law", "name", "title", "phrase")
# Kinds that name something a question can be about (page titles and table labels are
# equivalents only: "Usage Policy" ↔ 使用政策 is a pair, not a proper name).
NAME_KINDS = frozenset({"place", "organisation", "law", "name"})

# (English forms, Chinese forms). Countries and regions the corpus or its users name, and the
# public bodies that appear in questions under either name. Kept short on purpose: the corpus
# supplies the rest.
PLACES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("China", "PRC", "People's Republic of China", "mainland China"), ("中国", "中华人民共和国")),
    (("United States", "US", "U.S.", "USA", "America"), ("美国",)),
    (("European Union", "EU"), ("欧盟",)),
    (("Europe",), ("欧洲",)),
    (("United Kingdom", "UK", "Britain", "Great Britain"), ("英国",)),
    (("Brazil",), ("巴西",)),
    (("Canada",), ("加拿大",)),
    (("Mexico",), ("墨西哥",)),
    (("Argentina",), ("阿根廷",)),
    (("Chile",), ("智利",)),
    (("Colombia",), ("哥伦比亚",)),
    (("Peru",), ("秘鲁",)),
    (("Japan",), ("日本",)),
    (("South Korea", "Korea", "Republic of Korea"), ("韩国",)),
    (("North Korea",), ("朝鲜",)),
    (("India",), ("印度",)),
    (("Kashmir",), ("克什米尔",)),
    (("Pakistan",), ("巴基斯坦",)),
    (("Singapore",), ("新加坡",)),
    (("Malaysia",), ("马来西亚",)),
    (("Indonesia",), ("印度尼西亚", "印尼")),
    (("Vietnam", "Viet Nam"), ("越南",)),
    (("Thailand",), ("泰国",)),
    (("Philippines",), ("菲律宾",)),
    (("Australia",), ("澳大利亚", "澳洲")),
    (("New Zealand",), ("新西兰",)),
    (("Russia", "Russian Federation"), ("俄罗斯",)),
    (("Ukraine",), ("乌克兰",)),
    (("Turkey", "Türkiye"), ("土耳其",)),
    (("Israel",), ("以色列",)),
    (("Saudi Arabia",), ("沙特阿拉伯", "沙特")),
    (("United Arab Emirates", "UAE"), ("阿联酋", "阿拉伯联合酋长国")),
    (("Qatar",), ("卡塔尔",)),
    (("Egypt",), ("埃及",)),
    (("South Africa",), ("南非",)),
    (("Nigeria",), ("尼日利亚",)),
    (("Kenya",), ("肯尼亚",)),
    (("Rwanda",), ("卢旺达",)),
    (("Germany",), ("德国",)),
    (("France",), ("法国",)),
    (("Spain",), ("西班牙",)),
    (("Italy",), ("意大利",)),
    (("Netherlands", "Holland"), ("荷兰",)),
    (("Belgium",), ("比利时",)),
    (("Ireland",), ("爱尔兰",)),
    (("Portugal",), ("葡萄牙",)),
    (("Austria",), ("奥地利",)),
    (("Switzerland",), ("瑞士",)),
    (("Sweden",), ("瑞典",)),
    (("Denmark",), ("丹麦",)),
    (("Finland",), ("芬兰",)),
    (("Norway",), ("挪威",)),
    (("Poland",), ("波兰",)),
    (("Greece",), ("希腊",)),
    (("Hungary",), ("匈牙利",)),
    (("Czech Republic", "Czechia"), ("捷克",)),
    (("Hong Kong",), ("香港",)),
    (("Macau", "Macao"), ("澳门",)),
    (("Taiwan",), ("台湾",)),
    (("Beijing",), ("北京",)),
    (("Shanghai",), ("上海",)),
    (("Shenzhen",), ("深圳",)),
    (("Guangdong",), ("广东",)),
    (("Guangzhou",), ("广州",)),
    (("Zhejiang",), ("浙江",)),
    (("Hangzhou",), ("杭州",)),
    (("Jiangsu",), ("江苏",)),
    (("Tianjin",), ("天津",)),
    (("Chongqing",), ("重庆",)),
    (("Sichuan",), ("四川",)),
    (("Hubei",), ("湖北",)),
    (("California",), ("加利福尼亚", "加州")),
    (("Colorado",), ("科罗拉多",)),
    (("Texas",), ("得克萨斯", "德克萨斯", "德州")),
    (("New York",), ("纽约",)),
    (("Illinois",), ("伊利诺伊",)),
    (("Utah",), ("犹他",)),
    (("Connecticut",), ("康涅狄格",)),
    (("Seoul",), ("首尔",)),
    (("Tokyo",), ("东京",)),
    (("Brussels",), ("布鲁塞尔",)),
    (("Paris",), ("巴黎",)),
    (("Bletchley",), ("布莱切利",)),
    (("Hiroshima",), ("广岛",)),
)
BODIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("United Nations", "UN"), ("联合国",)),
    (("UNESCO",), ("联合国教科文组织",)),
    (("OECD",), ("经合组织", "经济合作与发展组织")),
    (("G7", "Group of Seven"), ("七国集团",)),
    (("G20", "Group of Twenty"), ("二十国集团",)),
    (("European Commission",), ("欧盟委员会", "欧委会")),
    (("European Parliament",), ("欧洲议会",)),
    (("Cyberspace Administration of China", "CAC"), ("国家互联网信息办公室", "国家网信办", "网信办")),
    (("Ministry of Industry and Information Technology", "MIIT"), ("工业和信息化部", "工信部")),
    (("Federal Trade Commission", "FTC"), ("联邦贸易委员会",)),
    (("National Institute of Standards and Technology", "NIST"), ("美国国家标准与技术研究院",)),
    (("White House",), ("白宫",)),
    (("Huawei",), ("华为",)),
    (("Microsoft",), ("微软",)),
    (("Meta",), ("Meta",)),
)

_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")
_ACRONYM = re.compile(r"[A-Z0-9.]{1,5}")
_TRAILING_PARENTHESIS = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")
_TITLE_SPLIT = re.compile(r"\s+—\s+|——")
_MIXED_TITLE = re.compile(rf"^([A-Za-z][A-Za-z0-9 .&'\-]*?)\s*([{CJK_RANGE}][{CJK_RANGE}\s]*)$")
_MIXED_TITLE_ZH_FIRST = re.compile(rf"^([{CJK_RANGE}][{CJK_RANGE}\s]*?)\s*([A-Za-z][A-Za-z0-9 .&'\-]*)$")
_SMALL_WORDS = frozenset("a an and as at by for from in of on or the to with de du la le".split())
MAX_CELL_CHARS = 60  # longer table cells are sentences, not names

_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral (七 → 7, 九十九 → 99, 一千万 → 10000000, 两 → 2); None if not one."""
    if not text or any(c not in _ZH_DIGITS and c not in _ZH_UNITS and c not in _ZH_BIG_UNITS for c in text):
        return None
    total = section = digit = 0
    seen_digit = False
    for char in text:
        if char in _ZH_DIGITS:
            digit = _ZH_DIGITS[char]
            seen_digit = True
        elif char in _ZH_UNITS:
            section += (digit if seen_digit else 1) * _ZH_UNITS[char]
            digit, seen_digit = 0, False
        else:
            total += (section + digit) * _ZH_BIG_UNITS[char]
            section = digit = 0
            seen_digit = False
    return total + section + digit


def chinese_numeral(value: int) -> str:
    """The Chinese numeral for 0 < value < 10000 as laws write article numbers (15 → 十五, 101 → 一百零一)."""
    digits = "零一二三四五六七八九"
    if not 0 < value < 10_000:
        return str(value)
    parts: list[str] = []
    pending_zero = False
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = value // unit_value % 10
        if digit == 0:
            pending_zero = bool(parts)
            continue
        if pending_zero:
            parts.append("零")
            pending_zero = False
        # 十五, not 一十五, when ten is the leading unit.
        parts.append(("" if unit == "十" and digit == 1 and not parts else digits[digit]) + unit)
    return "".join(parts)


_ARTICLE_EN = re.compile(r"^(?:Article|Art\.?|Arts\.?|Articles)\s*(\d+)([a-z]?)((?:\(\w+\))*)$", re.IGNORECASE)
_ARTICLE_ZH = re.compile(r"^第\s*([0-9]+|[零〇一二两三四五六七八九十百千]+)\s*条$")
_SECTION = re.compile(r"^(?:Section|Sec\.?|§+)\s*(\d+(?:\.\d+)?)$", re.IGNORECASE)
_EXECUTIVE_ORDER = re.compile(r"^(?:EO|E\.O\.|Executive Order)\s*(?:No\.\s*)?(\d{4,6})$", re.IGNORECASE)


def identifier_variants(term: str) -> frozenset[str]:
    """Other spellings of an article, section or executive-order identifier (empty for anything else)."""
    term = term.strip()
    match = _ARTICLE_EN.match(term)
    if match:
        number, letter, paragraphs = match.groups()
        base = int(number)
        variants = {f"Article {base}{letter}{paragraphs}", f"Art. {base}{letter}{paragraphs}"}
        if not letter:
            variants |= {f"第{chinese_numeral(base)}条", f"第{base}条", f"第 {base} 条"}
        return frozenset(variants)
    match = _ARTICLE_ZH.match(term)
    if match:
        raw = match.group(1)
        base_value = int(raw) if raw.isdigit() else chinese_number(raw)
        if base_value is None:
            return frozenset()
        return frozenset(
            {f"第{chinese_numeral(base_value)}条", f"第{base_value}条", f"Article {base_value}", f"Art. {base_value}"}
        )
    match = _SECTION.match(term)
    if match:  # executive orders number their sections "Sec. 4."; questions say "Section 4"
        number = match.group(1)
        return frozenset({f"Section {number}", f"Sec. {number}", f"§ {number}", f"§{number}"})
    match = _EXECUTIVE_ORDER.match(term)
    if match:
        number = match.group(1)
        return frozenset({f"EO {number}", f"E.O. {number}", f"Executive Order {number}", f"第{number}号行政令"})
    return frozenset()


_FLAGS = re.compile(r"[\U0001F1E6-\U0001F1FF\u2600-\u27BF\U0001F300-\U0001FAFF\uFE0F]")


def _clean(form: str) -> str:
    return re.sub(r"\s+", " ", _FLAGS.sub("", form).strip().strip("《》\"“”'").strip())


def _case_sensitive(form: str) -> bool:
    # Short acronyms are matched as written: "US" must not match "let us", nor "UN" "un-".
    return _ACRONYM.fullmatch(form) is not None and any(c.isalpha() for c in form)


def form_pattern(form: str) -> re.Pattern[str]:
    """A regex for one form: CJK as written (spaces optional), Latin on word boundaries.

    Spaces, hyphens, dots, slashes, "&" and "and" between the alphanumeric pieces of a Latin
    form are optional and interchangeable, so "GB 45438-2025" matches "GB45438-2025", "Art. 50"
    matches "Art 50" and "Safety & Security" matches "Safety and Security".
    """
    if CJK.search(form):
        pieces = [re.escape(c) for c in form if not c.isspace()]
        return re.compile(r"\s*".join(pieces))
    # "&" and "and" are interchangeable: "Safety & Security Committee" is also written out.
    pieces = [p for p in _LATIN_WORD.findall(form) if p.casefold() != "and"]
    if not pieces:
        return re.compile(re.escape(form))
    body = r"(?:[\s\-./·'&]|\band\b)*".join(re.escape(p) for p in pieces)
    flags = 0 if _case_sensitive(form) else re.IGNORECASE
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])", flags)


@dataclass(frozen=True)
class Entry:
    """One named thing and every form it goes by, in either language."""

    forms: frozenset[str]
    kind: str

    @property
    def english(self) -> list[str]:
        return sorted(f for f in self.forms if not CJK.search(f))

    @property
    def chinese(self) -> list[str]:
        return sorted(f for f in self.forms if CJK.search(f))


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    entry: Entry


class Gazetteer:
    """Entries looked up by any of their forms (case-insensitive), in either language."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self._by_form: dict[str, Entry] = {}
        for entry in self.entries:
            for form in entry.forms:
                self._by_form.setdefault(form.casefold(), entry)
        self._patterns: dict[str, re.Pattern[str]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, term: str) -> Entry | None:
        return self._by_form.get(_clean(term).casefold())

    def equivalents(self, term: str) -> frozenset[str]:
        """Every form of the term (itself included), in both languages; identifiers get their variants."""
        term = _clean(term)
        forms = {term} | identifier_variants(term)
        entry = self.entry(term)
        if entry is not None:
            forms |= entry.forms
        return frozenset(forms)

    def _pattern(self, form: str) -> re.Pattern[str]:
        pattern = self._patterns.get(form)
        if pattern is None:
            pattern = self._patterns[form] = form_pattern(form)
        return pattern

    @cached_property
    def _longer_forms(self) -> dict[str, list[str]]:
        """For each CJK form, the longer place names that contain it (印度 → 印度尼西亚)."""
        cjk_forms = [f for f in self._by_form if CJK.search(f)]
        longer: dict[str, list[str]] = {}
        for form in cjk_forms:
            owner = self._by_form[form]
            # Only other places block: 中国 still occurs in 中国 — 生成内容标识 or 中华人民共和国网络安全法.
            containing = [
                o
                for o in cjk_forms
                if len(o) > len(form)
                and form in o
                and self._by_form[o] is not owner
                and self._by_form[o].kind == "place"
            ]
            if containing:
                longer[form] = containing
        return longer

    @cached_property
    def _forms_longest_first(self) -> list[tuple[str, str, str]]:
        """(casefolded key, form as written, probe) with a probe that must occur for the form to match.

        Checking the probe first (one substring test) keeps a scan of a question over hundreds
        of forms to a few milliseconds.
        """
        rows = []
        for key in sorted(self._by_form, key=len, reverse=True):
            original = next(f for f in self._by_form[key].forms if f.casefold() == key)
            pieces = _LATIN_WORD.findall(key) if not CJK.search(key) else [c for c in key if CJK.match(c)][:1]
            rows.append((key, original, max(pieces, key=len) if pieces else ""))
        return rows

    def _spans(self, form: str, text: str) -> Iterator[tuple[int, int]]:
        blocked = [
            (m.start(), m.end())
            for o in self._longer_forms.get(form.casefold(), [])
            for m in self._pattern(o).finditer(text)
        ]
        for match in self._pattern(form).finditer(text):
            if not any(a <= match.start() and match.end() <= b for a, b in blocked):
                yield match.start(), match.end()

    def occurs_in(self, term: str, text: str) -> bool:
        """Whether any form of the term appears in the text (Latin case-insensitive, on word boundaries)."""
        return any(next(self._spans(form, text), None) is not None for form in self.equivalents(term))

    def mentions(self, text: str, kinds: Iterable[str] | None = None) -> list[Mention]:
        """Non-overlapping mentions of gazetteer forms in the text, longest first, in reading order."""
        wanted = set(kinds) if kinds is not None else None
        found: list[Mention] = []
        taken: list[tuple[int, int]] = []
        folded = text.casefold()
        for key, original, probe in self._forms_longest_first:
            entry = self._by_form[key]
            if (wanted is not None and entry.kind not in wanted) or probe not in folded:
                continue
            for start, end in self._spans(original, text):
                if any(start < b and a < end for a, b in taken):
                    continue
                taken.append((start, end))
                found.append(Mention(start, end, text[start:end], entry))
        return sorted(found, key=lambda m: m.start)


class _Merger:
    """Union-find over casefolded forms, so pairs that share a form become one entry."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.original: dict[str, str] = {}
        self.kind: dict[str, str] = {}

    def _find(self, key: str) -> str:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def add(self, forms: Sequence[str], kind: str) -> None:
        keys = []
        for form in forms:
            form = _clean(form)
            if not form:
                continue
            key = form.casefold()
            if key not in self.parent:
                self.parent[key] = key
                self.original[key] = form
                self.kind[key] = kind
            keys.append(key)
        for key in keys[1:]:
            a, b = self._find(keys[0]), self._find(key)
            if a != b:
                self.parent[b] = a
                self.kind[a] = min(self.kind[a], self.kind[b], key=KINDS.index)
        if keys:
            root = self._find(keys[0])
            self.kind[root] = min(self.kind[root], kind, key=KINDS.index)

    def entries(self) -> list[Entry]:
        groups: dict[str, set[str]] = {}
        for key in self.parent:
            groups.setdefault(self._find(key), set()).add(self.original[key])
        return [Entry(frozenset(forms), self.kind[root]) for root, forms in groups.items()]


def _page_kind(document: Document) -> str:
    parts = document.page_key.strip("/").split("/")
    if parts[0] == "companies" and len(parts) == 2:
        return "organisation"
    if document.metadata.get("ruleName") or (parts[0] in {"rules", "subnational"} and len(parts) >= 3):
        return "law"
    return "title"


def _is_pair(english: str, chinese: str) -> bool:
    english, chinese = _clean(english), _clean(chinese)
    return bool(english and chinese) and not CJK.search(english) and bool(CJK.search(chinese))


def _title_pairs(english: str, chinese: str) -> list[tuple[str, str]]:
    """A twin title pair and its parts: "China — Data and Training" ↔ "中国 — 数据与训练" gives China ↔ 中国 too."""
    pairs = [(english, chinese)]
    en_parts, zh_parts = _TITLE_SPLIT.split(english), _TITLE_SPLIT.split(chinese)
    if len(en_parts) == len(zh_parts) > 1:
        pairs += [
            (_TRAILING_PARENTHESIS.sub("", a), _TRAILING_PARENTHESIS.sub("", b))
            for a, b in zip(en_parts, zh_parts, strict=True)
        ]
    return [(a.strip(), b.strip()) for a, b in pairs if _is_pair(a, b)]


def mixed_title_pair(title: str) -> tuple[str, str] | None:
    """("Baidu", "百度") from a title that names a thing in both languages: "Baidu 百度", "百度 Baidu (ERNIE)"."""
    core = _TRAILING_PARENTHESIS.sub("", title).strip()
    match = _MIXED_TITLE.match(core)
    if match:
        return match.group(1).strip(), match.group(2).strip()
    match = _MIXED_TITLE_ZH_FIRST.match(core)
    if match:
        return match.group(2).strip(), match.group(1).strip()
    return None


def _looks_like_name(english: str) -> bool:
    """A proper name rather than a label: "Alibaba Qwen", "SB 53", "ERNIE"; not "Analysis" or "Number of models"."""
    words = [w for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-]*", english) if w.lower() not in _SMALL_WORDS]
    if not words or not words[0][0].isupper() or re.search(r"\d{4}-\d{2}", english):
        return False
    if not all(w[0].isupper() or w[0].isdigit() for w in words):
        return False
    distinctive = any(re.search(r"\d|[A-Z]{2}|[a-z][A-Z]", w) for w in words)
    return distinctive or len(words) >= 2


def _table_records(document: Document) -> list[list[str]]:
    """The document's tables (consecutive table-row spans of one section), each a list of row records."""
    tables: list[list[str]] = []
    previous = None
    for span in document.spans:
        if span.kind != "table_row":
            previous = None
            continue
        if previous is None or previous.section != span.section:
            tables.append([])
        tables[-1].append(document.text[span.start : span.end])
        previous = span
    return tables


def _record_cells(record: str) -> list[tuple[str, str]]:
    """(header, cell) pairs of a row record "Header: cell; Header: cell" (see corpus.markdown)."""
    cells = []
    for part in record.split("; "):
        header, sep, cell = part.partition(": ")
        cells.append((header.strip(), cell.strip()) if sep else ("", part.strip()))
    return cells


def _table_pairs(english: Document, chinese: Document) -> Iterator[tuple[str, str, str]]:
    """(English, Chinese, kind) from the same table on a page and its twin: headers and row labels.

    Only tables that line up (same number of tables, rows and cells) are read, so a
    shifted row never pairs two different things.
    """
    en_tables, zh_tables = _table_records(english), _table_records(chinese)
    if len(en_tables) != len(zh_tables):
        return
    for en_rows, zh_rows in zip(en_tables, zh_tables, strict=True):
        if len(en_rows) != len(zh_rows):
            continue
        for en_row, zh_row in zip(en_rows, zh_rows, strict=True):
            en_cells, zh_cells = _record_cells(en_row), _record_cells(zh_row)
            if len(en_cells) != len(zh_cells):
                continue
            for (en_header, _), (zh_header, _) in zip(en_cells, zh_cells, strict=True):
                if _is_pair(en_header, zh_header) and len(en_header) <= MAX_CELL_CHARS:
                    yield en_header, zh_header, "phrase"  # column headers are labels ("Issuing body")
            en_label = _TRAILING_PARENTHESIS.sub("", en_cells[0][1])
            zh_label = _TRAILING_PARENTHESIS.sub("", zh_cells[0][1])
            if _is_pair(en_label, zh_label) and len(en_label) <= MAX_CELL_CHARS:
                yield en_label, zh_label, "name" if _looks_like_name(en_label) else "phrase"


def build_gazetteer(documents: Sequence[Document], places: bool = True) -> Gazetteer:
    """The gazetteer of a corpus: its own name pairs plus (by default) the hand-kept places and bodies."""
    merger = _Merger()
    if places:
        for english_forms, chinese_forms in PLACES:
            merger.add([*english_forms, *chinese_forms], "place")
        for english_forms, chinese_forms in BODIES:
            merger.add([*english_forms, *chinese_forms], "organisation")
    kind_of_title: dict[str, str] = {}
    for document in documents:
        kind = _page_kind(document)
        for name in (document.title, document.metadata.get("ruleName", "")):
            if name:
                kind_of_title.setdefault(_clean(_TRAILING_PARENTHESIS.sub("", name)).casefold(), kind)
        if kind == "organisation":
            # Company pages name the company in both languages: "Baidu 百度", "百度 Baidu".
            pair = mixed_title_pair(document.title)
            names = list(pair) if pair and _is_pair(*pair) else [document.title]
            merger.add([*names, document.company.replace("-", " ")] if document.company else names, kind)
    for english, chinese in bilingual_terms(documents):
        kind = kind_of_title.get(_clean(english).casefold(), "title")
        for index, (a, b) in enumerate(_title_pairs(english, chinese)):
            # The whole title keeps the page's kind; its parts ("China", "Data and Training") are
            # phrases, and a part that is a place joins that place's entry.
            part_kind = kind if index == 0 else "phrase"
            merger.add([a, b], part_kind)
    by_id = {d.id: d for d in documents}
    for document in documents:
        twin = by_id.get(document.twin_id or "")
        if document.lang == "en" and twin is not None and twin.lang == "zh":
            for english, chinese, kind in _table_pairs(document, twin):
                merger.add([english, chinese], kind)
    return Gazetteer(merger.entries())


class TermIndex:
    """Which documents mention a term in any of its forms: a substring pre-check, then the exact pattern.

    Answers "does the corpus say anything about Brazil / 巴西?" in about a millisecond, where a
    regex over the whole corpus takes tens.
    """

    def __init__(self, texts: Mapping[str, str], gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self._texts = dict(texts)
        self._folded = {key: text.casefold() for key, text in self._texts.items()}
        self._squeezed = {key: re.sub(r"\s+", "", text) for key, text in self._texts.items()}
        self._cache: dict[str, frozenset[str]] = {}  # questions name the same few terms again and again

    @classmethod
    def from_documents(cls, documents: Iterable[Document], gazetteer: Gazetteer) -> TermIndex:
        """Each document's title and text, keyed by document id."""
        return cls({d.id: f"{d.title}\n{d.text}" for d in documents}, gazetteer)

    def _candidates(self, form: str) -> list[str]:
        if CJK.search(form):
            probe = re.sub(r"\s+", "", form)
            return [key for key, text in self._squeezed.items() if probe in text]
        pieces = [p for p in _LATIN_WORD.findall(form.casefold()) if p != "and"] or [form.casefold()]
        return [key for key, text in self._folded.items() if all(p in text for p in pieces)]

    def _documents_with_form(self, form: str) -> frozenset[str]:
        cached = self._cache.get(form)
        if cached is None:
            cached = frozenset(
                key for key in self._candidates(form) if next(self.gazetteer._spans(form, self._texts[key]), None)
            )
            self._cache[form] = cached
        return cached

    def documents_with(self, forms: Iterable[str]) -> set[str]:
        """Ids of the documents that mention any of the forms (as ``Gazetteer.occurs_in`` would find them)."""
        return set().union(*(self._documents_with_form(form) for form in forms))

    def occurs_anywhere(self, forms: Iterable[str]) -> bool:
        return any(self._documents_with_form(form) for form in forms)
