"""Site chrome: text a page carries that is not content and must never be quoted as an answer.

The "Cite this page" / "引用本页" block with its "Accessed YYYY-MM-DD" template line, and
sentences that only point elsewhere ("详见 中国规则索引。", "See the … index."). Chunking
skips them, so they are never retrieved or quoted; the page text keeps them, so no quote's
offsets move.
"""

from __future__ import annotations

import re

_CITE_BLOCK = re.compile(r"^\s*(?:Cite this page|How to cite this page|引用本页)", re.IGNORECASE)
# A citation template: a date placeholder no real content sentence carries.
_TEMPLATE_DATE = re.compile(r"YYYY-MM-DD|YYYY 年 MM 月|yyyy-mm-dd")
# "See Methodology §2.", "See above.", "详见 中国规则索引。", "参见 方法论 §2 · 欧盟。": a short
# sentence that only points to another page. One that goes on to say something ("See the
# AI Act page: the fine is …") is longer or has a colon, and is kept.
_POINTER = re.compile(r"^\s*(?:see(?: also)?\b|详见|参见|更多(?:内容)?见)", re.IGNORECASE)
_POINTER_MAX_CHARS = 80


def is_site_chrome(text: str) -> bool:
    """True for a sentence or line that is site chrome rather than content."""
    stripped = text.strip()
    if not stripped:
        return False
    if _CITE_BLOCK.match(stripped) or _TEMPLATE_DATE.search(stripped):
        return True
    # A colon means the pointer goes on to list or say something: that is content.
    return bool(_POINTER.match(stripped) and len(stripped) <= _POINTER_MAX_CHARS and not re.search(r"[:：]", stripped))
