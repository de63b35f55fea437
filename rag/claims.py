"""Comparing one claim with the passage text it rests on, as pure functions.

A similarity score cannot tell "antibiotics are indicated" from "antibiotics are not
indicated": the two share every content word. So the claim and the passage are first brought
to one normal form (`meditron_rag.text.tokens`: number words to digits, ranges and units
written one way, "biennial" as "every 2 years", contractions opened, words stemmed) and then
aligned token by token. What differs inside the aligned stretch is what matters: a negation
added or dropped, a number changed, a population or a drug swapped, a "may" turned into a
"should", the two sides of a preference traded. What the claim leaves out of it, a limit such
as "if problems persist", is `rag.limits`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from meditron_rag.text import (
    NEGATIONS,
    STOPWORDS,
    is_number,
    sentence_spans,
    stems,
    tokens,
)

WEAK_MODALS = frozenset(stems(
    "may might could can consider considered option optional individual suggest suggests "
    "suggested selective selectively".split()))
STRONG_MODALS = frozenset(stems(
    "should must recommend recommends recommended shall need needs required require always "
    "routine routinely everyone all every".split()))
POPULATIONS = frozenset(tokens(
    "woman man girl boy child infant newborn neonate adolescent teenager adult older younger "
    "young pregnant pregnancy postpartum postmenopausal premenopausal cisgender transgender "
    "nonbinary baby toddler student worker smoker nonsmoker patient resident visitor staff "
    "traveller traveler caregiver carer parent mother father partner donor recipient nurse"))
_ANTONYMS = [
    ("increas", "decreas"), ("higher", "lower"), ("more", "less"), ("more", "fewer"),
    ("abov", "below"), ("befor", "after"), ("older", "younger"), ("over", "under"),
    ("earlier", "later"), ("start", "stop"), ("includ", "exclud"), ("benefit", "harm"),
    ("minimum", "maximum"), ("high", "low"), ("first", "last"), ("allow", "prohibit"),
    ("effect", "ineffect"), ("safe", "unsaf"), ("indic", "contraind"), ("necessari",
    "unnecessari"), ("appropri", "inappropri"), ("recommend", "discourag"), ("for", "against"),
    ("sensit", "insensit"), ("suffici", "insuffici"), ("adequ", "inadequ"), ("until", "after"),
    ("continu", "stop"), ("keep", "stop"), ("common", "rare"), ("larg", "small"),
    ("increas", "reduc"), ("increas", "lower"), ("rais", "lower"), ("rais", "reduc"),
    ("improv", "worsen"), ("posit", "negat"), ("present", "absent"), ("acut", "chronic"),
    ("benign", "malign"), ("major", "minor"), ("strong", "weak"), ("gain", "loss"),
    ("most", "least"), ("stronger", "weaker"), ("keep", "remov"), ("keep", "discard"),
    ("withheld", "provid"), ("withhold", "provid"), ("withhold", "give"), ("withheld", "give"),
    ("basic", "advanc"), ("resolv", "persist"), ("onli", "except"),
]
# A medicine's name, by the endings the WHO's INN programme gives classes of drugs
# ("-cillin", "-pril", "-statin"; as stemmed), and common ones that have none.
_DRUG = re.compile(
    r"(?:cillin|cyclin|mycin|micin|floxacin|azol|pril|sartan|olol|dipin|statin|mab|tinib|vir|"
    r"prazol|tidin|parin|xaban|gatran|gliflozin|gliptin|glutid|lukast|terol|cortison|metason|"
    r"methason|nisolon|nison|sonid|ticason|azepam|azolam|oxetin|triptylin|profen|formin|apin|"
    r"peridon|setron|thiazid|semid|triptan|dronat|platin|rubicin|tropium|picin|mectin|teplas)$"
    r"|^cef[a-z]{4,}$|^(?:aspirin|paracetamol|acetaminophen|warfarin|clopidogrel|insulin|"
    r"morphin|codein|tramadol|naloxon|adrenalin|epinephrin|digoxin|lithium|valproat|"
    r"allopurinol|colchicin|methotrex|levothyroxin|haloperidol|carbamazepin|lamotrigin|"
    r"levetiracetam|amiodaron|nitrofurantoin|trimethoprim|penicillin|isoniazid|ethambutol|"
    r"salbutamol|tranexam|dimeticon|permethrin|oxygen)$")


def is_drug(token: str) -> bool:
    """Whether a stemmed token names a medicine (`_DRUG`)."""
    return bool(_DRUG.search(token))


# A recommendation's grade, as `meditron_rag.text.tokens` writes "grade B".
GRADES = frozenset(f"grade{letter}" for letter in "abcdi")
# Sets of which a statement names one member, wherever it stands in the sentence: a route of
# giving a drug, a recommendation's grade.
_ONE_OF_KIND = {
    "route": frozenset(stems("intravenous intramuscular subcutaneous oral topical inhaled "
                             "rectal sublingual intranasal intradermal transdermal vaginal"
                             .split())),
    "grade": GRADES,
}


def _named_otherwise(claim: Sequence[str], source: Sequence[str]) -> list[Conflict]:
    """A route or grade the claim names where the stretch names another and not the claim's:
    "a grade B recommendation" for "... (grade A)"."""
    found = []
    for kind, members in _ONE_OF_KIND.items():
        said = [t for t in dict.fromkeys(claim) if t in members and t not in source]
        was = [t for t in dict.fromkeys(source) if t in members and t not in claim]
        if said and was:
            found.append(Conflict(kind, " ".join(was), " ".join(said)))
    return found


# Sets whose members exclude each other where one stands in the other's place: a line of
# treatment, a dose.
_EXCLUSIVE = [frozenset(stems(group.split())) for group in (
    "first second third fourth fifth",
    "low full high standard half double")]
# Times that exclude each other where they stand in one place ("during pregnancy" for "after
# pregnancy"); too common to be read as a word of the claim's own against the whole passage.
_TIMES = {frozenset(pair) for pair in [("dure", "after"), ("dure", "befor"),
                                       ("within", "after"), ("within", "beyond")]}
ANTONYMS = {frozenset(pair) for pair in _ANTONYMS}
# Verbs and connectives too general to be a swapped detail ("After PCV15" for "When PCV15
# is used").
LIGHT = frozenset(stems(
    "use used give get take make put have after when once usually".split()))
# A number's bound, as `meditron_rag.text.normalise` writes it ("≥65" is "at least 65").
BOUNDS = frozenset(stems("least most more less".split()))
# Words that put two things in order: "A is preferred to B", "A rather than B", "A before B".
ORDERING = frozenset(stems(
    "rather instead prefer preferred over versus before after more less fewer higher lower "
    "greater better worse superior inferior".split()))
_ROLE_REACH = 5  # tokens on either side of an ordering word that may be what it orders
# A preference orders two whole options, each often several words long: "an adjuvanted or
# high-dose influenza vaccine in preference to a standard-dose non-adjuvanted vaccine".
_PREFERENCE = frozenset(stems("prefer preferred preference rather instead".split()))
_PREFERENCE_REACH = 8
# Verbs after which "against" is advice not to: "recommends against", "cautions against".
_ADVISING = frozenset(stems(
    "recommend recommends recommended advise advises advised caution cautions cautioned "
    "counsel counsels counselled warn warns warned argue argues argued decide decides decided "
    "guidance advice".split()))
# Words that make a statement a possibility rather than a fact: "may reduce", "probably".
POSSIBILITY = frozenset(stems(
    "may might could possibly probably perhaps suggest suggests suggested appear appears seem "
    "seems consider considered individual individualised individualized".split()))
_WHOLE_HEDGES = frozenset(stems("individual individualised individualized".split()))
# Patients of any age or sex, and the groups by age or sex among them.
_ANY_PATIENT = frozenset(tokens("patient"))
_AGE_SEX_GROUPS = frozenset(tokens(
    "woman man girl boy child infant newborn adolescent teenager adult older young"))
# "All adults" says more than "some adults", "always" more than "often".
UNIVERSAL = frozenset(tokens("all every everyone always"))
_PARTIAL = frozenset(tokens("some many most few certain sometimes often occasionally usually "
                            "selected"))
# Words that withhold what follows as a negation does: "insufficient (evidence) to recommend".
_HEDGES = frozenset(stems("insufficient inadequate".split()))
# Words that name no side of an order.
_ROLELESS = NEGATIONS | WEAK_MODALS | STRONG_MODALS | LIGHT | ORDERING
# Where a sentence's clauses part, each with a condition, a bound or a strength of its own:
# "...; ...", "..., and ...", "... whereas ...".
CLAUSE_PARTS = re.compile(r";\s+|,\s+(?:and|but|or|whereas|while)\s+|\s+(?:whereas|while)\s+",
                          re.IGNORECASE)
# Adverbs a negation reaches past: "not routinely recommended", "no longer recommended".
_SEE_THROUGH = frozenset(stems(
    "longer yet always usually routinely generally necessarily currently just be previously "
    "ever already even evidence other".split()))


# --- one claim against one stretch of text -------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    """Why a claim contradicts the text: `kind` and the words of each side."""

    kind: str  # polarity | number | bound | unit | population | modality | antonym |
    #             order | otherwise | quantifier | detail | drug | route | grade |
    #             replaced
    passage_words: str
    claim_words: str


def _category(token: str) -> str:
    if token in NEGATIONS:
        return "negation"
    if is_number(token):
        return "number"
    if token in POPULATIONS:
        return "population"
    return ""


def _antonym(a: str, b: str) -> bool:
    return frozenset((a, b)) in ANTONYMS or _prefixed(a, b) or _prefixed(b, a)


def negated_forms(tokens_: Sequence[str]) -> set[str]:
    """The words a negation and the word after it make ("not known" is "unknown")."""
    return {prefix + t for t, negated_ in zip(tokens_, negated(tokens_), strict=True)
            if negated_ and len(t) >= 4 for prefix in _NEGATING_PREFIXES}


def said_with_prefix(tokens_: Sequence[str], words: set[str]) -> set[str]:
    """The words `tokens_` negates whose prefixed form `words` holds: "not available" where
    the passage says "unavailable"."""
    return {t for t, negated_ in zip(tokens_, negated(tokens_), strict=True)
            if negated_ and any(_prefixed(w, t) for w in words)}


def prefixed_in(claim: Sequence[str], source: Sequence[str]) -> set[str]:
    """The claim's words that say with a prefix what `source` negates: "unsuitable" where it
    says "not suitable"."""
    denied = [t for t, negated_ in zip(source, negated(source), strict=True) if negated_]
    return {t for t in claim if any(_prefixed(t, d) for d in denied)}


def _prefixed(a: str, b: str) -> bool:
    """Whether `a` is `b` with a prefix that negates it: "unknown", "contraindicated". The
    stemmer may cut the prefixed word shorter: "unsuitable" is "unsuit", "suitable"
    "suitabl"."""
    return min(len(a), len(b)) >= 4 and any(
        a == prefix + b or len(a) >= len(prefix) + 4 and a.startswith(prefix)
        and (prefix + b).startswith(a) for prefix in _NEGATING_PREFIXES)


_NEGATING_PREFIXES = ("un", "in", "non", "im", "ir", "il", "dis", "contra")


def opposite_in(word: str, words: Iterable[str]) -> str:
    """The first of `words` that is the opposite of `word` ("stop" of "continue"), or ""."""
    return next((w for w in words if w != word and _antonym(word, w)), "")


def edits(claim: Sequence[str], source: Sequence[str]
           ) -> tuple[int, list[tuple[str, int, int, int, int]], tuple[int, int]]:
    """Matched token count, the edit operations from `source` to `claim`, and the stretch of
    `source` the claim covers (first to last matched token); edits are limited to it."""
    matcher = SequenceMatcher(None, list(claim), list(source), autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    if not blocks:
        return 0, [], (0, 0)
    first, last = blocks[0], blocks[-1]
    # The claim's words before its first match (after its last) stand for as many words of
    # the source there ("in 2" for "in 3" at the end); a negation just before belongs too.
    lo = max(0, first.b - first.a)
    hi = min(len(source), last.b + last.size + len(claim) - last.a - last.size)
    while lo > 0 and source[lo - 1] in NEGATIONS:
        lo -= 1
    ops: list[tuple[str, int, int, int, int]] = [
        (tag, i1, i2, max(j1, lo), min(j2, hi))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]
    ops = [op for op in ops if op[2] > op[1] or op[4] > op[3]]
    return sum(b.size for b in blocks), ops, (lo, hi)


def conflicts(claim: Sequence[str], source: Sequence[str], elsewhere: set[str],
              context: frozenset[str] = frozenset()) -> list[Conflict]:
    """What the claim says that the aligned `source` says otherwise.

    `elsewhere` holds every token of the passage and its headings (a word the claim moved
    there from another sentence is not a swap); `context` the tokens of its title and section
    (a year or population the claim takes from there is not a swap either)."""
    _, ops, (lo, hi) = edits(claim, source)
    window = source[lo:hi]
    claim_set, window_set = set(claim), set(window)
    # A word the stretch says more often than the claim: "a full-dose PPI to heal, and a
    # full-dose PPI for maintenance" keeps one "full" in "..., then a low-dose PPI for ...".
    said_count, window_count = Counter(claim), Counter(window)
    found = (_flips(claim, source, context)
             + _swaps([t for t in claim if t not in context], window,
                      source[max(0, lo - 2):hi + 2])
             + _role_swaps(claim, source) + quantifiers(claim, window)
             + _named_otherwise(claim, source))
    claim_negated, source_negated = negated(claim), negated(source)
    for tag, i1, i2, j1, j2 in ops:
        said, was = list(claim[i1:i2]), list(source[j1:j2])
        weak_gone = [t for t in was if t in WEAK_MODALS and t not in claim_set]
        strong_new = [t for t in claim if t in STRONG_MODALS and t not in window_set]
        if weak_gone and strong_new:
            found.append(Conflict("modality", " ".join(weak_gone), " ".join(strong_new)))
        for i, a in enumerate(said, i1):
            for j, b in enumerate(was, j1):
                # "Unknown" says "not known": a negation on the other side undoes the prefix.
                if _prefixed(a, b) and source_negated[j] or _prefixed(b, a) and claim_negated[i]:
                    continue
                if (a != b and (_antonym(a, b) or frozenset((a, b)) in _TIMES
                                or any({a, b} <= group for group in _EXCLUSIVE))
                        and said_count[b] < window_count[b] and a not in window_set):
                    found.append(Conflict("antonym", b, a))
        if tag == "replace" and not found:
            # A rule word ("should") where the passage gives an order ("Screen ...") swaps
            # no detail; a rule where the passage offers an option is a modality change.
            # A number's bound for another is read by `rag.quantities.bound_changes`.
            swapped = [t for t in said if t not in elsewhere and not _category(t)
                       and t not in LIGHT | BOUNDS
                       and t not in STRONG_MODALS | WEAK_MODALS | POSSIBILITY]
            # People replaced by words that name no group the check knows are swapped too.
            lost = [t for t in was if said_count[t] < window_count[t]
                    and _category(t) in ("", "population") and t not in LIGHT]
            drugs = [t for t in swapped if is_drug(t)]
            if drugs and (gone := [t for t in was if is_drug(t) and t not in claim_set]):
                found.append(Conflict("drug", " ".join(gone), " ".join(drugs)))
            elif swapped and lost and len(said) <= 3 and len(was) <= 5 and not same_thing(
                    said, was):
                # People put in place of people are others; another word may mean the same.
                kind = "detail" if any(_category(t) for t in lost) else "replaced"
                found.append(Conflict(kind, " ".join(lost), " ".join(swapped)))
    return _dedupe(found)


# "In mild asthma this can be symptom-driven; otherwise it is taken daily": "otherwise" opens
# a clause only after a stop or a comma ("otherwise healthy adults" is none).
_OTHERWISE = re.compile(r"(?:^|[;,.:]\s*|\s-\s)otherwise\b", re.IGNORECASE)
# Words with which a claim says it speaks of the other case: "except in mild asthma ...".
_OTHER_CASE = frozenset(stems("otherwise except outside unless other beyond apart besides "
                              "rest remaining".split())) | NEGATIONS


def otherwise_swap(claim: Sequence[str], text: str) -> Conflict | None:
    """The claim says of a sentence's condition what the sentence says of the other case:
    "In mild asthma, it is taken daily" for "In mild asthma this can be symptom-driven;
    otherwise it is taken daily"."""
    if set(claim) & _OTHER_CASE:
        return None
    for a, b in sentence_spans(text):
        sentence = text[a:b]
        split = _OTHERWISE.search(sentence)
        if not split:
            continue
        before, after = tokens(sentence[:split.start()]), tokens(sentence[split.end():])
        other_case = {t for t in after if t not in LIGHT and t not in STOPWORDS}
        condition = set(before) - set(after) - STRONG_MODALS - WEAK_MODALS
        if other_case and other_case <= set(claim) and set(claim) & condition:
            return Conflict("otherwise", sentence[split.start():].strip(" ;,.:-"),
                            " ".join(t for t in claim if t in condition))
    return None


def _negates(tokens_: Sequence[str], k: int) -> bool:
    token = tokens_[k]
    if token in _HEDGES:  # "the evidence is insufficient to recommend for or against"
        return True
    return token in NEGATIONS and (token != "against" or k > 0 and tokens_[k - 1] in _ADVISING)


def negations(tokens_: Sequence[str]) -> set[str]:
    """The negations among `tokens_` that negate ("against" after advice only)."""
    return {t for k, t in enumerate(tokens_) if _negates(tokens_, k)}


def negated(tokens_: Sequence[str]) -> list[bool]:
    """For each token, whether a negation stands right before it, adverbs aside ("not
    indicated", "no longer recommended", "recommends against screening"). "Against" negates
    only after advice ("advises against"): "vaccinated against RSV" is no negation."""
    flags, negating = [], False
    for k, token in enumerate(tokens_):
        if _negates(tokens_, k):
            flags.append(False)
            negating = True
            continue
        flags.append(negating)
        negating = negating and token in _SEE_THROUGH
    return flags


def _flips(claim: Sequence[str], source: Sequence[str],
           context: frozenset[str] = frozenset()) -> list[Conflict]:
    """Words that the claim and the source share, negated on one side only: "antibiotics
    are indicated" against "antibiotics are not indicated". Aligned words are compared where
    they stand; a word the claim moved is compared with every place it has in the source,
    unless it is a second use, taken from the `context`, of a word compared where it stands
    (the heading of "When to start drug treatment: ... non-drug therapy")."""
    said, was = negated(claim), negated(source)
    matcher = SequenceMatcher(None, list(claim), list(source), autojunk=False)
    aligned = set()
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            i, j = block.a + k, block.b + k
            aligned.add(i)
            if claim[i] not in NEGATIONS and said[i] != was[j]:
                return [_flip(claim[i], said[i], source, j)]
    for i, word in enumerate(claim):
        places = [j for j, t in enumerate(source) if t == word]
        if i in aligned or word in NEGATIONS or is_number(word) or not places or (
                word in context and any(claim[x] == word for x in aligned)):
            continue
        if all(was[j] != said[i] for j in places):
            return [_flip(word, said[i], source, places[0])]
    return []


def _flip(word: str, claim_negated: bool, source: Sequence[str], at: int) -> Conflict:
    negation = next((t for t in reversed(source[max(0, at - 3):at]) if t in NEGATIONS), "")
    return Conflict("polarity", f"{negation} {word}".strip(),
                    f"not {word}" if claim_negated else word)


def _role_swaps(claim: Sequence[str], source: Sequence[str]) -> list[Conflict]:
    """Two things on either side of a word that orders them, each on the other side in the
    claim: "chlorphenamine is preferred to cetirizine" for "cetirizine is preferred to
    chlorphenamine". Every word of the claim may stand where it did ("Rather than B, A is
    recommended" says what "A is recommended rather than B" says); only the two sides
    trading places is a swap."""
    def sides(tokens_: Sequence[str], at: int) -> tuple[set[str], set[str]]:
        reach = _PREFERENCE_REACH if tokens_[at] in _PREFERENCE else _ROLE_REACH
        before = set(tokens_[max(0, at - reach):at]) - _ROLELESS
        after = set(tokens_[at + 1:at + 1 + reach]) - _ROLELESS
        return before - after, after - before

    for j, word in enumerate(source):
        if word not in ORDERING:
            continue
        first, second = sides(source, j)
        for i in (i for i, t in enumerate(claim) if t == word):
            claim_first, claim_second = sides(claim, i)
            went_back, came_forward = first & claim_second, second & claim_first
            if went_back and came_forward:
                return [Conflict("order", f"{' '.join(sorted(went_back))} {word} "
                                          f"{' '.join(sorted(came_forward))}",
                                 f"{' '.join(sorted(came_forward))} {word} "
                                 f"{' '.join(sorted(went_back))}")]
    return []


def quantifiers(claim: Sequence[str], window: Sequence[str]) -> list[Conflict]:
    """A claim about all of a group ("all adults", "always") where the stretch speaks of part
    of it ("some adults", "often"); "most" before a number is a bound, not a part."""
    def parts(tokens_: Sequence[str]) -> list[str]:
        return [t for k, t in enumerate(tokens_) if t in _PARTIAL and not (
            t == "most" and k + 1 < len(tokens_) and is_number(tokens_[k + 1]))]

    # "Every" is an interval ("every 2 years") more often than all of a group.
    said = Counter(t for t in claim if t in UNIVERSAL and t != "everi")
    was = Counter(window)
    wider = [t for t in said if said[t] > was[t]]
    part, kept = parts(window), parts(claim)
    if wider and len(part) > len(kept):
        return [Conflict("quantifier", next(t for t in part if t not in kept) if set(part) - set(
            kept) else part[0], " ".join(sorted(wider)))]
    return []


def dropped_possibility(claim: Sequence[str], source: Sequence[str]) -> str:
    """A word that makes what `source` says of a word the claim keeps a possibility ("may",
    "probably", "consider": "Consider referring ..."), where the claim has fewer such words
    (any hedge, "can" too), or
    "": "Aspirin reduces the risk" for "Aspirin may reduce the risk"; "Opiates can relieve
    pain, and clonazepam relieves jerks" for "... can relieve pain, and clonazepam may
    relieve jerks"."""
    # A hedge on a word the claim leaves out ("a possibly rabid animal") is not dropped.
    # "The decision ... should be an individual one" hedges the whole sentence.
    hedges = Counter(t for k, t in enumerate(source) if t in POSSIBILITY | WEAK_MODALS
                     and (t in _WHOLE_HEDGES or next(
                         (w for w in source[k + 1:] if w not in POSSIBILITY | WEAK_MODALS),
                         "") in claim))
    kept = Counter(t for t in claim if t in POSSIBILITY | WEAK_MODALS)
    if kept.total() >= hedges.total():
        return ""
    return next((t for t in hedges if t in POSSIBILITY and hedges[t] > kept[t]), "")


def narrower_group(new: Iterable[str], gone: Iterable[str]) -> bool:
    """Whether the claim names groups by age or sex where the text says "patients": "each
    child" for "each patient" is the patient asked about, no other group."""
    gone = set(gone)
    return bool(gone) and gone <= _ANY_PATIENT and set(new) <= _AGE_SEX_GROUPS


def _swaps(claim: Sequence[str], window: Sequence[str], wider: Sequence[str]) -> list[Conflict]:
    """Numbers and populations that the claim has more of than the stretch it rests on, while
    the stretch has others that the claim lacks: "every 3 to 3 years" for "every 1 to 3
    years", "cisgender men" for "cisgender women". Populations are sought two words past
    either end of the stretch (`wider`): "all patients" for "all healthcare workers" ends the
    claim's match at "healthcare"."""
    said = Counter(claim)
    found = []
    for kind, member, was in (("number", is_number, Counter(window)),
                              ("population", POPULATIONS.__contains__, Counter(wider))):
        new = [t for t in said if member(t) and said[t] > was[t]]
        gone = [t for t in was if member(t) and was[t] > said[t]]
        if kind == "population" and narrower_group(new, gone):
            continue
        if new and gone:
            found.append(Conflict(kind, " ".join(gone), " ".join(new)))
    return found


def same_thing(said: Sequence[str], was: Sequence[str]) -> bool:
    """Whether two stretches of words name one thing: a compound split or joined
    ("washing hands", "handwashing") or an abbreviation spelled out ("blood pressure",
    "BP"; "computed tomography", "CT")."""
    joined_said, joined_was = "".join(said), "".join(was)
    if any(a in b or b in a for a in said for b in was if min(len(a), len(b)) >= 4):
        return True
    initials_said = "".join(t[0] for t in said if not is_number(t))
    initials_was = "".join(t[0] for t in was if not is_number(t))
    return (initials_said in was or initials_was in said or joined_said in joined_was
            or joined_was in joined_said)


def _dedupe(found: list[Conflict]) -> list[Conflict]:
    return list(dict.fromkeys(found))


def _numbers(tokens_: Sequence[str]) -> set[str]:
    return {t for t in tokens_ if is_number(t)}


def matched(claim: Sequence[str], source: Sequence[str]) -> int:
    """How many claim tokens the source matches in order."""
    return edits(claim, source)[0]
