"""The question set: JSONL files, one question per line (schema in evals/questions/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

QUESTIONS_DIR = Path(__file__).resolve().parent / "questions"
REQUIRED = {
    "id": str,
    "question": str,
    "lang": str,
    "answerable": bool,
    "expected_urls": list,
    "expected_facts": list,
    "kind": str,
}
KINDS = {"single_fact", "table_lookup", "list", "comparison", "multi_hop", "as_of", "cross_language", "unanswerable"}


class QuestionSetError(ValueError):
    """The question file is malformed; the message names the file and line."""


def _check(entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise QuestionSetError(f"{where}: expected a JSON object")
    for key, kind in REQUIRED.items():
        if key not in entry:
            raise QuestionSetError(f"{where}: missing '{key}'")
        if not isinstance(entry[key], kind):
            raise QuestionSetError(f"{where}: '{key}' must be {kind.__name__}")
    if entry["lang"] not in ("en", "zh"):
        raise QuestionSetError(f"{where}: lang must be en or zh")
    if entry["answerable"] and not entry["expected_urls"]:
        raise QuestionSetError(f"{where}: an answerable question needs expected_urls")
    for fact in entry["expected_facts"]:
        if not isinstance(fact, list) or not all(isinstance(a, str) and a for a in fact):
            raise QuestionSetError(f"{where}: each expected fact is a list of alias strings")
    articles = entry.get("expected_articles", [])
    if not isinstance(articles, list) or not all(isinstance(a, str) and a for a in articles):
        raise QuestionSetError(f"{where}: expected_articles is a list of article labels such as 'Article 50(2)'")
    entry["expected_urls"] = [u.split("#")[0] for u in entry["expected_urls"]]
    return entry


def load_questions(path: Path | None = None) -> list[dict[str, Any]]:
    """Questions from one JSONL file or every *.jsonl in a folder (default: the built-in set)."""
    path = path or QUESTIONS_DIR
    if not path.exists():
        raise QuestionSetError(f"No question file or folder at {path}.")
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise QuestionSetError(f"No *.jsonl files in {path}.")
    questions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file.name}:{number}"
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as error:
                raise QuestionSetError(f"{where}: not JSON ({error.msg})") from None
            entry = _check(entry, where)
            if entry["id"] in seen:
                raise QuestionSetError(f"{where}: duplicate id {entry['id']}")
            seen.add(entry["id"])
            questions.append(entry)
    return questions
