"""Question analysis (pure functions): what kind of answer is asked for, how many asks, about what.

- ``answer_type(question)``: date, number, percentage, money, person_or_org, yes_no, list,
  definition or other, from English and Chinese cues ("when", "how many", 哪些, 是否 …).
- ``asks(question)``: the separate asks of a question ("When … and which …?", "…？…？", 以及).
- ``typed_spans(text, answer_type)`` / ``evidence_has_type``: where a sentence states a date,
  number, amount, percentage, yes/no marker, list or definition.
- ``focus_terms(question, gazetteer)``: the names the answer must be about (places, bodies,
  laws and their identifiers, models), each with its forms in both languages;
  ``term_occurs`` / ``documents_mentioning`` say whether a text or the corpus mentions one.
- ``change_question(question)``: whether a question asks what changed between a page's
  editions or languages (answered by ``govqa diff``).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from govqa.corpus.cjk import CJK, CJK_RANGE
from govqa.index.gazetteer import NAME_KINDS, Gazetteer, TermIndex

ANSWER_TYPES = ("date", "number", "percentage", "money", "person_or_org", "yes_no", "list", "definition", "other")
DATE_PRECISIONS = ("year", "month", "day")


@dataclass(frozen=True)
class SubQuestion:
    """One ask of a question: its text (a verbatim slice question[start:end]) and answer type."""

    text: str
    answer_type: str
    start: int
    end: int


@dataclass(frozen=True)
class TypedSpan:
    """Where a text states an answer of some type; ``detail`` says how (date precision, unit …)."""

    start: int
    end: int
    text: str
    answer_type: str
    detail: str = ""


@dataclass(frozen=True)
class FocusTerm:
    """A name the answer must be about: its surface form in the question and all its equivalent forms."""

    text: str
    kind: str  # place | organisation | law | name | identifier | article | year
    equivalents: frozenset[str]
    start: int
    end: int


# ---------------------------------------------------------------------------------------------
# Answer types

_AUX = r"(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would|should|must|may|might)"
_YES_NO_EN = re.compile(rf"^(?:[^,?]{{0,80}},\s*)?{_AUX}\b", re.IGNORECASE)
_YES_NO_ZH = re.compile(r"是否|有没有|是不是|能否|可否|有无|会不会|吗\s*[？?]?\s*$")
# "when" asks for a date only as a question word, before an auxiliary ("When did …", "and when
# will …"), not as a conjunction ("When one of the exceptions allows …, what …").
_DATE_EN = re.compile(
    r"(?:^|[,;]\s*|\band\s+|\bsince\s+|\buntil\s+)when\s+(?:did|does|do|was|were|is|are|will|would|has|have|had|"
    r"can|could|should|must|shall|might|may)\b|(?:^|[,;]\s*|\band\s+)when\s*[?？]|"
    r"\b(?:what|which|on what|from what|by what|in what)\s+"
    r"(?:date|day|year|month)\b|\bwhat time\b|\bwhat (?:is|was) the deadline\b",
    re.IGNORECASE,
)
_DATE_ZH = re.compile(r"何时|什么时候|什么时间|哪一天|哪天|哪一年|哪年|何年|哪个月|哪一月|几月|几号|何日|日期|截止时间")
_YEAR_ASKED = re.compile(r"\b(?:which|what|in what)\s+year\b|哪一年|哪年|何年", re.IGNORECASE)
_PERCENT_EN = re.compile(
    r"\bwhat\s+(?:percentage|percent|per cent|share|proportion|fraction)\b|\bhow many per ?cent\b|\bpercentage\b",
    re.IGNORECASE,
)
_PERCENT_ZH = re.compile(r"百分之几|百分之多少|百分比|比例|占比|比重|几成|多少%|多少％")
_MONEY_WORDS_EN = re.compile(
    r"\b(?:fines?|penalt(?:y|ies)|price[sd]?|pricing|costs?|fees?|charges?|pay|paid|salary|budget|funding|funds?|"
    r"investments?|invested|revenues?|valuation|worth|settlement|damages|spend(?:ing)?|grants?|euros?|dollars?|yuan)\b",
    re.IGNORECASE,
)
_MONEY_ASK_EN = re.compile(r"\bhow (?:much|high|large|big)\b|\bwhat\b|\bamount\b|\bmaximum\b|\bup to\b", re.IGNORECASE)
_MONEY_ZH = re.compile(
    r"罚款|罚金|金额|价格|费用|多少钱|资金|投资|融资|估值|收费|定价|售价|赔偿|和解金|预算|(?:多少|几)(?:万|亿)?(?:元|美元|欧元)"
)
_MONEY_ASK_ZH = re.compile(r"多少|多高|几|最高|最低|上限|是什么|何")
_NUMBER_EN = re.compile(
    r"\bhow (?:many|much|large|big|long|old|often|high|far|wide|fast)\b|"
    r"\bwhat (?:is |was |are |were )?(?:the )?(?:[\w'’]+[\s-]+){0,3}?(?:number|count|amount|total|size|threshold|limit|"
    r"ceiling|cap|quantity|minimum|maximum|duration|period|age)\b",
    re.IGNORECASE,
)
_NUMBER_ZH = re.compile(
    r"多少|多大|多长|多久|多高|多远|(?<!哪)几(?:[名个项家条次天年岁位种类部款倍所人件周分层级]|小时|分钟)|门槛|阈值|上限|下限|数量|总数|人数|规模"
)
_LIST_EN = re.compile(
    r"^\s*(?:list|name|enumerate)\b|\b(?:list|name|enumerate) (?:the|all|every|each)\b|\bwhat are the\b|\bwhich (?:ones|of the)\b",
    re.IGNORECASE,
)
_LIST_ZH = re.compile(
    r"哪些|哪几|列出|列举|有什么|都有什么|包括什么|包括哪|分别是|哪[两二三四五六七八九十]+[个项类条种家]|"
    r"[两二三四五六七八九十]+[大项个类种条][^，。？?]{0,12}(?:是什么|有哪些)"
)
_WHICH_PHRASE = re.compile(
    r"\b(?:which|what)\s+(?:(?:are|were|is|was)\s+)?(?:the\s+)?((?:[\w-]+\s+){0,4}[\w-]+)", re.IGNORECASE
)
_DETERMINERS = frozenset("the a an its their his her this that these those our your".split())
_NOT_NOUNS = frozenset(
    "is are was were has have had does do did will would shall can could should must may might the a an its it this that"
    " these those"
    " us his hers".split()
)
_PLURAL_EXCEPTIONS = ("ss", "us", "is", "ics")
_IRREGULAR_PLURALS = frozenset({"people", "criteria", "media", "children"})
_S_VERBS = frozenset(
    """happens means requires applies says counts makes takes gives remains needs covers includes sets states defines
    lists triggers marks shows follows changes""".split()
)
_ORG_NOUNS = (
    r"(?:company|organi[sz]ation|agency|body|authority|regulator|ministry|department|alliance|institute|institution|"
    r"committee|firm|person|official|court|office|government|country|state|lab|laboratory|developer|provider|"
    r"association|council|commission|bureau|administration|university|group|team|regulator|issuer|publisher|"
    r"legislature|parliament|city|province|region|member state)"
)
_PERSON_EN = re.compile(rf"\bwho(?:m|se)?\b|\bwhich\s+(?:[\w-]+\s+){{0,2}}?{_ORG_NOUNS}\b", re.IGNORECASE)
_PERSON_ZH = re.compile(
    r"谁|哪家|哪一家|哪(?:一)?个(?:机构|部门|公司|组织|单位|国家|政府|委员会|联盟|实验室|企业|机关|城市|省份|地区)|"
    r"什么(?:机构|部门|组织|单位|机关)|由哪|(?:机构|部门|机关|组织|公司)是(?:什么|哪)"
)
_DEFINITION_EN = re.compile(
    r"\bwhat does .{1,60} (?:mean|stand for)\b|\bdefin(?:e|ition of)\b|\bmeaning of\b|\bwhat counts as\b|\bwhat is meant by\b",
    re.IGNORECASE,
)
_WHAT_IS = re.compile(r"^\s*what (?:is|are) (?:an? |the )?(.+?)\s*\??\s*$", re.IGNORECASE)
_NOT_DEFINED = re.compile(
    r"^(?:role|purpose|status|scope|difference|relationship|reason|aim|goal|main|key|current|first|last|next|"
    r"latest|new|its|their|his|her|this|that)\b",
    re.IGNORECASE,
)
_DEFINITION_ZH = re.compile(r"是什么意思|指什么|什么是|是指什么|的定义|含义|何谓|指的是什么|是什么\s*[？?。]?\s*$")
MAX_DEFINIENDUM_WORDS = 8  # "What is the GPAI Code of Practice?" asks for a definition; a long clause does not


def _is_plural_noun_phrase(phrase: str) -> bool:
    """Whether the words after "which"/"what" name several things: "companies signed", not "agency enforces the"."""
    words = [w.lower() for w in phrase.split()]
    for index, word in enumerate(words):
        if word in _NOT_NOUNS:
            return False
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in _IRREGULAR_PLURALS:
            return True
        if word.endswith("s") and not word.endswith(_PLURAL_EXCEPTIONS) and word not in _S_VERBS:
            # "enforces the …" is a verb with its object; "companies signed …" a plural subject.
            return following not in _DETERMINERS
    return False


def _is_list(question: str) -> bool:
    if _LIST_EN.search(question) or _LIST_ZH.search(question):
        return True
    return any(_is_plural_noun_phrase(m.group(1)) for m in _WHICH_PHRASE.finditer(question))


def _is_definition(question: str) -> bool:
    if _DEFINITION_EN.search(question):
        return True
    match = _WHAT_IS.match(question)
    if match and len(match.group(1).split()) <= MAX_DEFINIENDUM_WORDS and not _NOT_DEFINED.match(match.group(1)):
        return True
    return CJK.search(question) is not None and _DEFINITION_ZH.search(question) is not None


def _is_money(question: str) -> bool:
    if re.search(r"\bhow many\b", question, re.IGNORECASE):
        return False
    if _MONEY_WORDS_EN.search(question) and _MONEY_ASK_EN.search(question):
        return True
    return _MONEY_ZH.search(question) is not None and _MONEY_ASK_ZH.search(question) is not None


# The first rule that fires wins; yes/no goes first because "Is the fine above 7%?" asks yes or no.
_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("yes_no", lambda q: bool(_YES_NO_EN.search(q) or _YES_NO_ZH.search(q))),
    ("date", lambda q: bool(_DATE_EN.search(q) or _DATE_ZH.search(q))),
    ("percentage", lambda q: bool(_PERCENT_EN.search(q) or _PERCENT_ZH.search(q))),
    ("money", _is_money),
    ("number", lambda q: bool(_NUMBER_EN.search(q) or _NUMBER_ZH.search(q))),
    ("list", _is_list),
    ("person_or_org", lambda q: bool(_PERSON_EN.search(q) or _PERSON_ZH.search(q))),
    ("definition", _is_definition),
)


def answer_type(question: str) -> str:
    """The kind of answer a question expects; one of ANSWER_TYPES."""
    text = question.strip()
    for name, rule in _RULES:
        if rule(text):
            return name
    return "other"


def asked_date_precision(question: str) -> str:
    """How precise a date the question wants: "year" for which-year questions, else "month"."""
    return "year" if _YEAR_ASKED.search(question) else "month"


# ---------------------------------------------------------------------------------------------
# Asks

_QUESTION_WORD = re.compile(
    r"\b(?:what|which|who|whom|whose|how|why|where|when|whether)\b|什么|哪|何|谁|怎么|怎样|如何|为什么|多少|几|吗|是否",
    re.IGNORECASE,
)
_WH_START = (
    r"(?:when|which|what|who|whom|whose|how|where|why|whether|is|are|was|were|does|do|did|has|have|can|"
    r"(?:on|in|from|by|under|at|to|for|of|with)\s+(?:what|which|whom))\b"
)
# "…, and when …", "… and which …", and "…, and according to the X page, when …".
_SPLIT_EN = re.compile(rf"(?:,\s*|\s+)(?:and|but)\s+(?=(?:[^,?]{{0,60}},\s*)?{_WH_START})", re.IGNORECASE)
_SPLIT_QUESTION_MARK = re.compile(r"[？?](?=\s*\S)")
_SPLIT_ZH = re.compile(r"以及|；|;|，(?=[^，。？?；]{0,12}(?:何时|什么时候|哪|多少|是否|谁|几|什么))")
_LEADING_JOINER = re.compile(r"\s*(?:[,，;；]\s*)?(?:and|but|以及|并且|同时|另外|此外)?\s*", re.IGNORECASE)


def _has_cue(text: str) -> bool:
    return _QUESTION_WORD.search(text) is not None or answer_type(text) != "other"


def asks(question: str) -> list[SubQuestion]:
    """The separate asks of a question, in order; a question with one ask gives one SubQuestion.

    A split is kept only when both sides still ask something (a question word or an
    answer-type cue), so "欧盟AI法以及GDPR的罚款上限是多少" stays one ask.
    """
    cuts: set[int] = set()
    for pattern, after in ((_SPLIT_QUESTION_MARK, True), (_SPLIT_EN, False), (_SPLIT_ZH, False)):
        for match in pattern.finditer(question):
            cuts.add(match.end() if after else match.start())
    bounds = [0, len(question)]
    for cut in sorted(cuts):
        trial = sorted({*bounds, cut})
        index = trial.index(cut)
        left, right = question[trial[index - 1] : cut], question[cut : trial[index + 1]]
        if _has_cue(left) and _has_cue(right):
            bounds = trial
    parts = []
    for start, end in itertools.pairwise(bounds):
        joiner = _LEADING_JOINER.match(question, start, end)
        start = joiner.end() if joiner else start
        while end > start and question[end - 1].isspace():
            end -= 1
        if end > start:
            text = question[start:end]
            parts.append(SubQuestion(text, answer_type(text), start, end))
    return parts


# ---------------------------------------------------------------------------------------------
# Evidence types

_CURRENCY_CODES = r"(?:EUR|USD|RMB|CNY|GBP|JPY|HKD)"
_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
)
_ZH_DIGIT = "〇零一二三四五六七八九"
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\d/])(?:19|20)\d{2}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?![\d/])"), "day"),
    (re.compile(rf"\b\d{{1,2}}\s+{_MONTHS}\.?,?\s+(?:19|20)\d{{2}}\b"), "day"),
    (re.compile(rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}\b"), "day"),
    (re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]"), "day"),
    (re.compile(rf"[{_ZH_DIGIT}]{{4}}年[一二三四五六七八九十]{{1,2}}月[一二三十]{{1,3}}[日号]"), "day"),
    (re.compile(r"(?<![\d/])(?:19|20)\d{2}-(?:0[1-9]|1[0-2])(?![\d/]|-\d)"), "month"),
    (re.compile(rf"\b{_MONTHS}\.?\s+(?:19|20)\d{{2}}\b"), "month"),
    (re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月"), "month"),
    (re.compile(rf"[{_ZH_DIGIT}]{{4}}年[一二三四五六七八九十]{{1,2}}月"), "month"),
    (re.compile(rf"\b\d{{1,2}}\s+{_MONTHS}\b"), "day"),
    (re.compile(rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?![\d:])"), "day"),
    (re.compile(r"(?<![\d年])\d{1,2}\s*月\s*\d{1,2}\s*[日号]"), "day"),
    (re.compile(r"(?<![A-Za-z0-9_/.\-])(?:19|20)\d{2}(?:\s*年)?(?![\d/]|-\d|\.\d)"), "year"),
)
_NUM = r"\d+(?:[ ,\u202f\u00a0]\d{3})*(?:\.\d+)?"
_SCALE = r"(?:\s?(?:million|billion|thousand|trillion|bn|mn|[MBk])\b|\s*[万亿千百]+)?"
_CURRENCY_BEFORE = r"(?:(?<![A-Za-z])(?:EUR|USD|US\$|RMB|CNY|GBP|JPY|HK\$)|€|\$|¥|￥|£|人民币)"
_CURRENCY_AFTER = (
    r"(?:\s?(?:euros?|dollars?|yuan|renminbi|EUR|USD|RMB|CNY)\b|\s*(?:元|美元|欧元|英镑|日元|港元|人民币))"
)
_ZH_NUMERAL_RUN = r"[零〇一二两三四五六七八九十百千万亿]+"
_MONEY_PATTERNS = (
    re.compile(rf"{_CURRENCY_BEFORE}\s?{_NUM}{_SCALE}"),
    re.compile(rf"(?<![A-Za-z0-9_.]){_NUM}{_SCALE}{_CURRENCY_AFTER}"),
    re.compile(rf"(?<!第){_ZH_NUMERAL_RUN}(?:元|美元|欧元|英镑|日元|港元)"),
)
_PERCENT_PATTERNS = (
    re.compile(r"(?<![A-Za-z0-9_.])\d+(?:\.\d+)?\s?[%％]"),
    re.compile(r"(?<![A-Za-z0-9_.])\d+(?:\.\d+)?\s?(?:per ?cent|percent)\b", re.IGNORECASE),
    re.compile(r"百分之[零一二两三四五六七八九十百点]+"),
)
_CLASSIFIERS = "名个项家条次天年岁位种类部款倍人件周所层级"
_NUMBER_PATTERNS = (
    re.compile(r"(?<![A-Za-z0-9_.])\d+(?:\^|\*\*)\d+|10[⁰¹²³⁴⁵⁶⁷⁸⁹]+"),
    re.compile(rf"(?<![A-Za-z0-9_.]){_NUM}{_SCALE}"),
    # Two or more numeral characters (七十, 五百万), or one before a classifier (七人, 两名);
    # 一 alone before a classifier is the article "a" (一个框架), not a count.
    re.compile(
        rf"(?<![第零〇一二两三四五六七八九十百千万亿])(?:[二两三四五六七八九十]|[零〇一二两三四五六七八九十百千万亿]{{2,}})"
        rf"[{_CLASSIFIERS}元]"
    ),
    re.compile(r"(?<![第零〇一二两三四五六七八九十百千万亿])[零〇一二两三四五六七八九十百千]{2,}[万亿]?"),
    re.compile(
        r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
        r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|dozen|half|"
        r"one-(?:half|third|quarter|fifth|tenth|[a-z]+th)|daily|weekly|monthly|quarterly|annually|yearly)\b",
        re.IGNORECASE,
    ),
)
# Numbers that name something rather than count it: article, section and law numbers.
# Names that contain numbers: article, section, executive-order, law and standard numbers.
# They are focus terms of a question and never count as a number, date or amount in evidence.
IDENTIFIERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:Articles?|Arts?\.)\s*\d+[a-z]?(?:\(\w+\))*", re.IGNORECASE), "article"),
    (re.compile(r"第\s*[0-9零〇一二两三四五六七八九十百千]+\s*条"), "article"),
    (re.compile(r"§+\s*\d+(?:\.\d+)*"), "article"),
    (re.compile(r"\b(?:Section|Sec\.)\s*\d+(?:\.\d+)?\b", re.IGNORECASE), "article"),
    (re.compile(r"\b(?:EO|E\.O\.|Executive Order)\s*(?:No\.\s*)?\d{4,6}\b", re.IGNORECASE), "identifier"),
    (
        re.compile(
            rf"\b(?!{_CURRENCY_CODES}\b)[A-Z]{{2,}}[a-z]?(?:/[A-Z]{{1,4}})*\s?-?\d+[A-Za-z]?(?:[-/.]\d+[A-Za-z]?)*\b"
        ),
        "identifier",
    ),
    (re.compile(r"\b[A-Z]-\d+(?:-\d+)+\b"), "identifier"),
    (re.compile(r"(?<![\d.])\d{4}/\d{1,4}\b"), "identifier"),
    (re.compile(r"(?<![\d.])\d{2,4}/(?:19|20)\d{2}\b"), "identifier"),  # Law 132/2025, Royal Decree 729/2023
)
_IDENTIFIER_PATTERNS = (
    *(pattern for pattern, _ in IDENTIFIERS),
    re.compile(r"第\s*[0-9零〇一二两三四五六七八九十百千]+\s*[章节款项]"),
)
_YES_NO_PATTERNS = (
    re.compile(r"[✅❌✔✓✗✘☑❎⭕]"),
    re.compile(
        r"\b(?:not signed|unsigned|signed|joined|not joined|has not|have not|had not|did not|does not|do not|"
        r"hasn't|haven't|didn't|doesn't|never|declined|refused|not yet)\b|(?:^|:\s*)(?:yes|no)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"已签署|未签署|签署了|已加入|未加入|加入了|尚未|并未|没有|未曾|"
        r"未(?:签署|签|加入|参与|发布|公开|披露|承诺|通过|生效|施行|实施|采纳|提交|设立|建立|明确|纳入|列入)|(?:^|[:：]\s*)(?:是|否)(?=$|[；;，,。])"
    ),
)
_DEFINITION_PATTERNS = (
    re.compile(
        r"\b(?:means|shall mean|refers? to|is defined as|are defined as|defined as|denotes|is understood as)\b",
        re.IGNORECASE,
    ),
    re.compile(r"是指|指的是|系指|定义为|所称[^。；]{0,40}?指"),
)
_ORG_SUFFIX_EN = (
    r"(?:Office|Commission|Ministry|Administration|Agency|Council|Committee|Authority|Institute|Alliance|Association|"
    r"Department|Bureau|Court|Parliament|Congress|Government|University|Inc\.?|Ltd\.?|LLC|Corporation|Company|Group|"
    r"Labs?|Foundation|Board|Center|Centre|Forum|Consortium|Senate|House|Legislature)"
)
_PERSON_PATTERNS = (
    re.compile(rf"\b(?:[A-Z][\w&.\-]*\s+){{0,6}}{_ORG_SUFFIX_EN}\b"),
    re.compile(
        r"\b(?:Mr|Ms|Mrs|Dr|Prof|President|Governor|Senator|Commissioner|Minister|Secretary|Chair(?:man|woman)?|CEO)"
        r"\.?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*"
    ),
    re.compile(rf"\b(?!{_CURRENCY_CODES}\b|API\b|LLM\b|GPU\b|FLOP\b|GDP\b|AGI\b)[A-Z]{{3,}}\b"),
    re.compile(r"\b[A-Z][a-z]+[A-Z][A-Za-z]*"),  # DeepSeek, ByteDance, OpenAI
    re.compile(
        rf"[{CJK_RANGE}]{{2,12}}?(?:委员会|办公室|管理局|总局|监管局|(?<![外内全局各底顶小])部(?![件分])|厅|院|署|联盟|协会|"
        r"研究院|研究所|公司|集团|法院|政府|"
        r"中心|大学|实验室|基金会|理事会|人大|网信办)"
    ),
)
_LIST_ENUMERATION = re.compile(
    r"[^、]+(?:、[^、]+){2,}|[^;；]+(?:[;；][^;；]+){2,}|(?:[^,，]+[,，]){2,}[^,，]*\b(?:and|or)\b"
)
MIN_LIST_LINES = 2


def _spans(patterns: Any, text: str, answer_type: str, detail: str = "") -> list[TypedSpan]:
    return [
        TypedSpan(m.start(), m.end(), m.group(0), answer_type, detail)
        for pattern in patterns
        for m in pattern.finditer(text)
    ]


def _non_overlapping(spans: list[TypedSpan]) -> list[TypedSpan]:
    """Longest first, then reading order: "2023-08-15" wins over the "2023" inside it."""
    chosen: list[TypedSpan] = []
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if all(span.end <= c.start or c.end <= span.start for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _outside(spans: list[TypedSpan], blocked: list[TypedSpan]) -> list[TypedSpan]:
    return [s for s in spans if all(s.end <= b.start or b.end <= s.start for b in blocked)]


def _date_spans(text: str) -> list[TypedSpan]:
    identifiers = _spans(_IDENTIFIER_PATTERNS, text, "identifier")
    found = [TypedSpan(m.start(), m.end(), m.group(0), "date", d) for p, d in _DATE_PATTERNS for m in p.finditer(text)]
    return _non_overlapping(_outside(found, identifiers))


def typed_spans(text: str, answer_type: str) -> list[TypedSpan]:
    """Every place the text states an answer of this type, in reading order, without overlaps.

    Dates carry their precision in ``detail`` (day, month, year); numbers exclude dates and
    identifiers (Article 50, EO 14110, GB 45438-2025, 第七条); money and percentages are also
    numbers. "other" is the whole text.
    """
    if answer_type == "date":
        return _date_spans(text)
    if answer_type == "money":
        return _non_overlapping(_spans(_MONEY_PATTERNS, text, "money"))
    if answer_type == "percentage":
        return _non_overlapping(_spans(_PERCENT_PATTERNS, text, "percentage"))
    if answer_type == "number":
        blocked = _date_spans(text) + _spans(_IDENTIFIER_PATTERNS, text, "identifier")
        counted = _spans(_MONEY_PATTERNS, text, "number", "money") + _spans(
            _PERCENT_PATTERNS, text, "number", "percentage"
        )
        return _non_overlapping(_outside(counted + _spans(_NUMBER_PATTERNS, text, "number"), blocked))
    if answer_type == "yes_no":
        return _non_overlapping(_spans(_YES_NO_PATTERNS, text, "yes_no"))
    if answer_type == "definition":
        return _non_overlapping(_spans(_DEFINITION_PATTERNS, text, "definition"))
    if answer_type == "person_or_org":
        return _non_overlapping(_spans(_PERSON_PATTERNS, text, "person_or_org"))
    if answer_type == "list":
        lines = [line for line in text.split("\n") if line.strip()]
        if len(lines) > MIN_LIST_LINES or _LIST_ENUMERATION.search(text):
            return [TypedSpan(0, len(text), text, "list")]
        return []
    if answer_type == "other":
        return [TypedSpan(0, len(text), text, "other")] if text.strip() else []
    raise ValueError(f"unknown answer type {answer_type!r}; use one of {', '.join(ANSWER_TYPES)}")


def evidence_has_type(text: str, answer_type: str, date_precision: str = "month") -> bool:
    """Whether the text states an answer of the type; dates must be at least ``date_precision`` precise."""
    spans = typed_spans(text, answer_type)
    if answer_type == "date":
        wanted = DATE_PRECISIONS.index(date_precision)
        return any(DATE_PRECISIONS.index(s.detail) >= wanted for s in spans)
    return bool(spans)


# ---------------------------------------------------------------------------------------------
# Focus terms

GENERIC_WORDS = frozenset(
    """ai a.i. artificial intelligence law laws rule rules regulation regulations policy policies model models
    company companies government governments system systems data platform platforms service services agent agents
    api apis llm llms gpu gpus technology tech online internet digital english chinese edition editions page pages
    site website version versions""".split()
)
GENERIC_ZH = frozenset(
    """人工智能 规定 法 法律 法规 办法 规则 政策 模型 大模型 公司 企业 政府 国家 部门 机构 算法 数据 平台 服务 系统 中心
    网站 本站 地方 地区 技术 中文 英文 版本""".split()
)
_QUESTION_LEAD_WORDS = frozenset(
    """when what which who whom whose how why where does do did is are was were has have had can could will would
    should must may might under according in on at for from by the a an and or of to since after before during per as
    if list name define please give tell show compare explain describe between among within across besides beyond that
    this these those it its their there both each every all any some also""".split()
)
_MONTH_NAMES = frozenset(
    """january february march april may june july august september october november december jan feb mar apr jun jul
    aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday""".split()
)
_CONNECTORS = frozenset("of for on and the & de du".split())
# "and" joins one name ("Artificial Intelligence and Data Act") only when the run ends in a
# head noun like these; otherwise it joins two ("TRAIGA and California").
_NAME_HEADS = frozenset(
    """act law laws code measures regulation regulations provisions framework plan directive order bill strategy
    initiative principles commitments declaration committee commission review guidelines standard standards
    agreement convention charter pledge rules requirements""".split()
)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.'’&\-/]*")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_LOWER_TAIL = re.compile(r"-[a-z][a-z-]*$")
_QUOTED_TITLE = re.compile(r"《([^《》]{2,60})》")
_YEAR = re.compile(r"(?<![A-Za-z0-9_/\-.])((?:19|20)\d{2})(?![\d/]|-\d)(?:\s*年)?")
# jieba's part-of-speech tags for places, organisations and people; it tags a few common
# words as places (深度 in 深度合成), which are listed here as not names.
_POS_KINDS = {"ns": "place", "nt": "organisation", "nr": "name", "nrt": "name"}
_POS_NOT_NAMES = frozenset({"深度", "日志", "中方", "国内", "国际", "全球"})


@lru_cache(maxsize=1)
def _posseg() -> Any:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def is_generic(term: str) -> bool:
    """True for words no answer needs to be about: AI, law, 人工智能, 规定 …"""
    folded = term.strip().casefold()
    if not folded or folded in GENERIC_ZH:
        return True
    if CJK.search(folded):
        return False
    words = [w for w in re.findall(r"[a-z0-9.]+", folded) if w not in _CONNECTORS]
    return all(w in GENERIC_WORDS for w in words)


def _capitalised_runs(question: str) -> list[tuple[int, int]]:
    """Spans of capitalised word runs ("Widget Safety Act", "Qwen 3.5", "Code of Practice on Transparency")."""
    tokens = []
    for match in _TOKEN.finditer(question):
        word = match.group(0).rstrip(".-/")
        end = match.start() + len(word)
        possessive = _POSSESSIVE.search(word)
        if possessive:
            end -= len(possessive.group(0))
            word = word[: len(word) - len(possessive.group(0))]
        # "AI-generated", "GPAI-like": the lower-case tail is a modifier, so the name ends before it.
        modifier = _LOWER_TAIL.search(word)
        if modifier and word[0].isupper():
            end -= len(modifier.group(0))
            word = word[: len(word) - len(modifier.group(0))]
        if word:
            tokens.append((match.start(), end, word, bool(possessive or modifier)))
    runs: list[list[tuple[int, int, str, bool]]] = []
    for token in tokens:
        start, _end, word, _ = token
        month = all(part.lower() in _MONTH_NAMES for part in word.split("-"))
        capital = not month and (word[0].isupper() or any(c.isupper() for c in word[1:]))
        joinable = capital or word.lower() in _CONNECTORS or word[0].isdigit()
        previous = runs[-1][-1] if runs else None
        adjacent = previous is not None and not previous[3] and question[previous[1] : start].strip(" -&") == ""
        if joinable and adjacent and runs:
            runs[-1].append(token)
        elif capital:
            runs.append([token])
    split_runs = []
    for run in runs:
        if run[-1][2].lower() in _NAME_HEADS:
            split_runs.append(run)
            continue
        current: list[tuple[int, int, str, bool]] = []
        for token in run:
            if token[2].lower() == "and":
                split_runs.append(current)
                current = []
            else:
                current.append(token)
        split_runs.append(current)
    spans = []
    for run in split_runs:
        while run and (run[0][2].lower() in _QUESTION_LEAD_WORDS or run[0][2].lower() in _CONNECTORS):
            run = run[1:]
        while run and (
            run[-1][2].lower() in _CONNECTORS
            or (run[-1][2][0].isdigit() and len(run) == 1)
            or (len(run) > 1 and run[-1][2].lower() in GENERIC_WORDS)
        ):
            run = run[:-1]
        if run and not all(token[2][0].isdigit() for token in run):
            spans.append((run[0][0], run[-1][1]))
    return spans


def focus_terms(question: str, gazetteer: Gazetteer) -> list[FocusTerm]:
    """The names a right answer must be about, in reading order, with their forms in both languages.

    Found in this order (an earlier find wins where two overlap): law, article and standard
    identifiers; 《…》 titles; gazetteer names (places, bodies, companies, laws); capitalised
    names and model names; places and organisations jieba tags in Chinese; years. Generic words
    (AI, law, 人工智能, 规定) are never focus terms.
    """
    found: list[FocusTerm] = []

    def add(start: int, end: int, kind: str, surface: str | None = None) -> None:
        text = surface if surface is not None else question[start:end].strip()
        if not text or is_generic(text) or text.casefold() in _MONTH_NAMES:
            return
        if any(start < f.end and f.start < end for f in found):
            return
        entry = gazetteer.entry(text)
        found.append(FocusTerm(text, entry.kind if entry else kind, gazetteer.equivalents(text), start, end))

    for pattern, kind in IDENTIFIERS:
        for match in pattern.finditer(question):
            add(match.start(), match.end(), kind)
    for match in _QUOTED_TITLE.finditer(question):
        add(match.start(), match.end(), "law", match.group(1).strip())
    for mention in gazetteer.mentions(question, NAME_KINDS):
        add(mention.start, mention.end, mention.entry.kind)
    for start, end in _capitalised_runs(question):
        # Split a run around names already found: "EU AI Act" gives EU (a place) and "AI Act".
        pieces, cursor = [], start
        for f in sorted(found, key=lambda f: f.start):
            if start < f.end and f.start < end:
                pieces.append((cursor, max(cursor, f.start)))
                cursor = max(cursor, f.end)
        pieces.append((cursor, end))
        for a, b in pieces:
            for piece_start, piece_end in _capitalised_runs(question[a:b]):
                piece = question[a + piece_start : a + piece_end]
                # A lone ordinary word left beside a name ("Baidu Security", "Comparing Moonshot")
                # is not a name itself.
                if (a, b) != (start, end) or a == 0:
                    if re.fullmatch(r"[A-Z][a-z]+", piece) and gazetteer.entry(piece) is None:
                        continue
                add(a + piece_start, a + piece_end, "name")
    if CJK.search(question):
        offset = 0
        for word, flag in _posseg().lcut(question):
            pos_kind = _POS_KINDS.get(flag)
            if pos_kind and len(word) >= 2 and CJK.search(word) and word not in _POS_NOT_NAMES:
                add(offset, offset + len(word), pos_kind)
            offset += len(word)
    for match in _YEAR.finditer(question):
        year = match.group(1)
        if not any(match.start() < f.end and f.start < match.end() for f in found):
            found.append(FocusTerm(year, "year", frozenset({year, f"{year}年"}), match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)


def term_occurs(term: FocusTerm, text: str, gazetteer: Gazetteer) -> bool:
    """Whether a focus term (any of its forms, in either language) occurs in the text."""
    return any(gazetteer.occurs_in(form, text) for form in term.equivalents)


def documents_mentioning(term: FocusTerm, index: TermIndex) -> set[str]:
    """Ids of the documents that mention the focus term in any of its forms (empty: the corpus has nothing on it)."""
    forms = {f for form in term.equivalents for f in index.gazetteer.equivalents(form)}
    return index.documents_with(sorted(forms))


# ---------------------------------------------------------------------------------------------
# Questions about what changed (answered by `govqa diff` rather than by retrieval)


@dataclass(frozen=True)
class ChangeQuestion:
    """A question that asks what differs between a page's editions or languages, and the words naming the page."""

    mode: str  # editions | twin
    subject: str


_CHANGE_EN = re.compile(
    r"\b(?:what|which|how)\b[^?]*\b(?:changed?|changes|is new|was (?:added|removed|dropped)|were (?:added|removed|"
    r"dropped)|add(?:ed|s)?|remove[sd]?|drop(?:ped|s)?|differ(?:s|ed)?|differences?)\b",
    re.IGNORECASE,
)
_CHANGE_ZH = re.compile(r"变化|变动|更新了|新增|增加了|删除|删去|去掉|不同|区别|差异|改动|修改|改了")
_EDITION_WORDS = re.compile(
    r"\b(?:editions?|versions?|April|June|since the (?:April|last|previous))\b|版本|版|四月|六月|4\s*月|6\s*月",
    re.IGNORECASE,
)
_LANGUAGE_SIDES = (
    re.compile(r"\b(?:English|EN)\b|英文|英语", re.IGNORECASE),
    re.compile(r"\b(?:Chinese|ZH)\b|中文|汉语", re.IGNORECASE),
)
_SUBJECT_NOISE = re.compile(
    r"\b(?:what|which|how|has|have|did|does|do|is|are|was|were|the|a|an|of|on|in|to|between|and|from|that|one|"
    r"page|pages|site|edition|editions|version|versions|english|chinese|april|june|2026|changed?|changes|new|added|"
    r"add|adds|removed|remove|dropped|drop|differ|differs|differences?|say|says|not|than|since|last|previous)\b"
    r"|[?？,，.。]|中文版|英文版|版本|英文|中文|四月|六月|2026\s*年|\d+\s*月|变化|变动|更新|新增|增加|删除|删去|"
    r"不同|区别|差异|改动|修改|页面|之间|相比|哪里|哪些|什么|多了|少了|没有|有|了|的|和|与|比|在|中|上|版",
    re.IGNORECASE,
)


_LACKS = re.compile(r"\b(?:not|only|lacks?|missing)\b|没有|缺少|多了|少了|独有", re.IGNORECASE)
_POSSESSIVE_END = re.compile(r"^(?:'s|’s)\s*|\s*(?:'s|’s)$")


def change_question(question: str) -> ChangeQuestion | None:
    """Recognise "What changed between the April and June editions of X?" / "X 的中文版比英文版多了什么？".

    ``twin`` when both languages are named, ``editions`` when an edition, version or month
    is; None for every other question. ``subject`` is what is left to find the page by.
    """
    changed = bool(_CHANGE_EN.search(question) or _CHANGE_ZH.search(question))
    if all(side.search(question) for side in _LANGUAGE_SIDES) and (changed or _LACKS.search(question)):
        mode = "twin"
    elif changed and _EDITION_WORDS.search(question):
        mode = "editions"
    else:
        return None
    subject = re.sub(r"\s+", " ", _SUBJECT_NOISE.sub(" ", question)).strip()
    return ChangeQuestion(mode, _POSSESSIVE_END.sub("", subject))
