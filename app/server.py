"""One ASGI app for ``govqa serve``: FastAPI with the JSON API, the OpenAI-compatible API and the chat.

Routes: ``/api/ask``, ``/api/health``, ``/api/openapi.json`` and ``/api/docs`` (FastAPI), ``/v1/models``
and ``/v1/chat/completions`` (OpenAI protocol), and the Gradio chat mounted at ``/`` (its own API
under ``/gradio_api``). Everything shares one pipeline; programs' answers run on a bounded pool and
the chat's queue gets the same concurrency limit.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from govqa.settings import Settings

logger = logging.getLogger(__name__)


def create_app(
    pipeline: Any,
    settings: Settings,
    feedback: Any = None,
    current: Callable[[], Any] | None = None,
) -> Any:
    """The FastAPI app with everything mounted. ``current`` returns the pipeline to answer with now
    (default: always ``pipeline``), so a server that swaps index generations is followed."""
    import gradio as gr
    from fastapi import FastAPI, Request
    from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    from govqa.app.answering import AnswerService
    from govqa.app.api import build_api
    from govqa.app.chat import answer_stream
    from govqa.app.guard import RequestGuard
    from govqa.app.openai_compat import OpenAIError, build_openai
    from govqa.app.pipeline import local_file_roots
    from govqa.app.web import build_app, parse_auth, static_text

    service = AnswerService(current or (lambda: pipeline), settings.server.workers, answer_stream)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="govqa",
        summary="Citation-grounded answers on AI governance.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    # The page takes no files: max_file_size 0 below and RequestGuard refuse any upload; the guard
    # also answers 429 to a client address after 5 failed logins in a minute.
    app.add_middleware(RequestGuard)
    app.include_router(build_api(service, settings))
    app.include_router(build_openai(service, settings))

    # OpenAI clients read errors as {"error": {...}}; the /api routes keep FastAPI's {"detail": ...}.
    @app.exception_handler(OpenAIError)
    async def openai_error(_: Request, error: OpenAIError) -> Any:
        return error.response()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Any:
        if request.url.path.startswith("/v1/"):
            code = "invalid_api_key" if error.status_code == 401 else None
            return OpenAIError(error.status_code, str(error.detail), "invalid_request_error", code).response()
        return await http_exception_handler(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Any:
        if request.url.path.startswith("/v1/"):
            first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
            where = ".".join(str(p) for p in first["loc"] if p != "body")
            return OpenAIError(400, f"{where}: {first['msg']}" if where else str(first["msg"])).response()
        return await request_validation_exception_handler(request, error)

    demo = build_app(pipeline, settings, feedback)
    demo.queue(default_concurrency_limit=settings.server.workers)
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        server_name=settings.server.host,
        server_port=settings.server.port,
        auth=parse_auth(settings),
        max_file_size=0,
        # Only the folders of your own documents that have no public address (see render.served_url).
        allowed_paths=[str(root) for root in local_file_roots(settings)],
        show_error=False,
        css=static_text("chat.css"),
        footer_links=["api"],
    )


def serve(settings: Settings) -> None:
    """Build the pipeline and serve chat and APIs until interrupted (``govqa serve``)."""
    import uvicorn

    from govqa.app.pipeline import LivePipeline
    from govqa.app.web import parse_auth

    parse_auth(settings)  # a malformed GOVQA_AUTH ends here, before the slow part
    started = time.perf_counter()
    # Follows re-ingests: before each request one stat tells whether a new index generation was
    # published, and the server moves to it; each API request takes one consistent pipeline.
    pipeline = LivePipeline(settings)
    app = create_app(pipeline, settings, current=pipeline.current)
    logger.info("web_ready seconds=%.2f", time.perf_counter() - started)
    host, port = settings.server.host, settings.server.port
    shown = f"[{host}]" if ":" in host else host
    print(
        f"govqa: chat on http://{shown}:{port}/ · JSON API http://{shown}:{port}/api/docs · "
        f"OpenAI-compatible http://{shown}:{port}/v1 ({settings.server.workers} workers)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
