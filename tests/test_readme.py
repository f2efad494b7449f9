"""The README points only at files that are in the repository."""

from __future__ import annotations

import re

from govqa.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
TOP_LEVEL = ("app", "bench", "corpus", "docs", "evals", "govqa", "index", "ingest", "tests", ".ci", "typecheck")


def test_repository_paths_in_the_readme_exist() -> None:
    folders = "|".join(re.escape(t) for t in TOP_LEVEL)
    paths = set(re.findall(rf"(?<![\w/.])((?:{folders})/[\w./-]*\w)", README))
    assert paths, "the README names files of the repository"
    missing = sorted(p for p in paths if not (PROJECT_ROOT / p).exists())
    assert missing == []


def test_documents_named_in_the_readme_exist() -> None:
    # Notes like NOTES.md or STYLE.md live outside the repository on the machine it was built on.
    documents = set(re.findall(r"\b([A-Z][A-Z_]+\.md)\b", README)) - {"README.md"}
    assert [d for d in sorted(documents) if not (PROJECT_ROOT / d).exists()] == []
