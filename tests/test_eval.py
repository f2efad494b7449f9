"""evals/: the built-in question set, the runner, the report and the gate."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govqa.app.cli import app
from govqa.evals import runner
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


def test_gate_fails_below_threshold() -> None:
    assert runner.check_thresholds({"hit@5": 0.5, "latency_p95_ms": 300.0}, {"hit@5": 0.8, "latency_p95_ms": 250}) == [
        "hit@5 = 0.500 is below the floor 0.8",
        "latency_p95_ms = 300.000 is above the ceiling 250",
    ]
    assert runner.check_thresholds({"hit@5": 0.9}, {"hit@5": 0.8}) == []
    assert runner.load_thresholds()  # the committed file parses and is not empty


def test_cli_eval_with_own_questions_and_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "GOVQA_DATA_DIR": str(tmp_path / "data"),
        "GOVQA_SOURCES_FILE": str(PROJECT_ROOT / "tests/fixtures/sources.toml"),
        "GOVQA_EMBEDDER": "fake",
    }
    questions = _write_questions(tmp_path / "q.jsonl")
    result = CliRunner().invoke(app, ["eval", "--questions", str(questions), "--out", str(tmp_path / "o")], env=env)
    assert result.exit_code == 0, result.output
    assert "default: hit@1=1.000" in result.output
    strict = tmp_path / "thresholds.toml"
    strict.write_text('[default]\n"hit@1" = 1.01 # impossible on purpose\n')
    monkeypatch.setattr(runner, "THRESHOLDS_FILE", strict)
    monkeypatch.setattr(runner.load_thresholds, "__defaults__", (strict,))
    gated = CliRunner().invoke(
        app, ["eval", "--gate", "--questions", str(questions), "--out", str(tmp_path / "o2")], env=env
    )
    assert gated.exit_code == 1 and "hit@1 = 1.000 is below the floor 1.01" in gated.output
    unknown = CliRunner().invoke(app, ["eval", "--config", "nope"], env=env)
    assert unknown.exit_code == 2 and "unknown config 'nope'" in unknown.output
