"""Feedback storage and export of thumbs-down answers as candidate eval questions."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govqa.app.feedback import FeedbackStore, candidate_from, feedback_path
from govqa.evals.questions import load_questions

ANSWER = {
    "question": "When did the Widget Safety Act enter into force?",
    "answer": "It entered into force on 1 March 2025. [1]",
    "abstained": False,
    "citations": [
        {
            "n": 1,
            "url": "https://example.org/rules/eu/widget-act/#scope",
            "page_url": "https://example.org/rules/eu/widget-act/",
        },
        {
            "n": 2,
            "url": "https://example.org/rules/eu/widget-act/#signatories",
            "page_url": "https://example.org/rules/eu/widget-act/",
        },
    ],
    "nearest": [],
}
ABSTAINED = {"question": "小部件的沸点是多少？", "answer": "…", "abstained": True, "citations": [], "nearest": []}


def test_record_keeps_question_answer_citations_and_config(tmp_path: Path) -> None:
    store = FeedbackStore(feedback_path(tmp_path))
    row_id = store.record("down", ANSWER, question="and it?", comment="wrong date", config={"embedder": "fake"})
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as db:
        rating, question, resolved, comment = db.execute(
            "SELECT rating, question, resolved_question, comment FROM feedback WHERE id = ?", (row_id,)
        ).fetchone()
    assert (rating, question, resolved, comment) == ("down", "and it?", ANSWER["question"], "wrong date")
    row = store.rows()[0]
    assert row["answer"] == ANSWER and row["citations"] == ANSWER["citations"] and row["config"] == {"embedder": "fake"}


def test_unknown_rating_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rating"):
        FeedbackStore(tmp_path / "f.sqlite3").record("meh", ANSWER)


def test_comment_can_be_added_later(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3")
    row_id = store.record("up", ANSWER)
    assert store.set_comment(row_id, "  helpful ")
    assert not store.set_comment(row_id + 1, "x")
    assert store.rows()[0]["comment"] == "helpful"


def test_candidate_in_eval_schema() -> None:
    row = {
        "id": 7,
        "created": "2026-07-01T00:00:00+00:00",
        "question": "and it?",
        "resolved_question": ANSWER["question"],
        "comment": "",
        "answer": ANSWER,
    }
    assert candidate_from(row) == {
        "id": "FB-0007",
        "question": ANSWER["question"],
        "lang": "en",
        "answerable": True,
        "expected_urls": ["https://example.org/rules/eu/widget-act/"],
        "expected_facts": [],
        "kind": "single_fact",
        "notes": "From web feedback #7 (2026-07-01T00:00:00+00:00), answered; asked as: and it?; review expected_urls and add expected_facts.",
    }


def test_export_writes_only_thumbs_down_and_loads_as_questions(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.record("up", ANSWER)
    store.record("down", ANSWER, comment="missing the deadline")
    store.record("down", ABSTAINED)
    out = tmp_path / "out" / "candidates.jsonl"
    assert store.export_candidates(out) == 2
    questions = load_questions(out)  # the eval loader accepts them as they are
    assert [q["id"] for q in questions] == ["FB-0002", "FB-0003"]
    assert (
        questions[1]["lang"] == "zh" and questions[1]["answerable"] is False and questions[1]["kind"] == "unanswerable"
    )
    buffer = io.StringIO()
    assert store.export_candidates(buffer) == 2
    assert json.loads(buffer.getvalue().splitlines()[0])["notes"].endswith(
        "comment: missing the deadline; review expected_urls and add expected_facts."
    )


def test_cli_feedback_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govqa.app.cli import app

    monkeypatch.setenv("GOVQA_DATA_DIR", str(tmp_path))
    FeedbackStore(feedback_path(tmp_path)).record("down", ANSWER)
    out = tmp_path / "c.jsonl"
    result = CliRunner().invoke(app, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["id"] == "FB-0001"
    result = CliRunner().invoke(app, ["feedback", "export"])
    assert result.exit_code == 0 and json.loads(result.stdout.splitlines()[0])["question"] == ANSWER["question"]


def test_cli_feedback_export_without_feedback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govqa.app.cli import app

    monkeypatch.setenv("GOVQA_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["feedback", "export"])
    assert result.exit_code == 1
    assert "No feedback yet" in result.output
