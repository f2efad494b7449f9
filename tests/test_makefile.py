"""The Makefile's torch step: TORCH_INDEX_URL reaches pip as --index-url, and the default stays unchanged."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from govqa.settings import PROJECT_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _planned_commands(venv: Path, **env: str) -> list[str]:
    """What `make` would run to install into a fresh venv (dry run: nothing is installed)."""
    environment = {k: v for k, v in os.environ.items() if k != "TORCH_INDEX_URL"} | env
    out = subprocess.run(
        ["make", "-n", "-C", str(PROJECT_ROOT), f"VENV={venv}", f"{venv}/.installed"],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return out.stdout.splitlines()


def test_torch_index_url_reaches_pip(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    commands = _planned_commands(venv, TORCH_INDEX_URL="https://download.pytorch.org/whl/cpu")
    assert f"{venv}/bin/python -m pip install -q --index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in (
        commands
    )
    # Only torch comes from that index; the project itself installs from the default one.
    assert f"{venv}/bin/python -m pip install -q -e ." in commands


def test_default_torch_install_is_unchanged(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    commands = _planned_commands(venv)
    assert f"{venv}/bin/python -m pip install -q torch==2.13.0" in [" ".join(c.split()) for c in commands]
    assert not any("--index-url" in c for c in commands)
