"""Answer backends declare what they can do; the chat and the CLI read the flags, never probe for methods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from typer.testing import CliRunner

from govqa.app.answerers import as_followup_rewriter, as_streaming
from govqa.app.chat import answer_stream
from govqa.app.engine import ExtractiveAnswerer
from govqa.app.llm_answerer import OpenAIAnswerer
from govqa.app.result import AskResult
from govqa.index.retriever import Filters

ANSWER = "Widgets are regulated. [1] Fines reach 3%. [2]"


def _result(answer: str = ANSWER) -> AskResult:
    return AskResult("q", answer, False, [], [], {})


class Streams:
    backend, supports_streaming, rewrites_followups = "test-stream", True, False

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        raise AssertionError("a streaming answerer is streamed, not asked")

    def stream(self, question: str, filters: Filters | None = None) -> Iterator[str | AskResult]:
        yield "Draft "
        yield "text."
        yield _result("Draft text.")


class HasStreamButDoesNotDeclareIt:
    """A ``stream`` method alone does not make an answerer streaming: only the flag does."""

    backend, supports_streaming, rewrites_followups = "test-flagless", False, False

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        return _result()

    def stream(self, question: str, filters: Filters | None = None) -> Iterator[Any]:
        raise AssertionError("stream() must not be called when supports_streaming is False")


def test_built_in_backends_declare_their_capabilities() -> None:
    assert (ExtractiveAnswerer.supports_streaming, ExtractiveAnswerer.rewrites_followups) == (False, False)
    assert (OpenAIAnswerer.supports_streaming, OpenAIAnswerer.rewrites_followups) == (True, True)
    assert (ExtractiveAnswerer.backend, OpenAIAnswerer.backend) == ("extractive", "openai")


def test_answer_stream_passes_a_streaming_answerer_through() -> None:
    pieces = list(answer_stream(Streams(), "q", Filters()))
    assert pieces[:2] == ["Draft ", "text."]
    assert isinstance(pieces[2], AskResult) and pieces[2].answer == "Draft text."


def test_answer_stream_cuts_a_finished_answer_when_the_answerer_does_not_stream() -> None:
    answerer = HasStreamButDoesNotDeclareIt()
    assert as_streaming(answerer) is None and as_followup_rewriter(answerer) is None
    pieces = list(answer_stream(answerer, "q", Filters()))
    assert pieces[:2] == ["Widgets are regulated. [1] ", "Fines reach 3%. [2]"]
    assert isinstance(pieces[2], AskResult) and pieces[2].answer == ANSWER


def test_cli_stream_flag_reads_the_capability(monkeypatch: Any, tmp_path: Any) -> None:
    from dataclasses import dataclass

    from govqa.app import cli, pipeline

    @dataclass
    class FakePipeline:
        answerer: Any

        def ask(self, question: str, filters: Filters | None = None) -> AskResult:
            return self.answerer.ask(question, filters)  # type: ignore[no-any-return]

    built: list[Any] = []
    monkeypatch.setattr(cli, "ensure_index", lambda settings, quiet=False: None)
    monkeypatch.setattr(pipeline, "build_pipeline", lambda settings: built[-1])
    built.append(FakePipeline(HasStreamButDoesNotDeclareIt()))
    plain = CliRunner().invoke(cli.app, ["ask", "--stream", "q"])
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.splitlines()[0] == ANSWER
    built.append(FakePipeline(Streams()))
    streamed = CliRunner().invoke(cli.app, ["ask", "--stream", "q"])
    assert streamed.exit_code == 0, streamed.output
    assert streamed.stdout.splitlines()[0] == "Draft text."
