"""The limits a claim must keep, as pure functions.

"IM adrenaline is repeated after 5 minutes" says more than "... after 5 minutes if problems
persist": a clause that narrows whom or when a statement covers ("if", "unless", "who have",
"adults with ...") is part of what the passage says, and a claim that drops it, or drops
one of the conditions "and" joins to it, covers people the passage does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from meditron_rag.text import STOPWORDS, is_number, sentence_spans, stems, tokens
from rag.claims import LIGHT, ORDERING, edits, matched, negated

# Words that open a clause limiting whom or when a statement covers: "if problems persist",
# "who have a risk condition", "unless contraindicated", "wounds that are healing by primary
# intention"; "with"/"without"/"at" only after the people they limit ("adults with diabetes",
# "people at risk"), or "without" the advice or consent a rule waits for ("do not offer
# medication without a specialist opinion").
_LIMITING = re.compile(
    r"\b(?:if|unless|only|except|excluding|provided|when|whenever|while|until|as long as|who|"
    r"whose|in whom)\b|\b(?:that|which) (?:are|is|have|has)\b"
    r"|\b(?:adults?|people|persons?|patients?|women|men|children|infants|individuals|those|"
    r"anyone|everyone)\s+(?:with|without|at)\b"
    r"|\b(?:and|but) not (?:of|in|on|from|taking|having|receiving)\b"
    r"|\bwithout\b(?=[^,.;:]{0,40}\b(?:opinion|advice|consent|approval|agreement|input|"
    r"supervision|discussion|review)\b)", re.IGNORECASE)
_PEOPLE_FIRST = re.compile(r"(?:adults?|people|persons?|patients?|women|men|children|infants|"
                           r"individuals|those|anyone|everyone)\s+(?=with|without|at)\b",
                           re.IGNORECASE)
# "to reduce the risk of ...": what the statement is for, not whom it covers.
PURPOSE = re.compile(r"\b(?:in order |so as )?to (?:reduce|prevent|avoid|lower|improve|relieve|"
                     r"minimi[sz]e|control|achieve|ensure|confirm|exclude|rule out|help)\b",
                     re.IGNORECASE)
# A point or comma inside a number ("23.3 percent", "1,000 adults") ends no clause.
_CLAUSE_END = re.compile(r"[;:()\[\]\n]|[,.](?!\d)")


@dataclass(frozen=True)
class Limit:
    """A limiting clause of a text: its words, and where it stands among the text's tokens."""

    words: str
    first: int  # its first token
    end: int  # past its last token
    content: frozenset[str]


def limits(text: str) -> list[Limit]:
    """The clauses of `text` that limit whom or when it applies, each up to the next
    punctuation or the next limit."""
    found = []
    for match in _LIMITING.finditer(text):
        stop = _CLAUSE_END.search(text, match.end())
        end = stop.start() if stop else len(text)
        # "and not of Black African family origin who do not have diabetes": two limits.
        after = _LIMITING.search(text, match.end(), end)
        end = after.start() if after else end
        purpose = PURPOSE.search(text, match.end(), end)
        end = purpose.start() if purpose else end
        clause = text[match.start():end]
        first = len(tokens(text[:match.start()]))
        clause_tokens = tokens(clause)
        # "Children at increased risk": the limit is the risk; a claim about children keeps
        # the people, not it.
        people = _PEOPLE_FIRST.match(clause)
        limiting = tokens(clause[people.end():]) if people else clause_tokens
        content = frozenset(t for t in limiting if t not in LIGHT and t not in ORDERING
                            and t not in STOPWORDS | {"onli", "except", "unless"})
        if content:
            found.append(Limit(clause.strip(), first, first + len(clause_tokens), content))
    return found


def dropped_limit(claim: Sequence[str], span: str, given: set[str]) -> str:
    """A limiting clause that the claim leaves out of the sentence of `span` it rests on
    most, as the passage words it, or "": "IM adrenaline is repeated after 5 minutes" says
    more than "... after 5 minutes if problems persist". A clause counts where it stands
    inside the stretch the claim covers or next to either end of it, and none of its words
    is in the claim or in `given` (the question's: a claim answering "adults with a risk
    condition?" need not repeat it)."""
    # A semicolon closes what limits the clause before it ("People at risk should be screened
    # every year; adults with no risk factors every 3 years").
    sentence, sentence_tokens = _resting(claim, span)
    _, _, (lo, hi) = edits(claim, sentence_tokens)
    said = set(claim) | given
    # The line that leads in to a list limits each of its items: "to women who are able to
    # return for follow-up and who have all of the following: ...; ...".
    for limit in limits(_lead_in(sentence, span)):
        if not _POINTS_TO_LIST.search(limit.words) and not limit.content & said:
            return re.sub(r"\s+(?:and|or)$", "", limit.words)
    found = limits(sentence)
    for limit in found:
        near = lo <= limit.first < hi or hi <= limit.first <= hi + 1 or lo - 1 <= limit.end <= lo
        # Its own words: "RSV" of "at increased risk of severe RSV disease" is also the
        # sentence's "RSV vaccine", so a claim that keeps only that keeps no limit.
        outside = set(sentence_tokens[:limit.first]) | set(sentence_tokens[limit.end:])
        own = limit.content - outside or limit.content
        if not near:
            continue
        if _POINTS_TO_LIST.search(limit.words) and len(
                set(claim) & set(sentence_tokens[limit.end:])) >= 2:
            continue  # "adults with any of these risk factors: ..." and the claim names one
        if not own & said:
            if not _alternative_kept(limit, found, sentence, said):
                return limit.words
            continue
        if dropped := _dropped_conjunct(limit.words, said):
            return dropped
    return ""


def _resting(claim: Sequence[str], span: str) -> tuple[str, list[str]]:
    """The sentence (or the part of one a semicolon sets off) of `span` that holds most of
    the claim's words, and its tokens."""
    sentences = [(s, tokens(s)) for s in
                 [piece for a, b in sentence_spans(span) for piece in re.split(r";\s", span[a:b])]
                 or [span]]
    return max(sentences, key=lambda pair: matched(claim, pair[1]))


def _lead_in(piece: str, span: str) -> str:
    """The words before the colon that leads in to the list `piece` is an item of, or ""."""
    for a, b in sentence_spans(span):
        at = span.find(piece, a, b)
        if at >= 0:
            colon = span.rfind(":", a, at)
            return span[a:colon] if colon >= 0 else ""
    return ""


# A limit that leaves a group out ("who do not have hepatitis B", "adults without diabetes"),
# up to the group it names.
_LEAVING_OUT = re.compile(r"^(?:(?:who|whose|that|which)\s+(?:(?:do|does|did|are|is|have|has|"
                          r"had)\s+)?(?:not|never)|(?:\w+\s+)?without|(?:and|but) not)\s+"
                          r"(?:(?:have|has|had|be|been|received?|taken?|got|of)\s+)?",
                          re.IGNORECASE)
_GROUP_END = re.compile(r"\s(?:to|for|in|at|with|during|on|after|before|within|who|that|which|"
                        r"when|while|from|by|need|needs|should|must|can|may|will|is|are)\s",
                        re.IGNORECASE)


def excluded_by_limit(claim_text: str, span: str, question: str) -> str:
    """A limit of the sentence the claim rests on that leaves out the group the question is
    about, or "": "people with cirrhosis who do not have hepatitis B virus infection" says
    nothing of cirrhosis caused by hepatitis B. The question names the group as the limit
    does (two of its words in a row, or its one word), not denied; a group the rest of
    `span` speaks of is not left out of it, and one the claim itself says it is about is for
    the check of what the claim says ("men who have ever smoked" for "never smoked")."""
    sentence, _ = _resting(tokens(claim_text), span)
    asked = tokens(question)
    denied = {t for t, no in zip(asked, negated(asked), strict=True) if no}
    for own in limits(claim_text):  # "who do not have hepatitis B" says nobody is about it
        if _LEAVING_OUT.match(own.words):
            claim_text = claim_text.replace(own.words, " ")
    said = set(tokens(claim_text))
    for limit in limits(sentence):
        if not (opening := _LEAVING_OUT.match(limit.words)):
            continue
        phrase = limit.words[opening.end():]
        group = tokens(phrase[:end.start()] if (end := _GROUP_END.search(phrase)) else phrase)
        named = set(group) & set(asked)
        if not named or named & (denied | said) or named & set(
                tokens(span.replace(limit.words, " "))):
            continue
        pairs = set(zip(group, group[1:]))
        if len(group) == 1 or pairs & set(zip(asked, asked[1:])):
            return limit.words
    return ""


def _alternative_kept(limit: Limit, found: Sequence[Limit], sentence: str, said: set[str]
                      ) -> bool:
    """Whether the claim keeps another limit that "or" joins to this one: "people who have
    fallen, ... or who have problems with gait" covers a claim about the last group alone."""
    opener = limit.words.split()[0].lower()
    for other in found:
        if other is limit or not other.content & said or other.words.split()[0].lower() != opener:
            continue
        first, second = sorted((limit, other), key=lambda x: x.first)
        start = sentence.find(first.words) + len(first.words)
        between = sentence[start:sentence.find(second.words, start)]
        if re.search(r"\bor\b", between) and not re.search(r"\band\b", between):
            return True
    return False


# Where a limiting phrase ends and the statement goes on: "adults with diabetes should be
# offered A and B" limits to "adults with diabetes"; its "and B" is a list of what to do.
_PHRASE_END = re.compile(
    r"\b(?:should|must|may|might|can|could|will|shall|is|are|was|were|need|needs|offer|give|"
    r"consider|start|measure|refer|use|treat|avoid)\b", re.IGNORECASE)
# What follows "and" in an age bound ("65 and over", "18 and older") is the bound, not a
# second condition.
_BOUND_WORDS = frozenset(stems("over older above under younger below up upward more".split()))


# A condition met by any item of a list the passage gives ("and have any of the following
# risk factors"): a claim that names one of the items keeps it.
_POINTS_TO_LIST = re.compile(r"\b(?:following|below|listed|these|any of|one of)\b",
                             re.IGNORECASE)


def _dropped_conjunct(limit: str, said: set[str]) -> str:
    """A condition joined to a kept one by "and" that the claim leaves out, or "": "adults
    with CKD" for "adults with CKD and diabetes" covers people the passage does not. One
    joined by "or" may be left out: that names one of the cases the passage covers."""
    phrase = limit[:m.start()] if (m := _PHRASE_END.search(limit)) else limit
    for joined in list(re.finditer(r"\band\b", phrase))[:3]:
        rest = phrase[joined.end():]
        if stop := _LIMITING.search(rest):
            rest = rest[:stop.start()]
        content = {t for t in tokens(rest) if not is_number(t) and t not in STOPWORDS
                   and t not in LIGHT and t not in _BOUND_WORDS}
        if content and not content & said and not _POINTS_TO_LIST.search(rest):
            return f"and {rest.strip()}"
    return ""
