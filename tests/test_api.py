"""The JSON API of `govqa serve`: /api/ask (whole and streamed), /api/health, OpenAPI, limits, keys.

A real `govqa serve` subprocess over the fixture corpus (fake embedder), spoken to over HTTP.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers import serving

EN_QUESTION = "When did the Widget Safety Act enter into force?"
ZH_QUESTION = "小部件安全法什么时候施行？"


def post(url: str, body: dict[str, Any], token: str | None = None) -> tuple[int, bytes, str]:
    """(status, body, content type) of a JSON POST; HTTP errors are returned, not raised."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def events(body: bytes) -> list[tuple[str, Any]]:
    """Server-sent events as (event, parsed data)."""
    parsed = []
    for block in body.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields:
            parsed.append((fields["event"], json.loads(fields["data"])))
    return parsed


def contract(result: dict[str, Any]) -> dict[str, Any]:
    """The ask object without its timings, which differ between runs."""
    return {k: v for k, v in result.items() if k != "timings_ms"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("api-data"), GOVQA_SERVER_WORKERS="3") as url:
        yield url


def test_ask_returns_the_ask_json_object(server: str, fixture_pipeline: Any) -> None:
    status, body, _ = post(server + "api/ask", {"question": EN_QUESTION})
    assert status == 200
    assert contract(json.loads(body)) == contract(fixture_pipeline.ask(EN_QUESTION).to_json())


def test_ask_applies_filters(server: str) -> None:
    status, body, _ = post(server + "api/ask", {"question": ZH_QUESTION, "filters": {"lang": ["zh"]}})
    citations = json.loads(body)["citations"]
    assert status == 200 and citations and all(c["lang"] == "zh" for c in citations)


def test_streamed_ask_sends_tokens_then_the_checked_object(server: str, fixture_pipeline: Any) -> None:
    status, body, content_type = post(server + "api/ask", {"question": EN_QUESTION, "stream": True})
    assert status == 200 and content_type.startswith("text/event-stream")
    sent = events(body)
    kinds = [kind for kind, _ in sent]
    assert kinds[-1] == "result" and set(kinds[:-1]) == {"token"}
    result = sent[-1][1]
    assert "".join(data["text"] for _, data in sent[:-1]) == result["answer"]
    assert contract(result) == contract(fixture_pipeline.ask(EN_QUESTION).to_json())


def test_history_resolves_a_follow_up(server: str) -> None:
    _, first, _ = post(server + "api/ask", {"question": "What does the Widget Safety Act apply to?"})
    status, body, _ = post(server + "api/ask", {"question": "它什么时候生效？", "history": [json.loads(first)]})
    assert status == 200
    assert json.loads(body)["question"] == "小部件安全法什么时候生效？"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"question": "x" * 2001}, 422, "at most 2000 characters"),
        ({"question": ""}, 422, "at least 1 character"),
        ({"question": "   "}, 400, "The question is empty"),
        ({"question": EN_QUESTION, "filters": {"lang": ["fr"]}}, 422, "'en' or 'zh'"),
        ({"question": EN_QUESTION, "filters": {"jurisdiction": ["mars"]}}, 422, "'international'"),
        ({"question": EN_QUESTION, "history": [{"question": "q"}] * 51}, 422, "at most 50 items"),
        ({"question": EN_QUESTION, "top_k": 3}, 422, "Extra inputs are not permitted"),
        ({"filters": {}}, 422, "Field required"),
    ],
)
def test_requests_beyond_the_chat_limits_are_refused(
    server: str, body: dict[str, Any], status: int, message: str
) -> None:
    got, text, _ = post(server + "api/ask", body)
    assert got == status and message in text.decode()


def test_health_names_index_and_components(server: str, fixture_pipeline: Any) -> None:
    health = get_json(server + "api/health")
    assert health["status"] == "ok"
    assert health["chunks"] == len(fixture_pipeline.index.chunks)
    assert health["documents"] == len(fixture_pipeline.index.documents)
    assert (health["embedder"], health["backend"], health["workers"]) == ("fake", "extractive", 3)
    assert "generation" in health


def test_openapi_describes_the_api(server: str) -> None:
    spec = get_json(server + "api/openapi.json")
    assert {"/api/ask", "/api/health", "/v1/models", "/v1/chat/completions"} <= set(spec["paths"])
    ask_body = spec["components"]["schemas"]["AskRequest"]["properties"]
    assert ask_body["question"]["maxLength"] == 2000


def test_chat_page_is_still_served(server: str) -> None:
    with urllib.request.urlopen(server, timeout=30) as response:
        assert response.status == 200 and "gradio" in response.read().decode().lower()


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("api-keys"), GOVQA_API_KEYS="first-key, second-key") as url:
        yield url


def test_api_keys_are_required_when_set(keyed_server: str) -> None:
    assert post(keyed_server + "api/ask", {"question": EN_QUESTION})[0] == 401
    assert post(keyed_server + "api/ask", {"question": EN_QUESTION}, token="wrong")[0] == 401
    assert post(keyed_server + "api/ask", {"question": EN_QUESTION}, token="second-key")[0] == 200


def test_a_chat_login_is_not_bypassed_without_keys(tmp_path: Path) -> None:
    with serving(tmp_path, GOVQA_AUTH="ana:secret") as url:
        status, body, _ = post(url + "api/ask", {"question": EN_QUESTION})
    assert status == 401 and "GOVQA_API_KEYS" in body.decode()
