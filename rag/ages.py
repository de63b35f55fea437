"""Whom a text is about: the age ranges and sexes it names, as pure functions.

A question's ages decide which passages apply to it ("older than 85" against "adults aged 50
to 75"), and a claim's ages must be ones its passage gives them: "all adults aged 60 or older"
does not rest on "adults aged 75 or older, and 60 to 74 at increased risk".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meditron_rag.text import normalise


@dataclass(frozen=True)
class AgeRange:
    """Ages from `low` to `high`, both included."""

    low: float
    high: float

    def overlaps(self, other: AgeRange) -> bool:
        return self.low <= other.high and other.low <= self.high

    def __str__(self) -> str:
        if self.high >= 120:
            return f"{self.low:g} and older"
        if self.low <= 0:
            return f"{self.high:g} and younger"
        return f"{self.low:g} to {self.high:g}" if self.low != self.high else f"{self.low:g}"


_POP = r"(?:adults?|women|woman|men|man|people|persons?|patients?|children|individuals|girls|boys)"
_AGE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bfrom\s+(?:the\s+)?age\s+(?:of\s+)?(\d{1,3})\s+(?:up\s+to(?:\s+and\s+"
                r"including)?|until|through|to)\s+(?:the\s+)?(?:age\s+)?(\d{1,3})\b"), "range"),
    (re.compile(r"\b(?:age[ds]?|" + _POP + r")\s+(?:of\s+)?(?:between\s+)?(\d{1,3})\s+(?:to|and)"
                r"\s+(\d{1,3})\b"), "range"),
    (re.compile(r"\b(\d{1,3})\s+to\s+(\d{1,3})\s+years?(?:\s+of\s+age|\s+old)?\b"), "range"),
    (re.compile(r"\b(?:older|over|above)\s+(?:than\s+|the\s+age\s+of\s+)?(?:age\s+)?(\d{1,3})\b"),
     "above"),
    (re.compile(r"\b(?:age[ds]?\s+)?(\d{1,3})\s+(?:years?\s+)?(?:(?:of\s+age\s+)?(?:and|or)\s+"
                r"(?:older|over|above)|\+)"), "from"),
    (re.compile(r"\b(?:younger|under|below)\s+(?:than\s+|the\s+age\s+of\s+)?(?:age\s+)?(\d{1,3})\b"),
     "below"),
    (re.compile(r"\b(\d{1,3})\s+(?:years?\s+)?(?:(?:of\s+age\s+)?(?:and|or)\s+(?:younger|under))"),
     "upto"),
    (re.compile(r"\bbefore\s+(?:age\s+)?(\d{1,3})\b(?!\s*(?:weeks?|days?|months?|hours?|minutes?))"),
     "below"),
    (re.compile(r"\b(?:from|starting\s+at|beginning\s+at|at)\s+(?:the\s+)?age\s+(?:of\s+)?"
                r"(\d{1,3})\b"), "from"),
    (re.compile(r"\b(?:up\s+to(?:\s+and\s+including)?|until|through)\s+(?:the\s+)?age\s+"
                r"(?:of\s+)?(\d{1,3})\b"), "upto"),
    (re.compile(r"\b(?:age[ds]?|" + _POP + r")\s+(\d{1,3})\b(?!\s+(?:to|and)\s+\d)"), "point"),
    (re.compile(r"\b(\d{1,3})\s+years?\s+(?:old|of\s+age)\b|\b(\d{1,3})\s+year\s+old\b"), "point"),
    (re.compile(r"\bin\s+(?:their|her|his)\s+(\d0)s\b"), "decade"),
]


def ages(text: str, points: bool = True) -> list[AgeRange]:
    """Age ranges that `text` names ("aged 40 to 49", "older than 85", "a 53-year-old").

    Without `points`, a single age ("at 65") is left out: in a question it says who is asked
    about, but in a guideline it is often a threshold, not the edge of who it covers."""
    plain = normalise(text).replace("-", " ")
    found: list[AgeRange] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _AGE_PATTERNS:
        for match in pattern.finditer(plain):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue
            values = [float(g) for g in match.groups() if g is not None]
            if not values or any(v > 120 for v in values) or kind == "point" and not points:
                taken.append((match.start(), match.end()))
                continue
            low, high = {
                "range": (min(values), max(values)), "above": (values[0] + 1, 130.0),
                "from": (values[0], 130.0), "below": (0.0, values[0] - 1),
                "upto": (0.0, values[0]), "point": (values[0], values[0]),
                "decade": (values[0], values[0] + 9),
            }[kind]
            found.append(AgeRange(low, high))
            taken.append((match.start(), match.end()))
    return found


_SEXES = {"woman": {"woman", "women", "girl", "girls", "she", "her", "mother", "pregnant"},
          "man": {"man", "men", "boy", "boys", "he", "his", "father"}}


def sexes(text: str) -> set[str]:
    """"woman" and/or "man" where `text` names people of that sex."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    if words & {"transgender", "nonbinary", "cisgender"}:
        return set()  # who "men" and "women" are is then spelled out, not implied
    return {sex for sex, cues in _SEXES.items() if words & cues}


_START = re.compile(r"\b(?:from|starting\s+at|beginning\s+at)\s+(?:the\s+)?age\s+(?:of\s+)?"
                    r"(\d{1,3})\b")


def widened_ages(claim: str, source: str) -> str:
    """The age ranges of `source` (a stretch and its heading) where the claim names an age
    range none of them holds, or "": "all adults aged 60 or older" rests on "adults aged 75
    or older, and adults aged 60 to 74 at increased risk" only by taking its numbers out of
    their places."""
    theirs = ages(source, points=False)
    starts = {int(n) for n in _START.findall(normalise(claim))}
    for mine in ages(claim, points=False):
        # "From age 40" says where a programme starts, not that it never ends.
        held = [t for t in theirs if t.low <= mine.low <= t.high and (
            mine.high <= t.high or mine.high >= 120 and mine.low in starts)]
        if theirs and not held:
            return ", ".join(dict.fromkeys(str(t) for t in theirs))
    return ""
