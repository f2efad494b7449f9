"""`govqa diff PAGE` through the CLI runner, on the fixture corpus with the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govqa.app.cli import app

from conftest import FIXTURE_SOURCES, fixture_settings


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from govqa.app.pipeline import run_ingest

    data_dir = tmp_path_factory.mktemp("diff-index")
    run_ingest(fixture_settings(data_dir))
    return {"GOVQA_DATA_DIR": str(data_dir), "GOVQA_SOURCES_FILE": str(FIXTURE_SOURCES), "GOVQA_EMBEDDER": "fake"}


def test_diff_editions_quotes_each_change_with_its_edition(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["diff", "rules/eu/widget-act"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [
        "Widget Safety Act: what changed from the April 2026 English edition, as of 2026-04-21 to the June 2026 "
        "English edition, as of 2026-06-28",
        "  https://example.org/en/rules/eu/widget-act/",
        "  https://example.org/rules/eu/widget-act/",
    ]
    added = lines.index("Added in § Scope & Application (Art. 2):")
    assert lines[added + 1] == (
        "  + June 2026 English edition, as of 2026-06-28: "
        "“In May 2026 the Widget Office extended the registration deadline to 30 September 2026.”"
    )
    changed = lines.index("Changed in § Signatories:")
    assert lines[changed + 1 : changed + 3] == [
        "  - April 2026 English edition, as of 2026-04-21: “Company: Globex; Signed: Not signed; Date: —”",
        "  + June 2026 English edition, as of 2026-06-28: “Company: Globex; Signed: Signed; Date: 2026-05-20”",
    ]
    removed = lines.index("Removed from § Obligations: who must do what?:")
    assert (
        "  - April 2026 English edition, as of 2026-04-21: “Importers must keep the summary for ten years.”"
        in (lines[removed + 1 : removed + 6])
    )
    # Sentences both editions share are not listed.
    assert "It entered into force on 1 March 2025." not in result.output
    assert lines[-1].startswith("1 added, ") and lines[-1].endswith(" 1 changed, 5 unchanged.")


def test_diff_by_url_of_the_newer_edition_gives_the_same_pair(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["diff", "--json", "https://example.org/rules/eu/widget-act/"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["mode"] == "editions"
    assert (data["a"]["edition"], data["b"]["edition"]) == ("April 2026 English edition", "June 2026 English edition")
    added = [c["after"]["text"] for c in data["changes"] if c["kind"] == "added"]
    assert added == ["In May 2026 the Widget Office extended the registration deadline to 30 September 2026."]
    changed = [c for c in data["changes"] if c["kind"] == "changed"]
    assert [(c["before"]["section"], c["after"]["text"]) for c in changed] == [
        ("Signatories", "Company: Globex; Signed: Signed; Date: 2026-05-20")
    ]
    assert 0.5 <= changed[0]["similarity"] < 1.0


def test_diff_twin_lists_what_each_language_says_alone(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["diff", "--twin", "--json", "https://example.org/zh/rules/eu/widget-act/"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["mode"], data["a"]["lang"], data["b"]["lang"]) == ("twin", "zh", "en")
    only_zh = [c["before"]["text"] for c in data["changes"] if c["kind"] == "only_in_a"]
    only_en = [c["after"]["text"] for c in data["changes"] if c["kind"] == "only_in_b"]
    # The fake embedder shares no words across languages, so only rows naming Acme or Globex align.
    assert "该法自2025年3月1日起施行。" in only_zh
    assert "In May 2026 the Widget Office extended the registration deadline to 30 September 2026." in only_en
    text = CliRunner().invoke(app, ["diff", "--twin", "rules/eu/widget-act"], env=env).output
    assert (
        text.splitlines()[0]
        == "Widget Safety Act / 小部件安全法: what one language's page says that the other's does not"
    )
    assert "Only in the June 2026 Chinese edition, as of 2026-06-28, § 适用范围（第二条）:" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "rules"], "Error: 'rules' matches 2 pages (rules/china/labeling-rules, rules/eu/widget-act); "),
        (["diff", "no-such-page"], "Error: no page in the index matches 'no-such-page'; "),
        (["diff", "companies/acme"], "Error: https://example.org/en/companies/acme/ has one edition only in the index"),
        (["diff", "--twin", "companies/acme"], "Error: https://example.org/en/companies/acme/ has no twin"),
    ],
)
def test_diff_mistakes_are_one_line(env: dict[str, str], args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_diff_without_an_index_says_to_ingest(tmp_path: Path) -> None:
    env = {
        "GOVQA_DATA_DIR": str(tmp_path / "empty"),
        "GOVQA_SOURCES_FILE": str(FIXTURE_SOURCES),
        "GOVQA_EMBEDDER": "fake",
    }
    result = CliRunner().invoke(app, ["diff", "rules/eu/widget-act"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("Error: no index in ")
    assert result.output.strip().endswith("run `govqa ingest` first")
