"""Answer backends by name, and what an answer backend declares it can do.

``extractive`` needs no LLM and is the default and the fallback. A backend says
whether it streams (``supports_streaming``) and whether it rewrites follow-up
questions (``rewrites_followups``); callers read these flags instead of probing
for methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, cast

from govqa.app.engine import ExtractiveAnswerer
from govqa.app.result import AskResult
from govqa.index.retriever import CorpusIndex, Filters, HybridRetriever
from govqa.settings import Settings


class Answerer(Protocol):
    backend: str  # the name in AskResult.backend
    supports_streaming: bool  # True: it is a StreamingAnswerer
    rewrites_followups: bool  # True: it is a FollowupRewriter

    def ask(self, question: str, filters: Filters | None = None) -> AskResult: ...


class StreamingAnswerer(Answerer, Protocol):
    def stream(self, question: str, filters: Filters | None = None) -> Iterator[str | AskResult]:
        """Pieces of answer text as they are composed, then the AskResult."""
        ...


class FollowupRewriter(Answerer, Protocol):
    def rewrite_followup(self, question: str, history: Sequence[Any]) -> str | None:
        """The follow-up as a standalone question, or None to keep the rule-based resolution."""
        ...


def as_streaming(answerer: Answerer) -> StreamingAnswerer | None:
    """The answerer, when it declares that it streams; None otherwise."""
    return cast(StreamingAnswerer, answerer) if answerer.supports_streaming else None


def as_followup_rewriter(answerer: Answerer) -> FollowupRewriter | None:
    """The answerer, when it declares that it rewrites follow-up questions; None otherwise."""
    return cast(FollowupRewriter, answerer) if answerer.rewrites_followups else None


def _extractive(settings: Settings, index: CorpusIndex, retriever: HybridRetriever) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(
        index,
        retriever,
        max_sentences=settings.answer.max_sentences,
        min_support={"en": settings.answer.min_support, "zh": settings.answer.min_support_zh},
    )


def _openai(settings: Settings, index: CorpusIndex, retriever: HybridRetriever) -> Answerer:
    # Imported here: the openai client is only needed when this backend is chosen.
    from govqa.app.llm_answerer import OpenAIAnswerer

    # The extractive answerer is the fallback when the endpoint fails or nothing it says is supported.
    fallback = _extractive(settings, index, retriever)
    return OpenAIAnswerer.from_settings(
        settings, index, retriever, fallback
    )  # names GOVQA_LLM_BASE_URL / _MODEL when unset


ANSWERERS: dict[str, Callable[[Settings, CorpusIndex, HybridRetriever], Answerer]] = {
    "extractive": _extractive,
    "openai": _openai,
}


def build_answerer(settings: Settings, index: CorpusIndex, retriever: HybridRetriever) -> Answerer:
    name = settings.answer.backend
    if name not in ANSWERERS:
        raise ValueError(
            f"Unknown answer backend {name!r}: use one of {', '.join(sorted(ANSWERERS))} (GOVQA_ANSWER_BACKEND)."
        )
    return ANSWERERS[name](settings, index, retriever)
