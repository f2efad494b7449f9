"""The tuning / held-out split of a question set, by a hash of each question's id.

Every tuned constant is chosen on the tuning half only; the held-out half is what the
README reports and what the gate's bounds come from. The split depends on nothing but the
id, so a question keeps its half when others are added, and new questions fall into
either half at random.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

TUNING = "tuning"
HELDOUT = "heldout"
SPLITS = (TUNING, HELDOUT)


def split_of(question_id: str) -> str:
    """``tuning`` or ``heldout``: the parity of the id's SHA-256."""
    digest = hashlib.sha256(question_id.encode("utf-8")).digest()
    return TUNING if digest[0] % 2 == 0 else HELDOUT


def select(questions: Iterable[Mapping[str, Any]], split: str) -> list[Mapping[str, Any]]:
    """The questions of one half (``tuning`` or ``heldout``); ``all`` keeps every question."""
    if split == "all":
        return list(questions)
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: use one of all, {', '.join(SPLITS)}.")
    return [q for q in questions if split_of(str(q["id"])) == split]
