"""End to end on the real Comparative AI corpus with the real default embedder (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from govqa.app.pipeline import build_pipeline, load_corpus, run_ingest
from govqa.index.retriever import Filters
from govqa.settings import Settings

from conftest import FULL_CORPUS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not FULL_CORPUS.is_dir(), reason="the full corpus is not beside the project"),
]

QUESTIONS = [
    (
        "When did China's Interim Measures for the Management of Generative AI Services take effect?",
        "https://comparativeai.org/en/rules/china/generative-ai-interim-measures/",
    ),
    (
        "生成式人工智能服务管理暂行办法由哪些部门联合发布？",
        "https://comparativeai.org/zh/rules/china/generative-ai-interim-measures/",
    ),
    (
        "What are the penalties under New York City Local Law 144 on automated employment decision tools?",
        "https://comparativeai.org/en/subnational/us/nyc-local-law-144/",
    ),
    ("DeepSeek 的安全框架有哪些缺失？", "https://comparativeai.org/zh/companies/deepseek/safety-framework/"),
    (
        "What does California SB 53 require of frontier AI developers?",
        "https://comparativeai.org/en/subnational/us/california-sb-53-frontier-ai/",
    ),
]


def test_full_corpus_loads_with_provenance() -> None:
    result = load_corpus(Settings())
    assert len([d for d in result.documents if d.source_id == "comparativeai"]) == 246
    assert len([d for d in result.documents if d.source_id == "primary"]) == 11
    reasons = sorted(reason.split(" as ")[0] for _, reason in result.skipped)
    assert reasons == ["draft: true", "no text", "same page", "same page", "same page", "same page"]
    gen_ai = next(d for d in result.documents if d.id == "comparativeai:zh/rules/china/generative-ai-interim-measures")
    assert "截至-2026-年-6-月-30-日的备案实践" in [s.anchor for s in gen_ai.sections]
    assert gen_ai.twin_id == "comparativeai:en/rules/china/generative-ai-interim-measures"
    assert any("cac.gov.cn" in r.url for r in gen_ai.references)


@pytest.fixture(scope="module")
def full_pipeline(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("full")))
    report = run_ingest(settings)
    assert report.documents == 246 + 11 and report.chunks > 4000
    return build_pipeline(settings)


@pytest.mark.parametrize(("question", "page"), QUESTIONS)
def test_real_questions_find_their_page_in_top_5(full_pipeline, question: str, page: str) -> None:  # type: ignore[no-untyped-def]
    result = full_pipeline.ask(question)
    pages = []
    for item in result.retrieved:
        if item["page_url"] not in pages:
            pages.append(item["page_url"])
    assert page in pages[:5], pages[:5]


def test_article_50_2_of_the_ai_act_is_quoted_itself(full_pipeline) -> None:  # type: ignore[no-untyped-def]
    result = full_pipeline.ask("What does Article 50(2) of the AI Act require?")
    assert result.retrieved[0]["article"] == "Article 50(2)"
    quoted = [c for c in result.citations if c.doc_id == "primary:eu/ai-act" and c.article == "Article 50(2)"]
    assert quoted, [(c.doc_id, c.article) for c in result.citations]
    assert "machine-readable format" in result.answer


def test_article_7_of_the_interim_measures_is_quoted_itself(full_pipeline) -> None:  # type: ignore[no-untyped-def]
    result = full_pipeline.ask("生成式人工智能服务管理暂行办法第七条规定了什么？")
    assert result.retrieved[0]["article"] == "第七条"
    quoted = [c for c in result.citations if c.doc_id == "primary:china/generative-ai-interim-measures"]
    assert quoted and quoted[0].article == "第七条"
    article_7 = full_pipeline.index.documents[quoted[0].doc_id].text
    assert quoted[0].quote in article_7[article_7.index("第七条") : article_7.index("第八条")]


def test_site_pages_link_to_the_texts_they_cite(full_pipeline) -> None:  # type: ignore[no-untyped-def]
    report = full_pipeline.answerer.linker.report()
    assert report["per_text"]["生成式人工智能服务管理暂行办法"] > 0 and report["per_text"]["AI Act"] > 0
    result = full_pipeline.ask("生成式人工智能服务管理暂行办法由哪些部门联合发布？", Filters(source=["site"]))
    linked = [s for c in result.citations for s in c.sources]
    assert any(s["title"] == "生成式人工智能服务管理暂行办法" for s in linked), linked
