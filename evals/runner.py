"""Runs configurations over the question set and writes results, metrics and a report."""

from __future__ import annotations

import html
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from govqa.evals.metrics import METRIC_KEYS, aggregate, aggregate_by, question_metrics
from govqa.evals.split import HELDOUT, SPLITS, split_of

logger = logging.getLogger(__name__)

HEADLINE = (*METRIC_KEYS, "latency_p50_ms", "latency_p95_ms")


def run_config(
    config: Any, questions: list[dict[str, Any]], page_texts: dict[str, str], name: str, progress: bool = True
) -> list[dict[str, Any]]:
    from tqdm import tqdm

    rows = []
    for question in tqdm(questions, desc=name, unit="q", file=sys.stderr, disable=not progress):
        row: dict[str, Any] = {
            "id": question["id"],
            "config": name,
            "split": split_of(question["id"]),
            "lang": question["lang"],
            "kind": question["kind"],
            "answerable": question["answerable"],
        }
        try:
            result = config.ask(question["question"]).to_json()
        except Exception as error:
            # An exception is a defect of the system, not a wrong answer: it is counted and
            # shown as an error (and fails the gate) instead of being scored as a miss.
            logger.warning("question=%s error=%s", question["id"], error)
            row["error"] = f"{error.__class__.__name__}: {error}"
            row["result"] = {"question": question["question"], "answer": "", "retrieved": []}
            row["metrics"] = {}
        else:
            row["result"] = result
            row["metrics"] = question_metrics(question, result, page_texts)
        rows.append(row)
    return rows


def _scored(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics over the rows that did not raise, plus the count of those that did."""
    good = [r for r in rows if "error" not in r]
    return {**aggregate(good), "errors": len(rows) - len(good)}


def summarize(rows: list[dict[str, Any]], seconds: float, build_seconds: float) -> dict[str, Any]:
    """Metrics overall, by language and kind, and per half of the tuning / held-out split."""
    good = [r for r in rows if "error" not in r]
    by_split = {}
    for split in SPLITS:
        part = [r for r in rows if r["split"] == split]
        by_split[split] = {
            "overall": _scored(part),
            "by_lang": aggregate_by([r for r in part if "error" not in r], "lang"),
            "by_kind": aggregate_by([r for r in part if "error" not in r], "kind"),
        }
    return {
        "overall": _scored(rows),
        "by_lang": aggregate_by(good, "lang"),
        "by_kind": aggregate_by(good, "kind"),
        "by_split": by_split,
        "errors": [{"id": r["id"], "error": r["error"]} for r in rows if "error" in r],
        "run_seconds": round(seconds, 2),
        "build_seconds": round(build_seconds, 2),
    }


def worst(rows: list[dict[str, Any]], n: int = 10) -> list[dict[str, Any]]:
    def badness(row: dict[str, Any]) -> float:
        m = row["metrics"]
        if not row["answerable"]:
            return m["refusal_recall"] or 0.0
        return (m["hit@5"] or 0.0) + (m["fact_recall"] or 0.0) - (m["false_refusal"] or 0.0)

    return sorted(rows, key=badness)[:n]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def _table(summaries: dict[str, dict[str, Any]], keys: tuple[str, ...], scope: str = "all") -> str:
    from govqa.evals.gate import scope_metrics

    lines = ["| config | questions | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
    for name, summary in summaries.items():
        metrics = scope_metrics(summary, scope)
        lines.append(
            f"| {name} | {metrics.get('questions', 0)} | " + " | ".join(_fmt(metrics.get(k)) for k in keys) + " |"
        )
    return "\n".join(lines)


def _split_table(summary: dict[str, Any], field: str) -> str:
    keys = ("questions", "hit@1", "hit@5", "fact_recall", "refusal_recall", "false_refusal", "citation_support")
    lines = [f"| {field} | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for group, values in summary[field].items():
        lines.append(f"| {group} | " + " | ".join(_fmt(values.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def _plots(out_dir: Path, name: str, summary: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for field in ("by_kind", "by_lang"):
        groups = summary[field]
        metrics = ("hit@5", "fact_recall", "refusal_recall")
        fig, ax = plt.subplots(figsize=(9, 3.6))
        width = 0.8 / len(metrics)
        for i, metric in enumerate(metrics):
            values = [groups[g].get(metric) or 0.0 for g in groups]
            ax.bar([x + i * width for x in range(len(groups))], values, width, label=metric)
        ax.set_xticks([x + width for x in range(len(groups))], list(groups), rotation=20, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{name}: metrics {field.replace('_', ' ')}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        file = f"{name}-{field}.png"
        fig.savefig(out_dir / file, dpi=90)
        plt.close(fig)
        files.append(file)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist([r["metrics"]["latency_ms"] for r in rows if "latency_ms" in r["metrics"]], bins=30)
    ax.set_xlabel("latency per question (ms)")
    ax.set_title(f"{name}: latency")
    fig.tight_layout()
    file = f"{name}-latency.png"
    fig.savefig(out_dir / file, dpi=90)
    plt.close(fig)
    files.append(file)
    return files


def write_report(
    out_dir: Path, summaries: dict[str, dict[str, Any]], all_rows: dict[str, list[dict[str, Any]]]
) -> None:
    primary = "default" if "default" in summaries else next(iter(summaries))
    md = [
        "# govqa evaluation report",
        "",
        f"Questions: {summaries[primary]['overall']['questions']}",
        "",
        "Every question is in one half of a split by a hash of its id (`evals/split.py`): constants are",
        "tuned on the tuning half only; the held-out half is what the README reports and the gate bounds.",
        "",
        f"## Held-out half ({HELDOUT})",
        "",
        _table(summaries, HEADLINE, HELDOUT),
        "",
        "## Whole set",
        "",
        _table(summaries, HEADLINE),
        "",
        "## Tuning half",
        "",
        _table(summaries, HEADLINE, "tuning"),
        "",
    ]
    for name, summary in summaries.items():
        if summary.get("errors"):
            md += [f"**{name}: {len(summary['errors'])} question(s) raised an error:**", ""]
            md += [f"- {e['id']}: {e['error']}" for e in summary["errors"]] + [""]
    images: list[str] = []
    for name, summary in summaries.items():
        md += [
            f"## {name}",
            "",
            f"Run {summary['run_seconds']} s, build {summary['build_seconds']} s.",
            "",
            "Held-out half:",
            "",
            _split_table(summary["by_split"][HELDOUT], "by_lang"),
            "",
            _split_table(summary["by_split"][HELDOUT], "by_kind"),
            "",
            "Whole set:",
            "",
            _split_table(summary, "by_lang"),
            "",
            _split_table(summary, "by_kind"),
            "",
        ]
        files = _plots(out_dir, name, summary, all_rows[name])
        images += files
        md += [f"![{f}]({f})" for f in files] + [""]
    md += [f"## Worst 10 questions ({primary})", ""]
    for row in worst([r for r in all_rows[primary] if "error" not in r]):
        result = row["result"]
        md += [
            f"- **{row['id']}** ({row['lang']}, {row['kind']}): {result['question']}",
            f"  - answer{' (abstained)' if result.get('abstained') else ''}: {result.get('answer', '')[:400]}",
            f"  - hit@5={_fmt(row['metrics'].get('hit@5'))} fact_recall={_fmt(row['metrics'].get('fact_recall'))}",
        ]
    text = "\n".join(md) + "\n"
    (out_dir / "report.md").write_text(text, encoding="utf-8")
    body = html.escape(text)
    imgs = "".join(f'<img src="{html.escape(f)}" alt="{html.escape(f)}">' for f in images)
    (out_dir / "report.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>govqa eval</title><pre>{body}</pre>{imgs}\n", encoding="utf-8"
    )


def run_eval(
    base_settings: Any, config_names: list[str], questions: list[dict[str, Any]], out_dir: Path, progress: bool = True
) -> dict[str, dict[str, Any]]:
    from govqa.app.pipeline import load_corpus
    from govqa.evals.configs import build_config

    out_dir.mkdir(parents=True, exist_ok=True)
    page_texts = {d.url: d.text for d in load_corpus(base_settings).documents}
    summaries: dict[str, dict[str, Any]] = {}
    all_rows: dict[str, list[dict[str, Any]]] = {}
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as results:
        for name in config_names:
            config = build_config(name, base_settings)
            try:
                started = time.perf_counter()
                rows = run_config(config, questions, page_texts, name, progress)
                seconds = time.perf_counter() - started
            finally:
                config.close()
            for row in rows:
                results.write(json.dumps(row, ensure_ascii=False) + "\n")
            all_rows[name] = rows
            summaries[name] = summarize(rows, seconds, config.build_seconds)
    (out_dir / "metrics.json").write_text(json.dumps(summaries, indent=1, ensure_ascii=False), encoding="utf-8")
    write_report(out_dir, summaries, all_rows)
    return summaries
