"""Numbers in a claim against the passage it rests on, as pure functions.

A number is half a fact: "65" is "at least 65" or "less than 65", "10 mg" a dose or "10 mg/kg"
one per kilogram, "every 2 years" not "annually", "75" the age for men and not for women, and
"1 to 2 weeks before the quit date" a time a claim cannot drop. `rag.claims` finds what
differs in the words; this finds what differs in what the numbers are attached to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache

from meditron_rag.text import STOPWORDS, is_number, sentence_spans, stems, tokens
from rag.claims import (
    BOUNDS,
    CLAUSE_PARTS,
    GRADES,
    POPULATIONS,
    Conflict,
    conflicts,
    edits,
    is_drug,
)

# A dose, and what it may be given per: "10 mg/kg", "500 mg/m2".
_DOSE_UNITS = frozenset(tokens("mg mcg g ml iu units mmol"))
_BODY = frozenset(tokens("kg m2"))
_UNITS = _DOSE_UNITS | _BODY | frozenset(tokens(
    "years months weeks days hours minutes seconds l mmhg mm cm"))
_TIMES = frozenset(tokens("years months weeks days hours minutes seconds"))
# Words that place a time: "1 to 2 weeks before the quit date".
_WHEN = frozenset(stems("before after within until prior earlier later".split()))
# Where one clause of a passage ends and the next, with measures of its own, begins: "review
# people aged 18 to 25 within 1 week ..., and review others within 2 weeks"; "below 110 g/L
# in the first trimester, below 105 g/L in the second".
_CLAUSE_CUT = re.compile(r"[;:]\s|,\s+(?:and|but|or|then|while|whereas)\b|(?<!\d)\.\s"
                         r"|,\s+(?=(?:(?:below|above|under|over|less than|more than|at least|"
                         r"at most|up to)\s+)?\d)", re.IGNORECASE)
# The line before a list: "Perform a CT head scan within 1 hour for adults with any of: ...".
_LEAD_IN = re.compile(r"([^.;:]*):\s")
# Scores and measurements named before their value ("GCS less than 13", "a BMI of 30").
_SCORES = frozenset(tokens("gcs bmi score egfr acr hba1c psa ldl hdl inr mmse phq qrisk audit "
                           "apgar"))
# (the claim's bound, the passage's) where the claim's numbers all lie within the passage's.
_INSIDE = frozenset({("more", "least"), ("less", "most")})


def bound_pairs(claim: Sequence[str], source: Sequence[str]) -> list[tuple[str, str, str]]:
    """(number, its bound in the claim, its bound in the source) for each number the two
    align on; a bound is "least" of "at least 65", or "" for none."""
    matcher = SequenceMatcher(None, list(claim), list(source), autojunk=False)
    pairs = []
    for block in matcher.get_matching_blocks():
        for i, j in zip(range(block.a, block.a + block.size),
                        range(block.b, block.b + block.size), strict=True):
            if is_number(claim[i]):
                pairs.append((claim[i], claim[i - 1] if i and claim[i - 1] in BOUNDS else "",
                              source[j - 1] if j and source[j - 1] in BOUNDS else ""))
    return pairs


def unit_changes(claim: Sequence[str], source: Sequence[str]) -> list[Conflict]:
    """A number both give, in another unit ("over 5 to 15 hours" for "over 5 to 15 minutes",
    also where the passage uses that unit elsewhere), or as a dose per kilogram or square
    metre on one side only ("10 mg" for "10 mg/kg")."""
    matcher = SequenceMatcher(None, list(claim), list(source), autojunk=False)
    places = [(i, j) for block in matcher.get_matching_blocks()
              for i, j in zip(range(block.a, block.a + block.size),
                              range(block.b, block.b + block.size), strict=True)]
    # A number each side gives once is the same number, wherever the alignment put it.
    places += [(i, list(source).index(t)) for i, t in enumerate(claim)
               if is_number(t) and claim.count(t) == 1 and list(source).count(t) == 1]
    for i, j in places:
        said, was = claim[i + 1:i + 3], source[j + 1:j + 3]
        if not (is_number(claim[i]) and said and was):
            continue
        other_unit = said[0] != was[0] and said[0] in _UNITS and was[0] in _UNITS
        per_body = said[0] == was[0] and said[0] in _DOSE_UNITS and (
            len(said) > 1 and said[1] in _BODY) != (len(was) > 1 and was[1] in _BODY)
        if other_unit or per_body:
            return [Conflict("unit", " ".join([source[j], *was]),
                             " ".join([claim[i], *said]))]
    return []


def bound_changes(pairs: Sequence[tuple[str, str, str]]) -> list[Conflict]:
    """Of `bound_pairs`, the numbers both sides bound in different ways: "<65" for "≥65",
    "> 7%" for "≤ 7%". A claim whose bound lies inside the passage's ("over 65" for "65 and
    over") says of part of its group what the passage says of all of it."""
    return [Conflict("bound", f"{was} {n}", f"{said} {n}")
            for n, said, was in pairs
            if said and was and said != was and (said, was) not in _INSIDE]


def bounds_inside(pairs: Sequence[tuple[str, str, str]]) -> set[str]:
    """Of `bound_pairs`, the claim's bounds that lie inside the passage's ("more" of "over 65"
    for "65 and over"): words of the claim that say nothing new."""
    return {said for _, said, was in pairs if (said, was) in _INSIDE}


def dropped_number_limit(claim: Sequence[str], source: Sequence[str]) -> str:
    """A bounded number or an age in the stretch of `source` the claim covers (or just past
    it), where the claim gives no number at all, as its bound and number ("less 40" of
    "adults aged under 40"; "least 7.0" of "a fasting glucose of 7.0 mmol/L or above"), or
    ""."""
    if any(is_number(t) for t in claim):  # it gives a limit of its own ("60 to 74")
        return ""
    _, _, (lo, hi) = edits(claim, source)
    for k in range(max(lo, 1), min(len(source), hi + 3)):
        if is_number(source[k]) and source[k] not in claim and source[k - 1] in BOUNDS | {"age"}:
            return f"{source[k - 1]} {source[k]}"
    return ""


def dropped_timing(claim: Sequence[str], source: Sequence[str]) -> str:
    """A time the source gives inside the stretch the claim covers ("1 to 2 weeks before"),
    that the claim leaves out between words it keeps ("started on the agreed quit date"), or
    ""."""
    _, ops, _ = edits(claim, source)
    for tag, _, _, j1, j2 in ops:
        was = source[j1:j2]
        if (tag == "insert" and j1 > 0 and j2 < len(source) and any(map(is_number, was))
                and set(was) & _WHEN and not set(was) & set(claim)):
            return " ".join(was)
    return ""


def population_numbers(claim: Sequence[str], source: Sequence[str]) -> list[Conflict]:
    """A number the source gives one group, said of another group it gives another number:
    "all men aged 65 and over" for "all women aged 65 and over and all men aged 75 and
    over"."""
    def pairs(tokens_: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for k, t in enumerate(tokens_):
            if t in POPULATIONS:
                number = next((n for n in tokens_[k + 1:k + 5] if is_number(n)), "")
                if number:
                    found.setdefault(t, number)
        return found

    said, was = pairs(claim), pairs(source)
    for group, number in said.items():
        if group in was and was[group] != number and number in was.values():
            return [Conflict("number", f"{group} {was[group]}", f"{group} {number}")]
    return []


def _measures(tokens_: Sequence[str]) -> set[tuple[str, str]]:
    """(number, unit) for each number of a range or amount with a unit after it: "1 to 2
    weeks" gives ("1", "week") and ("2", "week"); a number after the name of a score, with
    that name ("GCS less than 13" gives ("13", "gcs")); and ("gradeb", "grade") for "grade
    B"."""
    found = set()
    for k, t in enumerate(tokens_):
        if t in GRADES:  # a recommendation's grade is a measure of its own kind
            found.add((t, "grade"))
        elif t == "everi" and k + 2 < len(tokens_) and tokens_[k + 1] == "1":
            found.add((tokens_[k + 2], "every"))  # "daily", "weekly": how often
        elif is_number(t):
            unit = next((u for u in tokens_[k + 1:k + 4] if not is_number(u)), "")
            before = next((u for u in reversed(tokens_[max(0, k - 3):k])
                           if not is_number(u) and u not in BOUNDS), "")
            if unit in _UNITS:
                found.add((t, unit))
            if before in _SCORES:  # "GCS less than 13", "a BMI of 40 kg/m2"
                found.add((t, _score_name(tokens_[max(0, k - 6):k]) if before == "score"
                           else before))
    return found


def _score_name(before: Sequence[str]) -> str:
    """The name of the score a number follows: "feverpain" of "a FeverPAIN score of 0 or 1",
    "score" where none is given."""
    words = [t for t in before if not is_number(t) and t not in BOUNDS]
    return words[-2] if len(words) >= 2 and words[-1] == "score" else "score"


@lru_cache(maxsize=256)
def _clauses(text: str) -> tuple[tuple[str, ...], ...]:
    """The tokens of each clause of `text`, read once per passage text."""
    return tuple(tuple(part) for part in map(tokens, _CLAUSE_CUT.split(text)) if part)


def _home(claim: Sequence[str], text: str) -> tuple[Sequence[Sequence[str]], int]:
    """The passage's clauses, and which one the claim's words (its measures aside) stand in,
    or -1 where no one clause holds clearly most of them."""
    parts = _clauses(text)
    measured = {t for pair in _measures(claim) for t in pair}
    words = {t for t in claim if t not in measured and t not in STOPWORDS}
    scores = sorted(((len(words & set(part)), k) for k, part in enumerate(parts)), reverse=True)
    if len(scores) < 2 or scores[0][0] < 2 or scores[0][0] == scores[1][0]:
        return parts, -1
    return parts, scores[0][1]


def said_in_one_clause(claim: Sequence[str], text: str) -> set[str]:
    """The numbers of the clause of `text` that holds the claim's words, where that clause
    also holds every number the claim gives, with its unit; else an empty set. A claim that
    reorders "every 3 years to people aged 25 to 49, and every 5 years to those aged 50 to
    64" still takes all its numbers from the first clause: the second's are not its own."""
    parts, home = _home(claim, text)
    if home < 0:
        return set()
    numbers = {t for t in claim if is_number(t)}
    # A list item's claim may take a number from the line that leads in to the list too.
    clause = [t for lead in _LEAD_IN.findall(text) for t in tokens(lead)] + list(parts[home])
    if numbers <= set(clause) and _measures(claim) <= _measures(clause):
        return {t for t in clause if is_number(t)}
    return set()


@lru_cache(maxsize=256)
def _continued(text: str) -> tuple[tuple[tuple[str, ...], frozenset[tuple[str, str]]], ...]:
    """The clauses of `text` as a list of values reads them, each with the words its value is
    said of, and its measures: in "defined as a haemoglobin below 110 g/L in the first
    trimester, below 105 g/L in the second", the second clause is also about "defined as a
    haemoglobin"."""
    out: list[tuple[str, ...]] = []
    for part in _clauses(text):
        if out and (is_number(part[0]) or part[0] in BOUNDS):
            previous = out[-1]
            head = previous[:next((k for k, t in enumerate(previous)
                                   if is_number(t) or t in BOUNDS), len(previous))]
            part = head + part
        out.append(part)
    return tuple((part, frozenset(_measures(part))) for part in out)


def clause_trade(claim: Sequence[str], text: str, claim_text: str = "") -> Conflict | None:
    """A measure the claim gives with the words of one clause of `text` that the passage
    gives only in another, where that first clause has its own measure of the kind: "people
    aged 18 to 25 ... within 2 weeks" for "review people aged 18 to 25 within 1 week ..., and
    review others within 2 weeks"; "a GCS below 15 on initial assessment" for "GCS less than
    13 on initial assessment; GCS less than 15 at 2 hours". With `claim_text`, each clause of
    the claim is read so too: "monitored every 3-6 months, and annually when eGFR is below
    60" for "monitored annually, and every 3-6 months when eGFR is below 60". Spans of time
    are one kind, whatever their unit."""
    pieces = [tokens(piece) for piece in _CLAUSE_CUT.split(claim_text)] if claim_text else []
    clauses = [(part, frozenset(_kind(measures))) for part, measures in _continued(text)]
    for part in [list(claim), *(p for p in pieces if len(pieces) > 1 and p)]:
        if trade := _clause_trade(part, clauses):
            return trade
    return None


def sentence_trade(claim_text: str, text: str) -> Conflict | None:
    """`clause_trade` with the sentences of the whole passage as the parts, for a claim of
    one clause: the bands of a score ("For a FeverPAIN score of 2 or 3, consider no
    antibiotic ... For a FeverPAIN score of 4 or 5, or a Centor score of 3 or 4, consider an
    immediate antibiotic") are sentences whose clauses part the score from what it leads to,
    and the stretch a claim rests on may hold only the one it took its words from. A claim of
    several clauses may join several sentences."""
    if len(CLAUSE_PARTS.split(claim_text)) > 1:
        return None
    return _clause_trade(tokens(claim_text), _sentence_measures(text))


@lru_cache(maxsize=256)
def _sentence_measures(text: str) -> tuple[tuple[tuple[str, ...], frozenset[tuple[str, str]]], ...]:
    """Each sentence of `text` with its measures, spans of time as one kind."""
    return tuple((tuple(toks), frozenset(_kind(_measures(toks))))
                 for toks in (tokens(text[a:b]) for a, b in sentence_spans(text)) if toks)


def _kind(measures: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Measures with every span of time as one kind, "time": "annually" and "every 3 to 6
    months" are both intervals."""
    return {(number, "time" if unit in _TIMES else unit) for number, unit in measures}


def _clause_trade(claim: Sequence[str],
                  parts: Sequence[tuple[Sequence[str], frozenset[tuple[str, str]]]]
                  ) -> Conflict | None:
    said = _kind(_measures(claim))
    drugs = {t for t in claim if is_drug(t)}
    for number, unit in sorted(said):
        # The claim's other words say which clause it is of, and so do its measures of other
        # kinds ("3 months" of "3 months of daily ..."); its other amounts of this kind do not.
        # A medicine the claim names says it first: in a list of regimens each drug has its own.
        alike = {n for n, u in said if u == unit} | ({unit} if unit != "time" else _TIMES)
        words = {t for t in claim if t not in alike and t not in STOPWORDS}
        kin = [((len(drugs & set(part)), len(words & set(part))), k, measures)
               for k, (part, measures) in enumerate(parts) if any(u == unit for _, u in measures)]
        if len(kin) < 2:
            continue
        kin.sort(reverse=True)
        (best, _, own), (second, _, _) = kin[0], kin[1]
        if best[1] < 2 or best == second or (number, unit) in own:
            continue
        theirs = [m for m, u in sorted(own) if u == unit and m not in claim]
        if best[0] > second[0] and not theirs:  # "7 to 10 days" where the drug has "7 days"
            theirs = [m for m, u in sorted(own, reverse=True) if u == unit and m != "1"]
        if theirs and any((number, unit) in other for _, _, other in kin[1:]):
            return Conflict("number", f"{theirs[0]} {unit}", f"{number} {unit}")
    return None


def transposed_numbers(claim: Sequence[str], text: str) -> Conflict | None:
    """Two numbers of one sentence of `text` traded, the numbers between them in place:
    "5.0 ng/ml for men aged 50 to 69 and 3.0 ng/ml for men aged 70 and over" for "3.0 ... 50 to
    69 and 5.0 ... 70 and over". Reordered clauses move more than two numbers; two numbers
    alone, next to each other, may be a clause turned round."""
    said = list(dict.fromkeys(t for t in claim if is_number(t)))
    for a, b in sentence_spans(text):
        was = [t for t in dict.fromkeys(tokens(text[a:b])) if is_number(t)]
        if len(said) < 3 or set(said) != set(was):
            continue
        moved = [k for k, (x, y) in enumerate(zip(said, was, strict=True)) if x != y]
        if len(moved) == 2 and moved[1] - moved[0] >= 2:
            i, j = moved
            return Conflict("number", f"{was[i]} … {was[j]}", f"{said[i]} … {said[j]}")
    return None


def graded_otherwise(claim: Sequence[str], source: Sequence[str]) -> Conflict | None:
    """A grade the claim gives the group that the source grades otherwise: in "adults aged 50
    to 75 years (grade A) and adults aged 45 to 49 years (grade B)" each grade follows the
    numbers of the group it rates, and "45 to 49 ... grade A" takes the other group's."""
    said_grades = [t for t in claim if t in GRADES]
    numbers = {t for t in claim if is_number(t)}
    if len(said_grades) != 1 or not numbers:
        return None
    rated: dict[str, set[str]] = {}
    since: set[str] = set()
    for t in source:
        if t in GRADES:
            rated.setdefault(t, set()).update(since)
            since = set()
        elif is_number(t):
            since.add(t)
    owners = [grade for grade, group in rated.items() if numbers <= group]
    if len(owners) == 1 and owners[0] != said_grades[0]:
        return Conflict("grade", owners[0], said_grades[0])
    return None


@lru_cache(maxsize=256)
def _parts(text: str) -> tuple[tuple[str, ...], ...]:
    """The tokens of each clause of each sentence of `text`, read once per passage text."""
    return tuple(tuple(p) for p in (tokens(x) for a, b in sentence_spans(text)
                                    for x in CLAUSE_PARTS.split(text[a:b])) if p)


def _home_part(piece: Sequence[str], parts: Sequence[Sequence[str]]) -> Sequence[str] | None:
    """The part of a passage whose words, numbers and bounds aside, a claim's clause holds
    most of (two at least), where one part alone does."""
    words = {t for t in piece if not is_number(t) and t not in BOUNDS | _UNITS | STOPWORDS}
    ranked = sorted(((len(words & set(part)), k) for k, part in enumerate(parts)), reverse=True)
    if not ranked or ranked[0][0] < 2 or len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        return None
    return parts[ranked[0][1]]


def bound_trade(claim_text: str, span: str) -> Conflict | None:
    """A bound a clause of the claim gives that its own part of `span` bounds otherwise,
    where the passage gives the claim's bound to another part: "a nasogastric tube for people
    who need feeding for 4 weeks or longer" for "a nasogastric tube for ... less than 4
    weeks, and ... a gastrostomy for ... 4 weeks or longer"."""
    parts = _parts(span)
    if len(parts) < 2:
        return None
    for piece in [tokens(x) for x in CLAUSE_PARTS.split(claim_text)]:
        home = _home_part(piece, parts)
        if home is not None and (changed := bound_changes(bound_pairs(piece, home))):
            return changed[0]
    return None


def range_outside(claim_text: str, span: str) -> Conflict | None:
    """A range of the claim ("10 to 20 mm") that its own sentence of `span` bounds at one of
    its ends to other numbers: "for renal stones between 10 and 20 mm, offer percutaneous
    nephrolithotomy" for "... percutaneous nephrolithotomy to adults with renal stones larger
    than 20 mm"."""
    # Sentences, not clauses: a sentence that gives the range itself is not the other case.
    sentences = tuple(tuple(tokens(span[a:b])) for a, b in sentence_spans(span))
    for piece in [tokens(x) for x in CLAUSE_PARTS.split(claim_text)]:
        home = _home_part(piece, sentences)
        if home is None:
            continue
        for k in range(len(piece) - 2):
            low, high, unit = piece[k:k + 3]
            if not (is_number(low) and is_number(high) and unit in _UNITS
                    and float(low) < float(high)) or _has_run(home, (low, high)):
                continue
            for j in range(len(home) - 2):
                bound, number, its_unit = home[j:j + 3]
                if (bound in BOUNDS and number in (low, high) and its_unit == unit
                        and not _within(float(low), float(high), bound, float(number))):
                    return Conflict("bound", f"{bound} {number} {unit}",
                                    f"{low} to {high} {unit}")
    return None


def _has_run(words: Sequence[str], run: Sequence[str]) -> bool:
    return any(tuple(words[k:k + len(run)]) == tuple(run) for k in range(len(words)))


def _within(low: float, high: float, bound: str, number: float) -> bool:
    """Whether the range from `low` to `high` lies inside "`bound` `number`"."""
    return {"more": low > number, "least": low >= number, "less": high < number,
            "most": high <= number}[bound]


def each_clause_agrees(claim_text: str, span: str, known: set[str],
                       context: frozenset[str]) -> bool:
    """Whether a claim of several clauses ("For people who need it for 4 weeks or more,
    consider a gastrostomy; nasogastric tubes are for less than 4 weeks") gives, clause by
    clause, no number or bound that its own part of `span` says otherwise: read whole, one
    clause's number is paired with the other's."""
    pieces = [p for p in (tokens(x) for x in CLAUSE_PARTS.split(claim_text)) if p]
    parts = _parts(span)
    if len(pieces) < 2:
        return False
    for piece in pieces:
        home = _home_part(piece, parts)
        if home is None or bound_changes(bound_pairs(piece, home)) or any(
                c.kind in ("number", "bound") for c in conflicts(piece, home, known, context)):
            return False
    return True

