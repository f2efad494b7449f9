"""The Gradio web chat: ask, read the cited passages, rate the answer; and the ``ask`` API.

``build_app(pipeline, settings)`` makes the page from a ready pipeline (tests launch it);
``serve(settings)`` builds the pipeline and launches it (``govqa serve``). What the page
does lives in ``govqa.app.chat``; this module only lays it out and wires its events.
The page's CSS and JavaScript are files in ``app/static``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from govqa.app.chat import ChatService, ChatUpdate, evidence_panel
from govqa.app.feedback import FeedbackStore, feedback_path
from govqa.app.result import MAX_QUESTION_CHARS, QuestionError
from govqa.index.retriever import FilterError
from govqa.settings import Settings

if TYPE_CHECKING:
    import gradio as gr

    from govqa.app.pipeline import LivePipeline, Pipeline

logger = logging.getLogger(__name__)

EXAMPLES = [
    "Under the EU AI Act, what is the maximum fine for prohibited AI practices?",
    "What must providers do to label AI-generated content in China?",
    "欧盟《数字服务法》规定的超大型在线平台门槛是多少月活用户？",
    "中国的生成式人工智能服务管理暂行办法什么时候施行？",
]
SOURCE_CHOICES = [("Site pages", "site"), ("Official texts", "official")]
LANGUAGE_CHOICES = [("EN + ZH", "both"), ("English", "en"), ("中文", "zh")]
JURISDICTION_CHOICES = [("China", "china"), ("EU", "eu"), ("US", "us"), ("International", "international")]

STATIC = resources.files("govqa.app") / "static"


def static_text(name: str) -> str:
    """A file of app/static (CSS or JS the page embeds)."""
    return (STATIC / name).read_text(encoding="utf-8")


def parse_auth(settings: Settings) -> tuple[str, str] | None:
    """GOVQA_AUTH=user:password as Gradio's (user, password); None when no login is wanted."""
    if settings.auth is None:
        return None
    user, sep, password = settings.auth.get_secret_value().partition(":")
    if not sep or not user or not password:
        raise ValueError("GOVQA_AUTH must look like user:password, both parts non-empty.")
    return user, password


@dataclass
class Page:
    """The components that the page's events read or write."""

    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    comment: gr.Textbox
    save_comment: gr.Button
    feedback_status: gr.Markdown
    lang: gr.Radio
    jurisdiction: gr.CheckboxGroup
    company: gr.Dropdown
    source: gr.CheckboxGroup
    evidence: gr.HTML
    copy_plain: gr.Button
    copy_markdown: gr.Button
    plain: gr.Textbox
    markdown: gr.Textbox
    turns: gr.State  # ChatService turn records
    evidence_blocks: gr.State  # one evidence block per answered turn
    last_rating: gr.State  # feedback row id of the last thumbs up/down, for its comment


def build_app(
    pipeline: Pipeline | LivePipeline, settings: Settings, feedback: FeedbackStore | None = None
) -> gr.Blocks:
    """The page as a gr.Blocks (launch it yourself, or use ``serve``)."""
    import gradio as gr

    from govqa.app.pipeline import local_file_roots

    service = ChatService(
        pipeline, settings, feedback or FeedbackStore(feedback_path(settings.data_dir)), local_file_roots(settings)
    )
    demo = gr.Blocks(title="govqa — cited answers on AI governance", analytics_enabled=False)
    with demo:
        gr.Markdown(
            "### govqa: cited answers on AI governance\n"
            "Ask in English or Chinese. Every sentence of an answer is quoted from a page; "
            "click a **[n]** marker to read the passage in its section."
        )
        page = layout(service)
        wire_chat(page, service)
        wire_feedback(page, service)
        wire_copy(page)
        add_ask_api(service)
    return demo


def layout(service: ChatService) -> Page:
    """The chat column (left) and the filters, evidence and copy column (right)."""
    import gradio as gr

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
                    max_length=MAX_QUESTION_CHARS,
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
                source = gr.CheckboxGroup(SOURCE_CHOICES, label="Source (none = both)", elem_id="govqa-source")
            evidence = gr.HTML(
                evidence_panel([]),
                elem_id="govqa-evidence",
                css_template=static_text("evidence.css"),
                js_on_load=static_text("citations.js"),
                max_height=640,
            )
            with gr.Accordion("Copy the last answer", open=False):
                with gr.Row():
                    copy_plain = gr.Button("Copy as plain text", size="sm", elem_id="govqa-copy-plain")
                    copy_markdown = gr.Button("Copy as Markdown footnotes", size="sm", elem_id="govqa-copy-markdown")
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
    return Page(
        chatbot,
        box,
        send,
        comment,
        save_comment,
        feedback_status,
        lang,
        jurisdiction,
        company,
        source,
        evidence,
        copy_plain,
        copy_markdown,
        plain,
        markdown,
        turns,
        evidence_blocks,
        last_rating,
    )


def wire_chat(page: Page, service: ChatService) -> None:
    """Enter or the Ask button streams a reply; outputs follow the fields of ChatUpdate."""
    outputs = {
        "textbox": page.box,
        "chat": page.chatbot,
        "evidence_html": page.evidence,
        "evidence_blocks": page.evidence_blocks,
        "plain": page.plain,
        "markdown": page.markdown,
        "turns": page.turns,
    }
    respond: dict[str, Any] = dict(
        fn=service.respond,
        inputs=[
            page.box,
            page.chatbot,
            page.turns,
            page.evidence_blocks,
            page.lang,
            page.jurisdiction,
            page.company,
            page.source,
        ],
        outputs=[outputs[name] for name in ChatUpdate._fields],
        api_visibility="private",
        show_progress="hidden",
    )
    page.box.submit(**respond)
    page.send.click(**respond)


def wire_feedback(page: Page, service: ChatService) -> None:
    """Thumbs up/down on an answer, and an optional comment on the last rating."""
    import gradio as gr

    def on_like(turns_value: list[dict[str, Any]], comment_value: str, data: gr.LikeData) -> tuple[str, int | None]:
        return service.rate(turns_value, data.index, data.liked, comment_value)

    # Gradio finds the LikeData argument by its annotation, which must be the class itself
    # (this module's annotations are strings, and gradio is imported locally).
    on_like.__annotations__["data"] = gr.LikeData

    page.chatbot.like(
        on_like,
        inputs=[page.turns, page.comment],
        outputs=[page.feedback_status, page.last_rating],
        api_visibility="private",
    )
    page.save_comment.click(
        service.add_comment,
        inputs=[page.last_rating, page.comment],
        outputs=[page.feedback_status],
        api_visibility="private",
    )


def wire_copy(page: Page) -> None:
    """The copy buttons write the last answer to the clipboard in the browser."""
    copy_js = static_text("copy.js")
    page.copy_plain.click(None, inputs=[page.plain], js=copy_js, api_visibility="private")
    page.copy_markdown.click(None, inputs=[page.markdown], js=copy_js, api_visibility="private")


def add_ask_api(service: ChatService) -> None:
    """The ``/ask`` API endpoint (gradio_client), with errors as short gr.Error messages."""
    import gradio as gr
    from gradio.events import api  # where gr.api lives (gradio's __init__ does not list it in __all__)

    def ask(
        question: str,
        lang: list[str] | None = None,
        jurisdiction: list[str] | None = None,
        company: list[str] | None = None,
    ) -> dict[str, Any]:
        """Answer a question; returns the same object as `govqa ask --json`."""
        try:
            return service.ask_json(question, lang, jurisdiction, company)
        except (QuestionError, FilterError) as error:
            raise gr.Error(str(error)) from None
        except Exception as error:
            logger.exception("api_ask_failed question=%r", question)
            raise gr.Error(f"Something went wrong while answering ({type(error).__name__}).") from None

    api(ask, api_name="ask")


def serve(settings: Settings) -> None:
    """Serve the chat and the APIs as one ASGI app (``govqa serve``); see ``govqa.app.server``."""
    from govqa.app.server import serve as serve_asgi

    serve_asgi(settings)
