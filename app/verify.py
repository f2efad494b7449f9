"""Check that each sentence of a generated answer is supported by the passages it cites.

Everything here is a pure function of its inputs, so it can be tested with exact values.

The criterion (documented, measurable, and the same for every backend):

1. A sentence must cite at least one passage that was actually given to the model;
   markers pointing at other numbers are removed.
2. Every *fact* in the sentence (numbers, dates with month names, and capitalised
   names) must appear in the cited passages (with title and section). One missing
   fact makes the sentence unsupported, however fluent it is.
3. Enough of the sentence's content words must occur in the cited passages
   (``MIN_OVERLAP``), or a borderline overlap (``MIN_OVERLAP_WITH_SIMILARITY``) must be
   backed by embedding similarity (``MIN_SIMILARITY``). When the sentence and the
   passages are in different languages, content words cannot be compared, so
   similarity alone decides (``CROSS_LINGUAL_MIN_SIMILARITY``).

Sentences of a passage that try to instruct a language model ("ignore all previous
instructions ...") never count as support and are never quoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from govqa.corpus.documents import guess_language
from govqa.index.keyword import tokenize
from govqa.ingest.sentences import sentence_spans

# Thresholds, calibrated on the eval set by bench/calibrate_support.py (2026-11-28):
# pairs of a fact-stating sentence with a retrieved passage from another expected page
# (supported) or from a non-expected page of the same topic (wrong source, the citation
# mistake this check exists to catch).
# Half of a sentence's content words must come from its passages: overlap >= 0.5 accepts
# 50.5 % of supported same-language pairs and 6.5 % of wrong-source ones (0.4: 63.0 / 12.6 %);
# with the numbers-and-names rule the shipped check accepts 34 % and 2.6 %. We keep the
# stricter side: a wrongly accepted citation is worse than a sentence marked unverified.
MIN_OVERLAP = 0.5
# Below MIN_OVERLAP a sentence can still be supported when it is semantically close
# to its passage; under this floor it shares too little to trust an embedding.
MIN_OVERLAP_WITH_SIMILARITY = 0.25
# Cosine similarity (sentence vs. cited passages) that backs a borderline overlap.
MIN_SIMILARITY = 0.6
# Cross-language citations (a Chinese sentence citing an English passage) rely on the
# multilingual embedder alone: USE v3 similarity >= 0.6 accepts 26.8 % of supported
# cross-language pairs and 2.0 % of wrong-source ones (0.7: 18.3 / 1.3 %; 0.5: 40.2 / 9.3 %).
CROSS_LINGUAL_MIN_SIMILARITY = 0.6

# [1], [1, 2], [1][2], and the full-width 【1】 some Chinese models write.
MARKER = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】]")
_MARKER_WITH_SPACE = re.compile(r"[ \t]*" + MARKER.pattern)
_LEADING_MARKERS = re.compile(r"(?:\s*" + MARKER.pattern + r")+")
_LIST_PREFIX = re.compile(r"^(?:[-*+•]|\d{1,2}[.)]|#{1,6})\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'’][A-Za-z0-9]+)*")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
# Capitalised words that are not names even in mid-sentence.
_NOT_NAMES = frozenset({"i", "note", "however", "yes", "no"})
# Text inside a page that addresses a language model; such sentences are not evidence.
INJECTION = re.compile(
    r"(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|preceding|your)\s+"
    r"(instructions?|prompts?|rules|directions)"
    r"|you\s+are\s+now\s+(a|an|in)\b|system\s+prompt|reply\s+only\s+with"
    r"|(忽略|无视|忘记)(之前|以上|前面|所有|上述)的?(所有)?(指令|指示|说明|提示)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of a generated answer."""

    text: str  # without citation markers, whitespace collapsed
    markers: tuple[int, ...]  # passage numbers as written, in order, without repeats
    start: int  # span in the answer text, trailing markers included
    end: int


@dataclass(frozen=True)
class SupportCheck:
    supported: bool
    overlap: float  # share of the sentence's content words found in the cited passages
    similarity: float | None  # embedding similarity to the cited passages, when measured
    missing: tuple[str, ...]  # facts (numbers, dates, names) absent from the cited passages
    reason: str  # why not supported; "" when supported


def marker_numbers(marker_body: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", marker_body)]


def parse_answer(text: str) -> list[AnswerSentence]:
    """Split an answer into sentences and attach each citation marker to its sentence.

    Markers written after the full stop ("... 2025. [1] Next ...") belong to the
    sentence before them, as do markers before it ("... 2025 [1].").
    """
    spans: list[list[int]] = []
    for start, end in sentence_spans(text):
        lead = _LEADING_MARKERS.match(text, start, end)
        if lead and spans:
            spans[-1][1] = lead.end()
            start = lead.end()
            while start < end and text[start].isspace():
                start += 1
        if start < end:
            spans.append([start, end])
    sentences = []
    for start, end in spans:
        raw = text[start:end]
        numbers: list[int] = []
        for match in MARKER.finditer(raw):
            numbers += [n for n in marker_numbers(match.group(1)) if n not in numbers]
        clean = " ".join(MARKER.sub(" ", raw).split())
        # List bullets and numbering ("2. ") are layout, not facts; emphasis is layout too.
        clean = _LIST_PREFIX.sub("", clean).replace("**", "").replace("__", "")
        clean = re.sub(r"\s+([.,;:!?。，；：！？])", r"\1", clean)
        if clean or numbers:
            sentences.append(AnswerSentence(clean, tuple(numbers), start, end))
    return sentences


def number_map(sentences: Sequence[AnswerSentence], valid: set[int]) -> dict[int, int]:
    """Renumber the valid passage numbers 1, 2, ... in order of first citation."""
    mapping: dict[int, int] = {}
    for sentence in sentences:
        for n in sentence.markers:
            if n in valid and n not in mapping:
                mapping[n] = len(mapping) + 1
    return mapping


def rewrite_markers(text: str, mapping: Mapping[int, int]) -> str:
    """Renumber markers by mapping; markers (and numbers) not in it are removed with their space."""

    def replace(match: re.Match[str]) -> str:
        numbers: list[int] = []
        for n in marker_numbers(match.group(1)):
            if n in mapping and mapping[n] not in numbers:
                numbers.append(mapping[n])
        if not numbers:
            return ""
        space = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip(" \t"))]
        return space + "".join(f"[{n}]" for n in numbers)

    return _MARKER_WITH_SPACE.sub(replace, text)


class MarkerRewriter:
    """rewrite_markers for text that arrives piece by piece (streaming).

    Holds back trailing whitespace and an unfinished "[12" so that a marker split
    across pieces is renumbered (or removed with its space) exactly as
    rewrite_markers would do on the whole text. Numbers are assigned on first sight,
    which equals number_map's order over the whole answer.
    """

    _PENDING = re.compile(r"[ \t]*(?:[\[【][\d\s,，、]*)?$")

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self.mapping: dict[int, int] = {}
        self._buffer = ""

    def _learn(self, text: str) -> None:
        for match in MARKER.finditer(text):
            for n in marker_numbers(match.group(1)):
                if n in self.valid and n not in self.mapping:
                    self.mapping[n] = len(self.mapping) + 1

    def feed(self, piece: str) -> str:
        self._buffer += piece
        hold = self._PENDING.search(self._buffer)
        cut = hold.start() if hold else len(self._buffer)
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        self._learn(ready)
        return rewrite_markers(ready, self.mapping)

    def flush(self) -> str:
        ready, self._buffer = self._buffer, ""
        self._learn(ready)
        return rewrite_markers(ready, self.mapping)


def evidence_text(passage: str) -> str:
    """The passage without sentences that address a language model."""
    return " ".join(passage[a:b] for a, b in sentence_spans(passage) if not INJECTION.search(passage[a:b]))


def _normal_number(raw: str) -> str:
    raw = raw.replace(",", "")
    if raw.count(".") > 1:
        return raw  # a version or section number: compare as written
    if "." in raw:
        whole, _, fraction = raw.partition(".")
        fraction = fraction.rstrip("0")
        return f"{int(whole)}.{fraction}" if fraction else str(int(whole))
    return str(int(raw))


def numbers_in(text: str) -> set[str]:
    """Numbers, digit runs of dates (2025-03-01 gives 2025, 3, 1), month names and number words."""
    found = {_normal_number(m.group()) for m in _NUMBER.finditer(text)}
    for word in _WORD.findall(text):
        lowered = word.lower()
        if lowered in _MONTHS and (lowered != "may" or word[0].isupper()):
            found.add(str(_MONTHS[lowered]))
        elif lowered in _NUMBER_WORDS:
            found.add(str(_NUMBER_WORDS[lowered]))
    return found


def facts_in(sentence: str) -> list[str]:
    """What must appear in the cited passage: numbers and dates, and capitalised names.

    The first word of an English sentence is capitalised anyway, so it counts as a
    name only when it is written like one (an acronym or CamelCase such as DeepSeek).
    """
    facts = [m.group() for m in _NUMBER.finditer(sentence)]
    english = guess_language(sentence) == "en"
    for index, match in enumerate(_WORD.finditer(sentence)):
        word = match.group()
        lowered = word.lower()
        if lowered in _NUMBER_WORDS:
            if _NUMBER_WORDS[lowered] > 1:  # "one" is mostly an article ("one of the ...")
                facts.append(word)
            continue
        if not word[0].isupper() or lowered in _NOT_NAMES:
            continue
        if lowered in _MONTHS:
            facts.append(word)
            continue
        written_like_a_name = (word.isupper() and len(word) > 1) or any(c.isupper() for c in word[1:])
        if english and index == 0 and not written_like_a_name:
            continue
        facts.append(word)
    return facts


def missing_facts(sentence: str, passage: str) -> list[str]:
    """Facts of the sentence that the passage does not contain."""
    passage_numbers = numbers_in(passage)
    passage_words = {w.lower() for w in _WORD.findall(passage)}
    missing = []
    for fact in facts_in(sentence):
        if fact[0].isdigit():
            ok = _normal_number(_NUMBER.match(fact).group()) in passage_numbers  # type: ignore[union-attr]
        elif fact.lower() in _MONTHS:
            ok = str(_MONTHS[fact.lower()]) in passage_numbers
        elif fact.lower() in _NUMBER_WORDS:
            ok = str(_NUMBER_WORDS[fact.lower()]) in passage_numbers
        else:
            ok = fact.lower() in passage_words
        if not ok and fact not in missing:
            missing.append(fact)
    return missing


def content_overlap(sentence: str, passage: str) -> float:
    """Share of the sentence's distinct content words (stemmed; jieba words for Chinese) found in the passage."""
    wanted = set(tokenize(sentence))
    if not wanted:
        return 0.0
    return len(wanted & set(tokenize(passage))) / len(wanted)


def check_support(sentence: str, passage: str, similarity: float | None = None) -> SupportCheck:
    """Does passage (the cited passages, joined) support sentence? See the module docstring."""
    evidence = evidence_text(passage)
    missing = tuple(missing_facts(sentence, evidence))
    overlap = content_overlap(sentence, evidence)
    cross_lingual = guess_language(sentence) != guess_language(evidence)
    if missing:
        return SupportCheck(False, overlap, similarity, missing, f"not in the cited passage: {', '.join(missing)}")
    if cross_lingual:
        if similarity is not None and similarity >= CROSS_LINGUAL_MIN_SIMILARITY:
            return SupportCheck(True, overlap, similarity, (), "")
        return SupportCheck(False, overlap, similarity, (), "cross-language citation without enough similarity")
    if overlap >= MIN_OVERLAP:
        return SupportCheck(True, overlap, similarity, (), "")
    if overlap >= MIN_OVERLAP_WITH_SIMILARITY and similarity is not None and similarity >= MIN_SIMILARITY:
        return SupportCheck(True, overlap, similarity, (), "")
    return SupportCheck(False, overlap, similarity, (), f"only {overlap:.0%} of its words are in the cited passage")


def verify_sentences(
    sentences: Sequence[AnswerSentence],
    passages: Mapping[int, str],
    similarity: Callable[[list[str], list[str]], list[float]] | None = None,
) -> list[SupportCheck]:
    """Check every sentence against the passages it cites (by their prompt numbers).

    similarity(sentences, passages) returns one cosine per pair; pass None to judge
    on words and facts alone.
    """
    pairs = []
    for sentence in sentences:
        cited = [passages[n] for n in sentence.markers if n in passages]
        pairs.append("\n".join(cited))
    measured: list[float | None] = [None] * len(sentences)
    todo = [i for i, p in enumerate(pairs) if p and sentences[i].text]
    if similarity is not None and todo:
        values = similarity([sentences[i].text for i in todo], [pairs[i] for i in todo])
        for i, value in zip(todo, values, strict=True):
            measured[i] = value
    checks = []
    for sentence, passage, cosine in zip(sentences, pairs, measured, strict=True):
        if not passage:
            checks.append(SupportCheck(False, 0.0, None, (), "cites no passage that was given"))
        else:
            checks.append(check_support(sentence.text, passage, cosine))
    return checks


def best_span(claim: str, passage: str) -> tuple[int, int]:
    """The passage sentence that shares most content words with claim (offsets in passage).

    Ties go to the earlier sentence. Instruction-like sentences are never quoted: with no
    shared word at all, the quote is the longest run of consecutive sentences without one
    (the whole passage when it has none); a passage that is all instruction gives an
    empty span at its start.
    """
    wanted = set(tokenize(claim)) | numbers_in(claim)
    best: tuple[int, int] | None = None
    best_score = 0
    run: tuple[int, int] | None = None  # the current run of clean sentences
    longest: tuple[int, int] | None = None
    for start, end in sentence_spans(passage):
        text = passage[start:end]
        if INJECTION.search(text):
            run = None
            continue
        run = (run[0], end) if run else (start, end)
        if longest is None or run[1] - run[0] > longest[1] - longest[0]:
            longest = run
        score = len(wanted & (set(tokenize(text)) | numbers_in(text)))
        if score > best_score:
            best, best_score = (start, end), score
    return best or longest or (0, 0)


def render_answer(
    text: str,
    sentences: Sequence[AnswerSentence],
    supported: Sequence[bool],
    mapping: Mapping[int, int],
    drop_unsupported: bool = False,
    mark: str = "",
) -> str:
    """The answer as shown: markers renumbered, unsupported sentences marked with mark or dropped.

    Everything else (paragraphs, lists, the model's punctuation) is kept as written, so
    with nothing to mark the result equals rewrite_markers(text, mapping).
    """
    out: list[str] = []
    previous = 0
    for sentence, ok in zip(sentences, supported, strict=True):
        if not ok and drop_unsupported:
            previous = sentence.end
            continue
        out.append(rewrite_markers(text[previous : sentence.end], mapping))
        if not ok and mark:
            out.append(mark)
        previous = sentence.end
    out.append(rewrite_markers(text[previous:], mapping))
    return "".join(out).strip()
