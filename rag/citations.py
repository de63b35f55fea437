"""Checking each sentence of an answer against the passage it cites.

Every sentence gets a verdict, not a score (method in docs/citations.md):
- `supported`: the passage says it. The sentence's words, normalised, come from the passage
  (one stretch of it), and nothing in that stretch says otherwise.
- `contradicted`: the cited stretch says otherwise: a negation added or dropped, a number,
  range, dose or unit changed, a population, drug or test swapped, a "may" made a "should".
- `unsupported`: the passage does not say it.
- `not_applicable`: the passage says it about an age or sex that excludes the one the question
  asks about.
- `not_a_claim`: a question echoed back, a file name, a label, a heading: nothing to check.

Each verdict carries its reason in words and the passage text it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from meditron_rag.text import (
    MARKER,
    NEGATIONS,
    answer_sentences,
    claim_spans,
    is_number,
    tokens,
)
from rag.advice import described_only, negation_moved, words_against
from rag.ages import AgeRange, ages, ages_within, sexes, widened_ages
from rag.claims import (
    LIGHT,
    POPULATIONS,
    STRONG_MODALS,
    UNIVERSAL,
    WEAK_MODALS,
    Conflict,
    conflicts,
    dropped_possibility,
    matched,
    narrower_group,
    negated_forms,
    negations,
    opposite_in,
    otherwise_swap,
    prefixed_in,
    said_with_prefix,
)
from rag.denials import advises_denied, denied_to_asked
from rag.items import traded_details, traded_strength
from rag.limits import dropped_limit, excluded_by_limit
from rag.quantities import (
    bound_changes,
    bound_pairs,
    bound_trade,
    bounds_inside,
    clause_trade,
    dropped_number_limit,
    dropped_timing,
    each_clause_agrees,
    graded_otherwise,
    population_numbers,
    range_outside,
    said_in_one_clause,
    sentence_trade,
    transposed_numbers,
    unit_changes,
)
from rag.records import SentenceSupport
from rag.scope import (
    age_group,
    asked_ages,
    denied_scope,
    duration_outside,
    gestation_outside,
    left_out,
    measure_outside,
    pregnancy_outside,
    scope_clauses,
)
from rag.stitching import stitched
from rag.wording import PRONOUNS, abbreviated, affirmed, spelled_out

SUPPORTED, CONTRADICTED, UNSUPPORTED = "supported", "contradicted", "unsupported"
_AGE_WORDS = frozenset(tokens("age aged years months weeks old"))
NOT_APPLICABLE, NOT_A_CLAIM = "not_applicable", "not_a_claim"

_WORD = re.compile(r"[a-z0-9]+")
_FILE = re.compile(r"\b[\w.-]+\.(?:md|pdf|txt|html?|docx?|jsonl?|csv)\b", re.IGNORECASE)
_LABEL = re.compile(r"^\W*(?:question|answer|passages?|sources?|context)\s*:",
                    re.IGNORECASE)
_DISCLAIMER = re.compile(
    r"\b(?:not (?:a substitute for |intended as )?(?:medical|clinical) advice|consult (?:a|your)"
    r" (?:doctor|clinician|physician|healthcare)|i am (?:not )?an? (?:ai|doctor|language model)|"
    r"as an ai)\b", re.IGNORECASE)
_QUESTION_FORM = re.compile(
    r"^\W*(?:what|which|who|whom|how|when|where|why|should|does|do|is|are|can|could|would|will)"
    r"\b", re.IGNORECASE)
# Verbs that make two words a statement ("The risk is high."), not a fragment ("Key points").
_STATES = re.compile(r"\b(?:is|are|was|were|be|been|should|must|may|might|can|could|will|"
                     r"would|does|did|has|have|had)\b", re.IGNORECASE)
# A reply to a yes-or-no question that opens an answer, set off by a mark.
_REPLY = re.compile(r"^\W*(?:yes|no|(?:(?:usually|generally|often|probably) )?not"
                    r"(?: (?:yet|usually|routinely|necessarily|always|generally))?)"
                    r"\s*[,;:.!\u2013\u2014-]+\s*", re.IGNORECASE)
# Words that attribute a claim ("according to the guideline") rather than make one.
_ATTRIBUTION = frozenset(tokens(
    "according guideline guidance guidelines passage passages source sources document report "
    "statement states stated says said notes noted explains describes mentions indicates "
    "task force authors evidence"))


def parse_markers(text: str) -> list[int]:
    """Passage numbers cited in `text`, in order of appearance, without repeats."""
    found: dict[int, None] = {}
    for group in MARKER.findall(text):
        for part in re.split(r"\s*,\s*", group):
            if re.search(r"[-–]", part):
                a, b = (int(x) for x in re.split(r"\s*[-–]\s*", part))
                for n in range(min(a, b), min(max(a, b), min(a, b) + 20) + 1):
                    found.setdefault(n, None)
            else:
                found.setdefault(int(part), None)
    return list(found)


def remove_markers(text: str, keep: set[int]) -> tuple[str, list[int]]:
    """Drop citation markers whose numbers are not in `keep`; returns text and dropped numbers."""
    dropped: list[int] = []

    def fix(match: re.Match[str]) -> str:
        numbers = parse_markers(match.group(0))
        good = [n for n in numbers if n in keep]
        dropped.extend(n for n in numbers if n not in keep)
        return f"[{', '.join(str(n) for n in good)}]" if good else ""

    cleaned = MARKER.sub(fix, text)
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", cleaned)
    return re.sub(r"[ \t]{2,}", " ", cleaned), list(dict.fromkeys(dropped))


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", text)).strip()


def _statement(sentence: str) -> str:
    """What `sentence` states, to check: its markers gone, and the reply that may open it
    ("No, ...", "Not yet: ...") too, which answers the question rather than saying what
    follows is not so."""
    return _REPLY.sub("", strip_markers(sentence))


def not_a_claim(sentence: str, question: str = "") -> str:
    """Why `sentence` has nothing to check (a question, a label, a file name...), or ""."""
    plain = strip_markers(sentence)
    if not plain or not _WORD.search(plain.lower()):
        return "it has no words to check"
    if _LABEL.match(plain) or plain.lstrip().startswith("#"):
        return "it is a label or a heading, not a statement"
    if plain.rstrip().endswith("?"):
        return "it is a question, not a statement"
    if _DISCLAIMER.search(plain):
        return "it is a disclaimer, not a statement from the sources"
    words = tokens(plain)
    without_files = tokens(_FILE.sub(" ", plain))
    if _FILE.search(plain) and len(without_files) <= 3:
        return "it is a file name, not a statement"
    short = len(words) < 2 or len(words) < 3 and not _STATES.search(plain)
    if short and not any(is_number(t) for t in words):
        return "it has no checkable statement"
    asked = tokens(question)
    if asked and _QUESTION_FORM.match(plain) and set(words) <= set(asked):
        return "it repeats the question"
    return ""


@dataclass(frozen=True)
class Source:
    """A passage as the checker reads it: its text, and the title, organisation and section
    it comes under (a recommendation's population is often only in its heading)."""

    text: str
    title: str = ""
    section: str = ""


@dataclass(frozen=True)
class _Reading:
    verdict: str
    reason: str
    span: str
    share: float


# Heading words that change what stands under them ("Consider: ...", "May be offered").
_QUALIFIERS = frozenset(tokens("may might could consider individual selectively optional"))
_RANK = {SUPPORTED: 0, NOT_APPLICABLE: 1, CONTRADICTED: 2, UNSUPPORTED: 3}


def _windows(text: str, size: int = 4) -> list[tuple[int, str]]:
    """The passage's sentences, alone and in runs of up to `size` (a claim may join a list's
    items), and the whole passage; each with its count of sentences."""
    units = [text[a:b].strip() for a, b in claim_spans(text)]
    units = [u for u in units if u] or [text]
    runs = [(n, " ".join(units[i:i + n])) for n in range(1, size + 1)
            for i in range(len(units) - n + 1)]
    return [*runs, (len(units), text)] if len(units) > size else runs


def _table_rows(text: str) -> list[str]:
    """Each body row of the Markdown tables in `text`, with its table's header row before it."""
    rows: list[str] = []
    header = ""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            header = ""
        elif not header:
            header = line
        elif set(line) - set("|-: "):
            rows.append(f"{header} {line}")
    return rows


def _surface(stems: str, text: str, around: int = 2) -> str:
    """The words of `text` whose normal form is among `stems`, with a few words around; for
    a number, where most of them stand together ("larger than 20 mm" for "more 20 mm", not
    an earlier "20 mm")."""
    wanted = set(stems.split())
    words = text.split()
    reach = len(wanted) + 1 if any(is_number(t) for t in wanted) else 0
    best, at = 0, -1
    for i, word in enumerate(words):
        if not set(tokens(word)) & wanted:
            continue
        if not reach:
            at = i
            break
        found = len(set(tokens(" ".join(words[max(0, i - 2):i + reach]))) & wanted)
        if found > best:
            best, at = found, i
    if at < 0:
        return stems
    return " ".join(words[max(0, at - around): at + around + 1]).strip(" ,;:-–")


def _conflict_reason(conflict: Conflict, span: str) -> str:
    if conflict.kind == "items":  # both sides as written: the words are the same
        return (f"the passage says “{conflict.passage_words}”, not “{conflict.claim_words}”: "
                "details traded between items")
    if conflict.kind == "strength":
        return (f"the passage says “{conflict.passage_words}”, not “{conflict.claim_words}”: "
                "the strength of another clause")
    said = _surface(conflict.passage_words, span) if conflict.passage_words else ""
    what = {"polarity": "the opposite (a negation differs)", "number": "a different number",
            "bound": "a different bound", "unit": "a different unit",
            "population": "a different population", "modality": "an option, not a rule",
            "antonym": "the opposite", "order": "the other way round",
            "quantifier": "of some, not all",
            "detail": "something else", "drug": "a different medicine",
            "route": "another route", "grade": "a different grade"}[conflict.kind]
    return (f"the passage says “{said}”: {what}" if said
            else f"the passage says {what}")


_AGE_OLD = frozenset(tokens("years old"))


def _applicability(question: str, scope_text: str, claim: str) -> str:
    """Why the passage's scope (its title and heading, the clauses that say whom it covers,
    its sentence) with the claim's, or the claim's own, excludes who the question asks
    about, or ""."""
    whole = f"{scope_text}. {claim}"
    asked = asked_ages(question)
    passage, said = ages(scope_text, points=False), ages(claim, points=False)
    scope = passage + said
    if not scope and (group := age_group(whole)):  # "Children with sickle cell ..."
        scope = [group]
    if asked and scope and not any(a.overlaps(s) for a in asked for s in scope):
        return (f"the passage is about ages {_ranges(scope)}; the question asks about "
                f"{_ranges(asked)}")
    # A sentence that says whom it is about, in its passage's words ("In children aged 3
    # years or older, ..."), says nothing of other ages, whatever else its passage covers.
    # Ages of its own are for the check of what it says.
    if asked and said and set(said) <= set(passage) and not any(
            a.overlaps(s) for a in asked for s in said):
        return (f"the sentence is about ages {_ranges(said)}; the question asks about "
                f"{_ranges(asked)}")
    asked_sex, scope_sex = sexes(question), sexes(whole)
    if asked_sex and scope_sex and not asked_sex & scope_sex:
        return (f"the passage is about {' and '.join(sorted(scope_sex))}; the question asks "
                f"about {' and '.join(sorted(asked_sex))}")
    return ""


# Words that open a list or point at its items, not items of their own.
_LIST_WORDS = frozenset(tokens("either both neither including such namely especially"))


def _listed(stem: str, sentence: str) -> bool:
    """Whether the sentence's word for `stem` is an item it adds to a list or a pair, right
    after or before "and" or "or" ("LDL cholesterol and triglycerides"), or an item of one or
    two words between commas ("physical health, nutrition, cognition and mood"): not a word of
    its own that a paraphrase may bring."""
    if stem in STRONG_MODALS | WEAK_MODALS | LIGHT | _LIST_WORDS:
        return False
    word = re.escape(_surface(stem, sentence, 0).strip(".,;:!?()[]\"'“”"))
    return bool(re.search(rf"\b(?:and|or|plus|as well as)\s+{word}\b|\b{word}\s+(?:and|or)\b"
                          rf"|,\s+(?:[\w-]+\s+)?{word}(?:\s+[\w-]+)?(?=,|\s+(?:and|or)\s)",
                          sentence, re.IGNORECASE))


def _ranges(found: Sequence[AgeRange]) -> str:
    return ", ".join(dict.fromkeys(str(r) for r in found))


@dataclass
class CitationChecker:
    """Gives every answer sentence a verdict against the passages it cites.

    `embed` (texts to unit vectors) adds one guard: a sentence made of a passage's words but
    not close to the stretch it came from in meaning is not supported. `max_new_words` is how
    many of a sentence's words the passage may lack and the sentence still count as
    supported (a faithful paraphrase brings a word or two of its own), per 12 words.
    """

    embed: Callable[[Sequence[str]], np.ndarray] | None = None
    min_similarity: float = 0.5
    max_new_words: int = 1

    def check(self, answer: str, passages: Mapping[int, str | Source],
              question: str = "") -> list[SentenceSupport]:
        """A verdict for every sentence of `answer`, against the passages it cites (all of
        them, when it cites none)."""
        sources = {n: s if isinstance(s, Source) else Source(s) for n, s in passages.items()}
        return [self.sentence(s, sources, question) for s in answer_sentences(answer)]

    def sentence(self, sentence: str, sources: Mapping[int, Source],
                 question: str = "") -> SentenceSupport:
        cited = [n for n in parse_markers(sentence) if n in sources]
        meta = not_a_claim(sentence, question)
        if meta:
            return SentenceSupport(sentence, cited, 0.0, False, None, NOT_A_CLAIM, meta)
        pool = cited or list(sources)
        said = _statement(sentence)
        claim = tokens(said)
        readings = {n: self._read(claim, said, sources[n], question) for n in pool}
        if not readings:
            return SentenceSupport(sentence, cited, 0.0, False, None, UNSUPPORTED,
                                   "it cites no passage that was given")
        best = min(readings, key=lambda n: (_RANK[readings[n].verdict], -readings[n].share))
        r = readings[best]
        return SentenceSupport(sentence, cited, round(r.share, 4), r.verdict == SUPPORTED, best,
                               r.verdict, r.reason, r.span)

    def _read(self, claim: list[str], sentence: str, source: Source, question: str) -> _Reading:
        if not claim:
            return _Reading(UNSUPPORTED, "it has no words to check", "", 0.0)
        context = tokens(f"{source.title} {source.section}")
        passage = tokens(source.text)
        expanded = abbreviated(sentence, source.text)
        known = (set(passage) | negated_forms(passage) | prefixed_in(claim, passage)
                 | set(context) | _ATTRIBUTION | PRONOUNS
                 | {t for abbreviation in expanded for t in tokens(abbreviation)})
        if undone := said_with_prefix(claim, known):  # and its "not" is the prefix
            known |= undone | NEGATIONS & set(claim)
        span, span_tokens, share = self._best_window(claim, source.text, set(context),
                                                     source.section.rsplit(" > ", 1)[-1])
        if share < 0.5:
            return _Reading(UNSUPPORTED, "the passage does not say this", span, share)
        known |= words_against(sentence, span)
        # A passage about people other than those asked about answers nothing for them,
        # whether or not the sentence repeats it faithfully.
        covers, leaves_out = scope_clauses(source.text)
        why = _applicability(question, f"{source.title}. {source.section}. {' '.join(covers)}. "
                                       + span, sentence)
        if not why and (out := left_out(question, leaves_out, source.text,
                                        frozenset(context))):
            why = f"the passage leaves them out: “{out}”"
        if not why and (out := denied_to_asked(sentence, source.text, question)):
            why = f"the passage says for them: “{out}”"
        if not why and (out := denied_scope(question, covers)):
            why = f"the passage covers others: “{out}”"
        if not why and (out := duration_outside(question, covers)):
            why = f"the passage covers another duration: “{out}”"
        if not why and (out := gestation_outside(question, covers)):
            why = f"the passage covers other weeks of gestation: “{out}”"
        if not why and (out := measure_outside(question, sentence, span)):
            why = f"the passage is about “{out}”"
        if not why and (out := pregnancy_outside(question, sentence, span)):
            why = f"the passage is about people who are not pregnant: “{out}”"
        if not why and (out := excluded_by_limit(sentence, span, question)):
            why = f"the passage leaves them out: “{out}”"
        if why:
            return _Reading(NOT_APPLICABLE, why, span, share)
        bounded = bound_pairs(claim, span_tokens)
        known |= bounds_inside(bounded)
        found = (bound_changes(bounded) + unit_changes(claim, span_tokens)
                 + population_numbers(claim, span_tokens)
                 + conflicts(claim, span_tokens, known, frozenset(context))
                 or self._stitched(claim, span))
        found = [c for c in found if not negation_moved(sentence, span, c) and not (
            c.kind == "modality" and described_only(c.passage_words, span))]
        # An age the claim names inside an age range of the stretch ("a 7-year-old" for
        # "children aged 5 to 11") is that range's, no other number.
        aged = ages_within(sentence, f"{source.section}. {span}")
        if aged:
            known |= _AGE_OLD
        found = [c for c in found if not (c.kind == "number" and c.claim_words
                                          and set(c.claim_words.split()) <= aged)]
        if found and all(c.kind == "number" for c in found) and (
                own := said_in_one_clause(claim, span)):
            # Numbers the alignment paired across clauses: the claim's are all its clause's.
            found = [c for c in found if set(c.passage_words.split()) & own]
        if found and all(c.kind in ("number", "bound") for c in found) and each_clause_agrees(
                sentence, span, known, frozenset(context)):
            found = []
        if not found and (trade := clause_trade(claim, span, sentence)
                          or bound_trade(sentence, span)
                          or range_outside(sentence, span)
                          or sentence_trade(sentence, source.text)
                          or transposed_numbers(claim, span)
                          or graded_otherwise(claim, span_tokens)
                          or traded_details(sentence, span)
                          or traded_strength(sentence, span)
                          or advises_denied(sentence, source.text)):
            found = [trade]
        if not found and (swap := otherwise_swap(claim, span)):
            return _Reading(CONTRADICTED, f"the passage says “{swap.passage_words}”: that is "
                                          "the other case", span, share)
        if found and all(c.kind == "replaced" for c in found):
            # A word the passage never uses, where it says another, of no kind the check
            # knows: a synonym ("further" for "additional") or another test; not said.
            c = found[0]
            return _Reading(UNSUPPORTED, f"the passage says “{_surface(c.passage_words, span)}”"
                            f", not “{_surface(c.claim_words, sentence, 0)}”", span, share)
        if found:
            found = [c for c in found if c.kind != "replaced"]
            return _Reading(CONTRADICTED, _conflict_reason(found[0], span), span, share)
        basis = set(span_tokens) | set(context)
        missing_numbers = [t for t in claim if is_number(t) and t not in basis | aged]
        span_numbers = [t for t in span_tokens if is_number(t) and t not in claim]
        if missing_numbers and span_numbers:
            said = _surface(" ".join(span_numbers), span)
            return _Reading(CONTRADICTED, f"the passage says “{said}”: a different number",
                            span, share)
        ranges = widened_ages(sentence, f"{source.section}. {span}")
        if ranges:
            return _Reading(CONTRADICTED, f"the passage says it of ages {ranges}: a different "
                                          "population", span, share)
        new_pop = [t for t in claim if t in POPULATIONS and t not in known]
        gone_pop = [t for t in [*span_tokens, *context] if t in POPULATIONS and t not in claim]
        if new_pop and gone_pop and not narrower_group(new_pop, gone_pop):
            said = _surface(" ".join(gone_pop), span)
            return _Reading(CONTRADICTED, f"the passage says “{said}”: a different population",
                            span, share)
        hedge = dropped_possibility(claim, span_tokens)
        if hedge and not described_only(hedge, span) and (
                rule := set(claim) & STRONG_MODALS - set(span_tokens)):
            return _Reading(CONTRADICTED, _conflict_reason(
                Conflict("modality", hedge, " ".join(sorted(rule))), span), span, share)
        # Whom the passage says it covers, by group and age, may be named with any statement.
        scope_words = frozenset(t for clause in covers for t in tokens(clause)
                                if t in POPULATIONS or is_number(t) or t in _AGE_WORDS)
        joined = stitched(sentence, source.text,
                          frozenset(context) | _ATTRIBUTION | scope_words)
        if joined and joined.kind != "joined":
            return _Reading(CONTRADICTED, _conflict_reason(joined, source.text), span, share)
        if missing_numbers:
            return _Reading(UNSUPPORTED, "the passage does not give "
                            + ", ".join(dict.fromkeys(missing_numbers)), span, share)
        # A rule word or a light verb of its own ("should be given" for "Give") says nothing
        # new: a rule where the passage gives an option is read as modality above.
        new = [t for t in dict.fromkeys(spelled_out(claim, known))
               if t not in known and t not in STRONG_MODALS - UNIVERSAL and t not in LIGHT]
        # A word of its own that says the opposite of the passage or its heading ("Continue
        # screening when ..." under "When to stop screening").
        unsaid = sorted(t for t in known if t not in claim)
        for word in new:
            was = opposite_in(word, unsaid)
            if was:
                return _Reading(CONTRADICTED, _conflict_reason(
                    Conflict("antonym", was, word), f"{source.section}. {span}"), span, share)
        negating = negations(claim)
        critical = [t for t in new
                    if t in negating or t in POPULATIONS or _listed(t, sentence)]
        allowed = self.max_new_words * (1 + len(claim) // 12) if len(claim) >= 4 else 0
        if critical or len(new) > allowed:
            words = dict.fromkeys(_surface(t, sentence, 0) for t in new)
            return _Reading(UNSUPPORTED, "the passage does not say "
                            + ", ".join(f"“{w}”" for w in list(words)[:4]), span, share)
        # A bound the claim drops ("eGFR 30" for "eGFR <30") or adds ("at least 2 weeks").
        for number, said, was in bounded:
            if was and not said:
                return _Reading(UNSUPPORTED, "the passage limits this: "
                                f"“{_surface(f'{was} {number}', span)}”", span, share)
            if said and not was:
                return _Reading(UNSUPPORTED, "the passage does not say "
                                f"“{_surface(f'{said} {number}', sentence, 1)}”",
                                span, share)
        if joined:
            said = _surface(joined.claim_words, source.text, 1)
            return _Reading(UNSUPPORTED, f"“{said}” is from another sentence of the passage",
                            span, share)
        if hedge:
            return _Reading(UNSUPPORTED, "the passage says it only may be so: "
                            f"“{_surface(hedge, span)}”", span, share)
        if when := dropped_timing(claim, span_tokens):
            return _Reading(UNSUPPORTED, "the passage gives a time: "
                            f"“{_surface(when, span, 4)}”", span, share)
        if bound := dropped_number_limit(claim, span_tokens):
            return _Reading(UNSUPPORTED, "the passage limits this: "
                            f"“{_surface(bound, span)}”", span, share)
        limit = dropped_limit(claim, span, affirmed(tokens(question)))
        if limit:
            return _Reading(UNSUPPORTED, f"the passage limits this: “{limit}”", span, share)
        if self.embed is not None and share < 1.0:
            plain = sentence
            for abbreviation, spelled in expanded.items():  # the encoder may not know it
                plain = re.sub(rf"\b{abbreviation}\b", spelled, plain)
            vectors = self.embed([plain, span])
            if float(vectors[0] @ vectors[1]) < self.min_similarity:
                return _Reading(UNSUPPORTED, "the sentence does not mean what the passage says",
                                span, share)
        return _Reading(SUPPORTED, "the passage says this", span, share)

    @staticmethod
    def _stitched(claim: list[str], span: str) -> list[Conflict]:
        """A number or population swap against the one sentence of a longer stretch that
        holds all the claim's other words found in the stretch: "Colonoscopy:
        every 5 years" is not supported by "Colonoscopy: every 10 years. CT colonography:
        every 5 years.". In a table, against the row (with its header) that holds most of the
        claim's words: "for adults, 300 micrograms" takes its dose from the children's row."""
        rows = [(row, len(set(claim) & set(row))) for row in map(tokens, _table_rows(span))]
        if rows:  # the claim's row is the one that holds most of its words
            best = max(shared for _, shared in rows)
            per_row = [[c for c in conflicts(claim, row, set(row))
                        if c.kind in ("number", "population")]
                       for row, shared in rows if shared == best]
            if best and all(per_row):
                return per_row[0]
        words = {t for t in claim if not is_number(t) and t not in POPULATIONS} & set(
            tokens(span))
        sentences = [w for size, w in _windows(span, 1) if size == 1]
        if not words or len(sentences) < 2:
            return []
        for sentence in sentences:
            toks = tokens(sentence)
            # All those words, or all but one of five or more ("healthcare" of "healthcare
            # workers" put before another sentence's "with asthma should receive ...").
            if len(words - set(toks)) <= (len(words) >= 5):
                found = [c for c in conflicts(claim, toks, set(toks))
                         if c.kind in ("number", "population")]
                if found:
                    return found
        return []

    @staticmethod
    def _best_window(claim: list[str], text: str, context: set[str], heading: str = ""
                     ) -> tuple[str, list[str], float]:
        """The shortest run of passage sentences that holds (nearly) as many of the claim's
        words as the best run does, with the passage's headings; its tokens and that share.
        Nearly: a sentence that lacks one word of a long claim is still the one it rests on,
        rather than a longer run that happens to hold the word (and its own numbers).

        A run is read under its heading when the heading negates or qualifies what stands
        under it ("What the guideline recommends against: ...")."""
        wanted = set(claim)
        scored = []
        runs = _windows(text)
        if set(tokens(heading)) & (NEGATIONS | _QUALIFIERS):
            runs = [(size, f"{heading}: {run}") for size, run in runs]
        for size, window in runs:
            toks = tokens(window)
            share = len(wanted & (set(toks) | context)) / len(wanted)
            scored.append((share, -size, matched(claim, toks), -len(toks), window, toks))
        top = max(s[0] for s in scored)
        best = max((s for s in scored if s[0] >= top - 0.12), key=lambda s: s[1:4])
        return best[4], best[5], best[0]
