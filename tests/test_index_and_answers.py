"""index/ and app/: incremental ingest, Chroma persistence, hybrid retrieval, cited answers, CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import ClassVar

import pytest
import typer
from typer.testing import CliRunner

from govqa.app.cli import app
from govqa.app.pipeline import build_pipeline, index_dir_for, open_dense, run_ingest
from govqa.app.result import QuestionError
from govqa.index import embedders
from govqa.index.retriever import Filters
from govqa.settings import PROJECT_ROOT, Settings

from conftest import fixture_settings


@pytest.fixture
def counting_embedder(monkeypatch: pytest.MonkeyPatch) -> list[embedders.FakeEmbedding]:
    """Every fake embedder built gets recorded, so tests can count embedding batches."""
    built: list[embedders.FakeEmbedding] = []

    def factory() -> embedders.FakeEmbedding:
        embedder = embedders.FakeEmbedding()
        built.append(embedder)
        return embedder

    monkeypatch.setitem(embedders.EMBEDDERS, "fake", factory)
    return built


def _copy_corpus(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "tests/fixtures/corpus", corpus)
    sources = tmp_path / "sources.toml"
    text = (
        (PROJECT_ROOT / "tests/fixtures/sources.toml")
        .read_text()
        .replace('path = "tests/fixtures/corpus"', f'path = "{corpus}"')
    )
    sources.write_text(text)
    return fixture_settings(tmp_path / "data", sources_file=sources)


def test_incremental_ingest_embeds_only_changes(
    tmp_path: Path, counting_embedder: list[embedders.FakeEmbedding]
) -> None:
    settings = _copy_corpus(tmp_path)
    first = run_ingest(settings)
    assert (first.documents, first.changed_documents, first.embedded_chunks) == (8, 8, first.chunks)
    assert len(counting_embedder) == 1
    assert sum(counting_embedder[-1].batch_sizes) == first.chunks

    again = run_ingest(settings)
    assert (again.changed_documents, again.removed_documents, again.embedded_chunks) == (0, 0, 0)
    assert counting_embedder[-1].batch_sizes == []

    page = Path(settings.sources_file).parent / "corpus/src/content/docs/en/companies/acme/index.md"
    page.write_text(page.read_text().replace("Springfield", "Shelbyville"))
    (Path(settings.sources_file).parent / "corpus/src/content/docs/en/topics/injection-test.md").unlink()
    changed = run_ingest(settings)
    ingest_batches = counting_embedder[-1].batch_sizes
    acme_chunks = [c for c in build_pipeline(settings).index.chunks.values() if c.doc_id == "fixture:en/companies/acme"]
    assert (changed.changed_documents, changed.removed_documents) == (1, 1)
    assert changed.embedded_chunks == len(acme_chunks) == sum(ingest_batches)
    assert open_dense(settings).count() == changed.chunks
    assert "Shelbyville" in build_pipeline(settings).ask("Where is Acme Widgets headquartered?").answer


def test_changed_chunking_rebuilds_with_message(tmp_path: Path) -> None:
    settings = fixture_settings(tmp_path / "data")
    run_ingest(settings)
    settings.chunking.max_chars = 300
    report = run_ingest(settings)
    assert report.rebuilt_because.startswith("settings changed (max_chars 700 → 300")
    assert report.embedded_chunks == report.chunks
    assert "Rebuilt the whole index" in report.summary()


def test_chroma_persists_across_close_and_reopen(tmp_path: Path) -> None:
    settings = fixture_settings(tmp_path / "data")
    run_ingest(settings)
    first = build_pipeline(settings).retriever.search("widget registration deadline")
    import chromadb

    chromadb.api.client.SharedSystemClient.clear_system_cache()  # drop the in-process client: a real reopen
    reopened = build_pipeline(settings)
    assert reopened.index.dense.count() == len(reopened.index.chunks)
    assert [r.chunk.id for r in reopened.retriever.search("widget registration deadline")] == [
        r.chunk.id for r in first
    ]
    assert (index_dir_for(settings) / "generations" / reopened.generation / "chroma").is_dir()


def test_extractive_answer_cites_exact_passages(fixture_pipeline) -> None:  # type: ignore[no-untyped-def]
    result = fixture_pipeline.ask("When did the Widget Safety Act enter into force?")
    assert not result.abstained
    assert result.answer.startswith("It entered into force on 1 March 2025. [1]")
    first = result.citations[0]
    assert first.quote == "It entered into force on 1 March 2025."
    assert first.url.endswith("#scope--application-art-2")
    assert first.as_of in ("2026-04-21", "2026-06-28")
    document = fixture_pipeline.index.documents[first.doc_id]
    assert document.text[first.start : first.end] == first.quote
    # The whole answer, exactly: the one quoted sentence and its marker.
    assert result.answer == "It entered into force on 1 March 2025. [1]"
    assert [(c.n, c.quote) for c in result.citations] == [(1, "It entered into force on 1 March 2025.")]


def test_chinese_question_prefers_chinese_twin(fixture_pipeline) -> None:  # type: ignore[no-untyped-def]
    result = fixture_pipeline.ask("小部件安全法的罚款最高是多少？")
    assert not result.abstained
    assert result.citations[0].lang == "zh"
    assert "3%" in result.answer


def test_newest_edition_wins(fixture_pipeline) -> None:  # type: ignore[no-untyped-def]
    results = fixture_pipeline.retriever.search("Did Globex sign the Widget Safety Act?", top_k=30)
    globex = [
        r.chunk for r in results if r.chunk.kind == "table_row" and "Globex" in r.chunk.text and r.chunk.lang == "en"
    ]
    assert [(c.as_of, c.text) for c in globex] == [
        ("2026-06-28", "Company: Globex; Signed: Signed; Date: 2026-05-20"),
        ("2026-04-21", "Company: Globex; Signed: Not signed; Date: —"),
    ]
    assert fixture_pipeline.ask("Did Globex sign?").citations[0].as_of == "2026-06-28"


def test_unanswerable_question_abstains_with_nearest_passages(fixture_pipeline) -> None:  # type: ignore[no-untyped-def]
    result = fixture_pipeline.ask("What is the boiling point of mercury?")
    assert result.abstained and result.citations == []
    assert result.answer.startswith("The corpus does not cover this question")
    assert result.nearest


def test_filters_restrict_sources(fixture_pipeline) -> None:  # type: ignore[no-untyped-def]
    result = fixture_pipeline.ask("Widget Safety Act fines", Filters(lang=["zh"]))
    assert result.retrieved, "the filter must keep the Chinese pages, not empty the result"
    assert {fixture_pipeline.index.chunks[r["chunk_id"]].lang for r in result.retrieved} == {"zh"}
    assert result.retrieved[0]["page_url"] == "https://example.org/zh/rules/eu/widget-act/"
    unfiltered = fixture_pipeline.ask("Widget Safety Act fines")
    assert "en" in {fixture_pipeline.index.chunks[r["chunk_id"]].lang for r in unfiltered.retrieved}
    companies = fixture_pipeline.ask("Widget Safety Pledge", Filters(company=["acme"]))
    assert {r["page_url"] for r in companies.retrieved} == {"https://example.org/en/companies/acme/"}


class ParaphraseEmbedding(embedders.FakeEmbedding):
    """The fake embedder, plus what a real model knows: a few paraphrases embed like the words they mean."""

    PARAPHRASES: ClassVar[dict[str, str]] = {"authority": "regulator", "penalizes": "fines", "appliance": "widget"}
    dimensions: int = 4096  # few hash collisions: only shared words (and paraphrases) make texts similar

    def _vector(self, text: str) -> list[float]:
        return super()._vector(re.sub(r"[a-z]+", lambda m: self.PARAPHRASES.get(m[0], m[0]), text.lower()))


def test_dense_leg_finds_a_passage_that_shares_no_keyword_with_the_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(embedders.EMBEDDERS, "fake", ParaphraseEmbedding)
    settings = fixture_settings(tmp_path / "data")
    run_ingest(settings)
    pipeline = build_pipeline(settings)
    question = "Which authority penalizes appliance makers?"
    assert pipeline.index.keyword.search(question, 10) == []  # no word of the question is in the corpus
    results = pipeline.retriever.search(question)
    top = results[0]
    assert top.legs == {"dense": 1} and top.similarity is not None and top.similarity > 0.3  # cosine
    assert top.similarity == max(r.similarity or 0.0 for r in results)
    assert "The regulator is the European Widget Office." in top.chunk.text
    assert all("bm25" not in r.legs for r in results)
    bm25_only = build_pipeline(fixture_settings(tmp_path / "data", retrieval={"legs": ["bm25"]}))
    assert bm25_only.retriever.search(question) == []


def test_question_too_long_and_empty(fixture_pipeline) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QuestionError, match="limit is 2000"):
        fixture_pipeline.ask("x" * 2001)
    with pytest.raises(QuestionError, match="empty"):
        fixture_pipeline.ask("   ")


def _cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "GOVQA_DATA_DIR": str(tmp_path / "data"),
        "GOVQA_SOURCES_FILE": str(PROJECT_ROOT / "tests/fixtures/sources.toml"),
        "GOVQA_EMBEDDER": "fake",
    }


def test_cli_ingest_and_ask_json_contract(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _cli_env(tmp_path)
    ingest = runner.invoke(app, ["ingest"], env=env)
    assert ingest.exit_code == 0, ingest.output
    assert "8 documents" in ingest.output and "2 files skipped" in ingest.output
    result = runner.invoke(app, ["ask", "--json", "Which body is the regulator of the Widget Safety Act?"], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"question", "answer", "abstained", "citations", "retrieved", "timings_ms"} <= payload.keys()
    assert {"n", "url", "page_url", "title", "section", "lang", "as_of", "quote", "source_path"} <= payload[
        "citations"
    ][0].keys()
    assert {"page_url", "chunk_id", "score"} <= payload["retrieved"][0].keys()
    assert "European Widget Office" in payload["answer"]
    plain = runner.invoke(app, ["ask", "Which body is the regulator of the Widget Safety Act?"], env=env)
    assert "[1] Widget Safety Act › Obligations: who must do what?" in plain.stdout


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _cli_env(tmp_path)
    empty = runner.invoke(app, ["ask", "  "], env=env)
    assert empty.exit_code == 1 and "Error: The question is empty." in empty.output and "Traceback" not in empty.output
    bad = runner.invoke(app, ["ask", "x"], env={**env, "GOVQA_EMBEDDER": "nope"})
    assert bad.exit_code == 1 and "Unknown embedder 'nope'" in bad.output
    missing = runner.invoke(app, ["ingest"], env={**env, "GOVQA_SOURCES_FILE": str(tmp_path / "none.toml")})
    assert missing.exit_code == 1 and "No source manifest" in missing.output
    bad_filter = runner.invoke(app, ["ask", "--lang", "fr", "widgets"], env=env)
    assert bad_filter.exit_code == 1 and "Error: Unknown value 'fr' in --lang; use one of en, zh." in bad_filter.output
    setting = runner.invoke(app, ["ingest"], env={**env, "GOVQA_RETRIEVAL_TOP_K": "0"})
    assert setting.exit_code != 0 and "retrieval.top_k" in setting.output


def test_help_imports_no_heavy_library_and_lists_commands() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "govqa.cli", "--help"], capture_output=True, text=True, check=True)
    assert {"ingest", "ask", "serve", "eval"} <= set(out.stdout.split())
    # Heavy libraries stay unimported: no chromadb/torch/llama_index at --help time.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, govqa.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('chromadb','torch','llama_index')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "[]"


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govqa.settings import ConfigError, load_settings

    toml = tmp_path / "govqa.toml"
    toml.write_text('embedder = "minilm"\n[retrieval]\ntop_k = 5\n')
    monkeypatch.setenv("GOVQA_CONFIG", str(toml))
    assert (load_settings().embedder, load_settings().retrieval.top_k) == ("minilm", 5)
    monkeypatch.setenv("GOVQA_RETRIEVAL_TOP_K", "3")
    monkeypatch.setenv("GOVQA_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert (settings.retrieval.top_k, settings.llm.base_url, settings.embedder) == (
        3,
        "http://127.0.0.1:9/v1",
        "minilm",
    )
    monkeypatch.setenv("GOVQA_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"GOVQA_CONFIG names .*missing\.toml, which is not a file"):
        load_settings()


def test_keyword_ranks_on_the_fixture_corpus_exactly(fixture_pipeline) -> None:  # type: ignore[no-untyped-def]
    # Only the June edition says "registration" (the April one says "register", another stem);
    # after it come the shortest chunks that mention "widget" (BM25 length normalisation).
    hits = fixture_pipeline.index.keyword.search("widget registration deadline", 4)
    assert [(cid, round(score, 4)) for cid, score in hits] == [
        ("fixture:rules/eu/widget-act@29-235", 2.0804),
        ("fixture:en/companies/acme@168-233", 0.4066),
        ("fixture:en/companies/acme@234-294", 0.4066),
        ("fixture:en/rules/eu/widget-act@70-267", 0.3788),
    ]
    assert fixture_pipeline.index.keyword.search("小部件 罚款", 1)[0][0].startswith("fixture:zh/rules/eu/widget-act@")


def test_source_is_cloned_when_the_local_path_is_absent(tmp_path: Path) -> None:
    import subprocess

    from govqa.corpus.sources import SourceError, read_sources

    origin = tmp_path / "origin"
    shutil.copytree(PROJECT_ROOT / "tests/fixtures/corpus", origin)
    git = ["git", "-C", str(origin), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "fixture"], check=True)
    sources = tmp_path / "sources.toml"
    text = (PROJECT_ROOT / "tests/fixtures/sources.toml").read_text()
    text = text.replace('path = "tests/fixtures/corpus"', f'path = "no/such/folder"\ngit_url = "file://{origin}"')
    sources.write_text(text)
    settings = fixture_settings(tmp_path / "data", sources_file=sources)
    report = run_ingest(settings)
    assert report.documents == 8
    assert (tmp_path / "data/sources/fixture/src/content/docs/en/rules/eu/widget-act.md").is_file()
    assert read_sources(sources)[0].git_url.startswith("file://")
    broken = sources.read_text().replace(f"file://{origin}", f"file://{tmp_path}/missing")
    sources.write_text(broken)
    with pytest.raises(SourceError, match=r"cloning file://.*missing failed"):
        run_ingest(fixture_settings(tmp_path / "data2", sources_file=sources))


def test_cli_ask_streams_an_llm_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govqa.app.llm_answerer import OpenAIAnswerer
    from govqa.evals.llm_scripted import ScriptedLLMServer, llm_environment

    question = "When did the Widget Safety Act enter into force?"
    answer = "The Widget Safety Act applies to every household widget placed on the EU market. [1]"
    server = ScriptedLLMServer().start()
    try:
        env = {**_cli_env(tmp_path), **llm_environment(server.url)}
        as_json = CliRunner().invoke(app, ["ask", "--json", question], env=env)
        payload = json.loads(as_json.stdout)
        assert payload["backend"] == "openai" and all("supported" in s for s in payload["sentences"])
        assert payload["answer"] == answer

        printed: list[tuple[str, bool]] = []
        echo = typer.echo

        def recording_echo(message: object = None, nl: bool = True, err: bool = False, **kwargs: object) -> None:
            if not err:
                printed.append((str(message or ""), nl))
            echo(message, nl=nl, err=err, **kwargs)  # type: ignore[arg-type]

        def not_asked(*args: object, **kwargs: object) -> None:
            raise AssertionError("--stream must stream, not wait for ask()")

        monkeypatch.setattr(OpenAIAnswerer, "ask", not_asked)
        monkeypatch.setattr(typer, "echo", recording_echo)
        result = CliRunner().invoke(app, ["ask", "--stream", question], env=env)
        assert result.exit_code == 0, result.output
        assert server.requests[-1]["stream"] is True
        pieces = [text for text, nl in printed if not nl]  # the streamed pieces, printed without a newline
        assert pieces and "".join(pieces) == answer
        assert result.stdout.splitlines()[0] == answer  # the answer comes first, the references after it
    finally:
        server.stop()
