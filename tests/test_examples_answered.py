"""Every example question the README and the chat offer gives the asked fact, with its citation.

Runs on the full corpus with the real embedder: an example a new user tries first must not
answer with site chrome or a lookalike passage.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from govqa.app.web import EXAMPLES
from govqa.settings import PROJECT_ROOT

from conftest import FULL_CORPUS

# question → aliases of the asked fact (any one must be in the answer, inside a cited quote)
EXPECTED: dict[str, list[str]] = {
    "When did China's generative AI interim measures take effect?": ["2023-08-15", "15 August 2023", "August 15, 2023"],
    "中国的生成式人工智能服务管理暂行办法什么时候施行？": ["2023-08-15", "2023年8月15日", "2023 年 8 月 15 日"],
    "DeepSeek 是否签署了首尔AI安全承诺？": ["❌", "未签署", "没有签署", "not signed", "Not signed"],
    "Which companies signed the GPAI code of practice?": ["Anthropic", "OpenAI", "Google", "Microsoft"],
    "Under the EU AI Act, what is the maximum fine for prohibited AI practices?": ["35", "7%", "7 %"],
    "What must providers do to label AI-generated content in China?": [
        "explicit",
        "implicit",
        "metadata",
        "显式",
        "隐式",
    ],
    "欧盟《数字服务法》规定的超大型在线平台门槛是多少月活用户？": ["4500 万", "4500万", "45 million"],
    "When did the EU AI Act enter into force?": ["1 August 2024", "2024-08-01", "August 1, 2024"],
    "欧盟人工智能法什么时候生效？": ["2024-08-01", "2024年8月1日", "2024 年 8 月 1 日", "1 August 2024"],
}


def _readme_questions() -> set[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    asked = set(re.findall(r'govqa ask (?:--[\w-]+(?: [a-z]+)? )*"([^".][^"]*)"', readme))
    asked |= set(re.findall(r'client\.predict\(\s*"([^"]+)"', readme))
    return {q for q in asked if "Widget" not in q and "training records" not in q}  # those are fixture examples


def test_every_example_has_an_expected_fact() -> None:
    assert set(EXAMPLES) <= set(EXPECTED)
    assert _readme_questions() <= set(EXPECTED), _readme_questions() - set(EXPECTED)


@pytest.fixture(scope="module")
def full_pipeline() -> Any:
    from govqa.app.pipeline import build_pipeline, index_exists, run_ingest
    from govqa.settings import Settings

    settings = Settings()
    if not index_exists(settings):
        run_ingest(settings)
    return build_pipeline(settings)


@pytest.mark.slow
@pytest.mark.skipif(not FULL_CORPUS.is_dir(), reason="the full corpus is not beside the project")
@pytest.mark.parametrize("question", sorted(EXPECTED))
def test_example_gives_the_asked_fact_with_its_citation(full_pipeline: Any, question: str) -> None:
    result = full_pipeline.ask(question)
    assert not result.abstained, result.answer
    quotes = " ".join(c.quote for c in result.citations)
    assert any(alias in quotes for alias in EXPECTED[question]), result.answer
    assert "Cite this page" not in result.answer and "引用本页" not in result.answer
