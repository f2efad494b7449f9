"""The ask contract: what every answer backend returns, and the checks every question passes first.

Kept apart from the engines so the CLI, the web chat, the LLM backend and the eval
baselines can share it without importing the extractive engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from govqa.app.citations import Citation

MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """The question cannot be asked as given; the message says why."""


@dataclass
class AskResult:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    retrieved: list[dict[str, Any]]
    timings_ms: dict[str, float]
    nearest: list[Citation] = field(default_factory=list)
    support: float = 0.0  # strength of the best evidence, compared with the abstention threshold
    backend: str = "extractive"
    notice: str = ""  # e.g. why an LLM answer fell back to the extractive one
    sentences: list[dict[str, Any]] = field(default_factory=list)  # per answer sentence: text, citations, supported
    # answered | partial (the corpus names the subject but not what was asked) | not_covered
    coverage: str = "answered"
    missing: list[str] = field(default_factory=list)  # focus terms or the answer type that were not found

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "retrieved": self.retrieved,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "nearest": [c.to_json() for c in self.nearest],
            "support": round(self.support, 4),
            "backend": self.backend,
            "notice": self.notice,
            "sentences": self.sentences,
            "coverage": self.coverage if not self.abstained or self.coverage != "answered" else "not_covered",
            "missing": self.missing,
        }


def check_question(question: str) -> str:
    """The question stripped; QuestionError when it is empty or too long."""
    question = question.strip()
    if not question:
        raise QuestionError("The question is empty.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
    return question
