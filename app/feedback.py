"""Thumbs up/down on answers, kept in a SQLite file in the data folder.

Each row keeps what is needed to replay and judge the answer later: the question as asked and
as resolved, the whole ``ask --json`` object, its citations and the pipeline configuration.
Thumbs-down rows become candidate eval questions (``govqa feedback export``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from govqa.corpus.documents import guess_language

FEEDBACK_FILE = "feedback.sqlite3"
RATINGS = ("up", "down")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    resolved_question TEXT NOT NULL DEFAULT '',
    answer_json TEXT NOT NULL,
    citations_json TEXT NOT NULL,
    config_json TEXT NOT NULL
)
"""


def feedback_path(data_dir: Path) -> Path:
    return Path(data_dir) / FEEDBACK_FILE


class FeedbackStore:
    """Feedback rows in one SQLite file; a connection per call, so any thread may use it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def record(
        self,
        rating: str,
        answer: dict[str, Any],
        *,
        question: str = "",
        resolved_question: str = "",
        comment: str = "",
        config: dict[str, Any] | None = None,
    ) -> int:
        """Store one rating of an answer (the ``AskResult.to_json()`` object); returns the row id."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
        question = question or str(answer.get("question", ""))
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created, rating, comment, question, resolved_question, answer_json, citations_json, config_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    rating,
                    comment.strip(),
                    question,
                    resolved_question or str(answer.get("question", "")),
                    json.dumps(answer, ensure_ascii=False),
                    json.dumps(answer.get("citations", []), ensure_ascii=False),
                    json.dumps(config or {}, ensure_ascii=False, default=str),
                ),
            )
            return int(cursor.lastrowid or 0)

    def set_comment(self, row_id: int, comment: str) -> bool:
        """Attach or replace the comment of a row; False when there is no such row."""
        with self._connect() as db:
            cursor = db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip(), row_id))
            return cursor.rowcount == 1

    def rows(self, rating: str | None = None) -> list[dict[str, Any]]:
        """All rows (oldest first), JSON columns decoded."""
        query = "SELECT * FROM feedback" + (" WHERE rating = ?" if rating else "") + " ORDER BY id"
        with self._connect() as db:
            found = db.execute(query, (rating,) if rating else ()).fetchall()
        result = []
        for row in found:
            item = dict(row)
            for column in ("answer_json", "citations_json", "config_json"):
                item[column.removesuffix("_json")] = json.loads(item.pop(column))
            result.append(item)
        return result

    def export_candidates(self, out: Path | TextIO) -> int:
        """Write every thumbs-down row as an eval question (JSONL); returns how many."""
        lines = [json.dumps(candidate_from(row), ensure_ascii=False) for row in self.rows("down")]
        text = "".join(line + "\n" for line in lines)
        if isinstance(out, Path):
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        else:
            out.write(text)
        return len(lines)


def _page_urls(citations: list[dict[str, Any]]) -> list[str]:
    urls: list[str] = []
    for citation in citations:
        url = str(citation.get("page_url") or str(citation.get("url", "")).split("#")[0])
        if url and url not in urls:
            urls.append(url)
    return urls


def candidate_from(row: dict[str, Any]) -> dict[str, Any]:
    """A thumbs-down row as a question in the eval schema (evals/questions), to be reviewed.

    The pages the answer cited (or, for an abstention, the nearest pages) are the starting
    guess for expected_urls; expected_facts stay empty until a person fills them in.
    """
    answer = row.get("answer", {})
    question = row.get("resolved_question") or row["question"]
    urls = _page_urls(answer.get("citations", []) or answer.get("nearest", []))
    note = (
        f"From web feedback #{row['id']} ({row['created']}), {'abstained' if answer.get('abstained') else 'answered'}"
    )
    if row.get("comment"):
        note += f"; comment: {row['comment']}"
    if row.get("question") and row["question"] != question:
        note += f"; asked as: {row['question']}"
    note += "; review expected_urls and add expected_facts."
    return {
        "id": f"FB-{int(row['id']):04d}",
        "question": question,
        "lang": guess_language(question),
        "answerable": bool(urls),
        "expected_urls": urls,
        "expected_facts": [],
        "kind": "single_fact" if urls else "unanswerable",
        "notes": note,
    }
