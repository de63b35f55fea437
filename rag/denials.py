"""What a passage says not to give, and a claim that says to give it, as pure functions.

"Pregnant women without measles immunity should be offered HNIG and must not receive MMR"
holds every word of "pregnant women without measles immunity should be offered MMR", and no
word of the claim is negated where the passage negates it: the negation stands on the verb,
the thing denied after it. Nor does "avoid nitrofurantoin at term" negate any word of "the
first choice is nitrofurantoin, including at term". Read as clauses, both passages deny what
the claims advise: the thing (or the circumstance) is named only where the passage says not
to, and the claim advises it with no word of denial of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from meditron_rag.text import NEGATIONS, STOPWORDS, sentence_spans, stems, tokens
from rag.claims import LIGHT, STRONG_MODALS, WEAK_MODALS, Conflict, negated
from rag.limits import PURPOSE

# "Do not (routinely) offer X", "must not be given X", "should never receive X", "avoid X".
_DENIAL = re.compile(
    r"\b(?:(?:not|never)\s+(?:(?:routinely|usually|be|been|have|to)\s+)*(?:offer|give|"
    r"receive|use|prescribe|start|administer|initiate|recommend|treat)\w*|avoid(?:s|ed|ing)?)"
    r"\s+", re.IGNORECASE)
# "children who have never received influenza vaccine": whom a statement is about, not advice.
_DESCRIBING = re.compile(r"\b(?:who|whom|that|which)\s+(?:(?:have|has|had|are|is|were|was|"
                         r"did|do|does)\s+)?$", re.IGNORECASE)
# Where the denied clause ends: a mark, or a reason, an exception or a purpose after it.
_DENIAL_END = re.compile(
    r"[;:.,()\n]|\s(?:because|as|since|due to|unless|except|if|until|so that)\s|"
    + PURPOSE.pattern, re.IGNORECASE)
# Where the thing denied ends and its circumstances begin: "nitrofurantoin | at term".
_OBJECT_END = re.compile(
    r"\s(?:to|for|in|at|with|without|during|on|after|before|within|who|that|which|and|or|"
    r"when|while|from|by)\s", re.IGNORECASE)
# An exception right after a denial: "do not offer X to people with C unless ...".
_EXCEPTION = re.compile(r"[\s,]*(?:unless|except|other than|if|until)\b", re.IGNORECASE)
# Words with which a claim denies, restricts or sets aside something itself.
_DENYING = frozenset(stems(
    "avoid avoided contraindicated withhold withheld stop stopped discontinue discontinued "
    "cease rather instead only unless except caution cautious unsuitable inappropriate "
    "harmful harm risk risks".split())) | NEGATIONS - {"without", "non", "against"}
# Words that make a claim advice to give something: "offered", "first choice", "start".
_ADVISING = frozenset(stems(
    "offer offered give given receive received use used prescribe prescribed start started "
    "administer administered initiate recommend recommended choice first treat treated "
    "should must can option options".split()))
_PLAIN = STOPWORDS | LIGHT | STRONG_MODALS | WEAK_MODALS


def _words(text: str) -> set[str]:
    return {t for t in tokens(text) if t not in _PLAIN and t not in NEGATIONS}


@dataclass(frozen=True)
class Denial:
    """A clause that says not to give something, as written; the thing as written and its
    words, its circumstances' ("avoid nitrofurantoin at term": "nitrofurantoin", "term"), the
    rest of its sentence's (whom it is said of: "pregnant women ... must not receive MMR"),
    and the words of the text's other sentences."""

    words: str
    thing_text: str
    thing: frozenset[str]
    circumstances: frozenset[str]
    sentence: frozenset[str]
    others: frozenset[str]


def denied(text: str) -> list[Denial]:
    """Each clause of `text` that says not to give something."""
    spans = sentence_spans(text)
    words = [_words(text[a:b]) for a, b in spans]
    found = []
    for at, (a, b) in enumerate(spans):
        others = frozenset().union(*(w for k, w in enumerate(words) if k != at))
        for match in _DENIAL.finditer(text, a, b):
            if _DESCRIBING.search(text, a, match.start()):
                continue
            stop = _DENIAL_END.search(text, match.end(), b)
            end = stop.start() if stop else b
            clause = text[match.end():end]
            cut = _OBJECT_END.search(clause)
            thing_text = (clause[:cut.start()] if cut else clause).strip()
            thing = _words(thing_text)
            rest = text[a:match.start()] + " " + text[end:b]
            found.append(Denial(text[match.start():end].strip(), thing_text, frozenset(thing),
                                frozenset(_words(clause) - thing), frozenset(_words(rest)),
                                others))
    return found


@lru_cache(maxsize=256)
def _read(text: str) -> tuple[tuple[Denial, ...], frozenset[str]]:
    """The denials of a passage and its words outside them, read once per passage rather
    than once per answer sentence."""
    found = denied(text)
    for denial in found:
        text = text.replace(denial.words, " ")
    return tuple(found), frozenset(tokens(text))


def advises_denied(claim_text: str, text: str) -> Conflict | None:
    """A claim that advises what `text` says not to give: it names the denied thing, has no
    word of denial or restriction of its own, and is tied to the denial by a word the passage
    uses nowhere else: the thing itself or its circumstance ("including at term"), or, where
    its sentence names the thing only to deny it, a word of that sentence ("pregnant")."""
    claim = set(tokens(claim_text))
    if claim & _DENYING or not claim & _ADVISING:
        return None
    found, elsewhere = _read(text)
    for denial in found:
        if not denial.thing & claim:
            continue
        tied = (denial.thing | denial.circumstances) & claim - elsewhere
        if not tied and not denial.thing & denial.sentence:
            tied = denial.sentence & claim - denial.others
        if tied:
            return Conflict("polarity", denial.words, " ".join(sorted(denial.thing & claim)))
    return None


def denied_to_asked(claim_text: str, text: str, question: str) -> str:
    """The denial of `text` that speaks of whom the question asks about, where the claim
    advises its thing (or one the passage names with it: "the acetylcholinesterase inhibitors
    donepezil, galantamine or rivastigmine") without naming them, or "": "donepezil is an
    option for Alzheimer's disease" says nothing for someone with frontotemporal dementia,
    whom the passage says not to offer acetylcholinesterase inhibitors."""
    claim = set(tokens(claim_text))
    if claim & _DENYING or not claim & _ADVISING:
        return ""
    asked_all = tokens(question)
    denied_asked = {t for t, no in zip(asked_all, negated(asked_all), strict=True) if no}
    asked = [t for t in asked_all if t not in _PLAIN]
    found, elsewhere = _read(text)
    for denial in found:
        own = denial.circumstances - elsewhere
        # The claim speaks of them (what it says is checked as said), the question says they
        # are not so, or the passage makes an exception ("... unless ...").
        if own & (claim | denied_asked) or _EXCEPTION.match(text, text.find(denial.words)
                                                             + len(denial.words)):
            continue
        # The question names them as the denial does: two of its words in a row, one its own.
        said = [t for t in tokens(denial.words) if t not in _PLAIN]
        pairs = {(a, b) for a, b in zip(said, said[1:]) if {a, b} & own}
        if pairs & set(zip(asked, asked[1:])) and (
                denial.thing & claim or _members(denial.thing_text, text) & claim):
            return denial.words
    return ""


def _members(thing: str, text: str) -> set[str]:
    """The words of a list `text` puts right after the thing as the denial words it: "the
    acetylcholinesterase inhibitors donepezil, galantamine or rivastigmine"."""
    if not thing:
        return set()
    listed = re.compile(re.escape(thing).replace(r"\ ", r"\s+") + r"\s+([a-z][\w-]*(?:(?:,\s*|,?\s+"
                        r"(?:or|and)\s+)[a-z][\w-]*)+)", re.IGNORECASE)
    return {t for match in listed.finditer(text) for t in tokens(match.group(1))}
