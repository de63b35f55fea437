"""Study cards: fill-in-the-blank questions from the recommendation sentences of passages.

Pure functions, no model needed (they work with the smallest LLM, or none):

- `make_cards(passages, pool, n, seed)`: pick sentences that carry an age, an interval, a
  grade, a number with a unit or a key term; blank one such term; offer distractors of the
  same kind drawn from `pool` (built by `term_pool` from the rest of the corpus).
- `grade(card, response)`: is a typed or chosen answer right? Numbers must match exactly
  ("45-49" is "45 to 49"); words forgive case and a small typo.
- `to_markdown(results)` and `to_anki_csv(cards)`: the session, to read or to import into
  Anki (two columns, front;back, with the source on the back).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from meditron_rag.text import line_sentences
from rag.records import Passage

BLANK = "_____"
KINDS = ("grade", "age", "interval", "number", "term")

_NUM = r"\d+(?:\.\d+)?"
_RANGE = rf"{_NUM}(?:\s*(?:to|-|–|and)\s*{_NUM})?"
_WORD_NUM = r"(?:one|two|three|four|five|six|ten|twelve)"
_UNITS = (
    r"%|percent|mg|mcg|µg|micrograms?|g|kg|ml|mL|mmHg|mm Hg|hours?|days?|weeks?|months?|"
    r"years?|pack-years?|doses?|times"
)
PATTERNS: dict[str, re.Pattern[str]] = {
    # "grade B", "(grade A)"
    "grade": re.compile(r"\bgrade [ABCDI]\b"),
    # the numbers of "aged 45 to 49", "ages 21-65", "age 65 years"
    "age": re.compile(
        rf"(?<=\b(?:aged|ages) ){_RANGE}(?:\s*years)?|(?<=\bage ){_RANGE}(?:\s*years)?"
    ),
    # "every 3 years", "every two to three years", "annually"
    "interval": re.compile(
        rf"\bevery (?:(?:{_NUM}|{_WORD_NUM})(?:\s*(?:to|-|–)\s*(?:{_NUM}|{_WORD_NUM}))? )?"
        r"(?:years?|months?|weeks?|days?|hours?)\b|\b(?:annually|biennially|yearly)\b"
    ),
    # "30 mg", "12 months", "20 pack-years", "90%"
    "number": re.compile(rf"\b{_RANGE}\s*(?:{_UNITS})(?![\w])"),
}
_CUES = re.compile(
    r"\b(recommend\w*|should|offer\w*|advis\w*|screen\w*|start\w*|begin\w*|give|given|use|"
    r"repeat\w*|every|grade|aged|stop\w*|avoid\w*|consider\w*|indicated|suggest\w*)\b",
    re.IGNORECASE,
)
_STOP = set(
    "about above after again against because before being below between both cannot could "
    "during each either every further having other others their there these those through "
    "under until which while whose would should people adults person recommendation "
    "recommends recommended guideline statement evidence benefit".split()
)
_WORD = re.compile(r"\b[A-Za-z][a-z]{6,}(?:-[a-z]+)?\b|\b[A-Z]{2,6}\b")


@dataclass
class Card:
    """One fill-in-the-blank question and where its answer is written."""

    id: str
    topic: str
    prompt: str  # the sentence with BLANK in place of the answer
    answer: str
    kind: str  # one of KINDS
    options: list[str]  # the answer and its distractors, shuffled
    sentence: str
    source: str  # "Title (Organisation, date), p. 5, Section"
    passage: Passage


@dataclass
class Result:
    card: Card
    response: str
    correct: bool


@dataclass
class Score:
    correct: int = 0
    total: int = 0
    topics: dict[str, list[int]] = field(default_factory=dict)


# --- sentences and terms ---------------------------------------------------------------------

def sentences(text: str) -> list[str]:
    """The prose sentences of a passage: headings, table rows and fragments left out."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "|", "---")):
            continue
        line = re.sub(r"^(?:[-*•]|\d+[.)])\s+", "", line)
        for piece in line_sentences(line):
            if 6 <= len(piece.split()) <= 60 and "http" not in piece:
                out.append(piece)
    return out


def find_terms(sentence: str) -> list[tuple[str, int, int]]:
    """Blankable spans of `sentence` as (kind, start, end), best kind first, no overlaps."""
    found: list[tuple[str, int, int]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PATTERNS.items():
        for m in pattern.finditer(sentence):
            if all(m.end() <= a or m.start() >= b for a, b in taken):
                found.append((kind, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    for m in _WORD.finditer(sentence):
        word = m.group(0)
        if word.lower() in _STOP or m.start() == 0:
            continue
        if all(m.end() <= a or m.start() >= b for a, b in taken):
            found.append(("term", m.start(), m.end()))
    found.sort(key=lambda t: (KINDS.index(t[0]), -(t[2] - t[1])))
    return found


def term_pool(texts: Iterable[str]) -> dict[str, list[str]]:
    """Every blankable term of each kind in `texts`, sorted, for distractors."""
    pool: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for text in texts:
        for sentence in sentences(text):
            for kind, start, end in find_terms(sentence):
                pool[kind].add(sentence[start:end])
    return {kind: sorted(terms) for kind, terms in pool.items()}


def normalise(text: str) -> str:
    text = text.lower().replace("–", "-").replace("%", " percent")
    text = re.sub(r"\s*-\s*(?=\d)", " to ", text)
    text = re.sub(r"[^\w\s.]", " ", text)
    return " ".join(text.split()).strip(" .")


def _numbers(text: str) -> list[str]:
    return re.findall(_NUM, text)


def _synthetic(answer: str, kind: str) -> list[str]:
    """Same-shaped wrong answers when the corpus has too few: other grades, shifted numbers."""
    if kind == "grade":
        return [f"grade {g}" for g in "ABCDI" if f"grade {g}" != answer]
    numbers = _numbers(answer)
    if not numbers:
        return []
    out = []
    if kind == "age":
        steps = [lambda v: v + 5, lambda v: v - 5, lambda v: v + 10, lambda v: v - 10]
    else:
        steps = [lambda v: v * 2, lambda v: v + 1, lambda v: v * 3, lambda v: v + 2]
    for step in steps:
        values = [step(float(n)) for n in numbers]
        if min(values) <= 0:
            continue
        texts = [str(int(v)) if v == int(v) else f"{v:g}" for v in values]
        pieces = re.split(_NUM, answer)
        out.append("".join(p + (texts[i] if i < len(texts) else "") for i, p in enumerate(pieces)))
    return out


def distractors(answer: str, kind: str, pool: dict[str, list[str]], n: int,
                rng: random.Random) -> list[str]:
    """`n` wrong answers of the same kind: from the pool first, then synthetic ones."""
    seen = {normalise(answer)}
    candidates = [t for t in pool.get(kind, []) if normalise(t) not in seen]
    if kind == "term":  # words of a similar length read as plausible
        candidates = [t for t in candidates if abs(len(t) - len(answer)) <= 4] or candidates
    rng.shuffle(candidates)
    out: list[str] = []
    for term in candidates + _synthetic(answer, kind):
        key = normalise(term)
        if key not in seen:
            seen.add(key)
            out.append(term)
        if len(out) == n:
            break
    return out


# --- cards -----------------------------------------------------------------------------------

def source_of(passage: Passage) -> str:
    who = ", ".join(x for x in (passage.organisation, passage.date) if x)
    return f"{passage.title}" + (f" ({who})" if who else "") + f", {passage.location}"


def make_cards(
    passages: Sequence[Passage], pool: dict[str, list[str]] | None = None, n: int = 5,
    seed: int = 0, topic: str = "", options: int = 4,
) -> list[Card]:
    """Up to `n` cards, at most one per sentence, preferring recommendation sentences with a
    grade, an age, an interval or a number. The same inputs and seed give the same cards."""
    rng = random.Random(seed)
    pool = pool if pool is not None else term_pool(p.text for p in passages)
    ranked: list[tuple[int, int, Card]] = []
    seen: set[str] = set()
    for order, passage in enumerate(passages):
        for sentence in sentences(passage.text):
            terms = find_terms(sentence)
            if not terms or sentence in seen:
                continue
            seen.add(sentence)
            kind, start, end = terms[0]
            answer = sentence[start:end]
            prompt = sentence[:start] + BLANK + sentence[end:]
            wrong = distractors(answer, kind, pool, options - 1, rng)
            choices = [answer, *wrong]
            rng.shuffle(choices)
            rank = KINDS.index(kind) - (2 if _CUES.search(sentence) else 0)
            card_id = hashlib.sha1(f"{passage.chunk_id}:{sentence}".encode()).hexdigest()[:12]
            ranked.append((rank, order, Card(
                id=card_id, topic=topic or passage.title, prompt=prompt, answer=answer,
                kind=kind, options=choices, sentence=sentence, source=source_of(passage),
                passage=passage,
            )))
    ranked.sort(key=lambda item: (item[0], item[1]))
    cards = [card for _, _, card in ranked[:n]]
    rng.shuffle(cards)
    return cards


def grade(card: Card, response: str) -> bool:
    """Right if the numbers match exactly (for numeric kinds) or the words match closely."""
    given, want = normalise(response), normalise(card.answer)
    if not given:
        return False
    if given == want:
        return True
    if card.kind in ("age", "interval", "number", "grade"):
        if card.kind == "grade":
            return given.split()[-1] == want.split()[-1]
        words = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                 "ten": "10", "twelve": "12"}
        g = _numbers(" ".join(words.get(w, w) for w in given.split()))
        w = _numbers(" ".join(words.get(x, x) for x in want.split()))
        return bool(w) and g == w
    return difflib.SequenceMatcher(None, given, want).ratio() >= 0.85


def score(results: Iterable[Result]) -> Score:
    """Totals and per-topic [correct, total]."""
    out = Score()
    for r in results:
        out.total += 1
        out.correct += int(r.correct)
        topic = out.topics.setdefault(r.card.topic, [0, 0])
        topic[0] += int(r.correct)
        topic[1] += 1
    return out


# --- export ----------------------------------------------------------------------------------

def to_markdown(results: Sequence[Result], title: str = "Study session") -> str:
    """The session as Markdown: score per topic, then every question with its source."""
    s = score(results)
    lines = [f"# {title}", "", f"Score: {s.correct}/{s.total}", ""]
    for topic, (right, total) in s.topics.items():
        lines.append(f"- {topic}: {right}/{total}")
    for topic in s.topics:
        lines += ["", f"## {topic}", ""]
        for n, r in enumerate((r for r in results if r.card.topic == topic), start=1):
            mark = "correct" if r.correct else "wrong"
            lines += [
                f"{n}. {r.card.prompt}",
                f"   - Your answer: {r.response or '(none)'} ({mark})",
                f"   - Answer: **{r.card.answer}**",
                f"   - Source: {r.card.source}",
            ]
    return "\n".join(lines) + "\n"


def to_anki_csv(cards: Sequence[Card]) -> str:
    """Semicolon-separated front;back rows Anki imports (File > Import), the source on the
    back. Header lines tell Anki the separator and that fields are plain text."""
    buffer = io.StringIO()
    buffer.write("#separator:semicolon\n#html:false\n")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    for card in cards:
        back = f"{card.answer}\n\n{card.sentence}\n\nSource: {card.source}"
        writer.writerow([card.prompt, back])
    return buffer.getvalue()
