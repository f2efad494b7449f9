"""Site claims linked to the official texts they cite.

A site page cites a text when one of its references (or its ``originalUrl``) has the
text's official URL, compared after :func:`normalise_url`. A cited passage of that page
then links to the text, and where the passage names an article ("第七条", "Article
50(2)") to that article, with the article's own words: ``Citation.sources``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from govqa.app.citations import Citation
from govqa.app.result import AskResult
from govqa.corpus.articles import parse_article_refs
from govqa.corpus.documents import Document
from govqa.corpus.primary import article_at, is_official, normalise_url
from govqa.index.articles import ArticleCatalogue, unit_text
from govqa.index.retriever import Filters


def cited_urls(document: Document) -> list[str]:
    """URLs a site page cites: its references list and the rule's ``originalUrl``."""
    urls = [r.url for r in document.references if r.url]
    if document.metadata.get("originalUrl"):
        urls.append(str(document.metadata["originalUrl"]))
    return urls


class SourceLinker:
    """Which official texts each site page cites, and the article a passage names."""

    def __init__(self, documents: dict[str, Document], catalogue: ArticleCatalogue) -> None:
        self.documents = documents
        self.catalogue = catalogue
        by_url: dict[str, str] = {}
        # Where two texts share an official URL (a law and its consolidated text), the one
        # whose own address it is wins: that is the text the link shows.
        for document in sorted(documents.values(), key=lambda d: d.url != d.metadata.get("official_url")):
            if is_official(document):
                by_url.setdefault(
                    normalise_url(str(document.metadata.get("official_url") or document.url)), document.id
                )
        self.by_url = by_url
        self.links: dict[str, list[str]] = {}  # site doc id → official doc ids it cites
        self.resolved: Counter[str] = Counter()  # official doc id → site references that resolve to it
        self.references = 0
        for document in documents.values():
            if is_official(document):
                continue
            linked: list[str] = []
            for url in cited_urls(document):
                self.references += 1
                target = by_url.get(normalise_url(url))
                if target:
                    self.resolved[target] += 1
                    if target not in linked:
                        linked.append(target)
            if linked:
                self.links[document.id] = linked

    def report(self) -> dict[str, Any]:
        """How many site references resolved to an official text, per text."""
        return {
            "site_references": self.references,
            "resolved": sum(self.resolved.values()),
            "pages_linked": len(self.links),
            "per_text": {
                self.documents[doc_id].title: self.resolved.get(doc_id, 0)
                for doc_id in sorted(self.catalogue.documents)
            },
        }

    def sources_for(self, doc_id: str, quote: str) -> list[dict[str, str]]:
        """The official texts (and articles) a site passage of this page cites."""
        linked = self.links.get(doc_id, [])
        if not linked:
            return []
        named = [d for d in self.catalogue.laws_named(quote) if d in linked]
        refs = parse_article_refs(quote)
        # An article number alone belongs to the page's text when the page cites exactly one.
        targets = named or (linked if len(linked) == 1 else [])
        sources: list[dict[str, str]] = []
        for target in targets:
            document = self.documents[target]
            for ref in refs:
                units = self.catalogue.find(target, ref)
                if units:
                    unit = units[0]
                    sources.append(
                        {
                            "title": document.title,
                            "article": unit.ref.label(document.lang),
                            "url": document.section_url(unit.section),
                            "quote": unit_text(document, unit),
                        }
                    )
        if not sources:
            sources = [
                {"title": self.documents[t].title, "article": "", "url": self.documents[t].url, "quote": ""}
                for t in linked
            ]
        return sources

    def enrich(self, citation: Citation) -> Citation:
        document = self.documents.get(citation.doc_id)
        if document is None:
            return citation
        if is_official(document):
            return dataclasses.replace(citation, article=article_at(document, citation.start))
        return dataclasses.replace(citation, sources=self.sources_for(document.id, citation.quote))


class LinkedAnswerer:
    """An answer backend whose citations carry their article and the official texts they cite.

    Declares the inner backend's capabilities (streaming, follow-up rewriting) as its own.
    """

    def __init__(self, inner: Any, linker: SourceLinker) -> None:
        self.inner = inner
        self.linker = linker
        self.backend: str = inner.backend
        self.supports_streaming: bool = inner.supports_streaming
        self.rewrites_followups: bool = inner.rewrites_followups

    def __getattr__(self, name: str) -> Any:
        # Everything else (e.g. the extractive backend's compose, which an LLM backend may use
        # as its fallback) is the inner backend's.
        return getattr(self.inner, name)

    def _link(self, result: AskResult) -> AskResult:
        result.citations = [self.linker.enrich(c) for c in result.citations]
        result.nearest = [self.linker.enrich(c) for c in result.nearest]
        return result

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        return self._link(self.inner.ask(question, filters))

    def stream(self, question: str, filters: Filters | None = None) -> Iterator[str | AskResult]:
        for piece in self.inner.stream(question, filters):
            yield piece if isinstance(piece, str) else self._link(piece)

    def rewrite_followup(self, question: str, history: Sequence[Any]) -> str | None:
        return self.inner.rewrite_followup(question, history)  # type: ignore[no-any-return]
