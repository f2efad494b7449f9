"""Mutation check for the eval gate: break the pipeline in known ways and require the gate to fail.

A gate that stays green while the dense leg is off, the fusion weights are swapped, the
system never abstains, or every citation points one character off would not be a gate.
Each mutant patches one seam of the running code (the way a mutation-testing tool would),
runs the same configurations and checks as ``govqa eval --gate``, and must turn it red.

Run: ``python -m govqa.evals.mutants`` (``make test`` does). Exit code 1 when a mutant survives.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock


@contextlib.contextmanager
def dense_leg_off() -> Iterator[None]:
    """The vector store answers nothing (as an empty or mis-named collection would)."""
    with mock.patch("govqa.index.vector.DenseIndex.search", return_value=[]):
        yield


@contextlib.contextmanager
def fusion_weights_swapped() -> Iterator[None]:
    """Reciprocal rank fusion gives the keyword leg the title leg's weight and the reverse (the
    keyword and dense legs weigh the same, so swapping those two would change nothing)."""
    from govqa.index import retriever

    original = retriever.fuse_rankings

    def swapped(rankings: Any, k: int = 60, weights: Any = None) -> Any:
        weights = dict(weights or {})
        weights["bm25"], weights["title"] = weights.get("title", 1.0), weights.get("bm25", 1.0)
        return original(rankings, k=k, weights=weights)

    with mock.patch.object(retriever, "fuse_rankings", swapped):
        yield


@contextlib.contextmanager
def abstention_off() -> Iterator[None]:
    """The answerability decision always answers."""
    from govqa.app import answerability

    original = answerability.decide

    def always_answer(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **kwargs).forced_answer()

    with mock.patch.object(answerability, "decide", always_answer):
        yield


@contextlib.contextmanager
def citations_shifted() -> Iterator[None]:
    """Every citation's quote and offsets move one character to the right."""
    from govqa.app import engine

    original = engine.cite

    def shifted(n: int, chunk: Any, start: int, end: int, document_text: str) -> Any:
        return original(n, chunk, start + 1, end + 1, document_text)

    with mock.patch.object(engine, "cite", shifted):
        yield


MUTANTS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "dense leg off": dense_leg_off,
    "fusion weights swapped": fusion_weights_swapped,
    "abstention off": abstention_off,
    "citations shifted by one character": citations_shifted,
}


def gate_failures(settings: Any, questions: list[dict[str, Any]], out_dir: Path) -> list[str]:
    """What `govqa eval --gate` would report for the code as it runs now."""
    from govqa.evals.gate import check_gate, load_thresholds
    from govqa.evals.runner import run_eval

    summaries = run_eval(settings, ["default", "bm25"], questions, out_dir, progress=False)
    return check_gate(summaries, load_thresholds())


def main() -> int:
    from govqa.app.pipeline import index_exists, run_ingest
    from govqa.evals.questions import load_questions
    from govqa.evals.split import HELDOUT, select
    from govqa.settings import load_settings

    # Each breakage logs on every question (an empty dense leg, for one); the verdict is what counts.
    logging.getLogger("govqa").setLevel(logging.ERROR)
    settings = load_settings()
    if not index_exists(settings):
        run_ingest(settings)
    # The held-out half carries every bound and comparison of the gate; running only it halves the time.
    questions = [dict(q) for q in select(load_questions(), HELDOUT)]
    survived = []
    with tempfile.TemporaryDirectory(prefix="govqa-mutants-") as scratch:
        for name, mutant in MUTANTS.items():
            with mutant():
                failures = gate_failures(settings, questions, Path(scratch) / name.replace(" ", "-"))
            if failures:
                print(
                    f"caught   {name}: {failures[0]}" + (f" (+{len(failures) - 1} more)" if len(failures) > 1 else "")
                )
            else:
                print(f"SURVIVED {name}: the gate passed with this breakage")
                survived.append(name)
    if survived:
        print(f"Mutation check failed: {len(survived)} of {len(MUTANTS)} breakages pass the gate.", file=sys.stderr)
        return 1
    print(f"Mutation check passed: all {len(MUTANTS)} breakages turn the gate red.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
