"""What the web chat does, apart from any page layout: answer with streaming, keep turns, rate.

``ChatService`` takes a ready pipeline and a feedback store; the Gradio page in
``web.py`` wires it to its components, and tests call it directly. All HTML comes
from ``govqa.app.render``, which escapes everything from the corpus and the user.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from govqa.app import render
from govqa.app.answerers import Answerer, as_followup_rewriter, as_streaming
from govqa.app.citations import MARKER, format_markdown_footnotes, format_plain
from govqa.app.conversation import (
    PageRef,
    Resolution,
    Turn,
    company_entities,
    company_names,
    page_ref,
    resolve_followup,
)
from govqa.app.feedback import FeedbackStore
from govqa.app.result import MAX_QUESTION_CHARS, AskResult, QuestionError
from govqa.index.retriever import FilterError, Filters
from govqa.settings import Settings, redact_url

if TYPE_CHECKING:
    from govqa.app.pipeline import LivePipeline, Pipeline

logger = logging.getLogger(__name__)

TYPING = '<span class="govqa-typing">…</span>'


def evidence_panel(blocks: list[str]) -> str:
    """The evidence panel's HTML: the blocks newest first, or a hint when there are none."""
    if not blocks:
        return '<div class="govqa-empty">Click a [n] marker in an answer to see the quoted passage here.</div>'
    return "".join(reversed(blocks))


class ChatUpdate(NamedTuple):
    """One state of the page while a reply streams (the order of the page's outputs)."""

    textbox: str  # the question box, cleared once a question is taken
    chat: list[dict[str, Any]]  # chat messages, role and HTML content
    evidence_html: str  # the evidence panel, newest turn first
    evidence_blocks: list[str]  # one evidence block per answered turn, oldest first
    plain: str  # the last answer as plain text with references
    markdown: str  # the last answer as Markdown with footnotes
    turns: list[dict[str, Any]]  # the session's turns (see ChatService.turn_record)


@dataclass
class PageState:
    """The session state one reply changes; ``update`` copies it, so earlier updates stay as they were."""

    chat: list[dict[str, Any]]
    evidence: list[str]
    turns: list[dict[str, Any]]

    def update(self, plain: str = "", markdown: str = "") -> ChatUpdate:
        return ChatUpdate(
            "", list(self.chat), evidence_panel(self.evidence), list(self.evidence), plain, markdown, list(self.turns)
        )


MAX_COMMENT_CHARS = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_CHAT_MESSAGES = 400  # the chat history the browser sends back with each question
MAX_CHAT_CHARS = 4_000_000


def pipeline_config(settings: Settings) -> dict[str, Any]:
    """The settings stored with each rating, without secrets (keys, logins, credentials in URLs)."""
    config = settings.model_dump(mode="json", exclude={"auth": True, "llm": {"api_key"}})
    config["llm"]["base_url"] = redact_url(config["llm"]["base_url"])
    return config


def clean_text(value: object) -> str:
    """Event input as text: anything but a string is empty, and lone surrogates (which cannot be
    encoded and would cut the response stream) become U+FFFD."""
    if not isinstance(value, str):
        return ""
    return _SURROGATE.sub("\ufffd", value)


def clean_choices(value: object, allowed: set[str] | None = None) -> list[str]:
    """A list-of-strings event input; a lone string is one choice, other types are none."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    texts = [clean_text(v)[:200] for v in items[:50] if isinstance(v, str)]
    return [t for t in texts if allowed is None or t in allowed]


def chat_history(value: object) -> list[dict[str, Any]]:
    """The browser's copy of the chat, kept when it has the shape the page gives it: a bounded list of messages.

    Gradio sends message content back as a string or as a list of parts, so only the size is checked.
    """
    if not isinstance(value, list) or len(value) > MAX_CHAT_MESSAGES:
        return []
    messages = [m for m in value if isinstance(m, dict) and "content" in m]
    if sum(len(str(m["content"])) for m in messages) > MAX_CHAT_CHARS:
        return []
    return messages


def make_filters(
    lang: str | None, jurisdiction: list[str] | None, company: list[str] | None, source: list[str] | None = None
) -> Filters:
    """Filters from the page's controls; "both" or nothing selected means no restriction."""
    langs = [] if lang in (None, "", "both") else [lang]
    return Filters(
        lang=langs, jurisdiction=list(jurisdiction or []), company=list(company or []), source=list(source or [])
    )


def answer_pieces(answer: str) -> list[str]:
    """The answer cut after each citation marker; the pieces join back to the answer exactly."""
    pieces = re.finditer(rf".*?(?:{MARKER.pattern}\s*|$)", answer, flags=re.S)
    return [piece.group(0) for piece in pieces if piece.group(0)]


def answer_stream(answerer: Answerer, question: str, filters: Filters) -> Iterator[str | AskResult]:
    """Pieces of answer text as they are composed, then the AskResult.

    Answerers that stream (an LLM) are passed through; for the others the finished
    answer is sent sentence by sentence, so the page behaves the same.
    """
    streaming = as_streaming(answerer)
    if streaming is not None:
        yield from streaming.stream(question, filters)
        return
    result = answerer.ask(question, filters)
    yield from answer_pieces(result.answer)
    yield result


class ChatService:
    """What the page does, separate from the Gradio layout so it can be tested directly."""

    def __init__(
        self,
        pipeline: Pipeline | LivePipeline,
        settings: Settings,
        feedback: FeedbackStore,
        file_roots: Sequence[Path] = (),
    ) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self.feedback = feedback
        self.file_roots = list(file_roots)  # folders of your own documents the chat serves (launch allowed_paths)
        documents = pipeline.index.documents
        self.company_names = company_names(documents.values())
        self.entities = company_entities(self.company_names)

    def company_choices(self) -> list[tuple[str, str]]:
        return [(name, slug) for slug, name in self.company_names.items()]

    def _document(self, doc_id: str) -> Any:
        return self.pipeline.index.documents.get(doc_id)

    def _twin(self, doc_id: str) -> Any:
        doc = self._document(doc_id)
        return self._document(doc.twin_id) if doc is not None and doc.twin_id else None

    def turn_record(self, asked: str, resolution: Resolution, result: AskResult | None) -> dict[str, Any]:
        """One turn as kept in the session state (plain data)."""
        pages: list[PageRef] = []
        for citation in result.citations if result else []:
            doc, twin = self._document(citation.doc_id), self._twin(citation.doc_id)
            if doc is None or any(p.title == doc.title for p in pages):
                continue
            pages.append(page_ref(doc, twin))
        return {
            "asked": asked,
            "question": resolution.question,
            "pages": pages,
            "result": result.to_json() if result else None,
        }

    def resolve(self, question: str, turns: list[dict[str, Any]]) -> Resolution:
        history = [Turn(t["question"], tuple(t["pages"])) for t in turns if t.get("result")]
        # An LLM answerer may rewrite the follow-up; the rules are its fallback.
        rewriter = as_followup_rewriter(self.pipeline.answerer)
        return resolve_followup(question, history, rewriter.rewrite_followup if rewriter else None, self.entities)

    def panels(self, result: AskResult, turn: int) -> list[str]:
        cited = result.nearest if result.abstained else result.citations
        if self.file_roots:
            cited = [replace(c, url=render.served_url(c.url, self.file_roots)) for c in cited]
        return [render.citation_panel_html(c, turn, self._document(c.doc_id), self._twin(c.doc_id)) for c in cited]

    def respond(
        self,
        message: str,
        chat: list[dict[str, Any]] | None,
        turns: list[dict[str, Any]] | None,
        evidence: list[str] | None,
        lang: str | None,
        jurisdiction: list[str] | None,
        company: list[str] | None,
        source: list[str] | None = None,
    ) -> Iterator[ChatUpdate]:
        """Stream one reply: a placeholder at once, the answer as it is composed, then the cited answer.

        Each update holds fresh lists, so a consumer may keep earlier updates.
        """
        # Every input arrives from the browser and may be forged (the page's own events are
        # reachable through Gradio's queue): check types and sizes before echoing anything.
        page = PageState(
            chat_history(chat),
            list(evidence) if isinstance(evidence, list) else [],
            list(turns) if isinstance(turns, list) else [],
        )
        message = clean_text(message).strip()
        lang = clean_text(lang)
        jurisdiction, company = clean_choices(jurisdiction), clean_choices(company)
        if not message:
            yield page.update()
            return
        if len(message) > MAX_QUESTION_CHARS:
            page.chat.append(
                {
                    "role": "assistant",
                    "content": render.error_message_html(
                        f"The question is {len(message)} characters long; the limit is {MAX_QUESTION_CHARS}."
                    ),
                }
            )
            yield page.update()
            return
        turn = len(page.turns) + 1
        page.chat.append({"role": "user", "content": render.user_message_html(message)})
        page.chat.append({"role": "assistant", "content": TYPING})
        yield page.update()
        resolution = Resolution(message, message)
        result: AskResult | None = None
        try:
            resolution = self.resolve(message, page.turns)
            filters = make_filters(lang, jurisdiction, company, source)
            result = yield from self._stream_answer(resolution.question, filters, turn, page)
        except (QuestionError, FilterError) as error:
            page.chat[-1] = {"role": "assistant", "content": render.error_message_html(str(error))}
        except Exception as error:  # the page must keep working: log it, tell the user briefly
            logger.exception("web_answer_failed question=%r", message)
            page.chat[-1] = {
                "role": "assistant",
                "content": render.error_message_html(
                    f"Something went wrong while answering ({type(error).__name__}). Please try again or rephrase the question."
                ),
            }
        page.turns.append(self.turn_record(message, resolution, result))
        yield page.update() if result is None else self._finished(result, resolution, turn, page)

    def _stream_answer(
        self, question: str, filters: Filters, turn: int, page: PageState
    ) -> Generator[ChatUpdate, None, AskResult]:
        """Show the answer's text as it arrives (the last chat message grows); return the AskResult."""
        text = ""
        result: AskResult | None = None
        for piece in answer_stream(self.pipeline.answerer, question, filters):
            if isinstance(piece, str):
                text += piece
                page.chat[-1] = {"role": "assistant", "content": render.answer_html(text, turn) + TYPING}
                yield page.update()
            else:
                result = piece
        if result is None:
            raise RuntimeError("the answer backend finished without a result")
        return result

    def _finished(self, result: AskResult, resolution: Resolution, turn: int, page: PageState) -> ChatUpdate:
        """The final update: the cited answer, its evidence panels and the copyable versions."""
        page.chat[-1] = {
            "role": "assistant",
            "content": render.assistant_message_html(
                result.answer,
                result.citations,
                turn,
                abstained=result.abstained,
                nearest=result.nearest,
                resolved_question=resolution.question if resolution.changed else "",
                notice=result.notice,
            ),
        }
        cited = result.nearest if result.abstained else result.citations
        page.evidence.append(render.evidence_html(turn, resolution.question, self.panels(result, turn), cited))
        plain = format_plain(result.answer, result.citations)
        markdown = format_markdown_footnotes(result.answer, result.citations)
        return page.update(plain, markdown)

    def ask_json(
        self,
        question: str,
        lang: list[str] | None = None,
        jurisdiction: list[str] | None = None,
        company: list[str] | None = None,
    ) -> dict[str, Any]:
        """The ``ask`` API: the same object as ``govqa ask --json``."""
        filters = Filters(lang=lang or [], jurisdiction=jurisdiction or [], company=company or [])
        return self.pipeline.ask(question, filters).to_json()

    def rate(
        self, turns: list[dict[str, Any]] | None, index: Any, liked: Any, comment: str = ""
    ) -> tuple[str, int | None]:
        """Store a thumbs up/down for the answer at chat message ``index``; returns (status, row id)."""
        position = index[0] if isinstance(index, list | tuple) and index else index
        comment = clean_text(comment)
        if not isinstance(position, int) or isinstance(position, bool):
            return "There is no answer to rate there.", None
        if len(comment) > MAX_COMMENT_CHARS:
            return f"The comment is {len(comment)} characters long; the limit is {MAX_COMMENT_CHARS}.", None
        turn_index = position // 2  # messages alternate: question, answer
        turns = turns or []
        if not 0 <= turn_index < len(turns) or turns[turn_index].get("result") is None:
            return "There is no answer to rate there.", None
        turn = turns[turn_index]
        rating = "up" if liked is True or liked == "Like" else "down"
        row_id = self.feedback.record(
            rating,
            turn["result"],
            question=turn["asked"],
            resolved_question=turn["question"],
            comment=comment or "",
            config=pipeline_config(self.settings),
        )
        return f"Thanks: thumbs {rating} saved (#{row_id}). Add a comment below if you like.", row_id

    def add_comment(self, row_id: int | None, comment: str) -> str:
        comment = clean_text(comment)
        if not isinstance(row_id, int) or isinstance(row_id, bool) or row_id <= 0:
            return "Rate an answer first (thumbs up or down), then add a comment."
        if len(comment) > MAX_COMMENT_CHARS:
            return f"The comment is {len(comment)} characters long; the limit is {MAX_COMMENT_CHARS}."
        if not comment.strip():
            return "The comment is empty."
        return "Comment saved." if self.feedback.set_comment(row_id, comment) else "That rating no longer exists."
