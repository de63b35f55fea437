"""Whom a text is about: the age ranges and sexes it names, as pure functions.

A question's ages decide which passages apply to it ("older than 85" against "adults aged 50
to 75"), and a claim's ages must be ones its passage gives them: "all adults aged 60 or older"
does not rest on "adults aged 75 or older, and 60 to 74 at increased risk".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from meditron_rag.text import normalise


@dataclass(frozen=True)
class AgeRange:
    """Ages from `low` to `high` in years, both included; `label` is how a text wrote them
    where that was not in years ("6 to 59 months")."""

    low: float
    high: float
    label: str = field(default="", compare=False)

    def overlaps(self, other: AgeRange) -> bool:
        return self.low <= other.high and other.low <= self.high

    def __str__(self) -> str:
        if self.label:
            return self.label
        if self.high >= 120:
            return f"{self.low:g} and older"
        if self.low <= 0:
            return f"{self.high:g} and younger"
        return f"{self.low:g} to {self.high:g}" if self.low != self.high else f"{self.low:g}"


_POP = (r"(?:adults?|women|woman|men|man|people|persons?|patients?|children|child|individuals|"
        r"girls|boys|infants?|babies|baby|someone|anyone|those)")
_UNIT = r"(?:\s+(?P<u>years?|months?|weeks?))?"
_IN_YEARS = {"year": 1.0, "month": 12.0, "week": 52.0}
# A bound on something other than an age: "lasted over 5 minutes", "under 2 mg".
_NOT_AGE = (r"(?!\s*(?:%|minutes?|hours?|days?|mg|mcg|g|ml|kg|cm|mm|mmol|mmhg|ng|times?|"
            r"units?|doses?|episodes?|cells?|percent)\b)")
# Words before a bound that make it an age: "adults at least 65", "aged less than 18".
_AGE_CUE = r"(?:(?P<cue>age[ds]?|" + _POP + r")\s+)?"
_AGE_PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), kind) for p, kind in (
    (r"\bfrom\s+(?:the\s+)?age\s+(?:of\s+)?(?P<a>\d{1,3})\s+(?:up\s+to(?:\s+and\s+"
     r"including)?|until|through|to)\s+(?:the\s+)?(?:age\s+)?(?P<b>\d{1,3})\b", "range"),
    (r"\b(?P<a>\d{1,3})\s+(?P<u>months?|weeks?)\s+(?:to|through|and)\s+(?P<b>\d{1,3})\s+"
     r"(?P<v>years?|months?)\b", "range"),
    (r"\b(?:age[ds]?|" + _POP + r")\s+(?:of\s+)?(?:between\s+)?(?P<a>\d{1,3})\s+(?:to|and|"
     r"through)\s+(?P<b>\d{1,3})\b(?:\s+(?P<u>years?|months?|weeks?))?", "range"),
    (r"\b(?P<a>\d{1,3})\s+(?:to|through)\s+(?P<b>\d{1,3})\s+(?P<u>years?|months?|weeks?)"
     r"(?:\s+of\s+age|\s+old)?\b", "range"),
    (r"\b(?:older|over|above)\s+(?:than\s+|the\s+age\s+of\s+)?(?:age\s+)?(?P<a>\d{1,3})\b"
     + _NOT_AGE + _UNIT, "above"),
    (_AGE_CUE + r"\b(?P<op>at\s+least|more\s+than|at\s+most|less\s+than)\s+(?P<cue2>the\s+"
     r"age\s+of\s+)?(?P<a>\d{1,3})\b" + _UNIT + r"(?P<cue3>\s+(?:of\s+age|old))?", "bound"),
    (r"\b(?:age[ds]?\s+)?(?P<a>\d{1,3})\s+(?:(?P<u>years?|months?|weeks?)\s+)?(?:(?:of\s+age"
     r"\s+)?(?:and|or)\s+(?:older|over|above)|\+)", "from"),
    (r"\b(?P<a>\d{1,3})\s+(?P<u>years?)\s+(?:of\s+age\s+)?(?:or|and)\s+(?:more|greater)\b",
     "from"),
    (r"\b(?:younger|under|below)\s+(?:than\s+|the\s+age\s+of\s+)?(?:age\s+)?(?P<a>\d{1,3})"
     r"\b" + _NOT_AGE + _UNIT, "below"),
    (r"\b(?P<a>\d{1,3})\s+(?:(?P<u>years?|months?|weeks?)\s+)?(?:(?:of\s+age\s+)?(?:and|or)"
     r"\s+(?:younger|under))", "upto"),
    (r"\bbefore\s+(?:age\s+)?(?P<a>\d{1,3})\b(?!\s*(?:weeks?|days?|months?|hours?|minutes?))",
     "below"),
    (r"\b(?:from|starting\s+at|beginning\s+at|at)\s+(?:the\s+)?age\s+(?:of\s+)?"
     r"(?P<a>\d{1,3})\b", "from"),
    (r"\b(?:up\s+to(?:\s+and\s+including)?|until|through)\s+(?:the\s+)?age\s+"
     r"(?:of\s+)?(?P<a>\d{1,3})\b", "upto"),
    (r"\b(?:age[ds]?|" + _POP + r")\s+(?P<a>\d{1,3})\b(?!\s+(?:to|and|through)\s+\d)" + _UNIT,
     "point"),
    (r"\b(?P<a>\d{1,3})\s+(?P<u>years?|months?|weeks?)\s+(?:old|of\s+age)\b", "point"),
    (r"\bin\s+(?:their|her|his)\s+(?P<a>\d0)\s?s\b", "decade"),
)]
# A bound in months or weeks is an age only beside words about young people ("infants
# under 6 months", not "over 2 weeks" of treatment).
_YOUNG = re.compile(r"\b(?:age[ds]?|infants?|bab(?:y|ies)|child(?:ren)?|newborns?|neonates?|"
                    r"toddlers?|old)\b")
_CUE = re.compile(r"^(?:age[ds]?|" + _POP + r")\s+")
_UNTIL = re.compile(r"\b(?:until|till)\s+$")
# What follows a span of time rather than an age: "6 to 12 months after the first dose".
_SPAN_OF_TIME = re.compile(r"\s+(?:after|later|apart|before|from|since|ago)\b")
_BOUNDS = {"at least": "from", "more than": "above", "at most": "upto", "less than": "below"}


def _range(kind: str, match: re.Match[str], plain: str) -> AgeRange | None:
    """The ages one match names, in years, or None where it names no age."""
    groups = match.groupdict()
    unit = (groups.get("u") or groups.get("v") or "year").rstrip("s")
    scale = _IN_YEARS[unit]  # of the first number; a range's second may have its own
    a = float(match.group("a"))
    if a > 120 or groups.get("b") and float(groups["b"]) > 120:
        return None
    if kind == "bound":
        if not (groups["cue"] or groups["cue2"] or groups["cue3"]):
            return None
        kind = _BOUNDS[" ".join(groups["op"].split())]
    if unit != "year" and kind != "range" and not _YOUNG.search(
            plain[max(0, match.start() - 30):match.end() + 10]):
        return None
    if kind == "range":
        if _SPAN_OF_TIME.match(plain, match.end()):  # "8 weeks to 6 months after the first"
            return None
        b = float(groups["b"]) / _IN_YEARS[(groups.get("v") or unit).rstrip("s")]
        low, high = min(a / scale, b), max(a / scale, b)
    else:
        # Ages in years are whole ("under 16" ends at 15); a 10-week-old is under 3 months.
        step = 1.0 if unit == "year" else 1e-6
        low, high = {
            "above": ((a + step) / scale, 130.0), "from": (a / scale, 130.0),
            "below": (0.0, (a - step) / scale), "upto": (0.0, a / scale),
            "point": (a / scale, a / scale), "decade": (a, a + 9),
        }[kind]
    label = _CUE.sub("", " ".join(match.group(0).split())) if unit != "year" else ""
    return AgeRange(low, high, label)


def ages(text: str, points: bool = True) -> list[AgeRange]:
    """Age ranges that `text` names ("aged 40 to 49", "older than 85", "≥65 years", "a
    53-year-old", "6 to 59 months"), in years.

    Without `points`, a single age ("at 65") is left out: in a question it says who is asked
    about, but in a guideline it is often a threshold, not the edge of who it covers."""
    plain = normalise(text, bounds=False).replace("-", " ")
    found: list[AgeRange] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _AGE_PATTERNS:
        for match in pattern.finditer(plain):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue
            # "Until at least 5 years of age" ends a course of treatment; it names nobody.
            if kind == "point" and not points or _UNTIL.search(plain, 0, match.start()):
                taken.append((match.start(), match.end()))
                continue
            found_range = _range(kind, match, plain)
            if found_range is not None:
                found.append(found_range)
                taken.append((match.start(), match.end()))
            elif kind != "bound":
                taken.append((match.start(), match.end()))
    return found


_SEXES = {"woman": {"woman", "women", "girl", "girls", "she", "her", "mother", "pregnant",
                    "wife", "daughter", "sister", "grandmother", "aunt", "niece"},
          "man": {"man", "men", "boy", "boys", "he", "his", "father", "husband", "son",
                  "brother", "grandfather", "uncle", "nephew"}}


def ages_within(claim: str, text: str) -> set[str]:
    """The claim's single ages ("a 7-year-old") that lie inside an age range of `text`
    ("children aged 5 to 11"), written as the claim's number tokens are."""
    ranges = [r for r in ages(text) if r.low < r.high]
    return {f"{a.low:g}" for a in ages(claim)
            if a.low == a.high and any(r.low <= a.low <= r.high for r in ranges)}


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
