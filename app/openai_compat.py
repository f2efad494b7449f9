"""An OpenAI-compatible endpoint, so chat front ends and SDKs can use govqa as a "model".

``GET /v1/models`` lists ``govqa`` (extractive answers) and, when an LLM backend is configured,
``govqa-llm``. ``POST /v1/chat/completions`` (streaming or not) answers the last user message;
earlier messages resolve follow-ups as the chat does: each earlier user message is a turn, and the
page URLs in the assistant reply after it are the pages that turn cited. The reply's ``content`` is
the answer with ``[n]`` markers and a Markdown list of the quoted passages with their URLs; the
citation objects ride in ``message.citations`` (``citations`` on the last stream chunk), and the
whole ``ask --json`` object in ``govqa``.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from govqa.app.answering import AnswerService
from govqa.app.api import FilterModel, api_key_guard, event_stream
from govqa.app.citations import Citation
from govqa.app.result import AskResult, QuestionError, check_question
from govqa.settings import Settings

logger = logging.getLogger(__name__)

EXTRACTIVE_MODEL = "govqa"
LLM_MODEL = "govqa-llm"
MAX_MESSAGES = 200
MAX_MESSAGE_CHARS = 100_000  # earlier assistant replies carry their quoted sources
_URL = re.compile(r"https?://[^\s)<>\]\"']+")


class OpenAIError(Exception):
    """An error reported in OpenAI's shape: {"error": {"message", "type", "code"}}."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.code}},
            status_code=self.status,
        )


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    @field_validator("content")
    @classmethod
    def _bounded(cls, value: str | list[ContentPart] | None) -> str | list[ContentPart] | None:
        size = len(value) if isinstance(value, str) else sum(len(p.text or "") for p in value or [])
        if size > MAX_MESSAGE_CHARS:
            raise ValueError(f"a message may hold at most {MAX_MESSAGE_CHARS} characters")
        return value

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or "" for p in self.content or [] if p.type == "text")


class ChatCompletionRequest(BaseModel):
    # Front ends send sampling options (temperature, top_p, ...); they do not apply to quoted answers.
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    filters: FilterModel | None = Field(None, description="govqa extension: the chat's filters.")


def conversation(messages: Sequence[ChatMessage]) -> tuple[str, list[tuple[str, list[str]]]]:
    """The question (last user message) and the earlier turns as (user text, URLs the reply cited)."""
    user_positions = [i for i, m in enumerate(messages) if m.role == "user"]
    if not user_positions:
        raise OpenAIError(400, "The conversation has no user message to answer.")
    last = user_positions[-1]
    history: list[tuple[str, list[str]]] = []
    for position in user_positions[:-1]:
        reply = next((m for m in messages[position + 1 : last] if m.role == "assistant"), None)
        history.append((messages[position].text(), _URL.findall(reply.text()) if reply else []))
    return messages[last].text(), history


def _link_text(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def sources_markdown(citations: Sequence[Citation], heading: str) -> str:
    """A Markdown list: [n] “quote” — [Title › Section](URL#anchor), one item per citation."""
    if not citations:
        return ""
    items = [f"- [{c.n}] “{c.quote}” — [{_link_text(c.title)} › {_link_text(c.section)}]({c.url})" for c in citations]
    return f"\n\n**{heading}**\n" + "\n".join(items)


def reply_sources(result: AskResult) -> str:
    """What follows the answer: the cited passages, or on abstention the nearest ones."""
    if result.abstained:
        return sources_markdown(result.nearest, "Nearest passages")
    return sources_markdown(result.citations, "Sources")


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(result: AskResult, model: str) -> dict[str, Any]:
    """A non-streamed chat.completion object."""
    answer = result.to_json()
    return {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": result.answer + reply_sources(result),
                    "refusal": None,
                    "citations": answer["citations"],
                },
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "govqa": answer,
    }


def _data(body: Any) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _chunk(chunk_id: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def completion_chunks(service: AnswerService, produce: Callable[[], Iterator[Any]], model: str) -> AsyncIterator[str]:
    """chat.completion.chunk events: the answer's pieces, then the sources with the citations, then [DONE]."""

    async def events() -> AsyncIterator[str]:
        chunk_id, created = _completion_id(), int(time.time())
        yield _data(_chunk(chunk_id, created, model, {"role": "assistant", "content": ""}))
        try:
            async for piece in service.iterate(produce):
                if not isinstance(piece, AskResult):
                    yield _data(_chunk(chunk_id, created, model, {"content": piece}))
                    continue
                answer = piece.to_json()
                last = _chunk(chunk_id, created, model, {"content": reply_sources(piece)}, "stop")
                yield _data({**last, "citations": answer["citations"], "govqa": answer})
        except Exception as error:
            logger.exception("openai_stream_failed")
            message = str(error) if isinstance(error, QuestionError) else f"answering failed ({type(error).__name__})"
            yield _data({"error": {"message": message, "type": "server_error", "code": None}})
        yield "data: [DONE]\n\n"

    return events()


def available_models(settings: Settings) -> list[str]:
    return [EXTRACTIVE_MODEL] + ([LLM_MODEL] if settings.answer.backend != "extractive" else [])


def answerer_for(model: str, answerer: Any) -> Any:
    """``govqa`` is always the extractive answerer: an LLM answerer keeps it as its fallback."""
    return answerer if model == LLM_MODEL else getattr(answerer, "fallback", answerer)


def build_openai(service: AnswerService, settings: Settings) -> APIRouter:
    """The /v1 routes."""
    router = APIRouter(prefix="/v1", tags=["openai-compatible"], dependencies=[Depends(api_key_guard(settings))])

    @router.get("/models")
    def models() -> dict[str, Any]:
        """The models this server answers as."""
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "govqa"} for name in available_models(settings)
        ]
        return {"object": "list", "data": data}

    @router.post("/chat/completions", response_model=None)
    async def chat_completions(request: ChatCompletionRequest) -> Any:
        """Answer the last user message with cited passages (OpenAI chat-completions protocol)."""
        if request.model not in available_models(settings):
            raise OpenAIError(
                404,
                f"The model {request.model!r} does not exist here; use one of {', '.join(available_models(settings))}.",
                code="model_not_found",
            )
        asked, history = conversation(request.messages)
        try:
            check_question(asked)
        except QuestionError as error:
            raise OpenAIError(400, str(error)) from None
        filters = (request.filters or FilterModel()).to_filters()
        choose = partial(answerer_for, request.model)
        if request.stream:
            produce = partial(service.answer_stream, asked, history, filters, choose)
            return event_stream(completion_chunks(service, produce, request.model))
        try:
            result: AskResult = await service.run(service.answer, asked, history, filters, choose)
        except QuestionError as error:
            raise OpenAIError(400, str(error)) from None
        except Exception as error:
            logger.exception("openai_answer_failed question=%r", asked)
            raise OpenAIError(500, f"Answering failed ({type(error).__name__}).", "server_error") from None
        return completion(result, request.model)

    return router
