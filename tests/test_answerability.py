"""The answerability decision and answer-type-aware composition (pure functions, exact values)."""

from __future__ import annotations

from govqa.app.answerability import Decision, FocusCheck, decide, explain
from govqa.app.extractive import Candidate, RankedCandidate, complete_asks, evidence_states, prefer_answers
from govqa.index.analysis import FocusTerm, SubQuestion
from govqa.index.retriever import ScoredChunk
from govqa.ingest.chunking import Chunk

THRESHOLDS = {"en": 0.37, "zh": 0.40}


def _check(term: str, in_corpus: bool = True, in_evidence: bool = True, kind: str = "place") -> FocusCheck:
    return FocusCheck(term, kind, in_corpus, in_evidence)


def test_a_name_the_corpus_never_mentions_is_not_covered_whatever_the_score() -> None:
    decision = decide(0.95, "en", THRESHOLDS, [_check("Brazil", in_corpus=False, in_evidence=False)], "date")
    assert decision == Decision("not_covered", ["Brazil"], [], "not in the corpus")
    assert decision.abstain
    assert explain(decision, "en").startswith("The corpus has nothing on Brazil.")
    assert explain(decide(0.9, "zh", THRESHOLDS, [_check("巴西", False, False)]), "zh").startswith(
        "语料库中没有关于巴西的内容"
    )


def test_a_year_is_checked_in_the_evidence_not_in_the_corpus() -> None:
    # A year the corpus never writes is not "a subject the corpus has nothing on"; it is
    # still a year the evidence must state.
    checks = [_check("2031", in_corpus=False, in_evidence=False, kind="year")]
    assert decide(0.9, "en", THRESHOLDS, checks) == Decision("not_covered", ["2031"], [], "not in the chosen evidence")
    checks = [_check("Kimi", kind="name"), _check("2031", in_corpus=False, in_evidence=False, kind="year")]
    assert decide(0.9, "en", THRESHOLDS, checks).coverage == "partial"


def test_evidence_about_another_subject_is_not_an_answer() -> None:
    checks = [_check("TC260-004", in_evidence=True, kind="identifier"), _check("2021", in_evidence=False, kind="year")]
    assert decide(0.9, "en", THRESHOLDS, checks, "date") == Decision(
        "partial", ["2021"], ["TC260-004"], "not in the chosen evidence"
    )
    off = decide(0.9, "en", THRESHOLDS, [_check("Hong Kong", in_evidence=False)])
    assert off.coverage == "not_covered" and off.missing == ["Hong Kong"]


def test_a_topic_match_without_the_asked_kind_of_answer_is_partial() -> None:
    decision = decide(0.9, "en", THRESHOLDS, [_check("TC260-004", kind="identifier")], "date", type_found=False)
    assert decision == Decision("partial", ["date"], ["TC260-004"], "the evidence states no date")
    assert explain(decision, "en") == (
        "The corpus describes TC260-004 but gives no date for what was asked. The nearest passages are listed below."
    )
    # Untyped asks (definitions, lists, "other") are never refused for their type.
    assert decide(0.9, "en", THRESHOLDS, [], "definition", type_found=False).coverage == "answered"


def test_the_strength_threshold_applies_last_and_per_language() -> None:
    assert decide(0.38, "en", THRESHOLDS).coverage == "answered"
    assert decide(0.38, "zh", THRESHOLDS).coverage == "not_covered"
    assert decide(0.1, "en", THRESHOLDS).forced_answer().coverage == "answered"


def _unit(text: str, score: float, rank: int = 0, title: str = "Page") -> RankedCandidate:
    chunk = Chunk(
        id=f"d@{rank}",
        doc_id="d",
        text=text,
        start=rank * 100,
        end=rank * 100 + len(text),
        kind="text",
        url="u",
        page_url="u",
        title=title,
        section="S",
        lang="en",
        as_of="",
        edition="",
        jurisdiction="",
        company="",
        source_path="",
        content_hash="",
    )
    return RankedCandidate(Candidate(ScoredChunk(chunk, 1.0), rank, chunk.start, chunk.end, text), score, score, 0.0)


def _term(text: str) -> FocusTerm:
    return FocusTerm(text, "name", frozenset({text}), 0, len(text))


def test_a_unit_stating_the_asked_date_about_the_subject_leads() -> None:
    close_paraphrase = _unit("The Widget Act is a landmark law for widget makers.", 0.60, rank=0)
    answer = _unit("The Widget Act took effect on 1 March 2025.", 0.50, rank=1)
    other_subject = _unit("The Gadget Act took effect on 2 May 2024.", 0.55, rank=2)
    names = lambda item, term: term.text in item.candidate.text  # noqa: E731
    ranked = prefer_answers([close_paraphrase, other_subject, answer], [_term("Widget Act")], names, "date")
    assert [r.candidate.text for r in ranked] == [
        answer.candidate.text,
        close_paraphrase.candidate.text,
        other_subject.candidate.text,
    ]
    assert [round(r.score, 3) for r in ranked] == [0.8, 0.75, 0.7]
    assert evidence_states(answer, "date") and not evidence_states(close_paraphrase, "date")


def test_each_typed_ask_of_a_two_part_question_gets_a_unit() -> None:
    when = _unit("The Act took effect on 1 March 2025.", 0.9, rank=0)
    how_much = _unit("Fines reach EUR 35 000 000.", 0.4, rank=1)
    filler = _unit("The Act is widely discussed.", 0.8, rank=2)
    asks = [SubQuestion("When did it take effect", "date", 0, 23), SubQuestion("how high are fines", "money", 28, 46)]
    completed = complete_asks([when, filler], [when, filler, how_much], asks, "month", lambda d: d)
    assert [u.candidate.text for u in completed] == [
        when.candidate.text,
        filler.candidate.text,
        how_much.candidate.text,
    ]
    assert complete_asks([when], [when, how_much], asks[:1], "month", lambda d: d) == [when]
