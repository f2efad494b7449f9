"""Runs configurations over the question set and writes results, metrics and a report."""

from __future__ import annotations

import html
import json
import logging
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from govqa.evals.metrics import METRIC_KEYS, aggregate, aggregate_by, question_metrics

logger = logging.getLogger(__name__)

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.toml"
HEADLINE = (
    *(k for k in METRIC_KEYS if k not in ("ndcg@10", "recall@10")),
    "latency_p50_ms",
    "latency_p95_ms",
)
LOWER_IS_BETTER = {"false_refusal", "latency_p50_ms", "latency_p95_ms"}


def run_config(
    config: Any, questions: list[dict[str, Any]], page_texts: dict[str, str], name: str, progress: bool = True
) -> list[dict[str, Any]]:
    from tqdm import tqdm

    rows = []
    for question in tqdm(questions, desc=name, unit="q", file=sys.stderr, disable=not progress):
        try:
            result = config.ask(question["question"]).to_json()
        except Exception as error:
            logger.warning("question=%s error=%s", question["id"], error)
            result = {
                "question": question["question"],
                "answer": "",
                "abstained": False,
                "citations": [],
                "retrieved": [],
                "timings_ms": {"total_ms": 0.0},
                "error": str(error),
            }
        rows.append(
            {
                "id": question["id"],
                "config": name,
                "lang": question["lang"],
                "kind": question["kind"],
                "answerable": question["answerable"],
                "result": result,
                "metrics": question_metrics(question, result, page_texts),
            }
        )
    return rows


def summarize(rows: list[dict[str, Any]], seconds: float, build_seconds: float) -> dict[str, Any]:
    return {
        "overall": aggregate(rows),
        "by_lang": aggregate_by(rows, "lang"),
        "by_kind": aggregate_by(rows, "kind"),
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


def check_thresholds(overall: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """Failures of the gate: metrics below their floor (or above their ceiling)."""
    failures = []
    for key, bound in thresholds.items():
        value = overall.get(key)
        if value is None:
            failures.append(f"{key}: not measured")
        elif key in LOWER_IS_BETTER and value > bound:
            failures.append(f"{key} = {value:.3f} is above the ceiling {bound}")
        elif key not in LOWER_IS_BETTER and value < bound:
            failures.append(f"{key} = {value:.3f} is below the floor {bound}")
    return failures


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data.get("default", {}).items()}


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def _table(summaries: dict[str, dict[str, Any]], keys: tuple[str, ...]) -> str:
    lines = ["| config | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, summary in summaries.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(summary["overall"].get(k)) for k in keys) + " |")
    return "\n".join(lines)


def _split_table(summary: dict[str, Any], field: str) -> str:
    keys = ("questions", "hit@5", "mrr@10", "fact_recall", "refusal_recall", "false_refusal", "citation_validity")
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
    ax.hist([r["metrics"]["latency_ms"] for r in rows], bins=30)
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
        "## Configurations side by side",
        "",
        _table(summaries, HEADLINE),
        "",
    ]
    images: list[str] = []
    for name, summary in summaries.items():
        md += [
            f"## {name}",
            "",
            f"Run {summary['run_seconds']} s, build {summary['build_seconds']} s.",
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
    for row in worst(all_rows[primary]):
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
