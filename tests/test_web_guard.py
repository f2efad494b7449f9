"""The web server only does what the page needs: inputs checked server-side, no uploads,
failed logins rate-limited per client, filters checked against the index, no credentials stored."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from govqa.app.chat import MAX_COMMENT_CHARS, ChatService, pipeline_config
from govqa.app.feedback import FeedbackStore
from govqa.app.guard import FailureWindow
from govqa.index.retriever import FilterError, Filters
from govqa.settings import redact_url

from conftest import fixture_settings

EN_QUESTION = "When did the Widget Safety Act enter into force?"


def _service(pipeline: Any, tmp_path: Path, **overrides: object) -> ChatService:
    settings = fixture_settings(tmp_path / "data", **overrides)
    return ChatService(pipeline, settings, FeedbackStore(tmp_path / "feedback.sqlite3"))


def test_failure_window_limits_then_forgets() -> None:
    now = [0.0]
    window = FailureWindow(limit=5, window_seconds=60, clock=lambda: now[0])
    for _ in range(4):
        window.fail("10.0.0.1")
    assert not window.limited("10.0.0.1")
    window.fail("10.0.0.1")
    assert window.limited("10.0.0.1") and not window.limited("10.0.0.2")  # per client address
    assert window.retry_after("10.0.0.1") == 61
    now[0] = 59.9
    assert window.limited("10.0.0.1")
    now[0] = 60.0
    assert not window.limited("10.0.0.1")


def test_forged_chat_inputs_are_checked_server_side(fixture_pipeline: Any, tmp_path: Path) -> None:
    service = _service(fixture_pipeline, tmp_path)
    huge = "widget " * 700_000  # about 5 MB, as a forged queue/join request could send
    updates = list(service.respond(huge, [], [], [], "both", None, None))
    assert len(updates) == 1
    reply = updates[0].chat[-1]["content"]
    assert "the limit is 2000" in reply and "widget widget" not in json.dumps(updates[0].chat)
    # A lone surrogate cannot be encoded; it is replaced rather than cutting the stream.
    final = list(service.respond("When did the Widget Safety Act \ud800 enter into force?", [], [], [], "both", [], []))
    json.dumps([u.chat for u in final]).encode("utf-8")
    assert "2025" in final[-1].chat[-1]["content"]
    # Wrong types from a forged event are treated as absent, not as a crash.
    forged = list(service.respond(EN_QUESTION, "not a list", 7, None, ["en"], "eu", {"x": 1}))  # type: ignore[arg-type]
    assert "2025" in forged[-1].chat[-1]["content"]


def test_comment_and_rating_inputs_are_bounded(fixture_pipeline: Any, tmp_path: Path) -> None:
    service = _service(fixture_pipeline, tmp_path)
    turns = list(service.respond(EN_QUESTION, [], [], [], "both", None, None))[-1].turns
    assert service.rate(turns, "1", True)[1] is None
    _, row_id = service.rate(turns, [1], True)
    assert row_id == 1
    too_long = "x" * (3 * 1024 * 1024)
    assert f"the limit is {MAX_COMMENT_CHARS}" in service.add_comment(row_id, too_long)
    assert f"the limit is {MAX_COMMENT_CHARS}" in service.rate(turns, 1, False, too_long)[0]
    assert service.add_comment("1", "ok").startswith("Rate an answer first")  # type: ignore[arg-type]
    assert service.add_comment(row_id, "fine \udcff") == "Comment saved."
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as db:
        comments = [row[0] for row in db.execute("SELECT comment FROM feedback")]
    assert comments == ["fine \ufffd"]


def test_filters_checked_against_the_index(fixture_pipeline: Any) -> None:
    assert Filters(lang="en").lang == ["en"]  # a string is one value, not ['e', 'n']
    assert Filters(company=None).company == []
    index = fixture_pipeline.index
    assert index.check_filters(Filters(company=["ACME"], lang=["EN"])) == Filters(company=["acme"], lang=["en"])
    with pytest.raises(FilterError, match=r"unknown company 'nobody' in the filters; use one of acme\."):
        fixture_pipeline.ask("Where is Acme Widgets headquartered?", Filters(company=["nobody"]))
    with pytest.raises(FilterError, match=r"unknown jurisdiction 'mars'.*use one of china, eu"):
        fixture_pipeline.ask("widgets", Filters(jurisdiction=["mars"]))
    result = fixture_pipeline.ask(EN_QUESTION, Filters(lang="EN"))
    assert result.citations and all(c.lang == "en" for c in result.citations)


def test_credentials_are_stripped_from_stored_urls(tmp_path: Path, fixture_pipeline: Any) -> None:
    assert redact_url("https://user:pa55@api.example.org/v1?api_key=s3cret&model=x") == (
        "https://api.example.org/v1?api_key=REDACTED&model=x"
    )
    assert redact_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    service = _service(fixture_pipeline, tmp_path, llm={"base_url": "https://bob:hunter2@llm.example.org/v1?token=t0k"})
    turns = list(service.respond(EN_QUESTION, [], [], [], "both", None, None))[-1].turns
    service.rate(turns, 1, True)
    stored = (tmp_path / "feedback.sqlite3").read_bytes()
    assert b"hunter2" not in stored and b"t0k" not in stored
    assert pipeline_config(service.settings)["llm"]["base_url"] == "https://llm.example.org/v1?token=REDACTED"


# ---------------------------------------------------------------- a real server


def _post(url: str, data: bytes, content_type: str) -> int:
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.slow
def test_server_refuses_uploads_and_rate_limits_logins(tmp_path: Path) -> None:
    from test_faults import _free_port, environment, make_corpus

    from govqa.app.pipeline import run_ingest

    sources = make_corpus(tmp_path)
    run_ingest(fixture_settings(tmp_path / "data", sources_file=sources))
    env = environment(tmp_path / "data", sources, GOVQA_AUTH="ana:secret")
    port = _free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "govqa.app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answers (a login page or 401)
            except OSError:
                time.sleep(0.3)
        boundary = "b0undary"
        upload = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="x.bin"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n{'A' * 100_000}\r\n--{boundary}--\r\n"
        ).encode()
        assert _post(url + "/gradio_api/upload", upload, f"multipart/form-data; boundary={boundary}") == 403
        form = "application/x-www-form-urlencoded"
        wrong = [_post(url + "/login", b"username=ana&password=wrong", form) for _ in range(5)]
        assert all(code == 400 for code in wrong), wrong  # refused as wrong, not yet limited
        assert _post(url + "/login", b"username=ana&password=wrong", form) == 429
        assert _post(url + "/login", b"username=ana&password=secret", form) == 429  # no guessing through
    finally:
        process.terminate()
        process.wait(timeout=15)
