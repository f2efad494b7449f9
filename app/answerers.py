"""Answer backends by name. ``extractive`` needs no LLM and is the default and the fallback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from govqa.app.engine import ExtractiveAnswerer
from govqa.app.result import AskResult
from govqa.index.retriever import CorpusIndex, Filters, HybridRetriever
from govqa.settings import Settings


class Answerer(Protocol):
    def ask(self, question: str, filters: Filters | None = None) -> AskResult: ...


def _extractive(settings: Settings, index: CorpusIndex, retriever: HybridRetriever) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(
        index,
        retriever,
        max_sentences=settings.answer.max_sentences,
        min_support={"en": settings.answer.min_support, "zh": settings.answer.min_support_zh},
    )


def _openai(settings: Settings, index: CorpusIndex, retriever: HybridRetriever) -> Any:
    # Imported here: the openai client is only needed when this backend is chosen.
    from govqa.app.llm_answerer import OpenAIAnswerer

    # The extractive answerer is the fallback when the endpoint fails or nothing it says is supported.
    fallback = _extractive(settings, index, retriever)
    return OpenAIAnswerer.from_settings(
        settings, index, retriever, fallback
    )  # names GOVQA_LLM_BASE_URL / _MODEL when unset


ANSWERERS: dict[str, Callable[[Settings, CorpusIndex, HybridRetriever], Any]] = {
    "extractive": _extractive,
    "openai": _openai,
}


def build_answerer(settings: Settings, index: CorpusIndex, retriever: HybridRetriever) -> Answerer:
    name = settings.answer.backend
    if name not in ANSWERERS:
        raise ValueError(
            f"Unknown answer backend {name!r}: use one of {', '.join(sorted(ANSWERERS))} (GOVQA_ANSWER_BACKEND)."
        )
    return ANSWERERS[name](settings, index, retriever)  # type: ignore[no-any-return]
