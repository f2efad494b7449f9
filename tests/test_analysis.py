"""Question analysis and the bilingual gazetteer: exact expected values, English and Chinese."""

from __future__ import annotations

import pytest
from documents_factory import make_document

from govqa.corpus.documents import Document
from govqa.index.analysis import (
    ANSWER_TYPES,
    answer_type,
    asked_date_precision,
    asks,
    change_question,
    documents_mentioning,
    evidence_has_type,
    focus_terms,
    is_generic,
    term_occurs,
    typed_spans,
)
from govqa.index.gazetteer import (
    Gazetteer,
    TermIndex,
    build_gazetteer,
    chinese_number,
    chinese_numeral,
    identifier_variants,
    mixed_title_pair,
)


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return [
        make_document(
            "en/rules/eu/widget-act",
            "en",
            "Widget Safety Act (WSA)",
            "rules/eu/widget-act",
            paragraphs=("The Widget Safety Act applies from 1 March 2025.",),
            table_rows=(
                "Commitment: Seoul Widget Pledge (2024); Acme: ✅",
                "Commitment: Paris Widget Charter; Acme: ❌",
            ),
            twin_id="zh/rules/eu/widget-act",
            metadata={"ruleName": "Widget Safety Act (《小部件安全法》)"},
        ),
        make_document(
            "zh/rules/eu/widget-act",
            "zh",
            "小部件安全法",
            "rules/eu/widget-act",
            paragraphs=("该法自2025年3月1日起施行。",),
            table_rows=("承诺: 首尔小部件承诺（2024）; Acme: ✅", "承诺: 巴黎小部件宪章; Acme: ❌"),
            twin_id="en/rules/eu/widget-act",
        ),
        make_document(
            "en/companies/acme",
            "en",
            "Acme Widgets 艾克米",
            "companies/acme",
            paragraphs=("Acme Widgets was founded in 2019.",),
            twin_id="zh/companies/acme",
            company="acme",
        ),
        make_document(
            "zh/companies/acme",
            "zh",
            "艾克米 Acme Widgets",
            "companies/acme",
            paragraphs=("艾克米成立于2019年。",),
            twin_id="en/companies/acme",
            company="acme",
        ),
        make_document(
            "en/topics/widgets/china",
            "en",
            "China — Widget Labeling",
            "topics/widgets/china",
            twin_id="zh/topics/widgets/china",
        ),
        make_document(
            "zh/topics/widgets/china",
            "zh",
            "中国 — 小部件标识",
            "topics/widgets/china",
            twin_id="en/topics/widgets/china",
        ),
    ]


@pytest.fixture(scope="module")
def gazetteer(documents: list[Document]) -> Gazetteer:
    return build_gazetteer(documents)


# --- answer types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When did the Widget Safety Act enter into force?", "date"),
        ("In which year was Acme Widgets founded?", "date"),
        ("On what date did the registration deadline move?", "date"),
        ("《小部件安全法》何时施行？", "date"),
        ("小部件安全法是哪一天生效的？", "date"),
        ("艾克米什么时候签署了巴黎宪章？", "date"),
        ("艾克米成立于哪年？", "date"),
        ("How many widget models must be registered before sale?", "number"),
        ("How long must importers keep the safety summary?", "number"),
        ("委员会至少要有几名委员？", "number"),
        ("欧盟的超大型平台门槛是多少月活用户？", "number"),
        ("What percentage of turnover can the fine reach?", "percentage"),
        ("罚款占全球营业额的比例是多少？", "percentage"),
        ("What is the maximum fine under the Widget Safety Act?", "money"),
        ("How much does Acme charge per million widget tokens?", "money"),
        ("和解金额是多少？", "money"),
        ("违反该法最高罚款多少元？", "money"),
        ("Which companies signed the Paris Widget Charter?", "list"),
        ("List the obligations of importers.", "list"),
        ("Name the signatories of the Seoul Widget Pledge.", "list"),
        ("What are the duties of providers?", "list"),
        ("哪些公司签署了首尔小部件承诺？", "list"),
        ("该框架提出了哪三项治理原则？", "list"),
        ("Who chairs the European Widget Office?", "person_or_org"),
        ("Which agency enforces the Widget Safety Act?", "person_or_org"),
        ("该法由哪个机构负责执行？", "person_or_org"),
        ("Has Acme signed the Paris Widget Charter?", "yes_no"),
        ("Does the Widget Safety Act apply to toys?", "yes_no"),
        ("Under the Widget Safety Act, is registration mandatory?", "yes_no"),
        ("艾克米是否签署了巴黎小部件宪章？", "yes_no"),
        ("艾克米有没有发布透明度报告？", "yes_no"),
        ("该法适用于玩具吗？", "yes_no"),
        ("What is a household widget?", "definition"),
        ("Define widget provider.", "definition"),
        ("什么是深度合成？", "definition"),
        ("小部件提供者是指什么？", "definition"),
        ("Why did the Widget Office extend the deadline?", "other"),
        ("What is the role of the Widget Office in registration under the new rules?", "other"),
        ("艾克米的商业模式如何？", "other"),
    ],
)
def test_answer_type(question: str, expected: str) -> None:
    assert answer_type(question) == expected


def test_answer_types_are_the_documented_set() -> None:
    assert ANSWER_TYPES == (
        "date",
        "number",
        "percentage",
        "money",
        "person_or_org",
        "yes_no",
        "list",
        "definition",
        "other",
    )


def test_asked_date_precision() -> None:
    assert asked_date_precision("In which year was Acme founded?") == "year"
    assert asked_date_precision("艾克米成立于哪一年？") == "year"
    assert asked_date_precision("When did the Act take effect?") == "month"


# --- asks ----------------------------------------------------------------------------------------


def test_asks_splits_when_and_which() -> None:
    question = "When did the Widget Safety Act take effect, and which companies signed the pledge?"
    parts = asks(question)
    assert [(p.text, p.answer_type) for p in parts] == [
        ("When did the Widget Safety Act take effect", "date"),
        ("which companies signed the pledge?", "list"),
    ]
    assert all(question[p.start : p.end] == p.text for p in parts)


def test_asks_splits_two_chinese_question_marks() -> None:
    parts = asks("委员会至少要有几名委员？其中外部委员不少于几名？")
    assert [(p.text, p.answer_type) for p in parts] == [
        ("委员会至少要有几名委员？", "number"),
        ("其中外部委员不少于几名？", "number"),
    ]


def test_asks_splits_yiji_and_semicolon() -> None:
    assert [(p.text, p.answer_type) for p in asks("该法何时施行，以及哪些公司签署了承诺？")] == [
        ("该法何时施行", "date"),
        ("哪些公司签署了承诺？", "list"),
    ]
    assert [(p.text, p.answer_type) for p in asks("罚款上限是多少；由谁执法？")] == [
        ("罚款上限是多少", "money"),
        ("由谁执法？", "person_or_org"),
    ]


def test_asks_splits_and_with_intro_clause() -> None:
    question = "How many models were filed, and according to the Acme page, when did filing start?"
    assert [(p.text, p.answer_type) for p in asks(question)] == [
        ("How many models were filed", "number"),
        ("according to the Acme page, when did filing start?", "date"),
    ]


def test_asks_keeps_joined_nouns_as_one_ask() -> None:
    # 以及 joins two laws here, not two questions.
    question = "欧盟小部件安全法以及GDPR的罚款上限是多少？"
    assert [(p.text, p.answer_type) for p in asks(question)] == [(question, "money")]
    single = "Which companies signed the Seoul and Paris commitments?"
    assert [(p.text, p.answer_type) for p in asks(single)] == [(single, "list")]


# --- evidence types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The measures took effect on 2023-08-15.", [("2023-08-15", "day")]),
        ("It entered into force on 15 August 2023.", [("15 August 2023", "day")]),
        ("It was signed on August 15, 2023.", [("August 15, 2023", "day")]),
        ("该办法自2023年8月15日起施行。", [("2023年8月15日", "day")]),
        ("该办法自 2023 年 8 月 15 日起施行。", [("2023 年 8 月 15 日", "day")]),
        ("征求意见截至8月15日。", [("8月15日", "day")]),
        ("A draft followed in August 2023.", [("August 2023", "month")]),
        ("首批备案于2023年8月完成。", [("2023年8月", "month")]),
        ("Filing began in 2023-08.", [("2023-08", "month")]),
        ("Acme was founded in 2019.", [("2019", "year")]),
        ("Regulation 2024/1689 and GB 45438-2025 set the rules.", []),
        ("The 2025-2028 strategic plan is new.", []),
    ],
)
def test_date_spans(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(s.text, s.detail) for s in typed_spans(text, "date")] == expected


def test_date_precision_gate() -> None:
    assert evidence_has_type("Acme was founded in 2019.", "date") is False
    assert evidence_has_type("Acme was founded in 2019.", "date", date_precision="year") is True
    assert evidence_has_type("It took effect on 1 March 2025.", "date") is True


@pytest.mark.parametrize(
    ("text", "answer_type", "expected"),
    [
        ("Fines reach EUR 35 000 000 or 7 % of turnover.", "money", ["EUR 35 000 000"]),
        ("Fines reach EUR 35 000 000 or 7 % of turnover.", "percentage", ["7 %"]),
        ("Fines reach EUR 35 000 000 or 7 % of turnover.", "number", ["EUR 35 000 000", "7 %"]),
        ("罚款最高可达全球年营业额的3%。", "percentage", ["3%"]),
        ("不得超过营业额的百分之五。", "percentage", ["百分之五"]),
        ("Input costs ¥0.8 per million tokens.", "money", ["¥0.8"]),
        ("输入价格为 0.8 元 / 百万 tokens。", "money", ["0.8 元"]),
        ("处一百万元以上一千万元以下罚款。", "money", ["一百万元", "一千万元"]),
        ("最高罚款 35M 欧元。", "money", ["35M 欧元"]),
        ("The fine is RMB 5 million.", "money", ["RMB 5 million"]),
        ("委员会至少七人，其中外部委员不少于两名。", "number", ["七人", "两名"]),
        ("The threshold is 45 million users and 4500 万 in Chinese.", "number", ["45 million", "4500 万"]),
        ("Models above 10^26 operations must report.", "number", ["10^26"]),
        ("The committee has at least seven members.", "number", ["seven"]),
        ("Roughly half of the labs publish reports quarterly.", "number", ["half", "quarterly"]),
        ("Royal Decree 729/2023 created the agency.", "number", []),
        ("Article 50 and EO 14110 and 第七条 and GB 45438-2025 name rules.", "number", []),
        ("这是一个重要的框架。", "number", []),
    ],
)
def test_number_money_percentage_spans(text: str, answer_type: str, expected: list[str]) -> None:
    assert [s.text for s in typed_spans(text, answer_type)] == expected


@pytest.mark.parametrize(
    ("text", "answer_type", "expected"),
    [
        ("Framework: Seoul Widget Pledge (2024); Acme: ✅", "yes_no", True),
        ("Framework: Paris Widget Charter; Acme: ❌", "yes_no", True),
        ("Globex has not signed the charter.", "yes_no", True),
        ("承诺: 巴黎小部件宪章; 艾克米: 未签署", "yes_no", True),
        ("艾克米尚未发布透明度报告。", "yes_no", True),
        ("The Act covers household widgets.", "yes_no", False),
        ("未成年人保护条例于2024年施行。", "yes_no", False),
        ("“Deep synthesis” means technology that generates content.", "definition", True),
        ("本规定所称深度合成技术，是指利用深度学习生成内容的技术。", "definition", True),
        ("The term refers to household devices.", "definition", True),
        ("Deep synthesis is widely used.", "definition", False),
        ("The regulator is the European Widget Office.", "person_or_org", True),
        ("监管机构是国家互联网信息办公室。", "person_or_org", True),
        ("DeepSeek 发布了开源模型。", "person_or_org", True),
        ("the fine is high.", "person_or_org", False),
        ("Signatories include Acme, Globex, Initech and Umbrella.", "list", True),
        ("签署方包括艾克米、环球公司、尹尼科和保护伞。", "list", True),
        ("Acme signed the pledge.", "list", False),
        ("Anything at all.", "other", True),
    ],
)
def test_evidence_has_type(text: str, answer_type: str, expected: bool) -> None:
    assert evidence_has_type(text, answer_type) is expected


def test_unknown_answer_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown answer type 'colour'"):
        typed_spans("text", "colour")


# --- gazetteer -----------------------------------------------------------------------------------


def test_chinese_numbers() -> None:
    assert [
        chinese_number(t) for t in ("七", "十五", "九十九", "一百零一", "两", "一千万", "五百万", "四千五百万")
    ] == [
        7,
        15,
        99,
        101,
        2,
        10_000_000,
        5_000_000,
        45_000_000,
    ]
    assert chinese_number("七人") is None
    assert [chinese_numeral(n) for n in (7, 10, 15, 50, 99, 101, 110)] == [
        "七",
        "十",
        "十五",
        "五十",
        "九十九",
        "一百零一",
        "一百一十",
    ]


def test_identifier_variants() -> None:
    assert identifier_variants("Art. 50") == {"Article 50", "Art. 50", "第五十条", "第50条", "第 50 条"}
    assert identifier_variants("第七条") == {"第七条", "第7条", "Article 7", "Art. 7"}
    assert identifier_variants("Article 50(2)") == {"Article 50(2)", "Art. 50(2)", "第五十条", "第50条", "第 50 条"}
    assert identifier_variants("EO 14179") == {"EO 14179", "E.O. 14179", "Executive Order 14179", "第14179号行政令"}
    # Executive orders head their sections "Sec. 4."; questions say "Section 4".
    assert identifier_variants("Section 4") == {"Section 4", "Sec. 4", "§ 4", "§4"}
    assert identifier_variants("Sec. 4.2") == {"Section 4.2", "Sec. 4.2", "§ 4.2", "§4.2"}
    assert identifier_variants("Widget Safety Act") == frozenset()


def test_mixed_title_pair() -> None:
    assert mixed_title_pair("Baidu 百度") == ("Baidu", "百度")
    assert mixed_title_pair("月之暗面 Moonshot AI (Kimi)") == ("Moonshot AI", "月之暗面")
    assert mixed_title_pair("Widget Safety Act") is None


def test_gazetteer_pairs_from_the_corpus(gazetteer: Gazetteer) -> None:
    assert gazetteer.equivalents("Widget Safety Act") == {"Widget Safety Act", "小部件安全法"}
    assert gazetteer.equivalents("小部件安全法") == {"Widget Safety Act", "小部件安全法"}
    assert gazetteer.equivalents("艾克米") == {"Acme Widgets", "艾克米", "acme"}
    # Table first cells of a page and its twin, row by row; headers are labels.
    assert gazetteer.equivalents("Seoul Widget Pledge") == {"Seoul Widget Pledge", "首尔小部件承诺"}
    assert gazetteer.equivalents("巴黎小部件宪章") == {"Paris Widget Charter", "巴黎小部件宪章"}
    assert gazetteer.equivalents("Commitment") == {"Commitment", "承诺"}
    # Title parts: "China — Widget Labeling" ↔ "中国 — 小部件标识" joins China's place entry.
    assert {"China", "中国", "PRC"} <= gazetteer.equivalents("中国")
    assert gazetteer.equivalents("Widget Labeling") == {"Widget Labeling", "小部件标识"}
    kinds = {e.kind for e in gazetteer.entries if "Widget Safety Act" in e.forms or "Acme Widgets" in e.forms}
    assert kinds == {"law", "organisation"}


def test_gazetteer_places_and_unknown_terms(gazetteer: Gazetteer) -> None:
    assert gazetteer.equivalents("Brazil") == {"Brazil", "巴西"}
    assert gazetteer.equivalents("加拿大") == {"Canada", "加拿大"}
    assert gazetteer.equivalents("Shanghai") == {"Shanghai", "上海"}
    assert gazetteer.equivalents("Zorblax") == {"Zorblax"}
    assert len(build_gazetteer([], places=False)) == 0


def test_occurs_in_either_language(gazetteer: Gazetteer) -> None:
    assert gazetteer.occurs_in("Brazil", "巴西的人工智能法案仍在审议。")
    assert gazetteer.occurs_in("巴西", "BRAZIL's AI bill is pending.")
    assert gazetteer.occurs_in("Widget Safety Act", "《小部件安全法》适用于小部件。")
    assert gazetteer.occurs_in("GB 45438-2025", "the GB45438-2025 standard")
    assert gazetteer.occurs_in("Art. 50", "根据第五十条的规定")
    assert gazetteer.occurs_in("第五十条", "Article 50(2) requires labels.")
    assert not gazetteer.occurs_in("Brazil", "Brazilian coffee is popular.")
    assert not gazetteer.occurs_in("US", "Let us see what the rules say.")
    assert gazetteer.occurs_in("US", "The US has no federal AI law.")
    assert gazetteer.occurs_in("Safety & Security Committee", "its Safety and Security Committee met")
    assert gazetteer.occurs_in("Research and Development Plan", "the Research & Development Plan")
    # 印度 inside 印度尼西亚 (Indonesia) is not India.
    assert not gazetteer.occurs_in("India", "印度尼西亚发布了人工智能路线图。")
    assert gazetteer.occurs_in("India", "印度发布了人工智能治理指南。")


# --- focus terms ---------------------------------------------------------------------------------


def _focus(question: str, gazetteer: Gazetteer) -> list[tuple[str, str]]:
    return [(f.text, f.kind) for f in focus_terms(question, gazetteer)]


def test_focus_terms_english(gazetteer: Gazetteer) -> None:
    assert _focus("When did Brazil's AI bill PL 2338/2023 pass the Senate?", gazetteer) == [
        ("Brazil", "place"),
        ("PL 2338/2023", "identifier"),
        ("Senate", "name"),
    ]
    assert _focus("Which companies signed the Seoul Widget Pledge under the Widget Safety Act?", gazetteer) == [
        ("Seoul Widget Pledge", "name"),
        ("Widget Safety Act", "law"),
    ]
    assert _focus("What does Article 50(2) of the EU AI Act require from Acme Widgets?", gazetteer) == [
        ("Article 50(2)", "article"),
        ("EU", "place"),
        ("AI Act", "name"),
        ("Acme Widgets", "organisation"),
    ]
    assert _focus("Does EO 14179 revoke EO 14110, and what did TC260-004 add in 2025?", gazetteer) == [
        ("EO 14179", "identifier"),
        ("EO 14110", "identifier"),
        ("TC260-004", "identifier"),
        ("2025", "year"),
    ]
    assert _focus("How many parameters does Qwen 3.5 have compared with Kimi K2?", gazetteer) == [
        ("Qwen 3.5", "name"),
        ("Kimi K2", "name"),
    ]
    # A lower-case tail ends a name ("GPAI-like"), and trailing generic words are dropped.
    assert _focus("Does the Widget Code on AI-generated content create a GPAI-like category?", gazetteer) == [
        ("Widget Code", "name"),
        ("GPAI", "name"),
    ]
    assert _focus("Which crimes does Italy's Law 132/2025 create?", gazetteer) == [
        ("Italy", "place"),
        ("132/2025", "identifier"),
    ]
    assert _focus("What does Article 5 of the Widget Office AI rules say?", gazetteer) == [
        ("Article 5", "article"),
        ("Widget Office", "name"),
    ]
    assert _focus("What obligations does Canada's Artificial Intelligence and Data Act impose?", gazetteer) == [
        ("Canada", "place"),
        ("Artificial Intelligence and Data Act", "name"),
    ]


def test_focus_terms_chinese(gazetteer: Gazetteer) -> None:
    assert _focus("巴西的人工智能法案何时通过？", gazetteer) == [("巴西", "place")]
    assert _focus("《小部件安全法》第七条对艾克米有什么要求？", gazetteer) == [
        ("小部件安全法", "law"),
        ("第七条", "article"),
        ("艾克米", "organisation"),
    ]
    assert _focus("上海2021年的GDP是多少？", gazetteer) == [("上海", "place"), ("2021", "year"), ("GDP", "name")]
    assert _focus("DeepSeek 是否签署了首尔小部件承诺？", gazetteer) == [
        ("DeepSeek", "name"),
        ("首尔小部件承诺", "name"),
    ]
    assert _focus("GB 45438-2025 何时实施？", gazetteer) == [("GB 45438-2025", "identifier")]
    assert _focus("意大利第 132/2025 号法律规定了什么？", gazetteer) == [
        ("意大利", "place"),
        ("132/2025", "identifier"),
    ]


def test_focus_terms_carry_both_languages(gazetteer: Gazetteer) -> None:
    terms = focus_terms("巴西和加拿大的规定有何不同？", gazetteer)
    assert [(t.text, t.equivalents) for t in terms] == [
        ("巴西", frozenset({"巴西", "Brazil"})),
        ("加拿大", frozenset({"加拿大", "Canada"})),
    ]
    assert [(t.start, t.end) for t in terms] == [(0, 2), (3, 6)]
    assert term_occurs(terms[0], "Brazil has a draft AI bill.", gazetteer)
    assert not term_occurs(terms[1], "Brazil has a draft AI bill.", gazetteer)


def test_generic_words_are_never_focus_terms(gazetteer: Gazetteer) -> None:
    assert _focus("What does the AI law say about AI models?", gazetteer) == []
    assert _focus("人工智能规定对模型有哪些要求？", gazetteer) == []
    assert [is_generic(t) for t in ("AI", "Law", "人工智能", "规定", "AI Act", "巴西")] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_year_focus_term_matches_both_scripts(gazetteer: Gazetteer) -> None:
    (year,) = [t for t in focus_terms("What happened in 2021?", gazetteer) if t.kind == "year"]
    assert year.equivalents == {"2021", "2021年"}
    assert term_occurs(year, "上海2021年的数据", gazetteer)
    assert not term_occurs(year, "the 20215 figure", gazetteer)


def test_term_index_finds_the_documents_that_mention_a_term(documents: list[Document], gazetteer: Gazetteer) -> None:
    index = TermIndex.from_documents(documents, gazetteer)
    (act,) = focus_terms("Which companies signed under the Widget Safety Act?", gazetteer)
    assert documents_mentioning(act, index) == {"en/rules/eu/widget-act", "zh/rules/eu/widget-act"}
    (acme,) = focus_terms("艾克米何时成立？", gazetteer)
    # Its forms include the slug "acme", which the pledge table's "Acme" column also names.
    assert documents_mentioning(acme, index) == {
        "en/companies/acme",
        "zh/companies/acme",
        "en/rules/eu/widget-act",
        "zh/rules/eu/widget-act",
    }
    (brazil,) = focus_terms("What does Brazil's bill say?", gazetteer)
    assert documents_mentioning(brazil, index) == set()
    assert index.occurs_anywhere(["中国"]) and not index.occurs_anywhere(["Brazil", "巴西"])
    # The pre-check is a substring test; the pattern still decides: "Acme" is not "Acmes".
    assert TermIndex({"d": "Acmes everywhere"}, gazetteer).documents_with(["Acme"]) == set()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What changed between the April and June editions of the Acme profile?", ("editions", "Acme profile")),
        ("What did the June 2026 edition of the US federal rules page add?", ("editions", "US federal rules")),
        ("Acme 页面的 6 月版本新增了什么？", ("editions", "Acme")),
        (
            "What does the Chinese page on the Widget Safety Act say that the English one does not?",
            ("twin", "Widget Safety Act"),
        ),
        ("小部件安全法的中文版和英文版有什么不同？", ("twin", "小部件安全法")),
        ("小部件安全法中文版比英文版多了什么？", ("twin", "小部件安全法")),
    ],
)
def test_change_questions_are_recognised(question: str, expected: tuple[str, str]) -> None:
    found = change_question(question)
    assert found is not None and (found.mode, found.subject) == expected


@pytest.mark.parametrize(
    "question",
    [
        "When did the Widget Safety Act enter into force?",
        "How does the EU AI Act differ from China's rules?",
        "Which companies were added to the Seoul pledge?",
        "该法何时施行？",
    ],
)
def test_other_questions_are_not_change_questions(question: str) -> None:
    assert change_question(question) is None
