"""Whom a passage says it covers and whom it leaves out, as pure functions.

A guideline section often says so in a sentence of its own: "This section applies to adults
aged 18 and over; it does not cover children.", "The programme invites men only; women are
not invited." A claim that repeats the section's advice faithfully does not answer a
question about a 7-year-old or about someone's mother, whatever sentence it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from meditron_rag.text import (
    NEGATIONS,
    STOPWORDS,
    is_number,
    normalise,
    sentence_spans,
    tokens,
)
from rag.ages import AgeRange, ages, sexes
from rag.claims import is_drug, negated

# Words with which a sentence speaks of whom a text covers, not of what to do.
_SCOPE = re.compile(r"\b(?:appl(?:y|ies)|cover(?:s|ed|ing)?|scope|exclude[sd]?|eligib\w*|"
                    r"invit\w*|section|guideline|guidance|programme|program|"
                    r"intended|is for|are for|protocols?|in line with|"
                    r"seek (?:\w+ ){0,2}advice|(?:require|need)s? different management)\b",
                    re.IGNORECASE)
# "Infants under 6 months are covered by a separate section" leaves them out of this one.
_LEAVES_OUT = re.compile(r"\b(?:not|no|excluded?|excluding|except|separate|separately|elsewhere|"
                         r"different management)\b|"
                         r"\bnon-|\b(?:covered|provided|addressed|described|discussed) "
                         r"(?:by|in) (?:the|a|another|section|chapter)\b|"
                         r"\bshould (?:follow|be managed)\b|\bin line with\b|"
                         r"\bsee (?:section|chapter|the)\b|"
                         # "For people with a mechanical heart valve, seek advice from a
                         # haematologist": the advice around it is not for them.
                         r"\bseek (?:\w+ ){0,2}advice\b", re.IGNORECASE)
# Words of any clause about scope, that name nobody.
_GENERIC = frozenset(tokens("guidance guideline recommendations section apply applies follow "
                            "protocols managed line separate people person patients care not "
                            "does covered cover"))
_CLAUSE = re.compile(r";\s+|,\s+(?:and|but)\s+|\s+but\s+")
# "I'm 40", "my wife is 52": an age a question gives without a noun.
_SPEAKER = re.compile(
    r"\b(?:I|he|she|wife|husband|son|daughter|mother|father|partner|mum|mom|dad|sister|"
    r"brother|grandmother|grandfather|child|baby)(?:'m|’m|'s|’s| is| am)\s+(\d{1,3})\b"
    r"(?!\s*(?:mg|mcg|ml|%|kg|cm|mmol|mmhg|weeks?|days?|months?|hours?|minutes?|times?)\b)",
    re.IGNORECASE)
# "He turned 4 last month", "she has just turned 16": the age a birthday brought.
_TURNED = re.compile(r"\b(?:turned|turns|turning)\s+(\d{1,3})\b(?!\s*(?:%|degrees|times)\b)",
                     re.IGNORECASE)
_PREGNANT = re.compile(r"\bpregnan", re.IGNORECASE)
_NOT_PREGNANT = re.compile(r"\b(?:non-?|not\s+(?:be\s+|currently\s+)?)pregnant\b",
                           re.IGNORECASE)
# A woman who hopes to become pregnant, for a passage that leaves out "planning a pregnancy".
_PLANNING = re.compile(r"\b(?:conceiv\w*|(?:trying|hoping|wanting|want|wants|planning|plan)\s+"
                       r"(?:for|to have|to get|to become|to start)\s+(?:a |an |our |their |her "
                       r"|my |another )?(?:(?:first|second|next) )?(?:baby|child|pregnant|family)"
                       r"|planning (?:a |to have a )?(?:pregnancy|baby|family))\b", re.IGNORECASE)
# Health and care workers, by the words a guideline or a question names them with.
_STAFF = re.compile(r"\b(?:staff|(?:health|social|care)\s*(?:and social care\s+)?workers?|"
                    r"healthcare workers?|health professionals?|nurses?|doctors?|midwi(?:fe|ves)|"
                    r"paramedics?|clinicians?|physicians?|pharmacists?)\b", re.IGNORECASE)
# Groups a clause may leave out, and the words a question names them with instead: a baby
# "3 days old" is a neonate; someone "on chemotherapy" is immunocompromised.
_NAMED_OTHERWISE = [(re.compile(group, re.IGNORECASE), re.compile(cue, re.IGNORECASE)) for
                    group, cue in (
    (r"\b(?:neonat\w*|newborns?)\b",
     r"\b(?:neonat\w*|newborns?|new-born|\d{1,2}[- ]days?[- ]old|[1-3][- ]weeks?[- ]old)\b"),
    (r"\bimmuno(?:compromised|suppressed|deficien\w*)\b|\bimmunosuppression\b",
     r"\b(?:immuno(?:compromised|suppressed|suppress\w*|deficien\w*)|chemo(?:therapy)?|"
     r"(?:organ|stem cell|bone marrow|kidney|liver|renal) transplant\w*|asplenia|"
     r"splenectomy|HIV)\b"),
    # Dialysis is renal replacement therapy; a metallic valve is a mechanical one; a mother
    # who is nursing, lactating or feeding her baby herself is breastfeeding.
    (r"\brenal replacement\b|\bdialysis\b", r"\b(?:haemo|hemo|peritoneal )?dialysis\b"),
    (r"\b(?:mechanical|prosthetic|metallic) (?:heart )?valves?\b",
     r"\b(?:mechanical|prosthetic|metallic|metal) (?:\w+ )?(?:heart )?valves?\b"),
    # A top-up every few weeks is a regular transfusion; a brand of combined pill contains
    # oestrogen; a splash of acid or alkali is a chemical burn, a shock an electrical one.
    (r"\bregular (?:red (?:blood )?cell |blood )?transfusions?\b",
     r"\b(?:top-?up|regular|monthly|(?:two|three|four|\d)-weekly) (?:\w+ ){0,2}transfusions?\b|"
     r"\btransfusions? every (?:\w+ )?(?:weeks?|months?)\b"),
    (r"\boestrogen-containing\b|\bestrogen-containing\b|\bcombined (?:oral |hormonal )?"
     r"contracepti\w*|\bcombined (?:oral contraceptive )?pill\b",
     r"\b(?:combined (?:oral |hormonal )?(?:contracepti\w*|pill)|the pill|COCP?|Microgynon|"
     r"Rigevidon|Yasmin|Marvelon|Femodene|Cilest|Loestrin|Lucette|Zoely|Qlaira|NuvaRing|Evra)\b"),
    (r"\bchemical burns?\b|\bchemical (?:and|or) electrical burns?\b",
     r"\b(?:chemicals?|acids?|alkal\w*|caustic|bleach|lye|sodium hydroxide|ammonia|cement|"
     r"hydrofluoric|sulph?uric|hydrochloric|oven cleaner|drain cleaner)\b"),
    (r"\belectrical burns?\b",
     r"\b(?:electric(?:al)? (?:shock|current|injury)|electrocut\w*|live wire|lightning)\b"),
    (r"\bbreast-?feeding\b|\blactating\b",
     r"\b(?:breast-?feed\w*|nursing|lactating|feeding (?:\w+ ){0,2}(?:herself|myself)|"
     r"expressing (?:breast )?milk)\b"))]
# "A history of breast cancer": the condition, up to where the clause goes on.
_HISTORY = re.compile(r"\bhistory of ([\w\s-]+?)(?=\s+(?:should|must|are|is|who|require|need)\b"
                      r"|[,.;:()]|$)", re.IGNORECASE)
_PAST = re.compile(r"\b(?:had|previous(?:ly)?|prior|past|ago|history|survivor|treated for)\b",
                   re.IGNORECASE)
# "Never had an actual relapse", "not a single seizure": words between a negation and what
# it denies.
_AS_SUCH = frozenset(tokens("actual real single any proper true"))
# Whom a text names by a word for an age group, where it names no ages: children or adults.
_GROUPS = {"children": (re.compile(r"\b(?:child(?:ren)?|paediatric|pediatric|infants?|"
                                   r"toddlers?|bab(?:y|ies))\b", re.IGNORECASE), AgeRange(0, 17)),
           "adults": (re.compile(r"\b(?<!older )adults?\b", re.IGNORECASE), AgeRange(18, 130)),
           # "Older people" is 65 and over in UK guidance, 60 and over in the WHO's: the wider.
           "older": (re.compile(r"\b(?:older|elderly) (?:people|adults?|persons?|patients?)\b|"
                                r"\bthe elderly\b", re.IGNORECASE), AgeRange(60, 130))}


# A school year or grade says a child's age: "in Year 4" (England and Wales: 8 to 9), "in 3rd
# grade" (the US: 8 to 9), "in reception", "at primary school".
_SCHOOL_YEAR = re.compile(r"\bin (?:school )?year ([1-9]|1[0-3])\b(?! of\b)", re.IGNORECASE)
_GRADE = re.compile(r"\bin (?:the )?([1-9]|1[0-2])(?:st|nd|rd|th)? grade\b"
                    r"|\bin grade ([1-9]|1[0-2])\b", re.IGNORECASE)
_SCHOOL = [(re.compile(pattern, re.IGNORECASE), AgeRange(low, high)) for pattern, low, high in (
    (r"\b(?:in|at|started|starting) (?:reception|kindergarten|nursery school|preschool)\b", 3, 6),
    (r"\b(?:at|in|started|starting) (?:primary|elementary) school\b", 4, 11),
    (r"\b(?:at|in|started|starting) (?:secondary|high|middle) school\b", 11, 18))]


# A sex named with what narrows it: "women who are breastfeeding", "men with a catheter".
_QUALIFIED = re.compile(r"\b(?:women|men|girls|boys|males?|females?)\s+(?:who|with|whose|taking|"
                        r"on|during|after|having|receiving)\b", re.IGNORECASE)
# "Bites from animals other than cats, dogs and humans": the animals a question may name.
_ANIMALS = frozenset(tokens(
    "dog cat human horse pony donkey cow cattle bull pig sheep goat rat mouse mice "
    "squirrel hamster gerbil rabbit ferret monkey ape bat fox badger raccoon skunk camel snake "
    "lizard bird parrot seal"))
_OTHER_ANIMALS = re.compile(r"\banimals? other than ([^.;:()]+)", re.IGNORECASE)


def asked_ages(question: str) -> list[AgeRange]:
    """The ages a question asks about, "I'm 40", "he turned four" and "my son is in Year 4"
    included."""
    found = ages(question)
    found += [AgeRange(int(m.group(1)), int(m.group(1))) for pattern in (_SPEAKER, _TURNED)
              for m in pattern.finditer(normalise(question))]
    found += [AgeRange(int(m.group(1)) + 4, int(m.group(1)) + 5)
              for m in _SCHOOL_YEAR.finditer(question)]
    found += [AgeRange(int(year) + 5, int(year) + 6) for m in _GRADE.finditer(question)
              for year in m.groups() if year]
    found += [group for pattern, group in _SCHOOL if pattern.search(question)]
    return found


def age_group(text: str) -> AgeRange | None:
    """The ages of the one age group `text` names by a word ("children", "adults"), where it
    names one and gives no ages of its own, or None."""
    named = [group for pattern, group in _GROUPS.values() if pattern.search(text)]
    return named[0] if len(named) == 1 and not ages(text, points=False) else None


@lru_cache(maxsize=256)
def scope_clauses(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The clauses of `text` that say whom it covers, and those that say whom it leaves out
    ("it does not cover children", "women under 50 are not routinely invited")."""
    covers: list[str] = []
    leaves_out: list[str] = []
    for a, b in sentence_spans(text):
        for clause in _CLAUSE.split(text[a:b]):
            if not _SCOPE.search(clause):
                continue
            if _LEAVES_OUT.search(clause):
                leaves_out.append(clause)
            else:
                covers.append(clause)
    return tuple(covers), tuple(leaves_out)


def left_out(question: str, clauses: Sequence[str], text: str = "",
             context: frozenset[str] = frozenset()) -> str:
    """The words of a clause that leaves out whom the question asks about, or "". Besides
    ages, sexes and pregnancy, a group the clause names in words of its own, that the rest of
    `text` does not use, is left out where the question names it with two of those words
    ("preterm infants receiving neonatal care should follow neonatal unit protocols", asked
    about a baby "still on the neonatal unit"); words of the passage's title and section
    (`context`) are what it is about, not whom it leaves out."""
    asked, asked_sex = asked_ages(question), sexes(question)
    asked_words = set(tokens(question))
    pregnant = _pregnant(question)
    for clause in clauses:
        if _PREGNANT.search(clause):  # "adults aged 16 and over who are not pregnant"
            # It leaves out pregnancy (or planning one), and covers the ages it names.
            if pregnant or re.search(r"\bplanning\b", clause) and _PLANNING.search(question) or (
                    _named_otherwise(clause, question)):
                return clause.strip(" .;,")
            continue
        out = ages(clause, points=False)
        children, under_18 = _GROUPS["children"]
        if not out and children.search(clause):  # "it does not cover children"
            out = [under_18]
        # "Women under 50 are not invited" leaves out an age, not a sex.
        if out and asked and all(any(a.low >= o.low and a.high <= o.high for o in out)
                                 for a in asked):
            return clause.strip(" .;,")
        # "Women who are breastfeeding" leaves out some women, not all.
        if not out and asked_sex and asked_sex <= sexes(clause) and not _QUALIFIED.search(clause):
            return clause.strip(" .;,")
        own = _own_words(clause, text) & asked_words - context
        if not sexes(clause) and (len(own) >= 2 or any(map(is_drug, own))):
            return clause.strip(" .;,")
        if _STAFF.search(clause) and _STAFF.search(question):  # "a nurse" for "care staff"
            return clause.strip(" .;,")
        if _named_otherwise(clause, question):
            return clause.strip(" .;,")
        if _had(question, clause):
            return clause.strip(" .;,")
        if _other_animal(question, clause):
            return clause.strip(" .;,")
    return ""


def _other_animal(question: str, clause: str) -> bool:
    """Whether the question names an animal that a clause leaving out "animals other than
    cats, dogs and humans" leaves out: a horse."""
    named = _OTHER_ANIMALS.search(clause)
    if not named:
        return False
    kept = set(tokens(named.group(1)))
    return bool(set(tokens(question)) & _ANIMALS - kept)


def denied_scope(question: str, clauses: Sequence[str]) -> str:
    """The words of a clause saying whom the passage covers, where the question denies one of
    its own words, or "": "adults with active relapsing-remitting MS" for someone who has
    "never had an actual relapse"."""
    asked = tokens(question)
    denied = {t for k, (t, no) in enumerate(zip(asked, negated(asked), strict=True))
              if not is_number(t) and (no or k > 1 and asked[k - 2] in NEGATIONS
                                       and asked[k - 1] in _AS_SUCH)}
    for clause in clauses:
        words = tokens(clause)
        own = {t for t, no in zip(words, negated(words), strict=True) if not no} - _GENERIC
        if own & denied - NEGATIONS - STOPWORDS:
            return clause.strip(" .;,")
    return ""


def _named_otherwise(clause: str, question: str) -> bool:
    """Whether the clause names a group (`_NAMED_OTHERWISE`) the question names in its own
    words."""
    return any(group.search(clause) and cue.search(question) for group, cue in _NAMED_OTHERWISE)


def _pregnant(question: str) -> bool:
    """Whether the question is about a pregnancy ("a 9-week intrauterine pregnancy"), not
    about someone it says is not pregnant."""
    return bool(_PREGNANT.search(question)) and not _NOT_PREGNANT.search(question)


def pregnancy_outside(question: str, claim: str, span: str) -> str:
    """The words of the claim or its passage that limit it to people who are not pregnant,
    where the question is about a pregnancy, or "": "for non-pregnant people aged 16 and
    over" says nothing of a woman whose dating scan showed a 9-week pregnancy. A claim that
    is itself about pregnancy is checked for what it says instead."""
    if not _pregnant(question):
        return ""
    if found := _NOT_PREGNANT.search(claim):
        return found.group(0)
    found = _NOT_PREGNANT.search(span)
    return found.group(0) if found and not _PREGNANT.search(claim) else ""


def _had(question: str, clause: str) -> bool:
    """Whether the question tells of a past condition the clause leaves out as "a history of"
    it ("women with a history of breast cancer should be managed in line with ...", asked
    "I had breast cancer treated five years ago")."""
    for match in _HISTORY.finditer(clause):
        named = set(tokens(match.group(1)))
        if named and named <= set(tokens(question)) and _PAST.search(question):
            return True
    return False


def _own_words(clause: str, text: str) -> set[str]:
    """The words of a scope clause that the passage's other sentences do not use."""
    return {t for t in tokens(clause) if not is_number(t)} - _GENERIC - _statement_words(text)


@lru_cache(maxsize=256)
def _statement_words(text: str) -> frozenset[str]:
    """The words of the sentences of `text` that say nothing of its scope."""
    return frozenset(t for a, b in sentence_spans(text) if not _SCOPE.search(text[a:b])
                     for t in tokens(text[a:b]))


_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0, "month": 730.0,
          "year": 8760.0}
_SPAN_UNIT = r"(?P<u>minutes?|hours?|days?|weeks?|months?|years?)"
_NUM = r"(?P<n>\d+(?:\.\d+)?)"
# How long a passage says the condition it covers has lasted: "atrial fibrillation of more
# than 48 hours' duration", "a cough lasting less than 3 weeks".
_LASTED = re.compile(r"\b(?:of|lasting|lasted|for|present for|duration of)\s+(?P<op>more than|"
                     r"longer than|over|at least|less than|shorter than|under|up to|no more "
                     r"than)\s+" + _NUM + r"\s*" + _SPAN_UNIT + r"(?:'|’)?(?:\s+(?:duration|"
                     r"or (?:more|longer|less)))?", re.IGNORECASE)
# How long a question says it has lasted: "started about 10 hours ago", "a 3-day history",
# "for the past 2 weeks".
_SINCE = [re.compile(pattern, re.IGNORECASE) for pattern in (
    r"\b(?:about\s+|around\s+|roughly\s+)?" + _NUM + r"\s*-?\s*" + _SPAN_UNIT + r"\s+ago\b",
    r"\b" + _NUM + r"-" + _SPAN_UNIT + r"\s+history\b",
    r"\bfor\s+the\s+(?:past|last)\s+" + _NUM + r"\s*" + _SPAN_UNIT)]
_LONGER = ("more than", "longer than", "over", "at least")
# A baby's age in a question, and the first hours or days of life a passage covers.
_AGED = re.compile(_NUM + r"[- ]" + _SPAN_UNIT + r"[- ]old\b", re.IGNORECASE)
_FROM_BIRTH = re.compile(r"\b(?:within|in) (?:the first )?" + _NUM + r"\s*" + _SPAN_UNIT
                         + r" (?:(?:of|after|from) birth|of life)\b", re.IGNORECASE)


def _hours(number: str, unit: str) -> float:
    return float(number) * _HOURS[unit.lower().rstrip("s")]


def asked_duration(question: str) -> float | None:
    """How long, in hours, the question says its condition has lasted, or None."""
    m = next((m for pattern in _SINCE if (m := pattern.search(question))), None)
    return _hours(m.group("n"), m.group("u")) if m else None


def duration_outside(question: str, covers: Sequence[str]) -> str:
    """The clause of `covers` whose duration leaves out how long the question's condition
    has lasted ("of more than 48 hours' duration", asked about AF that "started 10 hours
    ago"), or the baby's age ("presenting within 72 hours of birth", asked about a 3-week-old),
    or ""."""
    if (old := _AGED.search(question)) is not None:
        age = _hours(old.group("n"), old.group("u"))
        for clause in covers:
            birth = _FROM_BIRTH.search(clause)
            if birth and age > _hours(birth.group("n"), birth.group("u")):
                return clause.strip(" .;,")
    asked = asked_duration(question)
    if asked is None:
        return ""
    for clause in covers:
        for m in _LASTED.finditer(clause):
            limit = _hours(m.group("n"), m.group("u"))
            op = m.group("op").lower()
            strict = op in ("more than", "longer than", "over", "less than", "shorter than",
                            "under")
            if op in _LONGER and (asked < limit or strict and asked == limit):
                return clause.strip(" .;,")
            if op not in _LONGER and (asked > limit or strict and asked == limit):
                return clause.strip(" .;,")
    return ""


# Weeks of gestation a passage covers ("women with prelabour rupture of membranes at 37 weeks
# or more", "before 24 weeks", "infants born at term (37 weeks or later)") and a question
# gives ("a woman at 34 weeks", "28 weeks pregnant", "twins who arrived at 32 weeks").
_FROM_WEEK = re.compile(r"(?:\b(?:at|from)\s+|\(\s*)(?P<n>[2-4]\d)\s+(?:completed\s+)?"
                        r"weeks?(?:'|’)?(?:\s+of\s+(?:gestation|pregnancy))?\s+"
                        r"(?:or more|or over|or later|and over|and beyond|onwards)\b",
                        re.IGNORECASE)
_BEFORE_WEEK = re.compile(r"\b(?:before|under|less than)\s+(?P<n>[2-4]\d)\s+(?:completed\s+)?"
                          r"weeks?\b", re.IGNORECASE)
_ASKED_WEEK = re.compile(r"\b(?:at|is|now)\s+(?P<n>[2-4]\d)(?:\+\d)?\s*weeks?\b|\b(?P<m>[2-4]\d)"
                         r"(?:\+\d)?\s*weeks?(?:'|’)?\s+(?:pregnant|gestation|of pregnancy)\b",
                         re.IGNORECASE)


def gestation_outside(question: str, covers: Sequence[str]) -> str:
    """The clause of `covers` whose weeks of pregnancy leave out the question's ("at 37 weeks
    or more", asked about "a woman at 34 weeks"), or ""."""
    asked = _ASKED_WEEK.search(question)
    if not asked:
        return ""
    week = int(asked.group("n") or asked.group("m"))
    for clause in covers:
        if (low := _FROM_WEEK.search(clause)) and week < int(low.group("n")):
            return clause.strip(" .;,")
        if (high := _BEFORE_WEEK.search(clause)) and week >= int(high.group("n")):
            return clause.strip(" .;,")
    return ""


# A group defined in brackets by a measure and its bound: "heart failure with reduced ejection
# fraction (left ventricular ejection fraction 40% or less)".
_DEFINED = re.compile(r"\(([^()]{3,120})\)")
_UPPER, _LOWER = frozenset(tokens("most less")), frozenset(tokens("least more"))
_EXAMPLES = re.compile(r"\s*(?:for example|for instance|e\.g\.|eg\b|such as|see\b)", re.IGNORECASE)


def _bounded_measures(text: str) -> list[tuple[frozenset[str], str, float, str]]:
    """Each measure a bracket of `text` bounds: its words, "upper" or "lower", the bound and
    the bracket's words."""
    found = []
    for inside in _DEFINED.findall(text):
        if _EXAMPLES.match(inside):  # "(for example, a respiratory rate over 70)" defines none
            continue
        words = tokens(inside)
        for k in range(1, len(words) - 1):
            if words[k] in _UPPER | _LOWER and is_number(words[k + 1]):
                name = frozenset(t for t in words[max(0, k - 3):k] if not is_number(t))
                if not name:
                    continue
                side = "upper" if words[k] in _UPPER else "lower"
                found.append((name, side, float(words[k + 1]), inside))
    return found


def measure_outside(question: str, claim: str, span: str) -> str:
    """The bracket of `span` whose bound on a measure leaves out the value the question gives
    for it ("left ventricular ejection fraction 40% or less", asked about "an ejection fraction
    of 58%"), where the claim does not say that bound itself, or ""."""
    asked = tokens(question)
    said = set(tokens(claim))
    for name, side, bound, inside in _bounded_measures(span):
        if f"{bound:g}" in said:
            continue
        for k, t in enumerate(asked):
            if not is_number(t) or len(name & set(asked[max(0, k - 3):k])) < min(2, len(name)):
                continue
            value = float(t)
            if side == "upper" and value > bound or side == "lower" and value < bound:
                return inside
    return ""
