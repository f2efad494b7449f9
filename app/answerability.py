"""Whether the retrieved evidence answers the question: answered, partly covered, or not covered.

A topic match is not an answer. The decision asks what a reader would: is every name the
question is about in the corpus at all (no: *not covered*, naming it); is it in the passages
chosen to answer, read with their page title and section (no: the evidence is about
something else); do those passages state the kind of answer asked for, a date for "when",
a figure for "how many" (no: *partly covered*, naming what is missing). Only then does the
old evidence-strength threshold apply. Pure, so it can be tested with exact values and
overruled in the gate's mutation check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Coverage = Literal["answered", "partial", "not_covered"]
# Answer types that a passage visibly states or not; "other", "definition" and "list" answers
# cannot be recognised reliably enough to refuse on.
CHECKED_TYPES = frozenset({"date", "number", "percentage", "money", "yes_no"})


@dataclass(frozen=True)
class FocusCheck:
    """Where a focus term of the question was found."""

    term: str
    kind: str  # place | organisation | law | name | identifier | article | year
    in_corpus: bool
    in_evidence: bool


@dataclass(frozen=True)
class Decision:
    coverage: Coverage
    missing: list[str] = field(default_factory=list)  # focus terms, or the answer type, that were not found
    found: list[str] = field(default_factory=list)  # focus terms the evidence does name
    reason: str = ""

    @property
    def abstain(self) -> bool:
        return self.coverage != "answered"

    def forced_answer(self) -> Decision:
        """The same decision, overruled to answer (used to test that abstention is load-bearing)."""
        return dataclasses.replace(self, coverage="answered", missing=[], reason="forced")


def decide(
    support: float,
    lang: str,
    min_support: Mapping[str, float],
    focus: Sequence[FocusCheck] = (),
    answer_type: str = "other",
    type_found: bool = True,
    answered_asks: int = 0,
    open_types: Sequence[str] = (),
) -> Decision:
    """Answered, partial or not covered, with what is missing. ``answered_asks``: of a question
    with several asks, how many have every focus term they name in the evidence; ``open_types``:
    the kinds of answer its other asks want that the evidence does not state (named, not refused)."""
    found = [f.term for f in focus if f.in_evidence]
    absent = [f.term for f in focus if not f.in_corpus and f.kind != "year"]
    if absent:
        return Decision("not_covered", absent, found, "not in the corpus")
    off_topic = [f.term for f in focus if not f.in_evidence]
    # A place is often the setting, not the subject ("the EU's Product Liability Directive"):
    # its absence counts only when nothing else the question names was found either.
    if any(f.in_evidence and f.kind != "place" for f in focus):
        off_topic = [f.term for f in focus if not f.in_evidence and f.kind != "place"]
    if off_topic and answered_asks:
        # Several asks, one fully found: answer it and say which names the evidence leaves out.
        return Decision("answered", off_topic, found, "one ask is not answered")
    if off_topic:
        return Decision("partial" if found else "not_covered", off_topic, found, "not in the chosen evidence")
    if answer_type in CHECKED_TYPES and not type_found:
        return Decision("partial", [answer_type], found, f"the evidence states no {answer_type}")
    threshold = min_support.get(lang, min(min_support.values(), default=0.0))
    if support < threshold:
        return Decision("not_covered", [], found, f"best evidence {support:.3f} < {threshold:.3f}")
    return Decision("answered", list(open_types), found, "one ask is not answered" if open_types else "")


_TYPE_WORDS = {
    "en": {
        "date": "date",
        "number": "figure",
        "percentage": "percentage",
        "money": "amount",
        "yes_no": "yes-or-no answer",
    },
    "zh": {"date": "日期", "number": "数字", "percentage": "比例", "money": "金额", "yes_no": "明确的是否答复"},
}


def explain(decision: Decision, lang: str) -> str:
    """One sentence for the user, naming what is missing."""
    zh = lang == "zh"
    names = [m for m in decision.missing if m not in _TYPE_WORDS["en"]]
    kinds = [_TYPE_WORDS["zh" if zh else "en"][m] for m in decision.missing if m in _TYPE_WORDS["en"]]
    if decision.coverage == "not_covered" and names:
        listed = "、".join(names) if zh else " / ".join(names)
        return (
            f"语料库中没有关于{listed}的内容。以下是最接近的段落。"
            if zh
            else (f"The corpus has nothing on {listed}. The nearest passages are listed below.")
        )
    if decision.coverage == "partial":
        about = ("、".join(decision.found) if zh else " / ".join(decision.found)) or ("该问题" if zh else "this topic")
        if kinds:
            return (
                f"语料库提到了{about}，但没有给出所问的{kinds[0]}。以下是最接近的段落。"
                if zh
                else f"The corpus describes {about} but gives no {kinds[0]} for what was asked. "
                "The nearest passages are listed below."
            )
        listed = "、".join(names) if zh else " / ".join(names)
        return (
            f"语料库提到了{about}，但没有把它与{listed}联系起来。以下是最接近的段落。"
            if zh
            else f"The corpus describes {about} but says nothing about it for {listed}. "
            "The nearest passages are listed below."
        )
    return (
        "语料库中没有足够的内容回答这个问题。以下是最接近的段落。"
        if zh
        else "The corpus does not cover this question well enough to answer it. The nearest passages are listed below."
    )


def unanswered_part(decision: Decision, lang: str) -> str:
    """For an answer that leaves one ask open: which names the evidence does not cover ("" if none)."""
    if decision.abstain or not decision.missing:
        return ""
    words = _TYPE_WORDS["zh" if lang == "zh" else "en"]
    missing = [words.get(m, m) for m in decision.missing]
    if lang == "zh":
        return f"语料库没有回答问题中关于{'、'.join(missing)}的部分。"
    return f"The corpus does not answer the part of the question about {' / '.join(missing)}."
