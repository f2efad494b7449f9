"""The `make test` eval gate: quality only, judged where no constant was tuned.

Bounds live in ``evals/thresholds.toml``, one table per scope: ``[heldout]`` for the
held-out half of the question set, ``[heldout.en]`` / ``[heldout.zh]`` for each question
language within it. Beyond the bounds, the gate fails when any question raised an error
and when the default configuration does not beat BM25 alone, in the same run, on the
metrics that retrieval fusion and answer composition exist to improve. Wall-clock time is
never gated: it depends on the machine's load (``make bench`` reports it).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from govqa.evals.metrics import METRIC_KEYS

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.toml"
LOWER_IS_BETTER = frozenset({"false_refusal"})
# The default must be strictly better than BM25 alone on these, on each of these scopes.
MUST_BEAT_BASELINE = ("hit@5", "fact_recall")
BASELINE_SCOPES = ("heldout", "all")


def scope_metrics(summary: Mapping[str, Any], scope: str) -> Mapping[str, Any]:
    """The metrics of one scope: ``all``, ``all.en``, ``heldout``, ``heldout.zh``, ``tuning``…"""
    split, _, lang = scope.partition(".")
    part = summary if split == "all" else summary["by_split"][split]
    if not lang:
        return part["overall"]  # type: ignore[no-any-return]
    return part["by_lang"].get(lang, {})  # type: ignore[no-any-return]


def check_bounds(metrics: Mapping[str, Any], bounds: Mapping[str, float], scope: str) -> list[str]:
    """Metrics below their floor (or above their ceiling), one line each."""
    failures = []
    for key, bound in bounds.items():
        value = metrics.get(key)
        if value is None:
            failures.append(f"{scope}: {key} was not measured")
        elif key in LOWER_IS_BETTER and value > bound:
            failures.append(f"{scope}: {key} = {value:.3f} is above the ceiling {bound}")
        elif key not in LOWER_IS_BETTER and value < bound:
            failures.append(f"{scope}: {key} = {value:.3f} is below the floor {bound}")
    return failures


def check_baseline(default: Mapping[str, Any], baseline: Mapping[str, Any], name: str = "bm25") -> list[str]:
    """The default must beat the baseline configuration on MUST_BEAT_BASELINE in every scope."""
    failures = []
    for scope in BASELINE_SCOPES:
        ours, theirs = scope_metrics(default, scope), scope_metrics(baseline, scope)
        for key in MUST_BEAT_BASELINE:
            mine, other = ours.get(key), theirs.get(key)
            if mine is None or other is None or mine <= other:
                failures.append(f"{scope}: default {key} = {_show(mine)} does not beat {name} alone ({_show(other)})")
    return failures


def check_gate(summaries: Mapping[str, Mapping[str, Any]], thresholds: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Every reason the gate fails; empty when it passes."""
    if "default" not in summaries:
        return ["the gate needs the default configuration in the run"]
    failures = []
    for name, summary in summaries.items():
        for error in summary.get("errors", []):
            failures.append(f"{name}: question {error['id']} raised {error['error']}")
    default = summaries["default"]
    for scope, bounds in thresholds.items():
        failures += check_bounds(scope_metrics(default, scope), bounds, scope)
    if "bm25" in summaries:
        failures += check_baseline(default, summaries["bm25"])
    else:
        failures.append("the gate needs the bm25 configuration in the run, to compare the default against")
    return failures


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, float]]:
    """``{scope: {metric: bound}}``; nested tables (``[heldout.en]``) become ``heldout.en``."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    scopes: dict[str, dict[str, float]] = {}

    def walk(prefix: str, table: Mapping[str, Any]) -> None:
        bounds = {k: float(v) for k, v in table.items() if not isinstance(v, dict)}
        if bounds:
            scopes[prefix] = bounds
        for key, value in table.items():
            if isinstance(value, dict):
                walk(f"{prefix}.{key}", value)

    for scope, table in data.items():
        walk(scope, table)
    return scopes


def _show(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.3f}"


GATED_SCOPES = ("heldout", "heldout.en", "heldout.zh")
GATED_METRICS = METRIC_KEYS  # every quality metric; latency is never gated


def propose_thresholds(default: Mapping[str, Any], margin: float = 0.03, measured_on: str = "") -> str:
    """thresholds.toml text: each bound is the held-out measurement less ``margin`` (plus it,
    for ceilings), so a harmless one-question change passes and a real regression does not.
    Citation validity stays at 1.0: it holds by construction."""
    lines = [
        "# The `make test` eval gate (evals/gate.py): bounds on the default configuration, per scope of the",
        "# held-out half of the question set (evals/split.py); each is the measured value less a margin of",
        f"# {margin} (ceilings: plus it). Written by `govqa eval --propose-thresholds`{measured_on}.",
    ]
    for scope in GATED_SCOPES:
        metrics = scope_metrics(default, scope)
        lines += ["", f"[{scope}]  # {metrics.get('questions', 0)} questions"]
        for key in GATED_METRICS:
            value = metrics.get(key)
            if value is None:
                continue
            if key == "citation_validity":
                bound = 1.0
            elif key in LOWER_IS_BETTER:
                bound = min(1.0, value + margin)
            else:
                bound = max(0.0, value - margin)
            lines.append(f'"{key}" = {bound:.3f}  # measured {value:.3f}')
    return "\n".join(lines) + "\n"
