"""Official texts as a second source: article structure, the exact article-lookup leg,
the source filter, question-form ordering and site claims linked to the texts they cite.

Fixture: tests/fixtures/sources-official.toml (two site pages and two official texts written for the tests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from govqa.app.cli import app
from govqa.corpus.articles import ArticleRef, chinese_number, chinese_numeral, parse_article_refs
from govqa.corpus.primary import article_at, is_official, normalise_url
from govqa.index.articles import question_form
from govqa.index.retriever import Filters
from govqa.settings import PROJECT_ROOT

from conftest import fixture_settings

SOURCES = PROJECT_ROOT / "tests" / "fixtures" / "sources-official.toml"
ART_3_2 = "What does Article 3(2) of the Widget Regulation require?"
ZH_ART_2 = "暂行办法第二条规定了什么？"


def test_chinese_numerals_both_ways() -> None:
    cases = {"七": 7, "十": 10, "十四": 14, "二十": 20, "二十一": 21, "一百": 100, "一百零三": 103, "一百一十三": 113}
    for text, number in cases.items():
        assert chinese_number(text) == number
        assert chinese_numeral(number) == text
    assert chinese_number("１２") == 12 and chinese_number("条") is None


def test_parse_article_refs_english_and_chinese() -> None:
    assert parse_article_refs("What does Article 50(2) of the AI Act require, and Art. 3?") == [
        ArticleRef("article", "50", 2),
        ArticleRef("article", "3"),
    ]
    assert parse_article_refs("暂行办法第七条和第一百一十三条第二款") == [
        ArticleRef("article", "7"),
        ArticleRef("article", "113", 2),
    ]
    assert parse_article_refs("Annex III lists; see Recital 12, Section 4.2 and GOVERN 1.1.") == [
        ArticleRef("annex", "III"),
        ArticleRef("recital", "12"),
        ArticleRef("section", "4.2"),
        ArticleRef("function", "GOVERN 1.1"),
    ]
    assert ArticleRef("article", "14").label("zh") == "第十四条"
    assert ArticleRef("article", "50", 2).label() == "Article 50(2)"
    assert parse_article_refs("No reference in 2024 at all.") == []


def test_normalise_url_ignores_scheme_www_slash_and_escapes() -> None:
    a = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3A32024R1689"
    assert normalise_url(a) == normalise_url("http://www.eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R1689")
    assert normalise_url("https://www.cac.gov.cn/a/b.htm") == normalise_url("http://cac.gov.cn/a/b.htm/#x")
    assert normalise_url("https://cac.gov.cn/a") != normalise_url("https://cac.gov.cn/b")


def test_question_form() -> None:
    assert question_form(ART_3_2) == "law"
    assert question_form(ZH_ART_2) == "law"
    assert question_form("Compare the EU and Chinese widget rules.") == "analysis"
    assert question_form("中欧小部件规则有何不同？") == "analysis"
    assert question_form("Who signed the widget pledge?") == "neutral"


@pytest.fixture(scope="module")
def official_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from govqa.app.pipeline import build_pipeline, run_ingest

    settings = fixture_settings(tmp_path_factory.mktemp("official"), sources_file=SOURCES)
    report = run_ingest(settings)
    assert report.documents == 4
    return build_pipeline(settings)


def test_official_documents_carry_provenance_and_articles(official_pipeline: Any) -> None:
    documents = official_pipeline.index.documents
    act = documents["official:eu/widget-act"]
    assert is_official(act) and not is_official(documents["site:en/rules/eu/widget-regulation"])
    assert act.title == "Widget Regulation" and act.jurisdiction == "eu" and act.lang == "en"
    assert act.url == "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3A32025R0001"
    assert act.as_of == "2025-03-01"  # the effective date
    assert act.metadata["adopted"] == "2025-01-10" and act.metadata["doc_type"] == "regulation"
    assert act.metadata["licence"] == "Fixture text written for the tests." and act.source_path == "eu/widget-act.md"
    labels = [s.article for s in act.sections if s.article]
    assert labels == [
        "Recital 1",
        "Recital 2",
        "Article 1",
        "Article 2",
        "Article 2(1)",
        "Article 2(2)",
        "Article 3",
        "Article 3(1)",
        "Article 3(2)",
        "Article 3(3)",
        "Annex I",
        "Annex I, point 1",
        "Annex I, point 2",
    ]
    para = next(s for s in act.sections if s.article == "Article 3(2)")
    assert act.text[para.start :].startswith("2. Providers of sprockets") and para.anchor == "art_3"
    measures = documents["official:china/widget-measures"]
    assert [s.article for s in measures.sections if s.article] == ["第一条", "第二条", "第十四条"]
    assert measures.sections[0].anchor == ""  # cac.gov.cn pages have no article anchors


def test_no_chunk_crosses_an_article(official_pipeline: Any) -> None:
    index = official_pipeline.index
    official = [c for c in index.chunks.values() if c.doc_id in index.official_ids]
    assert official
    for chunk in official:
        document = index.documents[chunk.doc_id]
        assert article_at(document, chunk.start) == article_at(document, chunk.end - 1), chunk.id


def test_named_article_comes_first_by_lookup_not_similarity(official_pipeline: Any) -> None:
    results = official_pipeline.retriever.search(ART_3_2)
    first = results[0]
    assert first.legs.get("article") == 1
    assert first.chunk.text.startswith("2. Providers of sprockets")
    zh = official_pipeline.retriever.search(ZH_ART_2)
    assert zh[0].chunk.text.startswith("小部件服务提供者应当依法开展预训练数据处理活动")
    recital = official_pipeline.retriever.search("What does Recital 2 of the Widget Regulation say?")
    annex = official_pipeline.retriever.search("Widget Regulation Annex I point 2")
    assert recital[0].article == "Recital 2" and annex[0].article == "Annex I, point 2"
    # Without the law's name, an article number alone does not trigger the lookup.
    assert "article" not in official_pipeline.retriever.search("What does Article 3(2) require?")[0].legs


def test_source_filter_keeps_one_kind(official_pipeline: Any) -> None:
    index = official_pipeline.index
    sites = official_pipeline.retriever.search(ART_3_2, Filters(source=["site"]))
    officials = official_pipeline.retriever.search("widget sprocket providers", Filters(source=["official"]))
    assert sites and all(r.chunk.doc_id not in index.official_ids for r in sites)
    assert officials and all(r.chunk.doc_id in index.official_ids for r in officials)


def test_question_form_orders_law_or_site_first(official_pipeline: Any) -> None:
    index = official_pipeline.index
    law = official_pipeline.retriever.search("What does the Widget Regulation require of sprocket providers?")
    analysis = official_pipeline.retriever.search("Compare the Widget Regulation with the widget measures")
    assert law[0].chunk.doc_id in index.official_ids
    assert analysis[0].chunk.doc_id not in index.official_ids


def test_site_passage_links_to_the_article_it_names(official_pipeline: Any) -> None:
    linker = official_pipeline.answerer.linker
    report = linker.report()
    # originalUrl (http, no www, CELEX:) and the references link (www, trailing slash, %3A) both resolve.
    assert report["per_text"] == {"小部件服务管理暂行办法": 1, "Widget Regulation": 2}
    sources = linker.sources_for(
        "site:en/rules/eu/widget-regulation",
        "Article 3(2) requires sprocket providers to mark outputs in a machine-readable way.",
    )
    assert sources == [
        {
            "title": "Widget Regulation",
            "article": "Article 3(2)",
            "url": "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3A32025R0001#art_3",
            "quote": "2. Providers of sprockets shall ensure that the outputs of the sprocket are marked in a "
            "machine-readable format and detectable as artificially turned.",
        }
    ]
    zh = linker.sources_for(
        "site:zh/rules/china/widget-measures", "《暂行办法》第二条要求提供者使用具有合法来源的数据。"
    )
    assert zh[0]["article"] == "第二条" and zh[0]["quote"].endswith("提供者应当使用具有合法来源的数据。")
    # A passage naming no article links to the text itself.
    plain = linker.sources_for("site:en/rules/eu/widget-regulation", "It is the first widget law.")
    assert plain == [{"title": "Widget Regulation", "article": "", "url": sources[0]["url"].split("#")[0], "quote": ""}]


def test_ask_json_citations_name_the_article_and_their_sources(
    official_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = official_pipeline.ask(ART_3_2).to_json()
    assert result["retrieved"][0]["article"] == "Article 3(2)"
    official = [c for c in result["citations"] if c["doc_id"] == "official:eu/widget-act"]
    assert official and official[0]["article"] == "Article 3(2)" and official[0]["sources"] == []
    site = official_pipeline.ask("Which article requires sprocket providers to mark outputs?", Filters(source=["site"]))
    linked = [c for c in site.to_json()["citations"] if c["sources"]]
    assert linked and linked[0]["sources"][0]["title"] == "Widget Regulation"


def test_cli_source_option(official_pipeline: Any, tmp_path: Path) -> None:
    env = {
        "GOVQA_DATA_DIR": str(tmp_path / "data"),
        "GOVQA_SOURCES_FILE": str(SOURCES),
        "GOVQA_EMBEDDER": "fake",
    }
    runner = CliRunner()
    result = runner.invoke(app, ["ask", "--json", "--source", "official", ART_3_2], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output.strip().splitlines()[-1])
    assert {c["doc_id"].split(":")[0] for c in payload["citations"]} == {"official"}
    plain = runner.invoke(app, ["ask", ART_3_2], env=env)
    assert "] Widget Regulation, Article 3(2) (en, as of 2025-03-01, Official text)." in plain.output
    assert "Read the source: Widget Regulation Article 3(2). https://eur-lex.europa.eu/" in plain.output
    bad = runner.invoke(app, ["ask", "--source", "blog", ART_3_2], env=env)
    assert bad.exit_code == 1 and "Error: Unknown value 'blog' in --source; use one of site, official." in bad.output


def test_article_hit_at_1() -> None:
    from govqa.evals.metrics import article_hit_at_1, question_metrics

    retrieved = [{"page_url": "u", "article": "Article 113(1)"}, {"page_url": "u", "article": "Article 50(2)"}]
    assert article_hit_at_1(retrieved, ["Article 113"]) == 1.0
    assert article_hit_at_1(retrieved, ["Article 50(2)"]) == 0.0  # only the first passage counts
    assert article_hit_at_1([{"page_url": "u", "article": "Article 11"}], ["Article 1"]) == 0.0
    assert article_hit_at_1([{"page_url": "u"}], ["第七条"]) == 0.0 and article_hit_at_1([], ["第七条"]) == 0.0
    question = {"answerable": True, "expected_urls": ["u"], "expected_facts": [], "expected_articles": ["第七条"]}
    result = {"retrieved": [{"page_url": "u", "chunk_id": "c", "article": "第七条"}], "answer": "", "citations": []}
    assert question_metrics(question, result, {})["article_hit@1"] == 1.0
    assert "article_hit@1" not in question_metrics({**question, "expected_articles": []}, result, {})


def test_primary_question_set_meets_its_brief() -> None:
    from govqa.evals.questions import QUESTIONS_DIR, load_questions

    questions = load_questions(QUESTIONS_DIR / "primary.jsonl")
    answerable = [q for q in questions if q["answerable"]]
    assert len(answerable) >= 40 and sum(q["lang"] == "zh" for q in answerable) >= 15
    assert all(q["id"].startswith("PR-") for q in questions)
    assert sum(bool(q.get("expected_articles")) for q in answerable) >= 40


def test_expected_articles_must_be_labels(tmp_path: Path) -> None:
    from govqa.evals.questions import QuestionSetError, load_questions

    entry = {
        "id": "X-1",
        "question": "q",
        "lang": "en",
        "answerable": True,
        "expected_urls": ["u"],
        "expected_facts": [],
        "kind": "single_fact",
        "expected_articles": [50],
    }
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps(entry))
    with pytest.raises(QuestionSetError, match=r"q\.jsonl:1: expected_articles"):
        load_questions(bad)


def test_short_chinese_names_do_not_match_inside_other_titles(official_pipeline: Any) -> None:
    catalogue = official_pipeline.index.catalogue
    assert catalogue.laws_named("《暂行办法》第二条") == ["official:china/widget-measures"]
    assert catalogue.laws_named("暂行办法第二条规定了什么？") == ["official:china/widget-measures"]
    assert catalogue.laws_named("《人工智能拟人化互动服务管理暂行办法》第二条") == []
    assert catalogue.lookup("拟人化互动服务管理暂行办法第二条规定了什么？") == []


def test_lookup_only_when_the_question_asks_what_the_article_says(official_pipeline: Any) -> None:
    news = official_pipeline.retriever.search(
        "When did the Commission publish guidance on Widget Regulation Article 3?"
    )
    assert "article" not in news[0].legs
    assert question_form("Which areas are listed in Annex III of the AI Act?") == "law"
    assert question_form("个人信息保护法第六十六条对情节严重的违法行为最高罚款是多少？") == "law"
    assert question_form("On what date did the Commission publish draft guidelines on AI Act Article 50?") == "neutral"


def test_a_question_in_the_other_language_is_answered_by_the_named_articles_own_words(official_pipeline: Any) -> None:
    """An English question about an article of a Chinese text: the article leads the answer, and
    the law's English catalogue name counts as naming it, though its passages never say it."""
    result = official_pipeline.ask("What does Article 2 of the Interim Measures for Widget Services require?")
    assert not result.abstained and result.coverage == "answered"
    first = result.citations[0]
    assert first.doc_id == "official:china/widget-measures" and first.article == "第二条"
    assert first.quote in ("小部件服务提供者应当依法开展预训练数据处理活动。", "提供者应当使用具有合法来源的数据。")
