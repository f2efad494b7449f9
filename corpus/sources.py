"""The source manifest (corpus/sources.toml): what to index and where it lives."""

from __future__ import annotations

import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOURCE_KINDS = ("site", "official", "folder")


class SourceError(RuntimeError):
    """A source cannot be found or read; the message says what to do."""


@dataclass(frozen=True)
class SourceSpec:
    id: str
    title: str
    licence: str
    attribution: str
    base_url: str
    path: str
    git_url: str = ""
    content_dirs: tuple[str, ...] = ("src/content/docs", "public/archives")
    # Which dated edition each locale folder holds, for citations ("" is the site root).
    editions: dict[str, str] = field(default_factory=dict)
    # "site" (pages of a website), "official" (official texts with frontmatter, see corpus/primary.py)
    # or "folder" (your own PDF, HTML and Markdown files, see corpus/folder.py).
    kind: str = "site"
    # Per-file settings of an official source, keyed by path: short_title, aliases (names a question may use).
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_sources(sources_file: Path) -> list[SourceSpec]:
    if not sources_file.is_file():
        raise SourceError(f"No source manifest at {sources_file}; set GOVQA_SOURCES_FILE to one.")
    try:
        data = tomllib.loads(sources_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise SourceError(f"{sources_file} is not valid TOML: {error}") from error
    specs = []
    for entry in data.get("source", []):
        try:
            specs.append(
                SourceSpec(
                    id=entry["id"],
                    title=entry["title"],
                    licence=entry.get("licence", ""),
                    attribution=entry.get("attribution", ""),
                    base_url=entry["base_url"].rstrip("/") + "/",
                    path=entry["path"],
                    git_url=entry.get("git_url", ""),
                    content_dirs=tuple(entry.get("content_dirs", SourceSpec.content_dirs)),
                    editions=dict(entry.get("editions", {})),
                    kind=entry.get("kind", "site"),
                    documents=dict(entry.get("documents", {})),
                )
            )
        except KeyError as missing:
            raise SourceError(f"{sources_file}: a [[source]] lacks the key {missing}.") from None
    for spec in specs:
        if spec.kind not in SOURCE_KINDS:
            raise SourceError(f"{sources_file}: source '{spec.id}' has kind {spec.kind!r}; use one of {SOURCE_KINDS}.")
    if not specs:
        raise SourceError(f"{sources_file} names no [[source]].")
    return specs


def locate_source(spec: SourceSpec, project_root: Path, data_dir: Path, clone: bool = True) -> Path:
    """The folder holding the source: its local path, else a clone in the data folder."""
    local = (project_root / spec.path).resolve()
    if local.is_dir():
        return local
    cloned = data_dir / "sources" / spec.id
    if cloned.is_dir():
        return cloned
    if clone and spec.git_url:
        cloned.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["git", "clone", "--depth", "1", spec.git_url, str(cloned)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode == 0:
            return cloned
        raise SourceError(
            f"Source '{spec.id}' is not at {local}, and cloning {spec.git_url} failed: "
            f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'no output'}. "
            f"Put a copy at {local} or set the path in the source manifest."
        )
    raise SourceError(f"Source '{spec.id}' not found: looked in {local} and {cloned}.")
