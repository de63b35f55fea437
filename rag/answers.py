"""Answers built from verified evidence: the extractive answer, and the honest "not covered".

A small model (SmolLM2) cannot write an answer that survives the citation check, so the
default answer for it is made of the passages' own sentences: the ones that bear most on the
question, quoted, cited, without repeats, and only those that apply to who the question asks
about. Whatever the model, when the question names an age or a sex that no passage's
recommendation covers, or a subject no passage mentions, the answer says so and shows what
the passages do cover, rather than stretching a passage to fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from meditron_rag.text import content_words, is_number, tokens
from rag.ages import AgeRange, ages, sexes
from rag.citations import CitationChecker, Source
from rag.claims import STRONG_MODALS, WEAK_MODALS
from rag.evidence import Evidence
from rag.prompts import neutralise
from rag.records import Passage, SentenceSupport

# Question words that say what kind of answer is wanted, not what it is about: a passage
# need not contain them to answer.
_GENERIC = content_words(
    "recommend recommendation recommended guideline guidelines guidance advise advice say says "
    "according often frequently frequency long much many age old year years start begin stop "
    "first line treat treatment therapy manage management option options best preferred "
    "adult adults patient patients people person someone anyone woman women man men child "
    "children need needs get given give take taking use used should would could can does do "
    "current currently new latest still change changed changes report task force usa us uk "
    "routine routinely screen screening test testing tested mild moderate severe risk average "
    "why decide decided else mean means count counts happen instead"
)


def missing_subject(question: str, passages: Sequence[Passage]) -> tuple[list[str], float]:
    """The question's own subject words that no passage, title or section mentions, and
    their share of all its subject words ("gout" asked, no passage about gout)."""
    asked = [w for w in dict.fromkeys(tokens(question)) if w in content_words(question)
             and w not in _GENERIC and not w.isdigit()]
    if not asked:
        return [], 0.0
    known: set[str] = set()
    for p in passages:
        known |= set(tokens(f"{p.title} {p.organisation} {p.section} {p.text}"))
    missing = [w for w in asked if w not in known]
    words = {t: word for word in question.split() for t in tokens(word)}
    return [words.get(w, w).strip("?.,;:!()\"'") for w in missing], len(missing) / len(asked)


def not_covered(question: str, passages: Sequence[Passage], ranked: Sequence[Evidence],
                below: float, missing_below: float) -> str:
    """Why the passages do not answer the question, or "" when they may. Not covered: the
    best evidence sentence scores under `below`, or most of the question's subject words
    are in no passage and the best sentence scores under `missing_below`."""
    top = ranked[0].score if ranked else 0.0
    missing, share = missing_subject(question, passages)
    if share >= 0.6 and top < missing_below:
        return f"The passages found do not mention {', '.join(missing)}"
    if top < below:
        return ("The passages found do not answer this question closely"
                + (f" (they do not mention {', '.join(missing)})" if missing else ""))
    return ""


# Questions whose answer is a number: an age, a dose, an interval, a duration, a count.
_QUANTITY = re.compile(
    r"\b(?:how\s+(?:often|long|many|much|old|soon|frequently)|at\s+what\s+age|what\s+(?:age|"
    r"dose|interval|target|range|level|threshold|duration)|when\s+(?:should|does|do|is|can))\b",
    re.IGNORECASE)
NUMBER_BONUS = 0.1


def _gives_number(text: str) -> bool:
    """Whether `text` states a number other than a year (an age, dose, interval...)."""
    return any(is_number(t) and not 1900 <= float(t) <= 2100 for t in tokens(text))


def _heading_scope(p: Passage) -> str:
    return p.section.rsplit(" > ", 1)[-1]


def uncovered_population(question: str, passages: Sequence[Passage]) -> str:
    """Who the question asks about, when no passage whose heading names an age group (or a
    sex) covers them; "" when they are covered or the question names no one."""
    asked_ages, asked_sex = ages(question), sexes(question)
    scoped_ages = [r for p in passages for r in ages(_heading_scope(p), points=False)]
    if asked_ages and scoped_ages and not any(a.overlaps(r) for a in asked_ages
                                              for r in scoped_ages):
        return "ages " + ", ".join(str(a) for a in asked_ages)
    scoped_sex = set().union(*(sexes(_heading_scope(p)) for p in passages))
    if asked_sex and scoped_sex and not asked_sex & scoped_sex:
        return " and ".join(sorted(asked_sex))
    return ""


def _covers(question: str, evidence: Evidence, passage: Passage) -> bool:
    asked: Sequence[AgeRange] = ages(question)
    scope = ages(f"{_heading_scope(passage)}. {evidence.text}", points=False)
    if asked and scope and not any(a.overlaps(s) for a in asked for s in scope):
        return False
    asked_sex, scope_sex = sexes(question), sexes(f"{_heading_scope(passage)}. {evidence.text}")
    return not (asked_sex and scope_sex and not asked_sex & scope_sex)


def _similar(a: str, b: str) -> bool:
    x, y = set(tokens(a)), set(tokens(b))
    return bool(x and y) and len(x & y) / min(len(x), len(y)) >= 0.7


def pick(question: str, ranked: Sequence[Evidence], passages: Sequence[Passage], count: int,
         floor: float = 0.6) -> list[Evidence]:
    """Up to `count` evidence sentences for the answer: best first (a question that asks for
    an age, an interval or an amount prefers sentences that give a number), each at least
    `floor` of the best one's score, applying to who the question asks about, none repeating
    another, none from a superseded guideline while a current one was found, none that reads like
    instructions to a model."""
    current = [p for p in passages if not p.superseded_by]
    by_number = {p.number: p for p in (current or passages)}
    bonus = NUMBER_BONUS if _QUANTITY.search(question) else 0.0
    scored = sorted(((ev.score + bonus * _gives_number(ev.text), ev)
                     for ev in ranked if ev.number in by_number), key=lambda x: -x[0])
    chosen: list[Evidence] = []
    top = scored[0][0] if scored else 0.0
    for score, ev in scored:
        if len(chosen) == count or score < floor * top:
            break
        passage = by_number.get(ev.number)
        if passage is None or not _covers(question, ev, passage) or neutralise(ev.text)[1]:
            continue
        if any(_similar(ev.text, c.text) for c in chosen):
            continue
        chosen.append(ev)
    return chosen


def quote(evidence: Evidence) -> str:
    return f"“{' '.join(evidence.quote().split())}” [{evidence.number}]"


def verify(checker: CitationChecker, text: str, passages: Sequence[Passage],
           question: str) -> list[SentenceSupport]:
    """`text` checked against the passages it cites, each read with its title and section."""
    return checker.check(text, sources(passages), question)


def verify_quotes(checker: CitationChecker, evidence: Sequence[Evidence],
                  passages: Sequence[Passage], question: str) -> list[SentenceSupport]:
    """Each quoted evidence sentence checked on its own against its passage."""
    given = sources(passages)
    return [checker.sentence(quote(e), given, question) for e in evidence]


def sources(passages: Sequence[Passage]) -> dict[int, Source]:
    return {p.number: Source(p.text, f"{p.title} {p.organisation}", p.section)
            for p in passages}


def _advises(text: str) -> bool:
    return bool(set(tokens(text)) & (STRONG_MODALS | WEAK_MODALS))


def not_covered_text(who: str, ranked: Sequence[Evidence], passages: Sequence[Passage]) -> str:
    """"The passages do not cover X", then one quoted sentence from each group they do
    cover (one that advises, where there is one), so the reader sees where the guideline
    stops."""
    by_number = {p.number: p for p in passages}
    shown: dict[str, Evidence] = {}
    for ev in ranked:
        passage = by_number.get(ev.number)
        if passage is None:
            continue
        found = ages(_heading_scope(passage), points=False)
        scope = ("ages " + ", ".join(str(r) for r in found) if found
                 else " and ".join(sorted(sexes(_heading_scope(passage)))))
        if scope and (scope not in shown or _advises(ev.text) and not _advises(
                shown[scope].text)):
            shown[scope] = ev
    lines = [f"The passages found do not cover {who}, which the question asks about."]
    if shown:
        lines.append("What they cover: " + "; ".join(
            f"{scope}: “{ev.text}” [{ev.number}]" for scope, ev in list(shown.items())[:3]))
    return " ".join(lines)
