"""The JSON API: ``POST /api/ask`` (whole answer, or server-sent events) and ``GET /api/health``.

Request bodies are pydantic models with the chat's limits; answers are the ``govqa ask --json``
object. The OpenAPI description is FastAPI's own, at ``/api/openapi.json`` (docs at ``/api/docs``).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from govqa.app.answering import AnswerService
from govqa.app.result import MAX_QUESTION_CHARS, AskResult, QuestionError, check_question
from govqa.index.retriever import Filters
from govqa.settings import Settings

logger = logging.getLogger(__name__)

MAX_HISTORY_TURNS = 50  # far more than a follow-up looks back (one turn), small enough to bound the work
ShortText = Annotated[str, StringConstraints(max_length=200)]
UrlText = Annotated[str, StringConstraints(max_length=2000)]


class FilterModel(BaseModel):
    """The chat's filters; empty lists mean no restriction."""

    model_config = ConfigDict(extra="forbid")

    lang: list[Literal["en", "zh"]] = Field(default_factory=list, max_length=2)
    jurisdiction: list[Literal["china", "eu", "us", "international"]] = Field(default_factory=list, max_length=4)
    company: list[ShortText] = Field(default_factory=list, max_length=100, description="Company slugs, e.g. deepseek.")

    def to_filters(self) -> Filters:
        return Filters(lang=list(self.lang), jurisdiction=list(self.jurisdiction), company=list(self.company))


class CitedPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page_url: UrlText


class HistoryTurn(BaseModel):
    """An earlier turn; a previous ``/api/ask`` result can be passed back as it is."""

    model_config = ConfigDict(extra="ignore")

    question: str = Field(max_length=MAX_QUESTION_CHARS)
    citations: list[CitedPage] = Field(default_factory=list, max_length=50)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="English or Chinese.")
    filters: FilterModel = Field(default_factory=FilterModel)
    history: list[HistoryTurn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier turns, oldest first: follow-ups such as 'and the EU?' are resolved against them.",
    )
    stream: bool = Field(False, description="Server-sent events: `token` events, then one `result` event.")


def api_key_guard(settings: Settings) -> Callable[..., None]:
    """A dependency that admits a request when the API's access rule allows it.

    With GOVQA_API_KEYS: a matching ``Authorization: Bearer`` token. Without keys the API is as
    open as the chat on the same address, except that a chat behind a login (GOVQA_AUTH) is not
    bypassed: then the API refuses until keys are set.
    """
    keys = [key.encode() for key in settings.api_key_list()]
    login = settings.auth is not None

    def guard(authorization: Annotated[str | None, Header()] = None) -> None:
        if keys:
            scheme, _, token = (authorization or "").partition(" ")
            if scheme.lower() != "bearer" or not any(hmac.compare_digest(token.strip().encode(), k) for k in keys):
                raise HTTPException(
                    401, "A valid API key is required (Authorization: Bearer <key>).", {"WWW-Authenticate": "Bearer"}
                )
        elif login:
            raise HTTPException(
                401, "The chat requires a login (GOVQA_AUTH): set GOVQA_API_KEYS to give programs API keys."
            )

    return guard


def sse(event: str, data: Any) -> str:
    """One server-sent event with a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    """A server-sent-events response that proxies pass through unbuffered."""
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def answer_events(service: AnswerService, produce: Callable[[], Iterator[Any]]) -> AsyncIterator[str]:
    """``token`` events for text pieces, then ``result`` (the ask object), or one ``error`` event."""

    async def events() -> AsyncIterator[str]:
        try:
            async for piece in service.iterate(produce):
                if isinstance(piece, AskResult):
                    yield sse("result", piece.to_json())
                else:
                    yield sse("token", {"text": piece})
        except QuestionError as error:
            yield sse("error", {"detail": str(error)})
        except Exception as error:
            logger.exception("api_stream_failed")
            yield sse("error", {"detail": f"Something went wrong while answering ({type(error).__name__})."})

    return events()


def build_api(service: AnswerService, settings: Settings) -> APIRouter:
    """The /api routes."""
    router = APIRouter(prefix="/api", tags=["govqa"])
    guard = api_key_guard(settings)

    @router.post("/ask", dependencies=[Depends(guard)], response_model=None)
    async def ask(request: AskRequest) -> Any:
        """Answer a question with numbered citations; the same object as `govqa ask --json`."""
        try:
            check_question(request.question)
        except QuestionError as error:
            raise HTTPException(400, str(error)) from None
        history = [(turn.question, [c.page_url for c in turn.citations]) for turn in request.history]
        filters = request.filters.to_filters()
        if request.stream:
            return event_stream(
                answer_events(service, partial(service.answer_stream, request.question, history, filters))
            )
        try:
            result: AskResult = await service.run(service.answer, request.question, history, filters)
        except QuestionError as error:
            raise HTTPException(400, str(error)) from None
        except Exception as error:
            logger.exception("api_ask_failed question=%r", request.question)
            raise HTTPException(500, f"Something went wrong while answering ({type(error).__name__}).") from None
        return result.to_json()

    @router.get("/health")
    def health() -> dict[str, Any]:
        """Liveness and what is being served: index generation, chunk count, embedder, backend."""
        pipeline = service.pipeline
        index = pipeline.index
        return {
            "status": "ok",
            "generation": getattr(index, "generation", None) or getattr(pipeline, "generation", None),
            "documents": len(index.documents),
            "chunks": len(index.chunks),
            "embedder": settings.embedder,
            "backend": settings.answer.backend,
            "chroma_mode": settings.chroma.mode,
            "workers": service.workers,
        }

    return router
