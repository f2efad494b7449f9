"""Folder sources with PDFs: pages, outline sections, skip reasons, `govqa sources add`, ask with pages.

The PDFs are generated here with reportlab (its built-in CID font STSong-Light gives
Chinese text without a font file), so no binary fixture is committed.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govqa.app.citations import format_reference
from govqa.app.cli import app
from govqa.app.render import citation_panel_html
from govqa.corpus.folder import load_folder
from govqa.corpus.pdf import page_blocks, strip_running_lines, two_columns
from govqa.corpus.sources import SourceSpec, read_sources
from govqa.ingest.chunking import chunk_document

pytest.importorskip("reportlab")

SCOPE = (
    "This framework applies to providers of widget models that are offered to the public in",
    "any member state. It sets out the safety duties of providers and deploy-",
    "ers alike.",
)
RECORDS = "Providers shall keep records of the training data of every widget model for ten years."
CHINESE = ("提供者应当对训练数据进行安全评估，", "并在上线前向主管部门报送评估报告。")
LEFT_COLUMN = (
    "Evaluation duties come first in this",
    "framework. Each provider must test its",
    "widget model against the red-team suite.",
)
RIGHT_COLUMN = (
    "Incident reports go to the widget office",
    "within fifteen days. A serious incident",
    "must be reported within two days.",
)


def _image(canvas: object, x: float, y: float) -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    picture = Image.new("RGB", (60, 40), (40, 90, 160))
    canvas.drawImage(ImageReader(picture), x, y, width=300, height=200)  # type: ignore[attr-defined]


def make_framework_pdf(path: Path) -> None:
    """Five pages: English with an outline (two levels), Chinese, a two-column page, an image-only page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    width, height = A4
    pdf = Canvas(str(path), pagesize=A4)
    pdf.setTitle("Widget Safety Framework")

    def lines(font: str, size: float, top: float, texts: tuple[str, ...], x: float = 72) -> None:
        pdf.setFont(font, size)
        for i, text in enumerate(texts):
            pdf.drawString(x, top - i * size * 1.3, text)

    def heading(title: str, key: str, level: int, top: float, font: str = "Helvetica-Bold") -> None:
        lines(font, 14, top, (title,))
        pdf.bookmarkPage(key)
        pdf.addOutlineEntry(title, key, level=level)

    heading("1 Scope", "scope", 0, height - 72)
    lines("Helvetica", 11, height - 100, SCOPE)
    pdf.showPage()
    heading("2 Obligations", "obligations", 0, height - 72)
    lines("Helvetica", 11, height - 100, ("Providers carry the duties of this part.",))
    heading("2.1 Records", "records", 1, height - 160)
    lines("Helvetica", 11, height - 188, (RECORDS,))
    pdf.showPage()
    heading("第三章 数据安全", "data", 0, height - 72, font="STSong-Light")
    lines("STSong-Light", 12, height - 100, CHINESE)
    pdf.showPage()
    # Drawn row by row, alternating columns: the order pypdf reports the text in.
    pdf.bookmarkPage("columns")
    pdf.addOutlineEntry("4 Evaluation and incidents", "columns", level=0)  # not printed on the page
    pdf.setFont("Helvetica", 10)
    for i, (left, right) in enumerate(zip(LEFT_COLUMN, RIGHT_COLUMN, strict=True)):
        pdf.drawString(72, height - 72 - i * 13, left)
        pdf.drawString(width / 2 + 20, height - 72 - i * 13, right)
    pdf.showPage()
    _image(pdf, 100, 300)
    pdf.showPage()
    pdf.save()


def make_scanned_pdf(path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    pdf = Canvas(str(path))
    _image(pdf, 100, 300)
    pdf.showPage()
    pdf.save()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "my-docs"
    (root / "notes").mkdir(parents=True)
    make_framework_pdf(root / "widget-framework.pdf")
    make_scanned_pdf(root / "scanned.pdf")
    (root / "broken.pdf").write_bytes(b"this is not a PDF")
    (root / "notes" / "briefing.md").write_text(
        "---\ntitle: Widget briefing\nsnapshotDate: 2026-05-01\n---\n# Summary\n\nThe widget office opened in 2026.\n",
        encoding="utf-8",
    )
    (root / "notes" / "page.html").write_text(
        "<html><head><title>Widget FAQ</title></head><body><h2>Who?</h2><p>Every widget provider.</p></body></html>",
        encoding="utf-8",
    )
    (root / "logo.png").write_bytes(b"\x89PNG")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    return root


def folder_spec(root: Path, base_url: str = "https://example.org/docs/") -> SourceSpec:
    return SourceSpec("mine", "My documents", "CC0", "", base_url, str(root), kind="folder")


def _pdf(root: Path):  # type: ignore[no-untyped-def]
    result = load_folder(folder_spec(root), root)
    return result, next(d for d in result.documents if d.source_path == "widget-framework.pdf")


def test_folder_reads_pdf_markdown_and_html_and_says_what_it_skipped(folder: Path) -> None:
    result, pdf = _pdf(folder)
    assert sorted(d.source_path for d in result.documents) == [
        "notes/briefing.md",
        "notes/page.html",
        "widget-framework.pdf",
    ]
    assert sorted(result.skipped) == [
        ("broken.pdf", result.skipped[0][1]),
        ("logo.png", "not a PDF, HTML or Markdown file (.png)"),
        ("scanned.pdf", "no text layer (scanned PDF?) on all 1 pages"),
        ("widget-framework.pdf p. 5", "no text layer (scanned page?)"),
    ]
    assert result.skipped[0][1].startswith("unreadable PDF (")
    assert pdf.title == "Widget Safety Framework"
    assert pdf.url == "https://example.org/docs/widget-framework.pdf"
    briefing = next(d for d in result.documents if d.source_path == "notes/briefing.md")
    assert (briefing.title, briefing.as_of, briefing.url) == (
        "Widget briefing",
        "2026-05-01",
        "https://example.org/docs/notes/briefing.md",
    )


def test_pdf_text_per_page_with_outline_sections(folder: Path) -> None:
    _, pdf = _pdf(folder)
    assert [p.number for p in pdf.pages] == [1, 2, 3, 4]  # page 5 has no text
    page = {p.number: pdf.text[p.start : p.end] for p in pdf.pages}
    # Lines join into one paragraph; the word hyphenated at the line end is whole again.
    assert (
        "This framework applies to providers of widget models that are offered to the public in any member "
        "state. It sets out the safety duties of providers and deployers alike." in page[1]
    )
    assert RECORDS in page[2]
    assert "".join(CHINESE) in page[3]  # Chinese lines join without a space
    sections = [(s.path, s.anchor, pdf.text[s.start : s.end].split("\n")[0]) for s in pdf.sections]
    assert sections == [
        (("1 Scope",), "page=1", "1 Scope"),
        (("2 Obligations",), "page=2", "2 Obligations"),
        (("2 Obligations", "2.1 Records"), "page=2", "2.1 Records"),
        (("第三章 数据安全",), "page=3", "第三章 数据安全"),
        (("4 Evaluation and incidents",), "page=4", " ".join(LEFT_COLUMN)),
    ]


def test_two_column_page_reads_left_column_then_right(folder: Path) -> None:
    _, pdf = _pdf(folder)
    page4 = next(pdf.text[p.start : p.end] for p in pdf.pages if p.number == 4)
    assert page4 == " ".join(LEFT_COLUMN) + "\n" + " ".join(RIGHT_COLUMN)


def test_table_like_rows_are_not_taken_for_columns() -> None:
    cells = [(72.0, 700.0 - 14 * i, 10.0, text) for i, text in enumerate(("Yes", "No", "Yes"))]
    cells += [(320.0, 700.0 - 14 * i, 10.0, text) for i, text in enumerate(("2024", "2025", "2026"))]
    assert two_columns(cells, 297.6) is None
    # One column whose lines change font mid-line: fragments start right of the middle, but lines cross it.
    one_column = [
        (72.0, 700.0 - 14 * i, 10.0, "directory is added to the information found in previous directories, except")
        for i in range(3)
    ]
    inline = [(420.0, 700.0 - 14 * i, 10.0, "magic-deleteall") for i in range(3)]
    assert two_columns(one_column + inline, 297.6) is None
    long_lines = [(72.0, 700.0 - 14 * i, 10.0, "a line of body text that runs to the gutter") for i in range(3)]
    right = [(320.0, 700.0 - 14 * i, 10.0, f"right {i}") for i in range(3)]
    assert (
        two_columns(long_lines + right, 297.6) == "\n".join([long_lines[0][3]] * 3) + "\n\nright 0\nright 1\nright 2\n"
    )


def test_page_blocks_headings_paragraphs_hyphens_and_chinese() -> None:
    raw = "1 Scope\nA long first line of the paragraph that goes on and on and\nends here.\n\n第一条 为了\n规范服务。\n"
    assert page_blocks(raw, ["1  SCOPE"]) == [
        ("heading", "1 Scope"),
        ("paragraph", "A long first line of the paragraph that goes on and on and ends here."),
        ("paragraph", "第一条 为了规范服务。"),
    ]
    assert page_blocks("multi-\nlevel and non-\nEnglish\n") == [("paragraph", "multilevel and non- English")]
    assert page_blocks("") == []
    # Outlines often drop the number the page prints; list items are paragraphs of their own.
    assert page_blocks("2.1 ASN.1 syntax\nThe parser is\n• INTEGER and\n• BOOLEAN;\n", ["ASN.1 Syntax"]) == [
        ("heading", "2.1 ASN.1 syntax"),
        ("paragraph", "The parser is"),
        ("paragraph", "• INTEGER and"),
        ("paragraph", "• BOOLEAN;"),
    ]


def test_running_headers_and_page_numbers_are_dropped() -> None:
    words = ["Scope", "Duties", "Records", "Audits", "Fines"]
    pages = [f"Widget Report 2026\n{w} come first.\n\nThen {w.lower()} end.\n- {n} -\n" for n, w in enumerate(words, 1)]
    pages[2] = "Widget Report 2026\nRecords are kept.\nPage 3\n"
    assert strip_running_lines(pages)[0] == "Scope come first.\n\nThen scope end.\n"
    assert strip_running_lines(pages)[2] == "Records are kept.\nPage 3\n"  # a line on one page only is not running
    assert strip_running_lines(pages[:2]) == pages[:2]  # two pages are too few to tell


def test_chunks_and_their_pages(folder: Path) -> None:
    _, pdf = _pdf(folder)
    chunks = chunk_document(pdf)
    assert {c.page for c in chunks} == {1, 2, 3, 4}
    for chunk in chunks:
        assert pdf.page_at(chunk.start) == pdf.page_at(chunk.end - 1) == chunk.page  # never crosses a page
        assert chunk.url == f"https://example.org/docs/widget-framework.pdf#page={chunk.page}"
    assert {c.lang for c in chunks if c.page == 3} == {"zh"}
    assert {c.lang for c in chunks if c.page != 3} == {"en"}


# ---------------------------------------------------------------- govqa sources add

MANIFEST = """# My sources: comments stay.
[[source]]
id = "fixture"
title = "Fixture site"
licence = "CC0"
base_url = "https://example.org/"
path = "tests/fixtures/corpus"

[source.editions]
"en" = "April 2026 English edition"
"""


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(MANIFEST, encoding="utf-8")
    monkeypatch.setenv("GOVQA_SOURCES_FILE", str(path))
    return path


def _add(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["sources", "add", *args])


def test_sources_add_appends_a_folder_source_and_keeps_the_file(manifest: Path, folder: Path) -> None:
    result = _add(
        str(folder), "--id", "my-docs", "--title", "My “docs”", "--licence", "CC BY 4.0", "--attribution", "Me"
    )
    assert result.exit_code == 0, result.output
    assert "Added source 'my-docs'" in result.stdout
    text = manifest.read_text(encoding="utf-8")
    assert text.startswith(MANIFEST)  # comments, entries and editions untouched
    entries = tomllib.loads(text)["source"]
    assert entries[0]["editions"] == {"en": "April 2026 English edition"}
    assert entries[1] == {
        "id": "my-docs",
        "kind": "folder",
        "title": "My “docs”",
        "licence": "CC BY 4.0",
        "attribution": "Me",
        "base_url": folder.resolve().as_uri() + "/",
        "path": str(folder.resolve()),
    }
    spec = read_sources(manifest)[1]
    assert (spec.kind, spec.attribution) == ("folder", "Me")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--id", "My_Docs", "--title", "T", "--licence", "L"],
            "Error: source id 'My_Docs' in --id is not a slug; use lowercase letters, digits and inner hyphens, e.g. my-reports",
        ),
        (
            ["--id", "fixture", "--title", "T", "--licence", "L"],
            "Error: source id 'fixture' in --id is taken in the source manifest; choose another id",
        ),
        (["--title", "T", "--licence", "L"], "Error: missing --id in `govqa sources add`; add e.g. --id my-reports"),
        (
            ["--id", "mine", "--title", "T"],
            'Error: missing --licence in `govqa sources add`; add e.g. --licence "CC BY 4.0"',
        ),
        (
            ["--id", "mine", "--title", "T", "--licence", "L", "--base-url", "ftp://x/"],
            "Error: 'ftp://x/' in --base-url is not an http(s) URL; give where the files are published, e.g. https://example.org/docs/",
        ),
    ],
)
def test_sources_add_mistakes_end_in_one_line(manifest: Path, folder: Path, args: list[str], message: str) -> None:
    result = _add(str(folder), *args)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [message]
    assert manifest.read_text(encoding="utf-8") == MANIFEST


def test_sources_add_needs_an_existing_folder(manifest: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = _add(str(missing), "--id", "mine", "--title", "T", "--licence", "L")
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [f"Error: no such folder {missing} in PATH; give the folder holding your PDF, HTML and Markdown files"],
    )
    a_file = tmp_path / "one.pdf"
    a_file.write_bytes(b"%PDF")
    result = _add(str(a_file), "--id", "mine", "--title", "T", "--licence", "L")
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [f"Error: {a_file} in PATH is a file, not a folder; give the folder that holds it"],
    )


def test_sources_add_creates_a_missing_manifest(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "new" / "sources.toml"
    monkeypatch.setenv("GOVQA_SOURCES_FILE", str(path))
    result = _add(str(folder), "--id", "mine", "--title", "T", "--licence", "L", "--base-url", "https://ex.org/d")
    assert result.exit_code == 0, result.output
    assert [(s.id, s.kind, s.base_url) for s in read_sources(path)] == [("mine", "folder", "https://ex.org/d/")]


# ---------------------------------------------------------------- end to end


def test_ingest_and_ask_over_a_folder_source_cite_the_page(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govqa.app.pipeline import build_pipeline, run_ingest
    from govqa.settings import load_settings

    manifest = tmp_path / "sources.toml"
    monkeypatch.setenv("GOVQA_SOURCES_FILE", str(manifest))
    monkeypatch.setenv("GOVQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GOVQA_EMBEDDER", "fake")
    added = _add(str(folder), "--id", "mine", "--title", "Mine", "--licence", "CC0", "--base-url", "https://ex.org/d/")
    assert added.exit_code == 0, added.output

    settings = load_settings()
    report = run_ingest(settings)
    assert (report.documents, ("widget-framework.pdf p. 5", "no text layer (scanned page?)") in report.skipped) == (
        3,
        True,
    )
    assert "skipped widget-framework.pdf p. 5: no text layer (scanned page?)" in report.summary()
    pipeline = build_pipeline(settings)

    result = pipeline.ask("How long must providers keep records of the training data?")
    first = result.citations[0]
    assert (first.page, first.quote, first.url) == (2, RECORDS, "https://ex.org/d/widget-framework.pdf#page=2")
    assert format_reference(first).startswith("[1] Widget Safety Framework › 2 Obligations › 2.1 Records, p. 2 (en")

    # The passage panel shows the whole page, the quote marked, and opens the file at the page.
    document = pipeline.index.documents[first.doc_id]
    panel = citation_panel_html(first, 1, document)
    assert "2.1 Records, p. 2</summary>" in panel
    assert f'<mark class="govqa-quote">{RECORDS}</mark>' in panel
    assert "Providers carry the duties of this part." in panel  # other text of page 2
    assert "1 Scope" not in panel.split("</summary>")[1]  # but not page 1's
    assert 'href="https://ex.org/d/widget-framework.pdf#page=2"' in panel and "Open the file at p. 2" in panel

    asked = CliRunner().invoke(app, ["ask", "--json", "提供者应当对训练数据进行什么评估？"])
    assert asked.exit_code == 0, asked.output
    cited = json.loads(asked.stdout)["citations"][0]
    assert (cited["page"], cited["lang"], cited["url"]) == (3, "zh", "https://ex.org/d/widget-framework.pdf#page=3")
    assert cited["quote"] in "".join(CHINESE)


# ---------------------------------------------------------------- the web chat serves unpublished files


def _local_folder_index(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A manifest with the folder added without --base-url, and its index (fake embedder)."""
    from govqa.app.pipeline import run_ingest
    from govqa.settings import load_settings

    manifest = tmp_path / "sources.toml"
    monkeypatch.setenv("GOVQA_SOURCES_FILE", str(manifest))
    monkeypatch.setenv("GOVQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GOVQA_EMBEDDER", "fake")
    assert _add(str(folder), "--id", "mine", "--title", "Mine", "--licence", "CC0").exit_code == 0
    settings = load_settings()
    run_ingest(settings)
    return manifest, settings


def test_chat_panel_links_an_unpublished_pdf_through_the_server(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govqa.app.chat import ChatService
    from govqa.app.feedback import FeedbackStore
    from govqa.app.pipeline import build_pipeline, local_file_roots
    from govqa.app.render import served_url

    _, settings = _local_folder_index(tmp_path, folder, monkeypatch)
    roots = local_file_roots(settings)
    assert roots == [folder.resolve()]
    service = ChatService(build_pipeline(settings), settings, FeedbackStore(tmp_path / "fb.sqlite3"), roots)
    result = service.pipeline.ask("How long must providers keep records of the training data?")
    assert result.citations[0].url == (folder.resolve() / "widget-framework.pdf").as_uri() + "#page=2"
    panel = service.panels(result, 1)[0]
    assert f'href="/gradio_api/file={folder.resolve()}/widget-framework.pdf#page=2"' in panel
    # Files outside the served folders keep their file: URL, which the panel shows as text, not a link.
    assert served_url("file:///etc/passwd", roots) == "file:///etc/passwd"
    assert served_url("https://ex.org/a.pdf#page=2", roots) == "https://ex.org/a.pdf#page=2"


@pytest.mark.slow
def test_govqa_serve_serves_the_folder_files_and_nothing_else(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.error
    import urllib.request

    from test_web_browser import _start_server, _stop

    manifest, settings = _local_folder_index(tmp_path, folder, monkeypatch)
    process, url = _start_server(settings.data_dir, tmp_path / "serve.log", GOVQA_SOURCES_FILE=str(manifest))
    try:
        served = f"{url}gradio_api/file={folder.resolve()}/widget-framework.pdf"
        with urllib.request.urlopen(served, timeout=10) as response:
            assert response.read(5) == b"%PDF-"
        outside = tmp_path / "secret.txt"
        outside.write_text("secret", encoding="utf-8")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}gradio_api/file={outside}", timeout=10)
        assert refused.value.code in (403, 404)
    finally:
        _stop(process)


@pytest.mark.browser
def test_chat_panel_shows_the_pdf_page_and_opens_the_file(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_web_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _ask, _start_server, _stop

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium); browser tests need it")
    from playwright.sync_api import sync_playwright

    manifest, settings = _local_folder_index(tmp_path, folder, monkeypatch)
    process, url = _start_server(settings.data_dir, tmp_path / "serve.log", GOVQA_SOURCES_FILE=str(manifest))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#govqa-question textarea", timeout=TIMEOUT_MS)
            _ask(page, "How long must providers keep records of the training data?", 1)
            chat = page.locator("#govqa-chat")
            assert RECORDS in chat.inner_text() and "Widget Safety Framework" in chat.inner_text()
            chat.locator('a[href="#cite-1-1"]').first.click()
            panel = page.locator("#cite-1-1")
            panel.wait_for(state="visible", timeout=TIMEOUT_MS)
            assert panel.locator("mark").inner_text() == RECORDS
            assert "Providers carry the duties of this part." in panel.inner_text()  # the rest of page 2
            assert "2.1 Records, p. 2" in page.locator("details:has(#cite-1-1) > summary").inner_text()
            live = panel.locator("a.govqa-live")
            assert live.inner_text() == "Open the file at p. 2"
            href = live.get_attribute("href")
            assert href == f"/gradio_api/file={folder.resolve()}/widget-framework.pdf#page=2"
            served = page.request.get(url.rstrip("/") + href.split("#")[0])
            assert served.status == 200 and served.body()[:5] == b"%PDF-"
            browser.close()
    finally:
        _stop(process)
