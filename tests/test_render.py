"""Rendering: citation markers, escaping, highlight offsets, sources grouping (pure functions)."""

from __future__ import annotations

from dataclasses import replace

from govqa.app import render
from govqa.app.citations import Citation
from govqa.corpus.documents import Document, Section

TEXT = "Intro line.\nScope\nThe Act applies to widgets. It entered into force on 1 March 2025. More text."


def _citation(n: int = 1, **changes: object) -> Citation:
    start = TEXT.index("It entered")
    end = TEXT.index("2025.") + len("2025.")
    base = Citation(
        n=n,
        url="https://example.org/rules/eu/widget-act/#scope",
        page_url="https://example.org/rules/eu/widget-act/",
        title="Widget Safety Act",
        section="Scope",
        lang="en",
        as_of="2026-06-28",
        edition="June 2026 English edition",
        quote=TEXT[start:end],
        source_path="src/content/docs/rules/eu/widget-act.md",
        chunk_id="c1",
        doc_id="d1",
        start=start,
        end=end,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _document(text: str = TEXT, **changes: object) -> Document:
    scope = text.index("Scope")
    base = Document(
        id="d1",
        source_id="fixture",
        source_path="x.md",
        url="https://example.org/rules/eu/widget-act/",
        lang="en",
        title="Widget Safety Act",
        description="",
        as_of="2026-06-28",
        edition="June 2026 English edition",
        page_key="rules/eu/widget-act",
        text=text,
        sections=[
            Section("Widget Safety Act", 0, "", ("Widget Safety Act",), 0, scope),
            Section("Scope", 2, "scope", ("Widget Safety Act", "Scope"), scope, len(text)),
        ],
        spans=[],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_markers_become_links_to_their_panels() -> None:
    html = render.answer_html("It entered into force. [1] It applies. [2]", turn=3, known=[1, 2])
    assert '<a class="govqa-cite" href="#cite-3-1"' in html
    assert 'href="#cite-3-2"' in html


def test_unknown_markers_stay_text() -> None:
    html = render.answer_html("See [7].", turn=1, known=[1])
    assert "[7]" in html and "href" not in html


def test_answer_html_escapes_markup() -> None:
    html = render.answer_html("<img src=x onerror=alert(1)> [1]", turn=1, known=[1])
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_user_message_is_escaped_and_keeps_line_breaks() -> None:
    html = render.user_message_html("<script>alert(1)</script>\nsecond")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>second" in html


def test_template_characters_are_entities() -> None:
    # gr.HTML fills a JS/Handlebars template: "${...}" and "{{...}}" from the corpus must stay text.
    escaped = render.escape("${alert(1)} {{x}} `y`")
    assert "${" not in escaped and "{{" not in escaped and "`" not in escaped


def test_safe_url_refuses_other_schemes() -> None:
    assert render.safe_url("javascript:alert(1)") == ""
    assert render.safe_url("data:text/html,<b>x</b>") == ""
    assert render.safe_url('https://example.org/a?b="c"') == "https://example.org/a?b=&quot;c&quot;"


def test_passage_in_section_splits_at_offsets() -> None:
    citation = _citation()
    passage = render.passage_in_section(TEXT, citation.start, citation.end, TEXT.index("Scope"), len(TEXT))
    assert passage.quote == "It entered into force on 1 March 2025."
    assert passage.before == "Scope\nThe Act applies to widgets. "
    assert passage.after == " More text."
    assert not passage.cut_before and not passage.cut_after


def test_passage_is_cut_around_a_long_section() -> None:
    text = "a" * 50 + "QUOTE" + "b" * 50
    passage = render.passage_in_section(text, 50, 55, 0, len(text), context=10)
    assert (passage.before, passage.quote, passage.after) == ("a" * 10, "QUOTE", "b" * 10)
    assert passage.cut_before and passage.cut_after


def test_passage_clamps_odd_offsets() -> None:
    passage = render.passage_in_section("abcdef", 4, 99, 1, 5)
    assert (passage.before, passage.quote, passage.after) == ("bcd", "e", "")


def test_citation_panel_highlights_the_quote_in_its_section() -> None:
    html = render.citation_panel_html(_citation(), turn=2, document=_document())
    assert 'id="cite-2-1"' in html
    assert '<mark class="govqa-quote">It entered into force on 1 March 2025.</mark>' in html
    assert "The Act applies to widgets." in html  # surrounding section text
    assert "Intro line." not in html  # another section
    assert 'href="https://example.org/rules/eu/widget-act/#scope"' in html
    assert "as of 2026-06-28" in html and "English" in html


def test_citation_panel_links_the_twin() -> None:
    twin = _document(id="d2", lang="zh", url="https://example.org/zh/rules/eu/widget-act/", title="小部件安全法")
    html = render.citation_panel_html(_citation(), turn=1, document=_document(), twin=twin)
    assert 'href="https://example.org/zh/rules/eu/widget-act/"' in html and "中文版本" in html


def test_citation_panel_escapes_corpus_text() -> None:
    text = "Scope\n<img src=x onerror=alert(1)> is quoted."
    document = _document(text=text)
    citation = _citation(quote=text[6:], start=6, end=len(text), title="<b>T</b>", section="<i>S</i>")
    html = render.citation_panel_html(citation, turn=1, document=document)
    assert "<img" not in html and "<b>T" not in html and "<i>S" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_citation_panel_without_matching_document_shows_the_quote() -> None:
    html = render.citation_panel_html(_citation(), turn=1, document=_document(text="Scope changed " * 20))
    assert '<mark class="govqa-quote">It entered into force on 1 March 2025.</mark>' in html


def test_section_at_picks_the_innermost_section() -> None:
    doc = _document()
    assert render.section_at(doc, 0).title == "Widget Safety Act"  # type: ignore[union-attr]
    assert render.section_at(doc, TEXT.index("It entered")).title == "Scope"  # type: ignore[union-attr]
    assert render.section_at(doc, len(TEXT) + 5) is None


def test_sources_grouped_by_page_in_order_of_first_citation() -> None:
    a1 = _citation(1)
    b2 = _citation(2, page_url="https://example.org/other/", title="Other page", section="Intro")
    a3 = _citation(3, section="Signatories")
    groups = render.group_by_page([a1, b2, a3])
    assert [[c.n for c in g] for g in groups] == [[1, 3], [2]]
    html = render.sources_html([a1, b2, a3], turn=1)
    assert html.count("<li>") == 2
    assert html.index("Widget Safety Act") < html.index("Other page")
    assert 'href="#cite-1-3"' in html


def test_as_of_range() -> None:
    cites = [_citation(1, as_of="2026-06-28"), _citation(2, as_of="2026-04-21"), _citation(3, as_of="")]
    assert render.as_of_range(cites) == ("2026-04-21", "2026-06-28")
    assert render.as_of_text(cites) == "Pages used are as of 2026-04-21 to 2026-06-28."
    assert render.as_of_text([_citation(as_of="")]) == "Pages used are undated."


def test_abstention_lists_nearest_passages_without_linking_the_answer() -> None:
    html = render.assistant_message_html(
        "The corpus does not cover this question.", [], 4, abstained=True, nearest=[_citation()]
    )
    assert "Nearest passages" in html and "It entered into force" in html
    assert 'href="#cite-4-1"' in html


def test_assistant_message_shows_resolved_question() -> None:
    html = render.assistant_message_html("Answer [1]", [_citation()], 2, resolved_question="When did <the Act> apply?")
    assert "Resolved question" in html and "&lt;the Act&gt;" in html
    assert "Sources" in html and "Pages used are as of 2026-06-28." in html


def test_sources_join_citations_of_one_section() -> None:
    html = render.sources_html([_citation(1), _citation(2), _citation(3, section="Signatories")], turn=5)
    assert html.count("Scope") == 1
    assert '[1]</a> <a class="govqa-cite" href="#cite-5-2">[2]</a> Scope; ' in html
