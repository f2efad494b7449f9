"""The Gradio web chat: ask, read the cited passages, rate the answer; and the ``ask`` API.

``build_app(pipeline, settings)`` makes the page from a ready pipeline (tests launch it);
``serve(settings)`` builds the pipeline and launches it (``govqa serve``). All HTML comes
from ``govqa.app.render``, which escapes everything from the corpus and the user.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from govqa.app import render
from govqa.app.conversation import (
    PageRef,
    Resolution,
    Turn,
    company_entities,
    company_names,
    page_ref,
    resolve_followup,
)
from govqa.app.engine import AskResult, QuestionError
from govqa.app.feedback import FeedbackStore, feedback_path
from govqa.index.retriever import Filters
from govqa.settings import Settings

logger = logging.getLogger(__name__)

EXAMPLES = [
    "Under the EU AI Act, what is the maximum fine for prohibited AI practices?",
    "What must providers do to label AI-generated content in China?",
    "欧盟《数字服务法》规定的超大型在线平台门槛是多少月活用户？",
    "中国的生成式人工智能服务管理暂行办法什么时候施行？",
]
LANGUAGE_CHOICES = [("EN + ZH", "both"), ("English", "en"), ("中文", "zh")]
JURISDICTION_CHOICES = [("China", "china"), ("EU", "eu"), ("US", "us"), ("International", "international")]
TYPING = '<span class="govqa-typing">…</span>'

# Opens the citation panel when a [n] marker is clicked. Chromium already opens a closed
# <details> on fragment navigation; this also marks the panel and works in other browsers.
CITATION_JS = """
if (!window.__govqaCitations) {
  window.__govqaCitations = true;
  document.addEventListener('click', function (event) {
    var link = event.target && event.target.closest ? event.target.closest('a[href^="#cite-"]') : null;
    if (!link) return;
    var id = link.getAttribute('href').slice(1);
    var target = document.getElementById(id);
    if (!target) return;
    event.preventDefault();
    var panel = target.closest('details');
    if (panel) panel.open = true;
    document.querySelectorAll('.govqa-active').forEach(function (e) { e.classList.remove('govqa-active'); });
    target.classList.add('govqa-active');
    target.scrollIntoView({block: 'center'});
    history.replaceState(null, '', '#' + id);
  });
}
"""

EVIDENCE_CSS = """
.govqa-citation { border: 1px solid var(--border-color-primary); border-radius: 6px; margin: 6px 0; padding: 4px 8px; }
.govqa-citation summary { cursor: pointer; font-weight: 600; }
.govqa-meta { font-size: 0.85em; opacity: 0.8; margin: 4px 0; }
.govqa-passage { white-space: normal; margin: 6px 0; padding-left: 8px; border-left: 3px solid var(--border-color-accent); }
.govqa-quote { background: #fff3a3; color: #111; }
.govqa-active { outline: 2px solid var(--color-accent); }
.govqa-turn { margin-bottom: 12px; }
.govqa-turn-head { margin-bottom: 4px; }
.govqa-asof { font-size: 0.85em; opacity: 0.8; }
"""

CHAT_CSS = """
.govqa-resolved, .govqa-asof, .govqa-notice { font-size: 0.85em; opacity: 0.8; margin-top: 6px; }
.govqa-sources, .govqa-nearest { margin-top: 8px; font-size: 0.9em; }
.govqa-error { color: var(--error-text-color, #b91c1c); }
"""


def parse_auth(settings: Settings) -> tuple[str, str] | None:
    """GOVQA_AUTH=user:password as Gradio's (user, password); None when no login is wanted."""
    if settings.auth is None:
        return None
    user, sep, password = settings.auth.get_secret_value().partition(":")
    if not sep or not user or not password:
        raise ValueError("GOVQA_AUTH must look like user:password, both parts non-empty.")
    return user, password


def pipeline_config(settings: Settings) -> dict[str, Any]:
    """The settings stored with each rating, without secrets."""
    return settings.model_dump(mode="json", exclude={"auth": True, "llm": {"api_key"}})


def make_filters(lang: str | None, jurisdiction: list[str] | None, company: list[str] | None) -> Filters:
    """Filters from the page's controls; "both" or nothing selected means no restriction."""
    langs = [] if lang in (None, "", "both") else [lang]
    return Filters(lang=langs, jurisdiction=list(jurisdiction or []), company=list(company or []))


def answer_pieces(answer: str) -> list[str]:
    """The answer cut after each citation marker; the pieces join back to the answer exactly."""
    return [piece for piece in re.findall(r".*?(?:\[\d+\]\s*|$)", answer, flags=re.S) if piece]


def answer_stream(answerer: Any, question: str, filters: Filters) -> Iterator[str | AskResult]:
    """Pieces of answer text as they are composed, then the AskResult.

    Answerers with their own ``stream`` (an LLM) are passed through; for the others the
    finished answer is sent sentence by sentence, so the page behaves the same.
    """
    if hasattr(answerer, "stream"):
        yield from answerer.stream(question, filters)
        return
    result = answerer.ask(question, filters)
    yield from answer_pieces(result.answer)
    yield result


class ChatService:
    """What the page does, separate from the Gradio layout so it can be tested directly."""

    def __init__(self, pipeline: Any, settings: Settings, feedback: FeedbackStore) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self.feedback = feedback
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
        # Hook: an LLM answerer may offer ``rewrite_followup(question, history)``; the rules are its fallback.
        rewriter = getattr(self.pipeline.answerer, "rewrite_followup", None)
        return resolve_followup(question, history, rewriter, self.entities)

    def panels(self, result: AskResult, turn: int) -> list[str]:
        cited = result.nearest if result.abstained else result.citations
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
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one reply. Yields (textbox, chat, evidence_html, evidence_blocks, plain, markdown, turns).

        Each update holds fresh lists, so a consumer may keep earlier updates.
        """
        from govqa.app.citations import format_markdown_footnotes, format_plain

        chat, turns, evidence = list(chat or []), list(turns or []), list(evidence or [])
        message = (message or "").strip()
        if not message:
            yield "", list(chat), self._evidence(evidence), list(evidence), "", "", list(turns)
            return
        turn = len(turns) + 1
        chat.append({"role": "user", "content": render.user_message_html(message)})
        chat.append({"role": "assistant", "content": TYPING})
        yield "", list(chat), self._evidence(evidence), list(evidence), "", "", list(turns)
        resolution = Resolution(message, message)
        result: AskResult | None = None
        try:
            resolution = self.resolve(message, turns)
            filters = make_filters(lang, jurisdiction, company)
            text = ""
            for piece in answer_stream(self.pipeline.answerer, resolution.question, filters):
                if isinstance(piece, str):
                    text += piece
                    chat[-1] = {"role": "assistant", "content": render.answer_html(text, turn) + TYPING}
                    yield "", list(chat), self._evidence(evidence), list(evidence), "", "", list(turns)
                else:
                    result = piece
            if result is None:
                raise RuntimeError("the answer backend finished without a result")
        except QuestionError as error:
            chat[-1] = {"role": "assistant", "content": render.error_message_html(str(error))}
        except Exception as error:  # the page must keep working: log it, tell the user briefly
            logger.exception("web_answer_failed question=%r", message)
            chat[-1] = {
                "role": "assistant",
                "content": render.error_message_html(
                    f"Something went wrong while answering ({type(error).__name__}). Please try again or rephrase the question."
                ),
            }
        turns.append(self.turn_record(message, resolution, result))
        if result is None:
            yield "", list(chat), self._evidence(evidence), list(evidence), "", "", list(turns)
            return
        chat[-1] = {
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
        evidence.append(render.evidence_html(turn, resolution.question, self.panels(result, turn), cited))
        yield (
            "",
            list(chat),
            self._evidence(evidence),
            list(evidence),
            format_plain(result.answer, result.citations),
            format_markdown_footnotes(result.answer, result.citations),
            list(turns),
        )

    @staticmethod
    def _evidence(blocks: list[str]) -> str:
        if not blocks:
            return '<div class="govqa-empty">Click a [n] marker in an answer to see the quoted passage here.</div>'
        return "".join(reversed(blocks))  # newest first

    def ask_json(
        self,
        question: str,
        lang: list[str] | None = None,
        jurisdiction: list[str] | None = None,
        company: list[str] | None = None,
    ) -> dict[str, Any]:
        """The ``ask`` API: the same object as ``govqa ask --json``."""
        filters = Filters(lang=list(lang or []), jurisdiction=list(jurisdiction or []), company=list(company or []))
        return self.pipeline.ask(question, filters).to_json()  # type: ignore[no-any-return]

    def rate(
        self, turns: list[dict[str, Any]] | None, index: Any, liked: Any, comment: str = ""
    ) -> tuple[str, int | None]:
        """Store a thumbs up/down for the answer at chat message ``index``; returns (status, row id)."""
        position = index[0] if isinstance(index, list | tuple) else index
        turn_index = int(position) // 2  # messages alternate: question, answer
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
        if not row_id:
            return "Rate an answer first (thumbs up or down), then add a comment."
        if not comment.strip():
            return "The comment is empty."
        return "Comment saved." if self.feedback.set_comment(row_id, comment) else "That rating no longer exists."


def build_app(pipeline: Any, settings: Settings, feedback: FeedbackStore | None = None) -> Any:
    """The page as a gr.Blocks (launch it yourself, or use ``serve``)."""
    import gradio as gr

    service = ChatService(pipeline, settings, feedback or FeedbackStore(feedback_path(settings.data_dir)))

    with gr.Blocks(title="govqa — cited answers on AI governance", analytics_enabled=False) as demo:
        gr.Markdown(
            "### govqa: cited answers on AI governance\n"
            "Ask in English or Chinese. Every sentence of an answer is quoted from a page; "
            "click a **[n]** marker to read the passage in its section."
        )
        turns = gr.State([])
        evidence_blocks = gr.State([])
        last_rating = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    elem_id="govqa-chat",
                    height=520,
                    render_markdown=False,  # messages are HTML built (and escaped) by render.py
                    sanitize_html=True,
                    allow_tags=False,
                    feedback_options=("Like", "Dislike"),
                    placeholder="Ask a question, or pick an example below.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="e.g. When did the EU AI Act enter into force? / 欧盟人工智能法什么时候生效？",
                        show_label=False,
                        scale=5,
                        elem_id="govqa-question",
                        max_length=2000,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="govqa-send")
                gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[box], label="Examples")
                with gr.Row():
                    comment = gr.Textbox(
                        placeholder="Optional comment on your thumbs up/down: what was wrong or missing?",
                        show_label=False,
                        scale=5,
                        elem_id="govqa-comment",
                    )
                    save_comment = gr.Button("Save comment", scale=1, elem_id="govqa-save-comment")
                feedback_status = gr.Markdown("", elem_id="govqa-feedback-status")
            with gr.Column(scale=2):
                with gr.Accordion("Filters", open=True):
                    lang = gr.Radio(LANGUAGE_CHOICES, value="both", label="Language of sources", elem_id="govqa-lang")
                    jurisdiction = gr.CheckboxGroup(
                        JURISDICTION_CHOICES, label="Jurisdiction (none = all)", elem_id="govqa-jurisdiction"
                    )
                    company = gr.Dropdown(
                        service.company_choices(),
                        multiselect=True,
                        label="Company (none = all)",
                        elem_id="govqa-company",
                    )
                evidence = gr.HTML(
                    service._evidence([]),
                    elem_id="govqa-evidence",
                    css_template=EVIDENCE_CSS,
                    js_on_load=CITATION_JS,
                    max_height=640,
                )
                with gr.Accordion("Copy the last answer", open=False):
                    with gr.Row():
                        copy_plain = gr.Button("Copy as plain text", size="sm", elem_id="govqa-copy-plain")
                        copy_markdown = gr.Button(
                            "Copy as Markdown footnotes", size="sm", elem_id="govqa-copy-markdown"
                        )
                    plain = gr.Textbox(
                        label="Plain text with references",
                        lines=6,
                        interactive=False,
                        buttons=["copy"],
                        elem_id="govqa-plain",
                    )
                    markdown = gr.Textbox(
                        label="Markdown with footnotes",
                        lines=6,
                        interactive=False,
                        buttons=["copy"],
                        elem_id="govqa-markdown",
                    )

        respond: dict[str, Any] = dict(
            fn=service.respond,
            inputs=[box, chatbot, turns, evidence_blocks, lang, jurisdiction, company],
            outputs=[box, chatbot, evidence, evidence_blocks, plain, markdown, turns],
            api_visibility="private",
            show_progress="hidden",
        )
        box.submit(**respond)
        send.click(**respond)

        def on_like(turns_value: list[dict[str, Any]], comment_value: str, data: gr.LikeData) -> tuple[str, int | None]:
            return service.rate(turns_value, data.index, data.liked, comment_value)

        # Gradio finds the LikeData argument by its annotation, which must be the class itself
        # (this module's annotations are strings, and gradio is imported locally).
        on_like.__annotations__["data"] = gr.LikeData

        chatbot.like(on_like, inputs=[turns, comment], outputs=[feedback_status, last_rating], api_visibility="private")
        save_comment.click(
            service.add_comment, inputs=[last_rating, comment], outputs=[feedback_status], api_visibility="private"
        )
        copy_js = "(text) => { if (navigator.clipboard) { navigator.clipboard.writeText(text || ''); } return []; }"
        copy_plain.click(None, inputs=[plain], js=copy_js, api_visibility="private")
        copy_markdown.click(None, inputs=[markdown], js=copy_js, api_visibility="private")

        def ask(
            question: str,
            lang: list[str] | None = None,
            jurisdiction: list[str] | None = None,
            company: list[str] | None = None,
        ) -> dict:  # type: ignore[type-arg]
            """Answer a question; returns the same object as `govqa ask --json`."""
            try:
                return service.ask_json(question, lang, jurisdiction, company)
            except QuestionError as error:
                raise gr.Error(str(error)) from None
            except Exception as error:
                logger.exception("api_ask_failed question=%r", question)
                raise gr.Error(f"Something went wrong while answering ({type(error).__name__}).") from None

        gr.api(ask, api_name="ask")
    return demo


def serve(settings: Settings) -> None:
    """Serve the chat and the APIs as one ASGI app (``govqa serve``); see ``govqa.app.server``."""
    from govqa.app.server import serve as serve_asgi

    serve_asgi(settings)
