"""corpus/: slugs, Markdown/MDX cleaning, loaders, provenance."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from govqa.corpus.loader import load_source, page_route
from govqa.corpus.markdown import clean_inline, markdown_blocks, split_frontmatter, table_row_records
from govqa.corpus.slugs import Slugger, github_slug
from govqa.corpus.sources import SourceError, locate_source, read_sources
from govqa.settings import PROJECT_ROOT

from conftest import FIXTURE_SOURCES


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Level 1 · Laws (NPC and NPC-SC)", "level-1--laws-npc-and-npc-sc"),
        ("截至 2026 年 6 月 30 日的备案实践", "截至-2026-年-6-月-30-日的备案实践"),
        ('一、DeepSeek 安全框架的"缺席目录"', "一deepseek-安全框架的缺席目录"),
        ('Global impact of the "DeepSeek moment" (2025-01)', "global-impact-of-the-deepseek-moment-2025-01"),
        ("Measures 🆕", "measures-"),
        ("snake_case stays", "snake_case-stays"),
    ],
)
def test_github_slug_matches_live_site(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_slugger_deduplicates_like_github_slugger() -> None:
    slugger = Slugger()
    assert [slugger.slug(h) for h in ["Summary", "Summary", "Summary-1", "Summary"]] == [
        "summary",
        "summary-1",
        "summary-1-1",
        "summary-2",
    ]


def test_frontmatter_and_inline_cleaning() -> None:
    meta, body = split_frontmatter("---\ntitle: T\nsnapshotDate: 2026-04-21\n---\n\nBody")
    assert meta["title"] == "T" and str(meta["snapshotDate"]) == "2026-04-21" and body.strip() == "Body"
    assert split_frontmatter("no frontmatter") == ({}, "no frontmatter")
    assert (
        clean_inline("**Bold** and *it* with [a link](https://x.org/a_(b)) and `code`")
        == "Bold and it with a link and code"
    )
    assert clean_inline("snake_case_name stays") == "snake_case_name stays"


def test_table_rows_repeat_the_header() -> None:
    rows = table_row_records(
        ["| Framework | DeepSeek |", "| --- | --- |", "| Seoul (2024) | **Not signed** |", "| X | |"]
    )
    assert rows == ["Framework: Seoul (2024); DeepSeek: Not signed", "Framework: X"]


def test_mdx_components_removed_but_text_kept() -> None:
    blocks = markdown_blocks(
        'import X from \'./x.astro\';\n\n<Timeline locale="en" />\n\n<CardGrid>\n<LinkCard title="Rules" description="All rules" href="/r/" />\n</CardGrid>\n\nText.'
    )
    assert [b.text for b in blocks] == ["Rules", "All rules", "Text."]


def test_page_route_rules() -> None:
    from pathlib import PurePosixPath

    assert page_route(PurePosixPath("en/rules/eu/index.mdx")) == "en/rules/eu"
    assert page_route(PurePosixPath("zh/about.md")) == "zh/about"
    assert page_route(PurePosixPath("index.md")) == ""


def _fixture_source():  # type: ignore[no-untyped-def]
    spec = read_sources(FIXTURE_SOURCES)[0]
    return spec, locate_source(spec, PROJECT_ROOT, Path("/nonexistent"), clone=False)


def test_fixture_corpus_documents_and_skips() -> None:
    spec, root = _fixture_source()
    result = load_source(spec, root)
    ids = sorted(d.id for d in result.documents)
    assert ids == [
        "fixture:archives/china/sample-notice",
        "fixture:en/companies/acme",
        "fixture:en/rules/china/labeling-rules",
        "fixture:en/rules/eu/widget-act",
        "fixture:en/topics/injection-test",
        "fixture:rules/eu/widget-act",
        "fixture:zh/rules/china/labeling-rules",
        "fixture:zh/rules/eu/widget-act",
    ]
    assert dict(result.skipped) == {
        "src/content/docs/en/rules/china/labeling-rules.md": "same page as src/content/docs/en/rules/china/labeling-rules.mdx",
        "src/content/docs/zh/draft-page.md": "draft: true",
    }


def test_document_provenance_twins_editions_anchors_references() -> None:
    spec, root = _fixture_source()
    docs = {d.id: d for d in load_source(spec, root).documents}
    april = docs["fixture:en/rules/eu/widget-act"]
    assert april.url == "https://example.org/en/rules/eu/widget-act/"
    assert (april.lang, april.as_of, april.edition) == ("en", "2026-04-21", "April 2026 English edition")
    assert april.twin_id == "fixture:zh/rules/eu/widget-act"
    assert april.other_edition_ids == ["fixture:rules/eu/widget-act"]
    assert april.jurisdiction == "eu"
    assert [s.anchor for s in april.sections] == [
        "",
        "scope--application-art-2",
        "obligations-who-must-do-what",
        "signatories",
        "references",
    ]
    assert [(r.title, r.authors, r.year, r.url) for r in april.references] == [
        ("Official Journal text of the Widget Safety Act", "", 2025, "https://example.org/oj/widget-act"),
        ("Widgets and the Market", "Jane Doe", 2024, "https://example.org/doe-widgets"),
    ]
    zh = docs["fixture:zh/rules/eu/widget-act"]
    assert [s.anchor for s in zh.sections] == ["适用范围第二条", "义务", "签署情况"]
    assert "公司: Globex; 签署状态: 未签署" in zh.text
    mdx = docs["fixture:en/rules/china/labeling-rules"]
    assert "import" not in mdx.text and "<" not in mdx.text
    assert "How the EU regulates household widgets" in mdx.text  # LinkCard text kept
    assert docs["fixture:en/companies/acme"].company == "acme"
    for doc in docs.values():
        for section in doc.sections:
            assert 0 <= section.start <= section.end <= len(doc.text)


def test_html_archive_keeps_headings_and_drops_page_chrome() -> None:
    spec, root = _fixture_source()
    archive = next(d for d in load_source(spec, root).documents if d.id.endswith("sample-notice"))
    assert archive.title == "关于示例小部件管理办法的通知"
    assert [s.title for s in archive.sections] == ["关于示例小部件管理办法的通知", "第一章 总则", "第二章 附则"]
    assert "版权所有" not in archive.text and "tracking" not in archive.text
    assert archive.url == "https://example.org/archives/china/sample-notice.html"


def test_non_utf8_file_is_skipped_with_reason(tmp_path: Path) -> None:
    spec, root = _fixture_source()
    copy = tmp_path / "corpus"
    shutil.copytree(root, copy)
    (copy / "src/content/docs/en/latin1.md").write_bytes("---\ntitle: caf\xe9\n---\ncaf\xe9".encode("latin-1"))
    result = load_source(spec, copy)
    assert ("src/content/docs/en/latin1.md", "not UTF-8 text") in result.skipped


def test_empty_corpus(tmp_path: Path) -> None:
    spec, _ = _fixture_source()
    (tmp_path / "src/content/docs").mkdir(parents=True)
    result = load_source(spec, tmp_path)
    assert result.documents == [] and result.skipped == []


def test_missing_source_names_where_it_looked(tmp_path: Path) -> None:
    toml = tmp_path / "sources.toml"
    toml.write_text('[[source]]\nid="x"\ntitle="X"\nbase_url="https://x.org"\npath="no/such/dir"\n')
    spec = read_sources(toml)[0]
    with pytest.raises(SourceError, match=r"not found: looked in .*no/such/dir"):
        locate_source(spec, PROJECT_ROOT, tmp_path, clone=False)


def test_bad_source_manifest(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="No source manifest"):
        read_sources(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[source]]\nid='x'\n")
    with pytest.raises(SourceError, match="lacks the key"):
        read_sources(bad)
