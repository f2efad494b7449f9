"""Which characters count as Chinese: one definition for language guessing, tokenizing and sentence splitting."""

from __future__ import annotations

import re

# CJK Unified Ideographs and Extension A: every Hanzi in the corpus falls in here.
CJK_RANGE = "\u3400-\u9fff"
CJK = re.compile(f"[{CJK_RANGE}]")
