"""Sentence spans and word tokens: the text primitives every layer shares.

Spans are (start, end) offsets into the text (ends exclusive, as in slices), in order and never
overlapping. Several splitters, because callers need different cuts of one text:
- `sentence_spans`: careful sentences for chunking (abbreviations, initials and decimals do not
  end one), with `paragraph_spans` and `item_spans` for the coarser structure; trimmed.
- `clause_spans` and `claim_spans`: what packing trims at and what evidence and the citation
  check read as one statement; untrimmed, they cover the text between their separators.
- `line_sentence_spans`: sentences and lines of a passage shown in the app, for highlighting.
- `line_sentences`: the sentences of one line of prose, for study cards.
- `answer_sentences`: an answer's sentences, each with the citation markers after it.

Words come in three forms: `terms` (the BM25 index's: stored postings are built from them, so
they must never change), `tokens` (the citation check's normal form: number words as digits,
units written one way, stemmed) with `content_words`, and `word_set` for near-duplicates.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable

import Stemmer

Span = tuple[int, int]

# A citation marker in an answer: [1], [2, 3], [4-6].
MARKER = re.compile(r"\[(\d+(?:\s*[-–,]\s*\d+)*)\]")

# --- spans -----------------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_ITEM_START = re.compile(
    r"[ \t]*(?:[-*+•›▪◦‣–]\s|\d{1,3}[.)]\s|[A-Za-z][.)]\s|\((?:\d{1,3}|[a-z]|[ivx]+)\)\s"
    r"|\||#{1,6}\s)"
)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9•›\-–])")
_ABBREVIATIONS = {
    "e.g", "i.e", "al", "dr", "mr", "mrs", "ms", "prof", "fig", "figs", "no", "nos", "vs",
    "approx", "st", "ref", "refs", "vol", "p", "pp", "ed", "eds", "inc", "ltd", "co", "jr",
    "sr", "resp", "cf", "ca", "sect", "ch", "min", "max", "mg", "ml", "dept", "univ",
}
_INITIALS = re.compile(r"[A-Z]|[a-z](\.[a-z])+")
# A capital that names a kind is no initial: "give oral vitamin K. These ...", "hepatitis B.".
_LETTERED = re.compile(r"\b(?:vitamin|hepatitis|type|group|class|grade|phase|stage|factor|"
                       r"appendix|annex|part|category|level|step|schedule|list)\s+$", re.IGNORECASE)
_CLAUSE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
# A line break inside a paragraph is a soft wrap, not the end of a claim; a blank line, a
# list item or a heading is.
_CLAIM_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n\s*|\n(?=\s*(?:[-*•#]|\d+[.)])\s)|\n(?=[A-Z])")
_SHOWN_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])|\n+")
_LINE_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(])")
_ANSWER_BLOCK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+[.)])\s)")
_ANSWER_END = re.compile(
    r"[.!?][\"”’)]*(?:\s*\[[\d,\s\-–]+\])*(?=\s+(?:[A-Z0-9\"'“‘(\[]|[-*•]\s))"
    r"|[?!](?=\s+[a-z])")
# Abbreviations no sentence of an answer ends with: "0.5 mg (i.e. 0.5 mL)", "e.g. fusidic acid".
_NEVER_LAST = re.compile(r"\b(?:e\.g|i\.e|vs|cf|approx)$", re.IGNORECASE)
_ONLY_MARKERS = re.compile(r"^(?:\s*\[[\d,\s\-–]+\])+\s*[.!?]?$")


def strip_span(text: str, start: int, end: int) -> Span:
    """The span without its leading and trailing whitespace (empty spans stay empty)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def spans_between(text: str, start: int, end: int, cuts: Iterable[int]) -> list[Span]:
    """Stripped, non-empty spans between `cuts` (offsets inside start..end; others ignored)."""
    edges = [start] + [c for c in cuts if start < c < end] + [end]
    spans = (strip_span(text, a, b) for a, b in zip(edges, edges[1:], strict=False))
    return [span for span in spans if span[0] < span[1]]


def paragraph_spans(text: str, start: int, end: int) -> list[Span]:
    """Blocks of start..end separated by blank lines: paragraphs, lists, tables."""
    cuts = [m.end() for m in _BLANK_LINE.finditer(text, start, end)]
    return spans_between(text, start, end, cuts)


def item_spans(text: str, start: int, end: int) -> list[Span]:
    """List items, table rows and heading lines of a block, each with its continuation lines."""
    cuts = []
    position = text.find("\n", start, end)
    while position >= 0:
        if _ITEM_START.match(text, position + 1, end):
            cuts.append(position + 1)
        position = text.find("\n", position + 1, end)
    return spans_between(text, start, end, cuts)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of start..end, stripped. A sentence ends at . ! or ? (and closing quotes or
    brackets) before a capital, a digit or a bullet, but not after an abbreviation ("e.g.",
    "Dr.", "mg.") or an initial ("J. Smith", "p.m."); "3.5" has no space, so never ends one."""
    end = len(text) if end is None else end
    cuts = []
    for match in _SENTENCE_END.finditer(text, start, end):
        begin = text.rfind(" ", start, match.start()) + 1 or start  # never before the span
        word = text[begin:match.start()].lstrip("([\"'")
        word = re.split(r"\s", word)[-1]
        if word.lower() in _ABBREVIATIONS or _INITIALS.fullmatch(word) and not _LETTERED.search(
                text, max(start, begin - 12), begin):
            continue
        cuts.append(match.end())
    return spans_between(text, start, end, cuts)


def separated_spans(text: str, separator: re.Pattern[str], keep_blank: bool = True
                    ) -> list[Span]:
    """The spans of `text` between matches of `separator`, in order, untrimmed; empty ones
    dropped, and whitespace-only ones too unless `keep_blank`."""
    bounds = [(m.start(), m.end()) for m in separator.finditer(text)] + [(len(text),) * 2]
    spans, start = [], 0
    for stop, after in bounds:
        if stop > start and (keep_blank or text[start:stop].strip()):
            spans.append((start, stop))
        start = after
    return spans


def clause_spans(text: str) -> list[Span]:
    """Pieces ending at . ! ? ; or : before whitespace, or at a line break: the finest whole
    pieces, where a passage too long for the prompt is cut."""
    return separated_spans(text, _CLAUSE_END)


def claim_spans(text: str) -> list[Span]:
    """Whole sentences, list items and paragraphs (a soft line wrap does not cut): one
    statement with its subject, as evidence and the citation check read it."""
    return separated_spans(text, _CLAIM_END)


def line_sentence_spans(text: str) -> list[Span]:
    """Sentences (. ! or ? before a capital or a bracket) and lines, blank ones dropped: what
    the app highlights in a passage."""
    return separated_spans(text, _SHOWN_END, keep_blank=False)


def line_sentences(line: str) -> list[str]:
    """The sentences of one line of prose (. ! ? or ; before a capital or "("), stripped."""
    return [line[a:b].strip() for a, b in separated_spans(line, _LINE_SENTENCE_END)]


def answer_sentences(text: str) -> list[str]:
    """An answer's sentences (paragraphs and list items apart), each keeping the citation
    markers after it, also after its full stop ("... folic acid. [1]")."""
    parts: list[str] = []
    for block in _ANSWER_BLOCK.split(text.strip()):
        start = 0
        for match in _ANSWER_END.finditer(block):
            if _NEVER_LAST.search(block, 0, match.start()):
                continue
            parts.append(block[start:match.end()].strip())
            start = match.end()
        parts.append(block[start:].strip())
    merged: list[str] = []
    for part in (p for p in parts if p):
        if merged and _ONLY_MARKERS.match(part):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return merged


# --- words -----------------------------------------------------------------------------------

# Function words that carry no topic. idf discounts common words anyway, but an OR-query of
# every word would otherwise favour passages full of "the" and "should".
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves what's whats tell please explain describe know
    """.split()
)
_TERM = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_STEMMERS = threading.local()  # a Stemmer must not be called from two threads at once


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    return stemmer


def stems(words: Iterable[str]) -> list[str]:
    """Snowball English stems of `words`, so that forms of a word meet ("vaccines",
    "vaccination" and "vaccinated" are all "vaccin")."""
    return _stemmer().stemWords(list(words))


def terms(text: str) -> list[str]:
    """BM25's terms: stemmed words of `text` without stop words or single letters, in order,
    repeats kept (they are term frequency). The stored index holds these: never change them."""
    words = []
    for word in _TERM.findall(text.lower()):
        word = word.replace("’", "'")
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        words.append(word)
    return stems(words)


def word_set(text: str) -> set[str]:
    """The distinct lower-cased words of `text`, unstemmed: cheap, for near-duplicates."""
    return set(re.findall(r"\w+", text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    """|a & b| / |a | b|, and 0 when either is empty."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
            "seventies": 70, "eighties": 80, "nineties": 90}
_NUMBER_WORD = re.compile(
    r"\b(?:(" + "|".join(_TENS) + r")(?:[\s-](" + "|".join(k for k in _UNITS if _UNITS[k] < 10
                                                      and _UNITS[k] > 0) + r"))?"
    r"|(" + "|".join(_UNITS) + r"))(?:\s+hundred)?\b"
)
# "One of the criteria" picks one, it counts nothing; "more than one risk factor" is two or
# more, where "more than one year" is not two years.
_ONE_OF = re.compile(r"(?<!least )(?<!most )(?<!than )\bone (?=of\b)")
_COUNTED = re.compile(r"(?<!\bno )(?<!\bnot )\bmore than one\b(?!\s+(?:years?|months?|weeks?|days?|"
                      r"hours?|minutes?|seconds?)\b)")
# A bound under a negated verb is a bound, no negation: "do not switch more than one drug at a
# time" is "switch at most one drug at a time".
_NEGATED_BOUND = re.compile(
    r"(?:\bnot|\bnever|n't)\s+((?:be\s+)?(?!more\b|less\b|fewer\b)[a-z]+\s+)"
    r"(?:(more)|less|fewer) than\b(?!\s+\d+(?:\.\d+)?\s*(?:hours?|days?|weeks?|months?|years?|"
    r"minutes?)\s+(?:after|before|since|from|ago)\b)")
# "A severe one", "the other one": a pronoun, no number.
_ONE_PRONOUN = re.compile(
    r"\b((?:a|an|the|this|that|which|each|any|another|other)\s+(?:[a-z]+\s+)?)one\b"
    r"(?=\s*(?:[,.;:)—–-]|$|\s(?:with|that|which|who|is|was|are|in|on|for|if|and|or|at|from|"
    r"should|may|can|will)\b))")
# Written one way before tokenising (number words are digits by then): (pattern, replacement).
_REWRITES = [(re.compile(pattern), replacement) for pattern, replacement in (
    (r"[‐‑‒–—−]", "-"),
    (r"[’‘`]", "'"),
    (r"\[\d+(?:\s*[-,]\s*\d+)*\]", " "),
    # Comparison signs as words ("≥65" is "at least 65"), before the markdown strip.
    (r"(?:≥|⩾|>=|>\s*or\s*=)\s*(?=\d)", " at least "),
    (r"(?:≤|⩽|<=|<\s*or\s*=)\s*(?=\d)", " at most "),
    (r"(?<![-=<])>\s*(?=\d)", " more than "),
    (r"<(?![=-])\s*(?=\d)", " less than "),
    (r"[*_#>|]+", " "),
    (r"\bcan(?:no|')t\b", "can not"),
    # "Unable to swallow" is "cannot swallow".
    (r"\b(?:unable|not able) to\b", "can not"),
    (r"\bwon't\b", "will not"),
    (r"\b(?:straight|right) away\b|\bat once\b", "immediately"),
    (r"\bprior to\b", "before"),
    # One way to write a unit: "per kilogram" is "/kg", "international units" and "IU" units.
    (r"\s+per\s+kilo(?:gram)?s?\b", "/kg"),
    (r"\binternational units?\b|\biu\b", "units"),
    # "That is" and "for example" carry no claim.
    (r"\b(?:i\.e|e\.g)\.?(?=\s|,|$)", " "),
    (r"\bon (?:its|their|his|her) own\b", "alone"),
    # Neither a negation nor a hedge: "whether or not she is breastfeeding", "as soon as
    # possible".
    (r"\bwhether or not\b", "whether"),
    # "No need to wait" does not ask for waiting: "do not wait". "If at all" allows none.
    (r"\b(?:there is no|there's no|no) need to\b|\b(?:does|do|did) not need to\b|\bneed not\b",
     "not"),
    (r"\bif at all\b", "or not at all"),
    # "Should not be given routinely" is "should not routinely be given".
    (r"\bnot ((?:be )?[a-z]+(?: [a-z0-9-]+){0,3}?) (routinely|usually|generally|necessarily)\b",
     r"not \2 \1"),
    # "Do not offer X unless Y" is "offer X only if Y".
    (r"\b(?:do|does|should|must) not ((?:be )?[a-z]+(?: [a-z0-9-]+){0,6}?) unless\b",
     r"\1 only if"),
    (r"\bwithout any\b", "with none"),
    (r"\b(?:not|never) exceed\b", "at most"),
    (r"\bas (?:soon|early|quickly) as (?:possible|practicable|feasible)\b", "promptly"),
    # A recommendation's grade is one word: "grade B" is not "grade" and a letter.
    (r"\bgrade\s+([a-di])\b", r"grade\1"),
    (r"n't\b", " not"),
    (r"\b(?:µg|μg|ug|micrograms?)\b", "mcg"),
    (r"(?<=/)(?:litres?|liters?)\b", "l"),
    (r"\bmilligrams?\b", "mg"),
    (r"\b(?:per ?cent|percent)\b", "%"),
    (r"\byrs?\b", "years"),
    (r"\bhrs?\b", "hours"),
    (r"\bmins?\b", "minutes"),
    (r"\bbiennial(?:ly)?\b|\bevery other year\b|\bonce every 2 years\b", "every 2 years"),
    (r"\b(?:annual(?:ly)?|yearly|once a year|each year)\b", "every year"),
    (r"\btwice\b", "2 times"),
    (r"\bonce\b(?! (?:the|a|an|it|they|you|this)\b)", "1 time"),
    # How often, one way: "twice a day", "twice daily" and "2 times per day" are alike.
    (r"\b(times?|mg|mcg|g|ml|doses?|tablets?|units?|puffs?|drops?) (?:a|per|each) "
     r"(day|week|month)\b", r"\1 every \2"),
    (r"\b(?:daily|each day)\b", "every day"),
    (r"\b(?:weekly|each week)\b", "every week"),
    (r"\b(?:monthly|each month)\b", "every month"),
    # "Every year" is "every 1 year": "every 2 years" for "annually" changes a number.
    (r"\bevery (year|month|week|day)\b", r"every 1 \1"),
    (r"(\d)(?=[a-z%])", r"\1 "),
    (r"(\d),(\d{3})\b", r"\1\2"),
    (r"(\d)\s*-\s*(\d)", r"\1 to \2"),
)]
# Whole days said in hours ("within 72 hours" is "within 3 days"); not the end of a range,
# whose unit is its start's too ("72 to 120 hours"), though "up to 120 hours" is no range.
_HOURS = re.compile(r"(?:(?<=\bup to )|(?<!\bto ))(?<!\bor )(?<!\band )\b(\d+) hours?\b")


def _in_days(match: re.Match[str]) -> str:
    hours = int(match.group(1))
    return f"{hours // 24} days" if hours and hours % 24 == 0 else match.group(0)

# Bounds on a number written one way each, for comparing a claim with its passage: "65 or
# older", "65+" and "≥65" are all "at least 65"; "no more than 2" is "at most 2", no negation.
# "Under 21 or over 65" bounds two numbers: "or more than" opens the second bound.
_BEFORE_NUMBER = r"(?=\s+(?:the\s+)?(?:age\s+(?:of\s+)?)?\d)"
_UNITS_BETWEEN = (r"((?:\s+(?:years?|months?|weeks?|days?|hours?|minutes?|of age|%|mg|mcg|g|kg|"
                  r"ml|l|cm|mm|m|kg/m2|mmhg|mmol/l|mmol/mol|mg/dl|iu|units?|doses?|times?))*)")
_NOT_PEOPLE = r"(?!\s+(?:adults?|people|persons?|patients?|women|men|children|individuals))"
_BOUND_WORDS = [(re.compile(pattern), replacement) for pattern, replacement in (
    (r"\b(?:no|not) (?:more|greater|higher|older|longer|larger) than\b", "at most"),
    (r"\b(?:no|not) (?:less|fewer|lower|younger|shorter|smaller) than\b", "at least"),
    (r"\b(?:greater|higher|older|larger|bigger|longer|heavier) than" + _BEFORE_NUMBER,
     "more than"),
    (r"\b(?:fewer|lower|younger|smaller|shorter|lighter) than" + _BEFORE_NUMBER, "less than"),
    (r"\b(?:over|above|exceed(?:s|ed|ing)?|in excess of)" + _BEFORE_NUMBER, "more than"),
    (r"\b(?:a|at|for a|the) minimum(?: of)?" + _BEFORE_NUMBER, "at least"),
    (r"\b(?:a|at|for a|the) maximum(?: of)?" + _BEFORE_NUMBER, "at most"),
    (r"\b(?:under|below)" + _BEFORE_NUMBER, "less than"),
    (r"(\d+(?:\.\d+)?)" + _UNITS_BETWEEN + r"\s+(?:or|and)\s+(?:older|over|above|more|greater"
     r"|higher|longer)\b(?!\s+than\b)" + _NOT_PEOPLE, r"at least \1\2"),
    (r"(\d+(?:\.\d+)?)" + _UNITS_BETWEEN + r"\s+(?:or|and)\s+(?:younger|under|below|less|fewer"
     r"|lower|shorter)\b(?!\s+than\b)" + _NOT_PEOPLE, r"at most \1\2"),
    (r"(\d+)\+(?=\s*(?:years?\b|yrs?\b|[,.;)]|$))", r"at least \1"),
)]
_IRREGULAR = {
    "women": "woman", "men": "man", "children": "child", "people": "person",
    "persons": "person", "individuals": "person", "kids": "child", "elderly": "older",
    "aged": "age", "ages": "age", "physician": "clinician", "doctor": "clinician",
    "doctors": "clinician", "physicians": "clinician", "commence": "start", "begin": "start",
    "begins": "start", "initiate": "start", "initiated": "start", "discontinue": "stop",
    "cease": "stop", "administer": "give", "administered": "give", "utilise": "use",
    "utilize": "use", "females": "woman", "female": "woman", "males": "man", "male": "man",
    "paediatric": "child", "pediatric": "child", "given": "give", "gave": "give",
    "taken": "take", "took": "take", "everybody": "everyone", "anyone": "everyone",
    "single": "1", "pregnancy": "pregnant", "pregnancies": "pregnant", "baby": "newborn",
    "babies": "newborn", "infant": "newborn", "infants": "newborn", "newborns": "newborn",
    "neonate": "newborn", "neonates": "newborn",
    "discontinued": "stop", "discontinuing": "stop", "discontinuation": "stop",
    "flu": "influenza", "tb": "tuberculosis", "iv": "intravenous", "intravenously":
    "intravenous", "im": "intramuscular", "intramuscularly": "intramuscular",
    "subcutaneously": "subcutaneous", "extra": "additional", "brief": "short",
    "maintain": "keep", "maintained": "keep", "maintains": "keep", "maintaining": "keep",
    "therapy": "treatment", "therapies": "treatment", "medication": "medicine",
    "medications": "medicine", "medicines": "medicine", "drug": "medicine", "drugs": "medicine",
    "kept": "keep", "keeping": "keep", "check": "measure", "checked": "measure",
    "checks": "measure", "checking": "measure", "monitor": "measure", "monitored": "measure",
    "monitors": "measure", "monitoring": "measure", "preceding": "previous", "prior": "previous",
    "raise": "increase", "raises": "increase", "raising": "increase",
    "especially": "particularly", "finish": "complete", "finishes": "complete",
    "finished": "complete", "finishing": "complete", "afterwards": "after",
    "beforehand": "before", "alongside": "with", "plus": "and",
}
# Function words carry no claim; negations, modals and numbers are kept apart from them.
_FUNCTION = frozenset(
    """a an the of to and or in on at by for with from as that this these those it its is are
    be been being was were has have had do does did which who whom whose there their they
    them than then also into per via such so if when while done between""".split()
)
# "non" stands alone once a hyphen is split: "non-sedating" is "non sedat".
NEGATIONS = frozenset("not no never none nor neither without against non".split())
_TOKEN = re.compile(r"\d+(?:\.\d+)?|%|[a-z][a-z0-9'-]*")


def _number_word(match: re.Match[str]) -> str:
    tens, unit, single = match.group(1), match.group(2), match.group(3)
    value = _TENS[tens] + (_UNITS[unit] if unit else 0) if tens else _UNITS[single]
    return str(value * 100 if match.group(0).endswith("hundred") else value)


def normalise(text: str, bounds: bool = True) -> str:
    """`text` in one written form: lower case, digits for number words, one dash, one unit,
    and (with `bounds`) one wording for each bound on a number. Without it, "older than 85"
    and "75 and over" keep the words that say they are ages."""
    text = unicodedata.normalize("NFKC", text).lower()
    for word, decade in _DECADES.items():
        text = re.sub(rf"\b{word}\b", f"{decade}s", text)
    text = _ONE_PRONOUN.sub(r"\1", text)
    text = _NEGATED_BOUND.sub(lambda m: f" {m.group(1)}{'at most' if m.group(2) else 'at least'}",
                              text)
    text = _COUNTED.sub("at least two", _ONE_OF.sub("", text))
    text = _NUMBER_WORD.sub(_number_word, text)
    for pattern, replacement in _REWRITES + (_BOUND_WORDS if bounds else []):
        text = pattern.sub(replacement, text)
    return _HOURS.sub(_in_days, text)


def tokens(text: str) -> list[str]:
    """Normalised, stemmed tokens of `text`, function words left out, in order: "every five
    years" and "every 5 years" read the same. Negations stay whole, as the check seeks them."""
    out: list[str] = []
    stem = _stemmer().stemWord
    for raw in _TOKEN.findall(normalise(text)):
        if raw[0].isdigit():
            out.append(raw.rstrip("0").rstrip(".") if "." in raw else raw)
            continue
        for word in raw.strip("'-").replace("'s", "").split("-"):
            if not word or word in _FUNCTION:
                continue
            word = _IRREGULAR.get(word, word)
            out.append(word if word in NEGATIONS else stem(word))
    return out


def is_number(token: str) -> bool:
    return token[:1].isdigit()


def content_words(text: str) -> set[str]:
    """The distinct `tokens` of `text` without stop words, markers or single characters: what
    ranks a sentence against a question."""
    return {t for t in tokens(MARKER.sub(" ", text)) if t not in STOPWORDS and len(t) > 1}
