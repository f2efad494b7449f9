"""Shared fixtures: a fresh data folder and environment per test, and a fixture-corpus pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govqa.settings import PROJECT_ROOT, Settings

FIXTURE_SOURCES = PROJECT_ROOT / "tests" / "fixtures" / "sources.toml"
FULL_CORPUS = (PROJECT_ROOT / ".." / "shared" / "corpus" / "comparativeai").resolve()


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GOVQA_* variable or config file from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("GOVQA_"):
            monkeypatch.delenv(name)
    empty_config = tmp_path / "empty-govqa.toml"
    empty_config.write_text("")
    monkeypatch.setenv("GOVQA_CONFIG", str(empty_config))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def fixture_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for the fixture corpus with the deterministic fake embedder."""
    values: dict[str, object] = {"data_dir": data_dir, "sources_file": FIXTURE_SOURCES, "embedder": "fake"}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fixture_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def fixture_pipeline(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A pipeline over the fixture corpus, built once (fake embedder, embedded Chroma)."""
    from govqa.app.pipeline import build_pipeline, run_ingest

    settings = fixture_settings(tmp_path_factory.mktemp("fixture-index"))
    run_ingest(settings)
    return build_pipeline(settings)
