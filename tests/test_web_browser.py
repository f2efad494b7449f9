"""The web chat: its handlers directly, its API with gradio_client, and the page in a real Chromium.

The server is a real ``govqa serve`` subprocess on a free loopback port over the fixture corpus.
Browser tests carry the ``browser`` marker and are skipped only when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govqa.app.chat import ChatService, ChatUpdate, answer_pieces, make_filters
from govqa.app.feedback import FeedbackStore
from govqa.app.result import AskResult, QuestionError
from govqa.app.web import parse_auth

from conftest import FIXTURE_SOURCES, fixture_settings
from servers import start_server as _start_server
from servers import stop as _stop

OFFICIAL_SOURCES = FIXTURE_SOURCES.with_name("sources-official.toml")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
EN_QUESTION = "When did the Widget Safety Act enter into force?"
ZH_QUESTION = "小部件安全法什么时候施行？"
XSS = "<img src=x onerror=alert(1)>"
TIMEOUT_MS = 20_000


# ---------------------------------------------------------------- handlers, no server


def _service(pipeline: Any, tmp_path: Path) -> ChatService:
    settings = fixture_settings(tmp_path / "data")
    return ChatService(pipeline, settings, FeedbackStore(tmp_path / "feedback.sqlite3"))


def _run(service: ChatService, message: str, turns: list[Any] | None = None, **filters: Any) -> list[ChatUpdate]:
    return list(
        service.respond(
            message,
            [],
            turns or [],
            [],
            filters.get("lang", "both"),
            filters.get("jurisdiction"),
            filters.get("company"),
        )
    )


def test_answer_pieces_join_back() -> None:
    answer = "It entered into force on 1 March 2025. [1] It applies to widgets. [2]"
    assert answer_pieces(answer) == ["It entered into force on 1 March 2025. [1] ", "It applies to widgets. [2]"]
    assert answer_pieces("No markers here.") == ["No markers here."]
    assert answer_pieces("") == []


def test_make_filters() -> None:
    assert make_filters("both", None, None).active() == {}
    assert make_filters("zh", ["eu"], ["acme"]).active() == {
        "lang": ["zh"],
        "jurisdiction": ["eu"],
        "company": ["acme"],
    }


def test_parse_auth(tmp_path: Path) -> None:
    assert parse_auth(fixture_settings(tmp_path)) is None
    assert parse_auth(fixture_settings(tmp_path, auth="ana:s3:cret")) == ("ana", "s3:cret")
    with pytest.raises(ValueError, match="user:password"):
        parse_auth(fixture_settings(tmp_path, auth="nopassword"))


def test_respond_streams_then_renders_citations(fixture_pipeline: Any, tmp_path: Path) -> None:
    updates = _run(_service(fixture_pipeline, tmp_path), EN_QUESTION)
    replies = [u.chat[-1]["content"] for u in updates]
    assert "…" in replies[0]  # the placeholder shows at once
    partial = [r for r in replies if "entered into force" in r and "govqa-typing" in r]
    assert partial, "the answer should appear before it is complete"
    final = updates[-1]
    assert 'href="#cite-1-1"' in final.chat[-1]["content"]
    assert 'id="cite-1-1"' in final.evidence_html and "<mark" in final.evidence_html
    assert "References:" in final.plain and "[^1]:" in final.markdown
    assert final.turns[0]["result"]["citations"]


def test_respond_resolves_a_follow_up(fixture_pipeline: Any, tmp_path: Path) -> None:
    service = _service(fixture_pipeline, tmp_path)
    turns = _run(service, "What does the Widget Safety Act apply to?")[-1].turns
    final = _run(service, "它什么时候生效？", turns)[-1]
    assert final.turns[-1]["question"] == "小部件安全法什么时候生效？"
    assert "Resolved question" in final.chat[-1]["content"] and 'href="#cite-2-1"' in final.chat[-1]["content"]


def test_respond_abstains_with_nearest_passages(fixture_pipeline: Any, tmp_path: Path) -> None:
    final = _run(_service(fixture_pipeline, tmp_path), "What is the boiling point of mercury?")[-1]
    assert "Nearest passages" in final.chat[-1]["content"]
    assert 'id="cite-1-1"' in final.evidence_html


class _Broken:
    backend, supports_streaming, rewrites_followups = "test", False, False

    def ask(self, question: str, filters: Any = None) -> AskResult:
        raise RuntimeError("Traceback (most recent call last): secret internals")


class _Refusing:
    backend, supports_streaming, rewrites_followups = "test", False, False

    def ask(self, question: str, filters: Any = None) -> AskResult:
        raise QuestionError("The question is 3000 characters long; the limit is 2000.")


def test_pipeline_error_is_a_short_chat_message(fixture_pipeline: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    service = _service(replace(fixture_pipeline, answerer=_Broken()), tmp_path)
    final = _run(service, EN_QUESTION)[-1]
    reply = final.chat[-1]["content"]
    assert "Something went wrong while answering (RuntimeError)" in reply
    assert "Traceback" not in reply and "secret" not in reply
    assert final.turns[-1]["result"] is None  # a turn is kept, so message and turn numbers stay aligned
    service.pipeline = replace(fixture_pipeline, answerer=_Refusing())
    assert "the limit is 2000" in _run(service, EN_QUESTION)[-1].chat[-1]["content"]


def test_rate_and_comment(fixture_pipeline: Any, tmp_path: Path) -> None:
    service = _service(fixture_pipeline, tmp_path)
    turns = _run(service, EN_QUESTION)[-1].turns
    status, row_id = service.rate(turns, 1, False, "")
    assert "saved" in status and row_id == 1
    assert service.add_comment(row_id, "date is right, scope missing") == "Comment saved."
    row = service.feedback.rows()[0]
    assert (
        row["rating"] == "down" and row["question"] == EN_QUESTION and row["comment"] == "date is right, scope missing"
    )
    assert row["config"]["embedder"] == "fake" and "auth" not in row["config"] and "api_key" not in row["config"]["llm"]
    assert service.rate(turns, 3, True)[1] is None  # no answer at that index


# ---------------------------------------------------------------- a real server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("web-data")
    process, url = _start_server(data_dir, data_dir / "serve.log")
    yield url, data_dir
    _stop(process)


def test_api_ask_returns_the_ask_json_object(server: tuple[str, Path], fixture_pipeline: Any) -> None:
    from gradio_client import Client

    url, _ = server
    client = Client(url, verbose=False)
    got = client.predict(EN_QUESTION, api_name="/ask")
    expected = fixture_pipeline.ask(EN_QUESTION).to_json()
    assert set(got) == set(expected)
    assert got["answer"] == expected["answer"] and got["citations"] == expected["citations"]
    zh_only = client.predict(ZH_QUESTION, ["zh"], None, None, api_name="/ask")
    assert zh_only["citations"] and all(c["lang"] == "zh" for c in zh_only["citations"])
    with pytest.raises(Exception, match="The question is empty"):
        client.predict("   ", api_name="/ask")


def test_login_required_when_auth_is_set(tmp_path: Path) -> None:
    from gradio_client import Client

    process, url = _start_server(tmp_path, tmp_path / "serve.log", GOVQA_AUTH="ana:secret")
    try:
        with urllib.request.urlopen(url + "config", timeout=5) as response:
            pytest.fail(f"config served without login ({response.status})")
    except urllib.error.HTTPError as error:
        assert error.code in (401, 403)
    except BaseException:
        _stop(process)
        raise
    try:
        # gradio_client says AuthenticationError (a ValueError) on 401, ValueError on other refusals
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, auth=("ana", "wrong"), verbose=False)
        client = Client(url, auth=("ana", "secret"), verbose=False)
        assert client.predict(EN_QUESTION, api_name="/ask")["citations"]
    finally:
        _stop(process)


# ---------------------------------------------------------------- the page in Chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium); browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, server: tuple[str, Path]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(server[0])
    page.wait_for_selector("#govqa-question textarea", timeout=TIMEOUT_MS)
    yield page
    context.close()


def _ask(page: Any, question: str, turn: int) -> dict[str, float]:
    """Type and send a question; wait for the final reply of that turn. Returns timings in ms."""
    page.fill("#govqa-question textarea", question)
    started = time.perf_counter()
    page.click("#govqa-send")
    # The first token: the reply bubble holds answer text, not only the "…" placeholder.
    page.wait_for_function(
        """(turn) => {
            const answers = document.querySelectorAll('#govqa-chat .govqa-answer, #govqa-chat .govqa-error');
            if (answers.length >= turn) return true;
            const typing = document.querySelectorAll('#govqa-chat .govqa-typing');
            if (!typing.length) return false;
            const bubble = typing[typing.length - 1].parentElement;
            return bubble && bubble.innerText.replace('…', '').trim().length > 0;
        }""",
        arg=turn,
        timeout=TIMEOUT_MS,
    )
    first = time.perf_counter()
    page.wait_for_function(
        "(turn) => document.querySelectorAll('#govqa-chat .govqa-answer, #govqa-chat .govqa-error').length >= turn",
        arg=turn,
        timeout=TIMEOUT_MS,
    )
    done = time.perf_counter()
    return {"first_token_ms": (first - started) * 1000, "full_answer_ms": (done - started) * 1000}


def _shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.browser
def test_english_answer_with_clickable_citation(page: Any, tmp_path: Path) -> None:
    timings = _ask(page, EN_QUESTION, 1)
    print(
        f"\nbrowser latency (fixture corpus, EN): first token {timings['first_token_ms']:.0f} ms, full answer {timings['full_answer_ms']:.0f} ms"
    )
    chat = page.locator("#govqa-chat")
    assert "It entered into force on 1 March 2025." in chat.inner_text()
    assert "Sources" in chat.inner_text() and "Pages used are as of 2026-06-28." in chat.inner_text()
    chat.locator('a[href="#cite-1-1"]').first.click()
    panel = page.locator("#cite-1-1")
    panel.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert page.evaluate("document.getElementById('cite-1-1').closest('details').open")
    assert panel.locator("mark").inner_text() == "It entered into force on 1 March 2025."
    assert "The Widget Safety Act applies to every household widget" in panel.inner_text()  # section context
    live = panel.locator("a.govqa-live").get_attribute("href")
    assert live == "https://example.org/rules/eu/widget-act/#scope--application-art-2"
    assert panel.locator("a.govqa-twin").get_attribute("href") == "https://example.org/zh/rules/eu/widget-act/"
    shot = _shot(page, tmp_path, "english-citation")
    shutil.copy(shot, "/tmp/govqa-screenshot.png")
    assert page.dialogs == []  # type: ignore[attr-defined]


@pytest.mark.browser
def test_chinese_answer_and_follow_up(page: Any, tmp_path: Path) -> None:
    timings = _ask(page, ZH_QUESTION, 1)
    print(
        f"\nbrowser latency (fixture corpus, ZH): first token {timings['first_token_ms']:.0f} ms, full answer {timings['full_answer_ms']:.0f} ms"
    )
    chat = page.locator("#govqa-chat")
    # A "when" question leads with the sentence that states the date.
    assert "2025年3月1日" in chat.inner_text()
    chat.locator('a[href="#cite-1-1"]').first.click()
    panel = page.locator("#cite-1-1")
    panel.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "2025年3月1日" in panel.locator("mark").inner_text()
    assert "《小部件安全法》" in panel.inner_text()  # the quote is shown inside its section
    assert (
        panel.locator("a.govqa-live").get_attribute("href")
        == "https://example.org/zh/rules/eu/widget-act/#适用范围第二条"
    )
    _ask(page, "它的义务是什么？", 2)
    assert "Resolved question: 小部件安全法的义务是什么？" in chat.inner_text()
    assert chat.locator('a[href^="#cite-2-"]').count() > 0
    _shot(page, tmp_path, "chinese-follow-up")


@pytest.mark.browser
def test_thumbs_down_is_stored(page: Any, server: tuple[str, Path], tmp_path: Path) -> None:
    _ask(page, EN_QUESTION, 1)
    page.fill("#govqa-comment textarea", "browser test: wrong date")
    page.locator('#govqa-chat button[aria-label="Dislike"]').last.click()
    page.wait_for_function(
        "() => document.querySelector('#govqa-feedback-status').innerText.includes('saved')", timeout=TIMEOUT_MS
    )
    _shot(page, tmp_path, "thumbs-down")
    with sqlite3.connect(server[1] / "feedback.sqlite3") as db:
        rows = db.execute(
            "SELECT rating, question, comment, answer_json FROM feedback WHERE comment = 'browser test: wrong date'"
        ).fetchall()
    assert len(rows) == 1
    rating, question, _, answer_json = rows[0]
    assert (rating, question) == ("down", EN_QUESTION) and "1 March 2025" in answer_json


@pytest.mark.browser
def test_markup_in_a_question_shows_as_text(page: Any, tmp_path: Path) -> None:
    _ask(page, XSS, 1)
    _ask(page, "{{7*7}} ${7*7} <script>alert(2)</script>", 2)
    chat = page.locator("#govqa-chat")
    assert XSS in chat.inner_text()
    assert "{{7*7}} ${7*7} <script>alert(2)</script>" in chat.inner_text()
    assert page.locator('#govqa-chat img[src="x"], #govqa-evidence img[src="x"]').count() == 0
    assert "{{7*7}} ${7*7}" in page.locator("#govqa-evidence").inner_text()
    page.wait_for_timeout(300)  # give a would-be onerror handler its chance to fire
    _shot(page, tmp_path, "markup-as-text")
    assert page.dialogs == []  # type: ignore[attr-defined]


@pytest.mark.browser
def test_site_passage_opens_the_article_it_cites(browser: Any, tmp_path: Path) -> None:
    """A site passage about the (fixture) interim measures links to 第二条 of the measures' own text."""
    process, url = _start_server(tmp_path, tmp_path / "serve.log", GOVQA_SOURCES_FILE=str(OFFICIAL_SOURCES))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#govqa-question textarea", timeout=TIMEOUT_MS)
        page.locator("#govqa-source label", has_text="Site pages").click()  # the site's commentary only
        _ask(page, "暂行办法对训练数据来源有什么要求？", 1)
        page.locator('#govqa-chat a[href="#cite-1-1"]').first.click()
        panel = page.locator("#cite-1-1")
        panel.wait_for(state="visible", timeout=TIMEOUT_MS)
        assert "第二条要求提供者使用具有合法来源的数据" in panel.locator("mark").inner_text()
        source = panel.locator("details.govqa-source")
        assert source.locator("summary").inner_text() == "Read the source: 第二条 小部件服务管理暂行办法"
        source.locator("summary").click()
        text = source.locator("blockquote.govqa-source-text")
        text.wait_for(state="visible", timeout=TIMEOUT_MS)
        assert (
            text.inner_text()
            == "第二条\n小部件服务提供者应当依法开展预训练数据处理活动。\n提供者应当使用具有合法来源的数据。"
        )
        assert source.locator("a.govqa-official").get_attribute("href") == "http://www.cac.gov.cn/2025-01/01/c_1.htm"
        _shot(page, tmp_path, "read-the-source")
    finally:
        context.close()
        _stop(process)
