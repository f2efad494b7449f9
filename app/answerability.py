"""Whether the retrieved evidence answers the question: answered, partly covered, or not covered.

A pure decision over what the question asks for and what the chosen evidence states, so
it can be tested with exact values and swapped out in the gate's mutation check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Coverage = Literal["answered", "partial", "not_covered"]


@dataclass(frozen=True)
class Decision:
    coverage: Coverage
    missing: list[str] = field(default_factory=list)  # focus terms or the answer type not found
    reason: str = ""

    @property
    def abstain(self) -> bool:
        return self.coverage != "answered"

    def forced_answer(self) -> Decision:
        """The same decision, overruled to answer (used to test that abstention is load-bearing)."""
        return dataclasses.replace(self, coverage="answered", missing=[], reason="forced")


def decide(support: float, lang: str, min_support: Mapping[str, float]) -> Decision:
    """Answer when the best evidence scores at least the question language's threshold."""
    threshold = min_support.get(lang, min(min_support.values(), default=0.0))
    if support < threshold:
        return Decision("not_covered", reason=f"best evidence {support:.3f} < {threshold:.3f}")
    return Decision("answered")
