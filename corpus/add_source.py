"""Adding a folder of your own documents to the source manifest (``govqa sources add``).

The new ``[[source]]`` is appended to the manifest's text, so its comments, layout and
other entries stay as they were; tomlkit writes the values (quoting and escaping), and the
result is read back before the file is replaced.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import tomlkit

from govqa.corpus.sources import SourceError, read_sources

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


def folder_entry(
    path: Path,
    source_id: str,
    title: str,
    licence: str,
    project_root: Path,
    attribution: str = "",
    base_url: str = "",
    existing_ids: tuple[str, ...] = (),
) -> dict[str, str]:
    """The manifest entry of a folder source, after checking every value; SourceError names the first mistake."""
    if not SLUG.fullmatch(source_id):
        raise SourceError(
            f"source id {source_id!r} in --id is not a slug; use lowercase letters, digits and inner hyphens, e.g. my-reports"
        )
    if source_id in existing_ids:
        raise SourceError(f"source id {source_id!r} in --id is taken in the source manifest; choose another id")
    for option, value in (("--title", title), ("--licence", licence)):
        if not value.strip():
            raise SourceError(f"empty {option}; say what the documents are called and under which licence they are")
    folder = path.expanduser().resolve()
    if not folder.exists():
        raise SourceError(f"no such folder {path} in PATH; give the folder holding your PDF, HTML and Markdown files")
    if not folder.is_dir():
        raise SourceError(f"{path} in PATH is a file, not a folder; give the folder that holds it")
    if base_url:
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
            raise SourceError(
                f"{base_url!r} in --base-url is not an http(s) URL; give where the files are published, e.g. https://example.org/docs/"
            )
        base_url = base_url.rstrip("/") + "/"
    else:
        # Unpublished files: citations link to the local file (file:///…/report.pdf#page=12).
        base_url = folder.as_uri() + "/"
    root = project_root.resolve()
    # Inside the project the path stays relative, as the manifest's other paths are.
    stored = os.path.relpath(folder, root) if folder.is_relative_to(root) else str(folder)
    entry = {"id": source_id, "kind": "folder", "title": title.strip(), "licence": licence.strip()}
    if attribution.strip():
        entry["attribution"] = attribution.strip()
    entry |= {"base_url": base_url, "path": stored}
    return entry


def add_folder_source(sources_file: Path, entry: dict[str, str]) -> None:
    """Append the entry to the manifest (created when absent), keeping what the file already says."""
    old = sources_file.read_text(encoding="utf-8") if sources_file.is_file() else ""
    block = tomlkit.dumps({"source": [entry]})
    new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + block
    try:
        tomllib.loads(new)
    except tomllib.TOMLDecodeError as error:
        raise SourceError(f"{sources_file} is not valid TOML ({error}); fix it before adding a source") from None
    tmp = sources_file.with_suffix(sources_file.suffix + ".tmp")
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(new, encoding="utf-8")
    try:
        read_sources(tmp)
    except SourceError:
        tmp.unlink()
        raise
    os.replace(tmp, sources_file)


def existing_source_ids(sources_file: Path) -> tuple[str, ...]:
    """Ids the manifest already has; none when there is no manifest yet."""
    if not sources_file.is_file():
        return ()
    return tuple(spec.id for spec in read_sources(sources_file))
