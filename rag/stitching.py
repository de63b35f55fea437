"""Claims stitched together from two statements of one passage, as pure functions.

Every word of "Statins are recommended for secondary prevention" is in a passage that says
"Aspirin is recommended for secondary prevention. Statins are not recommended for people
over 75.", and a model that mixes up neighbouring sentences writes exactly such claims. So
a claim is read against the one statement (sentence, list item or table row) that holds most
of its words, and each word it brings from another statement must have a place there:

- a word that takes the place of the statement's own ("statins" where it says "aspirin")
  swaps a detail: the claim is contradicted;
- a run of words at the end that rests on a statement of its own is a list's next item ("...
  and CT colonography every 5 years"), and so is a clause before the rest ("Aspirin is
  ..., and statins are ..."): each is read the same way in turn;
- a word otherwise put in is what another statement says, joined to this one: the claim is
  not supported. A pronoun is the exception: "It should be given into the thigh" after
  "Adrenaline is the first-line treatment." is about adrenaline.

Within the one statement, words can trade places too: a word the statement gives another
number ("a sensitivity of 95%" for "a specificity of 95% and a sensitivity of 80%"), a word
said twice in place of another, and the two ends of what is shared ("Diabetes increases the
risk of obesity" for "Obesity increases the risk of diabetes").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from meditron_rag.text import (
    NEGATIONS,
    is_number,
    item_spans,
    paragraph_spans,
    sentence_spans,
    tokens,
)
from rag.claims import (
    BOUNDS,
    LIGHT,
    ORDERING,
    STRONG_MODALS,
    WEAK_MODALS,
    Conflict,
    negations,
    quantifiers,
    same_thing,
)

# A statement that opens by referring back to the one before it ("It should be given ...",
# "In mild asthma this can be ..."), within its first few words.
_REFERRING = re.compile(r"\s*(?:\S+\s+){0,3}(?:it|its|they|them|their|this|these|those|such|both|"
                        r"either|the same)\b", re.IGNORECASE)
# What opens a list item: a bullet, "1.", "a)", "(ii)".
_MARKER = re.compile(r"\s*(?:(?:[-*+•›▪◦‣–]|\d{1,3}[.)]|[A-Za-z][.)]|\((?:\d{1,3}|[a-z]|[ivx]+)\))"
                     r"\s+)?")
# A line that introduces what follows it: "Offer the vaccine to:", a heading, a table header.
_LEAD_IN = re.compile(r"(?::\s*$|^\s*#)")
# Where a claim's clause ends and another begins. A run of words before the rest of the claim
# says its own only at such a cut: "Aspirin is ..., and statins are not ...", where "CT
# colonography and colonoscopy every 10 years" says "every 10 years" of both.
_CLAUSE_CUT = re.compile(r"(?<!\d)[.;]\s|,\s+(?:and|but|or|while|whilst|whereas)\b"
                         r"|\s+(?:whereas|while|whilst)\b", re.IGNORECASE)
# Where an item of a list, or a clause, follows another: a run at the end of a claim that
# rests on a statement of its own starts at one ("... every 10 years and CT colonography every
# 5 years"), not in the middle of what the first statement's words began ("All women aged 65
# should have bone density measured" takes its subject from one sentence, its verb from the
# next).
_JOIN = re.compile(r",\s+|;\s+|\s+(?:and|or|plus|then|as well as|followed by)\s+",
                   re.IGNORECASE)
_NAME = 3  # the first words of a list item, that name it ("CT colonography: every 5 years")
# "... is caused by ...", "... should be offered ...": the doer comes last, or goes unsaid.
_PASSIVE = re.compile(r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?\w+(?:ed|en|wn)\b",
                      re.IGNORECASE)
_BE = frozenset("is are was were be been being".split())
# A phrase put before the clause it belongs to ("After removing gloves, perform hand
# hygiene"; "For type 2 diabetes, first-line treatment is metformin"): word order says little.
_FRONTED = re.compile(r"\s*(?:after|before|for|in|on|at|when|if|once|during|with|among|"
                      r"following|to|by|from|within|until|unless|while|as|rather|instead)"
                      r"\b[^,.;]{0,80},",
                      re.IGNORECASE)
# Relations that hold both ways: "A is associated with B" says "B is associated with A", and
# "A defines B" says "B is A".
_BOTH_WAYS = frozenset(tokens(
    "associated associate linked link correlated correlation related relation interacts "
    "interaction combined combination compared comparison versus similar equal equivalent "
    "differ different between together both defines defined definition means meaning"))
_REACH = 3  # how far after a word the number it gives may stand ("sensitivity of 80%")
_CLOSING = frozenset(tokens("age old gestation"))
_MAX_DEPTH = 4  # clauses or list items one claim may join, each resting on its own statement
# Words any statement may lend: bounds, modals and light verbs have checks of their own, and
# a verb that only relates a test to what it finds says nothing of its own.
_FREE = BOUNDS | STRONG_MODALS | WEAK_MODALS | LIGHT | frozenset(tokens(
    "show shows indicate indicates reveal reveals identify identifies mean means tell tells"))
# "A person who asks" for "Anyone who asks" names nobody new.
_ANYONE = frozenset(tokens("anyone everyone someone anybody everybody somebody whoever those"))
_PERSON = frozenset(tokens("person people individual"))


@dataclass(frozen=True)
class Statement:
    """One sentence, list item or table row of a passage, with the line that introduces it."""

    text: str
    tokens: tuple[str, ...]
    lead: frozenset[str]


@lru_cache(maxsize=256)
def statements(text: str) -> tuple[Statement, ...]:
    """The passage's statements in order. A line ending in ":" or a Markdown heading leads
    in the statements after it; a table's header row leads in its body rows."""
    found: list[Statement] = []
    lead: frozenset[str] = frozenset()
    for block in paragraph_spans(text, 0, len(text)):
        header: frozenset[str] | None = None
        for start, end in item_spans(text, *block):
            marker = _MARKER.match(text, start, end)
            item = (marker.end() if marker else start, end)
            piece = text[item[0]:item[1]]
            if piece.lstrip().startswith("|"):
                if not set(piece) - set("|-: \n"):  # the rule under a table's header
                    continue
                if header is None:
                    header = frozenset(tokens(piece))
                    continue
                found.append(Statement(piece, tuple(tokens(piece)), lead | header))
                continue
            for a, b in sentence_spans(text, *item):
                sentence = text[a:b]
                if _LEAD_IN.search(sentence):
                    lead = frozenset(tokens(sentence))
                    continue
                found.append(Statement(sentence, tuple(tokens(sentence)), lead))
    return tuple(found)


def stitched(claim_text: str, text: str, free: frozenset[str]) -> Conflict | None:
    """How the claim joins what two statements of `text` say, or None.

    The conflict's kind is "detail" for a word swapped for another statement's, "polarity"
    for a negation brought from one, and "joined" for words put in from another statement
    (not supported rather than contradicted). `free` holds words any statement may lend:
    the passage's title and section, words of attribution."""
    found = statements(text)
    if not found:
        return None
    claim, cuts, joins = _clauses(claim_text)
    free = free | _FREE
    if _enumerates(claim, found, free) or _each_clause_said(claim, cuts, joins, found, free):
        return None
    return _read(claim, cuts, joins, found, free, 0) or _reversed(claim, claim_text, found, free)


def _each_clause_said(claim: list[str], cuts: frozenset[int], joins: frozenset[int],
                      found: Sequence[Statement], free: frozenset[str]) -> bool:
    """Whether each clause of a claim of several ("Give aspirin 300 mg immediately, and refer
    within 24 hours") is read clean against a statement of its own: two sentences joined in
    one, each said. Read whole, the words of the one put beside the other look brought in."""
    if not cuts:
        return False
    ends = sorted(cuts) + [len(claim)]
    for a, b in zip([0, *ends[:-1]], ends, strict=True):
        piece, inside = claim[a:b], frozenset(j - a for j in joins if a < j < b)
        home = max(found, key=lambda s: _fit(piece, s))
        # Each clause's numbers are its own statement's: "Preterm infants under 1500 g
        # receive 1 mg" takes its dose from the sentence about all newborns.
        numbers = {t for t in piece if is_number(t)}
        # And its polarity: "this includes those having a planned caesarean" rests on "Do
        # not offer it to women having a planned caesarean".
        denied = bool(set(home.tokens) & NEGATIONS) != bool(set(piece) & NEGATIONS)
        if (len(set(piece) - free) < 2 or denied or not numbers <= set(home.tokens) | home.lead
                or _read(piece, frozenset(), inside, found, free, 1) is not None):
            return False
    return True


def _enumerates(claim: list[str], found: Sequence[Statement], free: frozenset[str]) -> bool:
    """Whether the claim names items of one list with words of the line that leads in to it,
    and takes nothing else from the items: "The three tests are HBsAg, anti-HBs and total
    anti-HBc" (but not "HBsAg and anti-HBs show immunity", which takes "shows immunity" from
    one item)."""
    words = {t for t in claim if t not in free and any(t in s.tokens or t in s.lead
                                                       for s in found)}
    for lead in {s.lead for s in found if s.lead}:
        names = [set(s.tokens[:_NAME]) for s in found if s.lead == lead]
        named = [n for n in names if n & words]
        if (len(named) >= 2 and words & lead
                and words <= lead.union(*named) and not words & _said_after(found, lead)):
            return True
    return False


def _said_after(found: Sequence[Statement], lead: frozenset[str]) -> set[str]:
    """The words of a list's items past their names, that the names alone do not hold."""
    items = [s.tokens for s in found if s.lead == lead]
    names = {t for item in items for t in item[:_NAME]}
    return {t for item in items for t in item[_NAME:]} - names


def _clauses(text: str) -> tuple[list[str], frozenset[int], frozenset[int]]:
    """The claim's tokens, the token offsets where one of its clauses ends and another begins
    ("...; ...", "..., and ...", "... whereas ..."), and those where a list goes on ("... and
    CT colonography ...", "..., CT ...")."""
    claim = tokens(text)
    return claim, _offsets(text, _CLAUSE_CUT, len(claim)), _offsets(text, _JOIN, len(claim))


def _offsets(text: str, cut: re.Pattern[str], size: int) -> frozenset[int]:
    """The token offsets at which `cut` parts `text`; none where the normal form reaches
    across a cut."""
    counts = [len(tokens(piece)) for piece in cut.split(text)]
    if sum(counts) != size:
        return frozenset()
    return frozenset(sum(counts[:k]) for k in range(1, len(counts)))


def _read(claim: list[str], cuts: frozenset[int], joins: frozenset[int],
          found: Sequence[Statement], free: frozenset[str], depth: int) -> Conflict | None:
    anywhere = {t for s in found for t in s.tokens}
    best = max(range(len(found)), key=lambda k: _fit(claim, found[k]))
    statement = found[best]
    # "All" brought to a statement that speaks of "most": another statement's "all" is not
    # this one's.
    if wider := quantifiers(claim, statement.tokens):
        return wider[0]
    basis = set(statement.tokens) | statement.lead | free
    negating = negations(claim)
    # "Against" that negates nothing ("vaccinated against RSV") is a word like "for".
    moved = {t for t in claim if t in anywhere and t not in basis and not is_number(t)
             and (t not in NEGATIONS or t in negating)}
    source = list(statement.tokens)
    blocks = [b for b in SequenceMatcher(None, claim, source, autojunk=False)
              .get_matching_blocks() if b.size]
    if not blocks:
        return None
    claim_set = set(claim)
    # Runs of the claim before the first matched word, between matches and after the last,
    # with the statement's words that stand in the same place.
    edges = [(0, blocks[0].a, 0, blocks[0].b, True)]
    edges += [(x.a + x.size, y.a, x.b + x.size, y.b, False) for x, y in zip(blocks, blocks[1:])]
    edges.append((blocks[-1].a + blocks[-1].size, len(claim),
                  blocks[-1].b + blocks[-1].size, len(source), True))
    for i1, i2, j1, j2, at_end in edges:
        run = claim[i1:i2]
        brought = [t for t in run if t in moved]
        lost = [t for t in source[j1:j2]
                if t not in claim_set and t not in free and t not in _ANYONE]
        if not brought:
            # A word the statement has once, said twice: once in place of another word
            # ("Penicillin is safe in penicillin allergy" for "Cephalosporins are safe ...").
            twice = [t for t in run if t not in free and 0 < source.count(t) < claim.count(t)]
            if twice and lost and not same_thing(twice, lost):
                return Conflict("detail", " ".join(lost), " ".join(twice))
            if not at_end and (swap := _traded(run, lost, source, claim[i2], free)):
                return swap
            continue
        # What follows a run at the head is said of it too, unless the run says its own.
        rests = at_end and _rests(run, frozenset(j - i1 for j in joins if i1 < j < i2),
                                  found, free, depth)
        if rests and (i1 > 0 and i1 in joins | cuts or i1 == 0 and i2 in cuts):
            continue
        if rests and _whole(run, found, free):
            if not lost:  # "Colonoscopy every 10 years and CT colonography every 5 years"
                continue
            # One whole sentence put in place of the start of another: joined, neither said.
            return Conflict("joined", statement.text, " ".join(brought))
        if negation := [t for t in brought if t in negating]:
            return Conflict("polarity", "", " ".join(negation))
        # "washing hands" for "handwashing"; "standard deviations" for "SD"
        if lost and (same_thing(brought, lost) or same_thing(
                [t for t in run if not is_number(t)], lost)):
            continue
        if not lost and set(brought) <= _PERSON:
            continue
        if lost and not _defines(brought, lost, found):
            return Conflict("detail", " ".join(lost), " ".join(brought))
        if not lost and _refers(statement, brought, found, best):
            continue
        return Conflict("joined", statement.text, " ".join(brought))
    return None


def _traded(run: list[str], lost: list[str], source: list[str], number: str,
            free: frozenset[str]) -> Conflict | None:
    """A word the statement gives another number, put in place of the word it gives this
    one: "a sensitivity of 95%" for "a specificity of 95% and a sensitivity of 80%"."""
    said = [t for t in run if t not in free and not is_number(t)]
    lost = [t for t in lost if not is_number(t)]
    if not (is_number(number) and said and lost and len(said) <= 3 and len(lost) <= 3):
        return None
    for k, word in enumerate(source):
        after = [t for t in source[k + 1:k + 1 + _REACH] if is_number(t)]
        # "Age" that closes a number's phrase ("6 months of age") gives none after it.
        closes = word in _CLOSING and any(is_number(t) for t in source[max(0, k - 2):k])
        if word in said and after and after[0] != number and not closes:
            return Conflict("detail", " ".join(lost), " ".join(said))
    return None


def _reversed(claim: list[str], claim_text: str, found: Sequence[Statement], free: frozenset[str]
              ) -> Conflict | None:
    """The two ends of what the claim and its statement share, traded: "Diabetes increases
    the risk of obesity" for "Obesity increases the risk of diabetes". Not where one side is
    passive and the other active ("Lung cancer is caused by smoking"), where either puts a
    phrase before its clause, nor for a relation that holds both ways ("associated with") or
    one that orders two things ("rather than": see `rag.claims`)."""
    statement = found[max(range(len(found)), key=lambda k: _fit(claim, found[k]))]
    if (set(claim) & (_BOTH_WAYS | ORDERING) or set(statement.tokens) & _BOTH_WAYS
            or _FRONTED.match(claim_text) or _FRONTED.match(statement.text)
            or bool(_PASSIVE.search(claim_text)) != bool(_PASSIVE.search(statement.text))):
        return None
    source = statement.tokens
    said = [t for t in claim if t in source and t not in free and not is_number(t)]
    was = [t for t in source if t in said]
    if len(said) < 3 or said[0] in was[:2] or said[0] not in was[-2:] or said[-1] not in was[:2]:
        return None
    if _after_be(said[-1], claim_text) or _after_be(was[-1], statement.text):
        return None  # "Women ... should be screened" for "Screen those ... (women)"
    return Conflict("order", f"{was[0]} … {was[-1]}", f"{said[0]} … {said[-1]}")


def _after_be(stem: str, text: str) -> bool:
    """Whether the word of `text` for `stem` follows "be", "is", "are"...: a passive verb."""
    words = re.findall(r"[\w'-]+", text)
    return any(stem in tokens(word) and k and words[k - 1].lower() in _BE
               for k, word in enumerate(words))


def _fit(claim: list[str], statement: Statement) -> tuple[int, int]:
    shared = set(claim) & (set(statement.tokens) | statement.lead)
    blocks = SequenceMatcher(None, claim, list(statement.tokens), autojunk=False)
    return len(shared), sum(b.size for b in blocks.get_matching_blocks())


def _rests(run: list[str], joins: frozenset[int], found: Sequence[Statement],
           free: frozenset[str], depth: int) -> bool:
    """Whether a run at one end of a claim stands on a statement of its own (two or more of
    its words there, its first among them: "CT colonography every 5 years", not the "should
    be assessed for Kawasaki disease" of "Children with fever ... should be assessed ..."),
    with nothing in it stitched."""
    if depth >= _MAX_DEPTH:
        return False
    words = {t for t in run if t not in free}
    own = [[t for t in s.tokens if t not in free] for s in found]
    if not any(len(words & set(o)) >= 2 and o[0] in words for o in own if o):
        return False
    return _read(run, frozenset(), joins, found, free, depth + 1) is None


def _whole(run: list[str], found: Sequence[Statement], free: frozenset[str]) -> bool:
    """Whether the run holds every word of some statement: "Screening is offered
    selectively, depending on ..." puts one whole sentence before another."""
    return any(len(own) >= 2 and own <= set(run)
               for own in (set(s.tokens) - free for s in found))


def _defines(brought: list[str], lost: list[str], found: Sequence[Statement]) -> bool:
    """Whether a statement holding the brought words also holds the ones they replace:
    "PCV20 is a pneumococcal conjugate vaccine" makes "PCV20" stand for "a pneumococcal
    conjugate vaccine" (still not said, but not the opposite)."""
    return any(set(brought) <= set(s.tokens) and set(lost) <= set(s.tokens) for s in found)


def _refers(statement: Statement, brought: list[str], found: Sequence[Statement], at: int) -> bool:
    """Whether the statement opens by referring back ("It", "In these") to the one just
    before it, which holds the brought words."""
    return (at > 0 and bool(_REFERRING.match(statement.text))
            and set(brought) <= set(found[at - 1].tokens))
