"""Files → documents: Markdown/MDX pages and HTML archives, with provenance."""

from __future__ import annotations

import csv
import errno
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from govqa.corpus.documents import Document, assemble, classify, guess_language
from govqa.corpus.html import html_blocks
from govqa.corpus.markdown import FrontmatterError, markdown_blocks, split_frontmatter
from govqa.corpus.sources import SourceSpec

logger = logging.getLogger(__name__)

PAGE_SUFFIXES = (".mdx", ".md")  # .mdx first: where a page has both, the .mdx is the newer source
ARCHIVE_SUFFIXES = (".html", ".htm")
LOCALES = ("en", "zh")


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source path, reason)


def page_route(relative: PurePosixPath) -> str:
    """Route of a content file, e.g. en/rules/eu/index.md → en/rules/eu (the URL path)."""
    route = str(relative.with_suffix(""))
    if route == "index":
        return ""
    return route[: -len("/index")] if route.endswith("/index") else route


def split_locale(route: str) -> tuple[str, str]:
    """(locale folder, route without it): en/rules/eu → ("en", "rules/eu"); rules/eu → ("", "rules/eu")."""
    head, _, rest = route.partition("/")
    if head in LOCALES:
        return head, rest
    return "", route


def read_manifest(root: Path) -> dict[str, dict[str, str]]:
    """Rows of the source's MANIFEST*.tsv files keyed by path, where the source ships them."""
    rows: dict[str, dict[str, str]] = {}
    for manifest in sorted(root.glob("MANIFEST*.tsv")):
        with manifest.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row.get("path"):
                    rows[row["path"]] = row
    return rows


DEFAULT_MAX_BYTES = 2_000_000


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _iter_files(root: Path, spec: SourceSpec, skipped: list[tuple[str, str]]) -> Iterator[tuple[Path, Path]]:
    """(path in the source, file to read) for every file under the content folders: the corpus jail.

    A source may be a clone of someone else's repository, so nothing is read from outside
    its root: a symlink whose target leaves the root is skipped, as are symlink loops,
    symlinked folders (never descended, so no walk can cycle) and anything that is not a
    regular file (a FIFO would block the ingest). Each skip is reported with its reason.
    """
    real_root = root.resolve()
    for content_dir in spec.content_dirs:
        base = root / content_dir
        if not base.is_dir():
            continue
        if not _inside(base.resolve(), real_root):
            skipped.append((content_dir, "content folder is a symlink leaving the source root (not followed)"))
            continue
        for folder, dirs, files in os.walk(base, followlinks=False):
            here = Path(folder)
            for name in sorted(dirs):
                if (here / name).is_symlink():
                    files.append(name)  # reported below with the files: symlinked folders are not walked
            dirs.sort()
            for name in sorted(files):
                path = here / name
                rel = path.relative_to(root).as_posix()
                if path.is_symlink():
                    try:
                        target = path.resolve(strict=True)
                    except (RuntimeError, OSError) as error:  # RuntimeError: Python 3.11's symlink loop
                        loop = isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP
                        skipped.append((rel, "symlink loop" if loop else "broken symlink"))
                        continue
                    if not _inside(target, real_root):
                        skipped.append((rel, "symlink leaving the source root (not followed)"))
                        continue
                    if target.is_dir():
                        skipped.append((rel, "symlinked folder (not followed)"))
                        continue
                    yield path, target
                else:
                    yield path, path


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; raises _Skip for non-regular files and files over the cap."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise _Skip(f"cannot be read ({error.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise _Skip("not a regular file")
        if status.st_size > max_bytes:
            raise _Skip(f"{status.st_size:,} bytes, over the {max_bytes:,}-byte cap (GOVQA_MAX_PAGE_BYTES)")
        data = handle.read(max_bytes + 1)  # the size may grow after the stat
    if len(data) > max_bytes:
        raise _Skip(f"over the {max_bytes:,}-byte cap (GOVQA_MAX_PAGE_BYTES)")
    return data


def load_source(spec: SourceSpec, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadResult:
    """Read every page of one source. Files that cannot be used are skipped with a reason.

    ``max_bytes`` caps the size of one file (a huge page would take minutes to embed).
    """
    if spec.kind == "folder":
        from govqa.corpus.folder import load_folder  # imports this module

        return load_folder(spec, root)
    if spec.kind == "official":
        from govqa.corpus.primary import load_official_source  # imports this module

        return load_official_source(spec, root)
    result = LoadResult()
    manifest = read_manifest(root)
    seen_routes: dict[str, str] = {}
    files = list(_iter_files(root, spec, result.skipped))
    # Visit .mdx before .md so the newer variant of a doubled page wins.
    files.sort(
        key=lambda pair: (
            str(pair[0].with_suffix("")),
            PAGE_SUFFIXES.index(pair[0].suffix) if pair[0].suffix in PAGE_SUFFIXES else 9,
        )
    )
    for path, target in files:
        rel = path.relative_to(root).as_posix()
        suffix = path.suffix.lower()
        if suffix not in PAGE_SUFFIXES + ARCHIVE_SUFFIXES:
            result.skipped.append((rel, f"not a page ({suffix or 'no extension'})"))
            continue
        try:
            data = _read_capped(target, max_bytes)
        except _Skip as skip:
            result.skipped.append((rel, str(skip)))
            continue
        if b"\x00" in data:
            result.skipped.append((rel, "contains NUL bytes (binary, not text)"))
            continue
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            result.skipped.append((rel, "not UTF-8 text"))
            continue
        try:
            document = (
                _load_archive(spec, root, path, raw, manifest)
                if suffix in ARCHIVE_SUFFIXES
                else _load_page(spec, root, path, raw, manifest)
            )
        except _Skip as skip:
            result.skipped.append((rel, str(skip)))
            continue
        if document.id in seen_routes:
            result.skipped.append((rel, f"same page as {seen_routes[document.id]}"))
            continue
        if not document.text.strip():
            result.skipped.append((rel, "no text"))
            continue
        seen_routes[document.id] = rel
        result.documents.append(document)
    link_twins_and_editions(result.documents)
    return result


class _Skip(Exception):
    pass


def _content_relative(spec: SourceSpec, root: Path, path: Path) -> PurePosixPath:
    for content_dir in spec.content_dirs:
        base = root / content_dir
        if base in path.parents:
            return PurePosixPath(path.relative_to(base).as_posix())
    return PurePosixPath(path.name)


def _load_page(spec: SourceSpec, root: Path, path: Path, raw: str, manifest: dict[str, dict[str, str]]) -> Document:
    try:
        frontmatter, body = split_frontmatter(raw, strict=True)
    except FrontmatterError as error:
        raise _Skip(str(error)) from None
    if frontmatter.get("draft") is True:
        raise _Skip("draft: true")
    route = page_route(_content_relative(spec, root, path))
    locale, page_key = split_locale(route)
    title = str(frontmatter.get("title") or page_key.rsplit("/", 1)[-1] or spec.title)
    text, sections, spans, references = assemble(markdown_blocks(body), title)
    rel = path.relative_to(root).as_posix()
    row = manifest.get(rel, {})
    lang = row.get("lang") or locale or guess_language(text)
    url = row.get("url") or spec.base_url + (f"{route}/" if route else "")
    jurisdiction, company = classify(page_key)
    as_of = frontmatter.get("snapshotDate")
    metadata = {
        k: str(v)
        for k, v in frontmatter.items()
        if k in ("ruleName", "issuer", "level", "binding", "effectiveDate", "publishedDate", "originalUrl")
    }
    return Document(
        id=f"{spec.id}:{route or 'index'}",
        source_id=spec.id,
        source_path=rel,
        url=url,
        lang=lang,
        title=title,
        description=str(frontmatter.get("description") or ""),
        as_of=str(as_of) if as_of else None,
        edition=spec.editions.get(locale, ""),
        page_key=page_key,
        text=text,
        sections=sections,
        spans=spans,
        references=references,
        jurisdiction=jurisdiction,
        company=company,
        metadata=metadata,
    )


def _load_archive(spec: SourceSpec, root: Path, path: Path, raw: str, manifest: dict[str, dict[str, str]]) -> Document:
    title, blocks = html_blocks(raw)
    # Archives carry no heading ids on the live copy, so citations link to the page itself.
    text, sections, spans, references = assemble(blocks, title or path.stem, use_anchors=False)
    rel = path.relative_to(root).as_posix()
    public_path = rel.removeprefix("public/")
    row = manifest.get(rel, {})
    stem = str(PurePosixPath(public_path).with_suffix(""))
    return Document(
        id=f"{spec.id}:{stem}",
        source_id=spec.id,
        source_path=rel,
        url=row.get("url") or spec.base_url + public_path,
        lang=row.get("lang") or guess_language(text),
        title=title or path.stem,
        description="",
        as_of=None,
        edition=spec.editions.get("archives", ""),
        page_key=stem,
        text=text,
        sections=sections,
        spans=spans,
        references=references,
        jurisdiction="china",
    )


def link_twins_and_editions(documents: list[Document]) -> None:
    """Point each page at its other-language twin and its other dated editions.

    Among several candidates the newest edition is the twin.
    """
    by_key: dict[str, list[Document]] = {}
    for document in documents:
        by_key.setdefault(document.page_key, []).append(document)
    for group in by_key.values():
        for document in group:
            others = [d for d in group if d.lang != document.lang]
            others.sort(key=lambda d: d.as_of or "", reverse=True)
            document.twin_id = others[0].id if others else None
            document.other_edition_ids = [d.id for d in group if d.lang == document.lang and d.id != document.id]
