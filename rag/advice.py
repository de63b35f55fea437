"""How advice is worded, as pure functions: advice against a thing said in several ways ("Do
not offer X", "X is not routinely needed", "No X is recommended", "Neither X nor Y should be
used"), and a hedge on what a thing does that is no hedge on the advice ("Review medicines
that may increase the risk of falls"). `rag.claims` reads a negation one word ahead; these
say when two sentences that negate different words advise the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from meditron_rag.text import sentence_spans, tokens
from rag.claims import CLAUSE_PARTS, Conflict, negations

# A hedge on what a thing is or does, in a clause of its own: "medicines that may increase the
# risk", "as loading may unmask ...".
_DESCRIBED = re.compile(r"\b(?:that|which|who)\s+(?:\w+\s+){0,2}(?:may|might)\b"
                        r"|\b(?:as|because|since)\b[^.;:,]*?\b(?:may|might)\b", re.IGNORECASE)
_AGAINST_WORDS = frozenset(tokens("no not neither nor avoid avoided"))
# Advice against doing something, in the ways it is worded: "Do not offer", "X is not
# routinely needed", "No treatment is recommended", "recommends against", "neither X nor Y".
_NEEDED = r"(?:recommended|needed|necessary|required|indicated|advised|warranted|advisable)"
_ADVISED_AGAINST = re.compile(
    r"\b(?:do|does|should|must|shall|need)\s*(?:not|n[’']t)\b|\bnever\b|\bavoid\b"
    rf"|(?:\bnot|n[’']t)\s+(?:\w+ly\s+)?(?:be\s+)?(?:\w+ly\s+)?{_NEEDED}\b"
    rf"|\bno\b[^.;:]{{0,60}}\b(?:is|are|be)\s+(?:\w+ly\s+)?{_NEEDED}\b"
    r"|\b(?:recommends?|advises?)\s+against\b|\bneither\b[^.;:]{0,80}\bnor\b"
    r"|\b(?:requires?|needs?)\s+no\b", re.IGNORECASE)


def _advises_against(text: str) -> bool:
    """Whether `text` advises against something, in any of the ways that is worded."""
    return bool(_ADVISED_AGAINST.search(text))


def words_against(claim_text: str, text: str) -> frozenset[str]:
    """The words of denial a claim may use of its own where it and `text` both advise
    against something: "Neither X nor Y should be used", "X is best avoided" for "Do not use X
    or Y"."""
    both = _advises_against(claim_text) and _advises_against(text)
    return _AGAINST_WORDS if both else frozenset()


def described_only(hedges: str, text: str) -> bool:
    """Whether each of the hedge words `hedges` stands in `text` only where it hedges what a
    thing is or does, not the advice: "Review medicines that may increase the risk of
    falls"; "Check calcium, as loading may unmask hyperparathyroidism"."""
    plain = tokens(_DESCRIBED.sub(" ", text))
    return bool(hedges.split()) and not set(hedges.split()) & set(plain)


def negation_moved(claim_text: str, text: str, conflict: Conflict) -> bool:
    """Whether a word negated on one side only sits in advice that both sides give against,
    each with as many negations: "Routine measurement is not needed" for "Do not routinely
    measure"; "No treatment is recommended" for "Do not offer treatment". The claim is read
    clause by clause: "Giving both at once is not recommended, and ..."."""
    if conflict.kind != "polarity":
        return False
    word = conflict.claim_words.split()[-1]
    sentences = [(tokens(text[a:b]), text[a:b]) for a, b in sentence_spans(text)]
    for clause in CLAUSE_PARTS.split(claim_text):
        said = tokens(clause)
        if word in said and _ADVISED_AGAINST.search(clause) and any(
                word in toks and _denials(toks) == _denials(said)
                and _ADVISED_AGAINST.search(sentence) for toks, sentence in sentences):
            return True
    return False


def _denials(tokens_: Sequence[str]) -> int:
    """How many times `tokens_` deny something: "neither ... nor" once, "avoid" too."""
    denying = negations(tokens_) - {"nor"} | {"avoid"}
    return sum(1 for t in tokens_ if t in denying)
