"""Which words go with which item of a list or clause of a sentence, as pure functions.

"Offer an annual vaccination against influenza and a one-off vaccination against pneumococcal
disease" and "offer a one-off influenza vaccination and an annual pneumococcal vaccination"
share every word, in nearly the same order; what differs is which item each word belongs to.
The same holds of numbers: "after 5 years of oral bisphosphonate or 3 years of intravenous
zoledronic acid" read as "after 3 years of oral ... or 5 years of intravenous ...", and
"200 mg on the first day then 100 mg once a day" read as "100 mg on the first day then 200
mg ...". Two items of the claim, in the passage's order, each hold one word of the other's
item: the details were traded between them. Strength goes with its clause too: "Offer it to
adults with heart failure; consider it for those with a QRISK3 above 10%" does not say it is
offered at a QRISK3 above 10%.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import permutations

from meditron_rag.text import NEGATIONS, STOPWORDS, sentence_spans, stems, tokens
from rag.claims import CLAUSE_PARTS, LIGHT, STRONG_MODALS, WEAK_MODALS, Conflict

# Where one item of a list or one step of a sequence ends and the next begins.
_ITEM_CUT = re.compile(r",\s+|;\s+|\s+(?:and then|or else|followed by|and|or|then|plus)\s+",
                       re.IGNORECASE)
_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten)$",
                     re.IGNORECASE)
_UNIT = re.compile(r"^(?:years?|months?|weeks?|days?|hours?|minutes?)$", re.IGNORECASE)
# "65 and over", "2 or more": a bound, not a second item.
_BOUND = re.compile(r"^(?:over|older|above|more|under|younger|below|less|fewer)$", re.IGNORECASE)
# "Respectively" pairs the items of two lists by their order, not by where they stand.
_RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
# A clause that sets when or for whom ("Once the patient is stable, ...", "For adults with
# ..., offer ...") moves freely in a paraphrase; it is no item of a list.
_SETTING = re.compile(r"^(?:once|if|when|whenever|where|unless|although|because|after|before|"
                      r"while|as|for|in|during|until|since|following|especially)\b", re.IGNORECASE)
_WORD = re.compile(r"[\w.]*\w(?:-\w+)*")
_PLAIN = STOPWORDS | LIGHT | STRONG_MODALS | WEAK_MODALS


def _inside(before: str, cut: str, after: str) -> bool:
    """Whether "and" or "or" between these two words is inside one item: "3 or 4", "two or
    three", "3 years and 4 months", "65 and over"."""
    if cut.strip().lower() not in ("and", "or"):
        return False
    before, after = before.strip(",;:()"), after.strip(",;:()")
    return bool(_NUMBER.match(after) and (_NUMBER.match(before) or _UNIT.match(before))
                or _BOUND.match(after))


@lru_cache(maxsize=1024)
def _items(text: str) -> tuple[list[str], list[list[str]]]:
    """The items of `text`, cut at commas, "and", "or", "then", and the stemmed content words
    of each. Words as written, not in the check's normal form, which reads "annual" and
    "one-off" both with a "1"."""
    parts: list[str] = []
    start = 0
    for cut in _ITEM_CUT.finditer(text):
        before, after = text[start:cut.start()].split(), text[cut.end():].split()
        if before and after and _inside(before[-1], cut.group(), after[0]):
            continue
        parts.append(text[start:cut.start()])
        start = cut.end()
    parts = [p.strip(" .;:-*•") for p in [*parts, text[start:]]]
    return parts, [[t for t in stems(_WORD.findall(p.lower())) if t not in _PLAIN] for p in parts]


def _owners(items: Sequence[Sequence[str]]) -> dict[str, int]:
    """The item each word belongs to, for the words said once in all the items."""
    counts = Counter(t for item in items for t in item)
    return {t: k for k, item in enumerate(items) for t in item if counts[t] == 1}


def traded_details(claim_text: str, span: str) -> Conflict | None:
    """Two details traded between two items of one sentence of `span`: the frequencies of two
    vaccines, the durations of two regimens, the doses of a loading and a maintenance step.
    The conflict names the passage's item and the claim's, as written."""
    if _RESPECTIVELY.search(claim_text):
        return None
    claim_parts, claim_items = _items(claim_text)
    claim_owner = _owners(claim_items)
    words = {t for item in claim_items for t in item}
    for a, b in sentence_spans(span):
        parts, passage_items = _items(span[a:b])
        said = {t for item in passage_items for t in item}
        if len(passage_items) < 2 or 2 * len(words & said) < len(words):
            continue
        passage_owner = {t: k for t, k in _owners(passage_items).items()
                         if not _SETTING.match(parts[k])}
        # The verb a sentence opens with ("Screen those whose ...") moves to the end of its
        # paraphrase ("... should be screened"): where it stands says nothing.
        passage_owner.pop(passage_items[0][0] if passage_items[0] else "", None)
        # For each item of the claim, its words by the passage item each comes from.
        drawn: dict[int, Counter[int]] = {}
        for word, k in claim_owner.items():
            if word in passage_owner:
                drawn.setdefault(k, Counter())[passage_owner[word]] += 1
        for c1, c2 in permutations(drawn, 2):
            (home, most), *rest = drawn[c1].most_common() + [(-1, 0)]
            if most < 2 or most == rest[0][1]:
                continue
            for away, count in rest[:-1]:
                # One word of another item in this one, and one word of this one's item in
                # the claim's item for that other (which holds nothing else): traded, the
                # items in the passage's order. A clause moved to the other end brings more.
                if (count == 1 and drawn[c2][home] == 1 and set(drawn[c2]) <= {home, away}
                        and (c1 < c2) == (home < away)):
                    return Conflict("items", parts[home], claim_parts[c1])
    return None


_WEAK = frozenset(tokens("consider considered may might could can option optional"))
_STRONG = frozenset(tokens("offer offered recommend recommended should must"))


def _strength(clause: Sequence[str]) -> str:
    """"weak" for an option, "strong" for a recommendation, "" for neither or a negation."""
    if set(clause) & NEGATIONS:
        return ""
    if set(clause) & _WEAK:
        return "weak"
    return "strong" if set(clause) & _STRONG else ""


@lru_cache(maxsize=1024)
def _clauses(sentence: str) -> tuple[list[str], list[str], dict[str, int]]:
    """A sentence's clauses as written, the strength of each, and the clause each word of
    one clause only belongs to."""
    raws = CLAUSE_PARTS.split(sentence)
    clauses = [tokens(raw) for raw in raws]
    owner = _owners([[t for t in c if t not in _PLAIN and t not in _WEAK | _STRONG]
                     for c in clauses])
    return raws, [_strength(clause) for clause in clauses], owner


def traded_strength(claim_text: str, span: str) -> Conflict | None:
    """A clause of the claim that gives the strength of one clause of a sentence of `span`
    to the people or case of another: "offered to those with a QRISK3 above 10%, and
    considered for those with heart failure" for "offer ... with heart failure; consider one
    for those with a QRISK3 score above 10%"."""
    said = [(raw.strip(" .;,"), tokens(raw)) for raw in CLAUSE_PARTS.split(claim_text)]
    for a, b in sentence_spans(span):
        raws, strengths, owner = _clauses(span[a:b])
        if not {"weak", "strong"} <= set(strengths):
            continue
        for raw, piece in said:
            strength = _strength(piece)
            ranked = Counter(owner[t] for t in piece if t in owner).most_common(2)
            if not strength or not ranked or len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
                continue
            home = ranked[0][0]
            if strengths[home] and strengths[home] != strength:
                return Conflict("strength", raws[home].strip(" .;,"), raw)
    return None

