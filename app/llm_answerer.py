"""The ``openai`` answer backend: generated answers from an LLM endpoint, verified.

The prompt (``llm_prompt``) gives the model the retrieved passages as numbered data;
the endpoint (``llm_endpoint``) streams its reply; this module checks the answer
sentence by sentence (``govqa.app.verify``) before anyone sees the final version.
When the endpoint fails or no sentence survives the check, the extractive answer is
shown with a one-line notice.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from govqa.app.citations import Citation, cite
from govqa.app.engine import ExtractiveAnswerer
from govqa.app.llm_endpoint import ChatEndpoint, LLMUnavailable
from govqa.app.llm_prompt import build_condense_messages, build_messages, history_turns, passage_text
from govqa.app.result import MAX_QUESTION_CHARS, AskResult, check_question
from govqa.app.verify import (
    MarkerRewriter,
    best_span,
    number_map,
    parse_answer,
    render_answer,
    verify_sentences,
)
from govqa.corpus.documents import guess_language
from govqa.index.retriever import CorpusIndex, Filters, HybridRetriever, ScoredChunk, describe
from govqa.index.similarity import paired_cosines
from govqa.ingest.chunking import Chunk

logger = logging.getLogger(__name__)

CONDENSE_MAX_TOKENS = 200
UNVERIFIED_MARK = {"en": " (unverified)", "zh": "（未核实）"}
# Shown after a streamed draft when checking changed it (marks, removals or a fallback).
CHECKED_HEADER = {"en": "Checked answer:", "zh": "核对后的答案："}


class LLMConfigError(ValueError):
    """The openai backend is selected but not configured; the message says which variables to set."""


class OpenAIAnswerer:
    """Generated answers whose citations are verified; the extractive answer is the fallback."""

    backend = "openai"
    supports_streaming = True
    rewrites_followups = True

    def __init__(
        self,
        index: CorpusIndex,
        retriever: HybridRetriever,
        fallback: ExtractiveAnswerer,
        endpoint: ChatEndpoint,
        max_passages: int = 6,
        max_sentences: int = 3,
        drop_unsupported: bool = False,
        embedder: Any = None,
    ) -> None:
        self.index = index
        self.retriever = retriever
        self.fallback = fallback
        self.endpoint = endpoint
        self.max_passages = max_passages
        self.max_sentences = max_sentences
        self.drop_unsupported = drop_unsupported
        self.embedder = embedder  # for the similarity part of the support check; None: words and facts only

    @classmethod
    def from_settings(
        cls, settings: Any, index: CorpusIndex, retriever: HybridRetriever, fallback: ExtractiveAnswerer
    ) -> OpenAIAnswerer:
        missing = [
            name
            for name, value in (("GOVQA_LLM_BASE_URL", settings.llm.base_url), ("GOVQA_LLM_MODEL", settings.llm.model))
            if not value.strip()
        ]
        if missing:
            raise LLMConfigError(
                f"The openai answer backend needs {' and '.join(missing)} "
                "(for Ollama: GOVQA_LLM_BASE_URL=http://127.0.0.1:11434/v1 GOVQA_LLM_MODEL=qwen2.5:7b), "
                "or set GOVQA_ANSWER_BACKEND=extractive."
            )
        endpoint = ChatEndpoint(
            settings.llm.base_url,
            settings.llm.model,
            settings.llm.api_key.get_secret_value(),
            timeout=settings.llm.timeout,
            max_tokens=settings.llm.max_tokens,
            retries=settings.llm.retries,
        )
        return cls(
            index,
            retriever,
            fallback,
            endpoint,
            max_sentences=settings.answer.max_sentences,
            drop_unsupported=settings.answer.drop_unsupported,
            embedder=index.embedder,
        )

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        result = None
        for item in self.stream(question, filters):
            if isinstance(item, AskResult):
                result = item
        assert result is not None
        return result

    def stream(self, question: str, filters: Filters | None = None) -> Iterator[str | AskResult]:
        """Yield the answer's text as it is generated (markers already renumbered), then the AskResult.

        When checking changes the streamed draft (unverified sentences, removals, a
        fallback), one more piece carries the checked answer under a short header.
        """
        question = check_question(question)
        lang = guess_language(question)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        results = self.retriever.search(question, filters, timings=timings)
        timings["retrieve_ms"] = (time.perf_counter() - started) * 1000
        passages = results[: self.max_passages]
        shown: list[str] = []
        if not passages:
            result = self._fallback(question, results, "")
        else:
            generated = time.perf_counter()
            rewriter = MarkerRewriter(set(range(1, len(passages) + 1)))
            raw: list[str] = []
            try:
                for piece in self.endpoint.stream(
                    build_messages(question, [p.chunk for p in passages], self.max_sentences)
                ):
                    raw.append(piece)
                    out = rewriter.feed(piece)
                    if out:
                        shown.append(out)
                        yield out
                out = rewriter.flush()
                if out:
                    shown.append(out)
                    yield out
                timings["generate_ms"] = (time.perf_counter() - generated) * 1000
                checked = time.perf_counter()
                result = self._checked(question, results, passages, "".join(raw), lang)
                timings["verify_ms"] = (time.perf_counter() - checked) * 1000
            except LLMUnavailable as error:
                timings["generate_ms"] = (time.perf_counter() - generated) * 1000
                tries = f"after {error.attempts} attempts" if error.attempts > 1 else "on the first attempt"
                reason = error.reason if error.partial else f"{error.reason} {tries}"
                result = self._fallback(
                    question, results, f"The LLM at {self.endpoint.url} {reason}; showing the extractive answer."
                )
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        result.timings_ms = {**timings, **result.timings_ms}
        draft = "".join(shown).strip()
        if result.answer.strip() != draft:
            yield (f"\n\n{CHECKED_HEADER[lang]}\n" if draft else "") + result.answer
        yield result

    def rewrite_followup(self, question: str, history: Sequence[Any]) -> str | None:
        """The web chat's follow-up hook: the LLM condenses, the rules stay the fallback."""
        standalone = self.condense_question(history, question)
        return standalone if standalone != question else None

    def condense_question(self, history: Sequence[Any], question: str) -> str:
        """A follow-up rewritten as a standalone question; the question itself when that fails."""
        if not history_turns(history):
            return question
        try:
            reply = self.endpoint.complete(build_condense_messages(history, question), CONDENSE_MAX_TOKENS)
        except LLMUnavailable as error:
            logger.warning("condense_failed url=%s reason=%r", self.endpoint.url, error.reason)
            return question
        lines = [line.strip() for line in reply.splitlines() if line.strip()]
        standalone = lines[0] if lines else ""
        standalone = re.sub(
            r"^(standalone question|question|独立问题|问题)\s*[:：]\s*", "", standalone, flags=re.IGNORECASE
        )
        standalone = standalone.strip().strip("\"'“”‘’「」")
        if not standalone or len(standalone) > MAX_QUESTION_CHARS:
            return question
        return standalone

    def _fallback(self, question: str, results: list[ScoredChunk], notice: str) -> AskResult:
        result = self.fallback.compose(question, results)
        result.notice = notice
        if notice:
            logger.info("llm_fallback notice=%r", notice)
        return result

    def _similarity(self, sentences: list[str], passages: list[str]) -> list[float]:
        vectors = self.embedder.get_text_embedding_batch([*sentences, *passages])
        return paired_cosines(vectors[: len(sentences)], vectors[len(sentences) :])

    def _checked(
        self, question: str, results: list[ScoredChunk], passages: list[ScoredChunk], raw: str, lang: str
    ) -> AskResult:
        sentences = parse_answer(raw)
        texts = {n: passage_text(p.chunk) for n, p in enumerate(passages, start=1)}
        checks = verify_sentences(sentences, texts, self._similarity if self.embedder is not None else None)
        supported = [c.supported for c in checks]
        if not any(supported):
            return self._fallback(
                question,
                results,
                "No sentence of the LLM's answer was supported by the passages it cited; showing the extractive answer.",
            )
        kept = [s for s, ok in zip(sentences, supported, strict=True) if ok or not self.drop_unsupported]
        kept_ok = [ok for ok in supported if ok or not self.drop_unsupported]
        mapping = number_map(kept, set(texts))
        answer = render_answer(raw, sentences, supported, mapping, self.drop_unsupported, UNVERIFIED_MARK[lang])
        citations = [self._citation(new, passages[old - 1].chunk, kept, old) for old, new in mapping.items()]
        citations.sort(key=lambda c: c.n)
        rows = [
            {"text": s.text, "citations": [mapping[m] for m in s.markers if m in mapping], "supported": ok}
            for s, ok in zip(kept, kept_ok, strict=True)
        ]
        notes = []
        dropped_markers = sorted({m for s in sentences for m in s.markers if m not in texts})
        if dropped_markers:
            notes.append(
                f"removed citations of passages that were not given ({', '.join(f'[{m}]' for m in dropped_markers)})"
            )
        unsupported = supported.count(False)
        if unsupported and self.drop_unsupported:
            notes.append(f"removed {unsupported} of {len(sentences)} sentences that their citations do not support")
        elif unsupported:
            notes.append(
                f"{unsupported} of {len(sentences)} sentences are not supported by their citations "
                f"and are marked {UNVERIFIED_MARK[lang].strip()}"
            )
        notice = ("Checked the LLM's answer: " + "; ".join(notes) + ".") if notes else ""
        for check, sentence in zip(checks, sentences, strict=True):
            if not check.supported:
                logger.info("unsupported_sentence reason=%r text=%r", check.reason, sentence.text[:120])
        return AskResult(
            question=question,
            answer=answer,
            abstained=False,
            citations=citations,
            retrieved=describe(results),
            timings_ms={},
            support=supported.count(True) / len(supported),  # share of sentences that passed the check
            backend=self.backend,
            notice=notice,
            sentences=rows,
        )

    def _citation(self, n: int, chunk: Chunk, sentences: Sequence[Any], old: int) -> Citation:
        claim = " ".join(s.text for s in sentences if old in s.markers)
        start, end = (0, len(chunk.text)) if chunk.kind == "table_row" else best_span(claim, chunk.text)
        document = self.index.documents[chunk.doc_id]
        return cite(n, chunk, chunk.start + start, chunk.start + end, document.text)
