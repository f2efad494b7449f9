"""The OpenAI-compatible endpoint, driven by the official `openai` client against a real `govqa serve`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from govqa.app.openai_compat import ChatMessage, available_models, conversation, sources_markdown

from conftest import fixture_settings
from servers import serving

EN_QUESTION = "When did the Widget Safety Act enter into force?"
ZH_QUESTION = "小部件安全法什么时候施行？"
OFF_TOPIC = "What is the boiling point of mercury?"
KEY = "test-key-1"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    with serving(tmp_path_factory.mktemp("openai-data"), GOVQA_API_KEYS=f"{KEY},other") as url:
        yield openai.OpenAI(base_url=url + "v1", api_key=KEY, max_retries=0, timeout=60)


def ask(client: openai.OpenAI, *messages: dict[str, str]) -> Any:
    return client.chat.completions.create(model="govqa", messages=list(messages))  # type: ignore[arg-type]


def streamed(client: openai.OpenAI, *messages: dict[str, str]) -> tuple[str, Any]:
    """The concatenated content deltas and the last chunk."""
    stream = client.chat.completions.create(model="govqa", messages=list(messages), stream=True)  # type: ignore[arg-type]
    chunks = list(stream)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks[-1]


def expected_content(result: Any) -> str:
    return result.answer + sources_markdown(result.citations, "Sources")


def test_models_lists_govqa(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["govqa"]


def test_english_answer_carries_markers_footnotes_and_citations(client: openai.OpenAI, fixture_pipeline: Any) -> None:
    expected = fixture_pipeline.ask(EN_QUESTION)
    reply = ask(client, {"role": "user", "content": EN_QUESTION})
    message = reply.choices[0].message
    assert message.role == "assistant" and reply.choices[0].finish_reason == "stop"
    assert message.content == expected_content(expected)
    assert "[1]" in message.content and f"({expected.citations[0].url})" in message.content
    assert "#" in expected.citations[0].url  # the footnote links the section, not just the page
    assert message.model_extra["citations"] == [c.to_json() for c in expected.citations]


def test_chinese_answer_streams_the_same_content(client: openai.OpenAI, fixture_pipeline: Any) -> None:
    expected = fixture_pipeline.ask(ZH_QUESTION)
    content, last = streamed(client, {"role": "user", "content": ZH_QUESTION})
    assert content == expected_content(expected)
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] == [c.to_json() for c in expected.citations]
    assert all(c["lang"] == "zh" for c in last.model_extra["citations"])
    assert ask(client, {"role": "user", "content": ZH_QUESTION}).choices[0].message.content == content


def test_abstention_lists_the_nearest_passages(client: openai.OpenAI, fixture_pipeline: Any) -> None:
    expected = fixture_pipeline.ask(OFF_TOPIC)
    reply = ask(client, {"role": "user", "content": OFF_TOPIC})
    message = reply.choices[0].message
    assert message.content.startswith("The corpus does not cover this question")
    assert "**Nearest passages**" in message.content and message.model_extra["citations"] == []
    assert reply.model_extra["govqa"]["abstained"] and len(reply.model_extra["govqa"]["nearest"]) == len(
        expected.nearest
    )
    content, _ = streamed(client, {"role": "user", "content": OFF_TOPIC})
    assert content == message.content


def test_earlier_messages_resolve_a_follow_up(client: openai.OpenAI) -> None:
    first = {"role": "user", "content": "What does the Widget Safety Act apply to?"}
    answer = ask(client, first).choices[0].message.content
    reply = ask(
        client,
        {"role": "system", "content": "You are a helpful assistant."},
        first,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "它什么时候生效？"},
    )
    assert reply.model_extra["govqa"]["question"] == "小部件安全法什么时候生效？"


def test_mistakes_come_back_as_openai_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="govqa"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": EN_QUESTION}])
    with pytest.raises(openai.BadRequestError, match="the limit is 2000"):
        ask(client, {"role": "user", "content": "x" * 2001})
    with pytest.raises(openai.BadRequestError, match="no user message"):
        ask(client, {"role": "system", "content": "hello"})
    wrong = openai.OpenAI(base_url=str(client.base_url), api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()


def test_conversation_pairs_questions_with_the_urls_their_replies_cited() -> None:
    messages = [
        ChatMessage(role="user", content="first?"),
        ChatMessage(
            role="assistant", content="A [1]\n\n- [1] “A” — [T › S](https://x.org/en/a/#s) and https://x.org/b"
        ),
        ChatMessage(role="user", content=[{"type": "text", "text": "second?"}]),  # type: ignore[list-item]
        ChatMessage(role="user", content="third?"),
    ]
    assert conversation(messages) == (
        "third?",
        [("first?", ["https://x.org/en/a/#s", "https://x.org/b"]), ("second?", [])],
    )


def test_govqa_llm_is_listed_only_with_an_llm_backend(tmp_path: Any) -> None:
    assert available_models(fixture_settings(tmp_path)) == ["govqa"]
    with_llm = fixture_settings(tmp_path, answer={"backend": "openai"})
    assert available_models(with_llm) == ["govqa", "govqa-llm"]


def test_sources_list_escapes_brackets_in_link_text() -> None:
    from govqa.app.citations import Citation

    citation = Citation(
        n=2,
        url="https://example.org/en/a/#scope",
        page_url="https://example.org/en/a/",
        title="Act [draft]",
        section="Scope",
        lang="en",
        as_of="2026-04-21",
        edition="",
        quote="It applies to widgets.",
        source_path="a.md",
        chunk_id="c",
        doc_id="d",
        start=0,
        end=22,
    )
    assert sources_markdown([citation], "Sources") == (
        "\n\n**Sources**\n- [2] “It applies to widgets.” — [Act \\[draft\\] › Scope](https://example.org/en/a/#scope)"
    )
    assert sources_markdown([], "Sources") == ""
