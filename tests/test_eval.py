"""evals/: the built-in question set, the runner, the report and the gate."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govqa.cli import app
from govqa.evals import gate, runner
from govqa.evals.questions import KINDS, QuestionSetError, load_questions
from govqa.settings import PROJECT_ROOT

from conftest import FULL_CORPUS, fixture_settings

FIXTURE_QUESTIONS = [
    {
        "id": "F-1",
        "question": "When did the Widget Safety Act enter into force?",
        "lang": "en",
        "answerable": True,
        "expected_urls": ["https://example.org/en/rules/eu/widget-act/", "https://example.org/rules/eu/widget-act/"],
        "expected_facts": [["1 March 2025", "2025年3月1日"]],
        "kind": "single_fact",
    },
    {
        "id": "F-2",
        "question": "小部件安全法的罚款最高是多少？",
        "lang": "zh",
        "answerable": True,
        "expected_urls": ["https://example.org/zh/rules/eu/widget-act/"],
        "expected_facts": [["3%"]],
        "kind": "single_fact",
    },
    {
        "id": "F-3",
        "question": "What is the boiling point of mercury?",
        "lang": "en",
        "answerable": False,
        "expected_urls": [],
        "expected_facts": [],
        "kind": "unanswerable",
    },
]


def test_builtin_question_set_meets_its_brief() -> None:
    questions = load_questions()
    assert len(questions) >= 150
    langs = Counter(q["lang"] for q in questions)
    assert langs["zh"] / len(questions) >= 0.30
    assert sum(not q["answerable"] for q in questions) / len(questions) >= 0.15
    assert {q["kind"] for q in questions} == KINDS
    for q in questions:
        assert q["answerable"] == (q["kind"] != "unanswerable"), q["id"]


@pytest.mark.skipif(not FULL_CORPUS.is_dir(), reason="the full corpus is not beside the project")
def test_every_expected_fact_is_quotable_from_an_expected_page() -> None:
    """Aliases must be verbatim in the cleaned text of at least one expected page, or the
    extractive answer could never score them."""
    from govqa.app.pipeline import load_corpus
    from govqa.settings import Settings

    texts = {d.url: d.text.lower() for d in load_corpus(Settings()).documents}
    problems = []
    for q in load_questions():
        for url in q["expected_urls"]:
            if url not in texts:
                problems.append(f"{q['id']}: unknown page {url}")
        for fact in q["expected_facts"]:
            if not any(alias.lower() in texts.get(url, "") for alias in fact for url in q["expected_urls"]):
                problems.append(f"{q['id']}: no alias of {fact} in the cleaned text of its pages")
    # A few aliases keep Markdown-only characters that cleaning removes; none may be unknown pages.
    assert not [p for p in problems if "unknown page" in p]
    assert len(problems) <= 12, problems


def test_question_file_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(QuestionSetError, match=r"q\.jsonl:1: missing 'question'"):
        load_questions(bad)
    bad.write_text("not json\n")
    with pytest.raises(QuestionSetError, match=r"q\.jsonl:1: not JSON"):
        load_questions(bad)


def _write_questions(path: Path) -> Path:
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in FIXTURE_QUESTIONS) + "\n", encoding="utf-8")
    return path


def test_runner_writes_results_metrics_and_report(tmp_path: Path) -> None:
    settings = fixture_settings(tmp_path / "data")
    out = tmp_path / "eval"
    summaries = runner.run_eval(
        settings, ["bm25", "default"], load_questions(_write_questions(tmp_path / "q.jsonl")), out, progress=False
    )
    overall = summaries["default"]["overall"]
    assert overall["questions"] == 3
    assert overall["hit@1"] == 1.0 and overall["fact_recall"] == 1.0
    assert overall["refusal_recall"] == 1.0 and overall["false_refusal"] == 0.0
    assert overall["citation_validity"] == 1.0
    assert set(summaries["default"]["by_lang"]) == {"en", "zh"}
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {r["config"] for r in rows} == {"bm25", "default"}
    assert {"id", "result", "metrics"} <= rows[0].keys()
    report = (out / "report.md").read_text()
    assert "| default |" in report and "| bm25 |" in report and "Worst 10 questions" in report
    assert (out / "default-latency.png").stat().st_size > 1000
    assert "<pre>" in (out / "report.html").read_text()
    assert json.loads((out / "metrics.json").read_text())["bm25"]["overall"]["questions"] == 3


def _summary(heldout: dict[str, float], whole: dict[str, float] | None = None, errors: int = 0) -> dict:
    whole = whole or heldout
    return {
        "overall": {**whole, "errors": errors},
        "by_lang": {"en": whole},
        "by_split": {"heldout": {"overall": {**heldout, "errors": errors}, "by_lang": {"en": heldout}}},
        "errors": [{"id": f"Q-{i}", "error": "RuntimeError: boom"} for i in range(errors)],
    }


def test_split_is_stable_balanced_and_by_id_only() -> None:
    from govqa.evals.split import HELDOUT, TUNING, select, split_of

    ids = [f"X-{i:03d}" for i in range(400)]
    halves = Counter(split_of(i) for i in ids)
    assert set(halves) == {TUNING, HELDOUT} and 160 <= halves[TUNING] <= 240
    assert split_of("CN-001") == split_of("CN-001")
    questions = [{"id": i} for i in ids]
    assert len(select(questions, TUNING)) + len(select(questions, HELDOUT)) == 400
    assert select(questions, "all") == questions
    with pytest.raises(ValueError, match="Unknown split 'half'"):
        select(questions, "half")


def test_gate_bounds_are_per_scope_and_never_on_time() -> None:
    bounds = {"heldout": {"hit@5": 0.8, "false_refusal": 0.1}, "heldout.en": {"fact_recall": 0.9}}
    default = _summary({"hit@5": 0.7, "false_refusal": 0.2, "fact_recall": 0.5, "latency_p95_ms": 9999.0})
    baseline = _summary({"hit@5": 0.6, "fact_recall": 0.4})
    assert gate.check_gate({"default": default, "bm25": baseline}, bounds) == [
        "heldout: hit@5 = 0.700 is below the floor 0.8",
        "heldout: false_refusal = 0.200 is above the ceiling 0.1",
        "heldout.en: fact_recall = 0.500 is below the floor 0.9",
    ]
    good = _summary({"hit@5": 0.9, "false_refusal": 0.0, "fact_recall": 0.95})
    assert gate.check_gate({"default": good, "bm25": baseline}, bounds) == []


def test_gate_fails_on_errors_and_when_bm25_alone_is_as_good() -> None:
    default = _summary({"hit@5": 0.9, "fact_recall": 0.6}, errors=1)
    tie = _summary({"hit@5": 0.9, "fact_recall": 0.5})
    failures = gate.check_gate({"default": default, "bm25": tie}, {})
    assert failures == [
        "default: question Q-0 raised RuntimeError: boom",
        "heldout: default hit@5 = 0.900 does not beat bm25 alone (0.900)",
        "all: default hit@5 = 0.900 does not beat bm25 alone (0.900)",
    ]
    assert gate.check_gate({"default": default}, {})[-1].startswith("the gate needs the bm25 configuration")


def test_committed_thresholds_bound_the_heldout_half_per_language() -> None:
    thresholds = gate.load_thresholds()
    assert set(thresholds) == {"heldout", "heldout.en", "heldout.zh"}
    for scope in thresholds.values():
        assert {"hit@1", "hit@5", "ndcg@10", "recall@10", "fact_recall", "citation_support"} <= set(scope)
        assert not any(key.startswith("latency") for key in scope)


def test_runner_counts_errors_instead_of_scoring_misses(tmp_path: Path) -> None:
    class Broken:
        def ask(self, question: str) -> object:
            raise RuntimeError("index vanished")

    rows = runner.run_config(Broken(), FIXTURE_QUESTIONS, {}, "default", progress=False)
    assert [r["error"] for r in rows] == ["RuntimeError: index vanished"] * 3
    summary = runner.summarize(rows, 1.0, 0.0)
    assert summary["overall"]["errors"] == 3 and summary["overall"]["questions"] == 0
    assert summary["overall"]["hit@1"] is None  # not scored as a miss


def test_cli_eval_with_own_questions_and_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "GOVQA_DATA_DIR": str(tmp_path / "data"),
        "GOVQA_SOURCES_FILE": str(PROJECT_ROOT / "tests/fixtures/sources.toml"),
        "GOVQA_EMBEDDER": "fake",
    }
    questions = _write_questions(tmp_path / "q.jsonl")
    result = CliRunner().invoke(app, ["eval", "--questions", str(questions), "--out", str(tmp_path / "o")], env=env)
    assert result.exit_code == 0, result.output
    assert "default [all]: hit@1=1.000" in result.output
    strict = tmp_path / "thresholds.toml"
    strict.write_text("[heldout]\nrefusal_recall = 1.01 # impossible on purpose\n")
    monkeypatch.setattr(gate.load_thresholds, "__defaults__", (strict,))
    gated = CliRunner().invoke(
        app, ["eval", "--gate", "--questions", str(questions), "--out", str(tmp_path / "o2")], env=env
    )
    assert gated.exit_code == 1 and "heldout: refusal_recall = 1.000 is below the floor 1.01" in gated.output
    unknown = CliRunner().invoke(app, ["eval", "--config", "nope"], env=env)
    assert unknown.exit_code == 1
    assert unknown.output.strip().splitlines()[0].startswith("Error: unknown config 'nope' in --config")
