"""Claims of the labelled files' kinds, made anew from texts the citation check was never tuned on.

The development cases change recommendation sentences of two PDFs and the starter corpus.
The team scores the check on other texts, so a rule that only fits those sentences would
look good there and fail elsewhere. This makes cases of the same kinds (verbatim, a number
as a word, a negation flipped, a number or number word changed, a population swapped, a
sentence from another document, a question about an age the passage leaves out), four more
(a bound on a number turned round: "p < 0.05" made "p > 0.05"; a hedge dropped: "may reduce"
made "reduces"; part of a group made all of it: "some patients" made "all patients"; an item
added to a pair: "A and B" made "A, C and B"), and two that mix up neighbouring sentences (a
word of one put in place of a word of the other; the two joined as they stand, which stays
supported), by the same kind of mechanical edit, from the MedQuAD answers and PubMedQA
abstracts in ../shared, read at run time. Then measure it as any claims file:

    python -m scripts.claims_transfer /tmp/claims_transfer.jsonl
    meditron-rag eval --claims /tmp/claims_transfer.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from rag.ages import ages
from rag.study import sentences

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
         "ten", "eleven", "twelve"]
# A group of people and the group put in its place; both directions are used.
POPULATIONS = [("women", "men"), ("children", "adults"), ("boys", "girls"),
               ("infants", "older adults"), ("adolescents", "older adults"),
               ("pregnant women", "postmenopausal women"), ("males", "females"),
               ("older people", "young people"), ("newborns", "adults"),
               ("elderly", "young"), ("girls", "boys"), ("teenagers", "older adults"),
               ("patients", "healthcare workers"), ("parents", "teachers"),
               ("mothers", "fathers")]
MODALS = re.compile(
    r"\b(should|may|can|will|must|could|might|does|do|is|are|was|were)\b(?! (?:not|no|never)\b)")
NEGATED = re.compile(r"\b(should|may|can|will|must|could|does|do|is|are|was|were) not\b")
NUMBER = re.compile(r"(?<![\w.,/-])(\d{1,3})(?![\w.,/%-]?\d)(?![-A-Za-z])")
# A bound on a number and the one that says the other side of it.
FLIPPED = {"<": ">", ">": "<", "≤": ">", "≥": "<", "less than": "more than",
           "more than": "less than", "fewer than": "more than", "greater than": "less than",
           "under": "over", "over": "under", "at least": "less than", "at most": "more than"}
BOUND = re.compile(r"(?:[<>≤≥]|\b(?:less|more|fewer|greater) than\b|\b(?:under|over)\b|"
                   r"\bat (?:least|most)\b)(?=\s*\d)", re.IGNORECASE)
# "may reduce" made "reduces", "might be" made "is": a possibility stated as a fact.
HEDGED = re.compile(r"\b(may|might|could) (?!not\b|also\b|have\b)([a-z]+)")
# "some patients" made "all patients".
PART = re.compile(r"\b(?:[Ss]ome|[Mm]any|[Mm]ost)\b(?! of\b)(?=\s+[a-z]+)")
# "A and B", where an item may be added; and a plain word of another text to add.
PAIR = re.compile(r"\b([a-z]{4,}) (?:and|or) [a-z]{4,}\b")
LOWER = re.compile(r"\b[a-z]{7,}\b")
# A word an edit may move: six letters or more, or an acronym of three or more.
WORD = re.compile(r"\b(?:[A-Za-z][a-z]{5,}|[A-Z][A-Z0-9]{2,})\b")


def documents() -> Iterator[tuple[str, str, str]]:
    """(title, section, text) of each MedQuAD answer and PubMedQA abstract, in file order."""
    with (SHARED / "medquad" / "medquad_dev.jsonl").open() as lines:
        for line in lines:
            row = json.loads(line)
            yield row["focus"], row["qtype"], row["answer"]
    abstracts = json.loads((SHARED / "pubmedqa" / "pqal_dev.json").read_text())
    for pmid, row in abstracts.items():
        yield f"PubMed {pmid}", "abstract", " ".join(row["CONTEXTS"])


def edits(sentence: str, text: str, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """(kind, expected, edited sentence) for each edit of a sentence of text that changes it."""
    for match in NUMBER.finditer(sentence):
        value = int(match.group(1))
        head, tail = sentence[:match.start()], sentence[match.end():]
        if value >= 1900 or tail[:1] == ")" or re.search(r"\[[^\]]*$", head):
            continue
        changed = value + rng.choice([1, 2, 3]) if value > 3 else value + 2
        yield "number", "contradicted", f"{head}{changed}{tail}"
        if 2 <= value <= 12:
            yield "number-as-word", "supported", f"{head}{WORDS[value]}{tail}"
            other = rng.choice([w for i, w in enumerate(WORDS[2:], 2) if i != value])
            yield "word-number", "contradicted", f"{head}{other}{tail}"
        break
    bound = BOUND.search(sentence)
    if bound:
        flipped = FLIPPED[bound.group(0).lower()]
        yield "bound", "contradicted", sentence[:bound.start()] + flipped + sentence[bound.end():]
    negated = NEGATED.search(sentence)
    if negated:
        yield "polarity", "contradicted", sentence[:negated.end() - 4] + sentence[negated.end():]
    elif modal := MODALS.search(sentence):
        yield "polarity", "contradicted", f"{sentence[:modal.end()]} not{sentence[modal.end():]}"
    if (hedge := HEDGED.search(sentence)) and not hedge.group(2).endswith("s"):
        verb = "is" if hedge.group(2) == "be" else f"{hedge.group(2)}s"
        yield "hedge-dropped", "unsupported", f"{sentence[:hedge.start()]}{verb}" \
            f"{sentence[hedge.end():]}"
    if part := PART.search(sentence):
        word = "All" if part.group(0)[0].isupper() else "all"
        yield "quantifier", "contradicted", f"{sentence[:part.start()]}{word}" \
            f"{sentence[part.end():]}"
    for one, other in POPULATIONS + [(b, a) for a, b in POPULATIONS]:
        found = re.search(rf"\b{one}\b", sentence, re.IGNORECASE)
        if found and not re.search(rf"\b{other}\b", text, re.IGNORECASE):
            word = other.capitalize() if found.group(0)[0].isupper() else other
            swapped = sentence[:found.start()] + word + sentence[found.end():]
            yield "population", "contradicted", swapped
            break


def across(first: str, second: str, text: str, rng: random.Random
           ) -> Iterator[tuple[str, str, str]]:
    """Edits that mix up two neighbouring sentences as a model can: a word of the first put
    in place of a word of the same shape in the second (a term for a term, an acronym for an
    acronym, a longer word for a longer word), and the two joined as they stand."""
    def own(sentence: str, other: str) -> list[re.Match[str]]:
        return [m for m in WORD.finditer(sentence)
                if text.count(m.group(0)) == 1 and m.group(0).lower() not in other.lower()]

    def shape(word: str) -> str:
        return "upper" if word.isupper() else "title" if word[0].isupper() else "lower"

    theirs = own(first, second)
    for target in rng.sample(own(second, first), k=len(own(second, first))):
        same = [m.group(0) for m in theirs if shape(m.group(0)) == shape(target.group(0))]
        if same:
            swapped = second[:target.start()] + rng.choice(same) + second[target.end():]
            yield "swap-across", "contradicted", swapped
            break
    if not second[:2].isupper():
        yield "joined", "supported", f"{first.rstrip('. ')}, and {second[:1].lower()}{second[1:]}"


def item_added(sentence: str, other: str, text: str) -> str | None:
    """The sentence with one more item in its first pair ("A and B" made "A, C and B"), the
    item a word of another document that this one never uses."""
    pair = PAIR.search(sentence)
    words = [w for w in LOWER.findall(other) if w.lower() not in text.lower()]
    if not pair or not words:
        return None
    return f"{sentence[:pair.end(1)]}, {words[0]}{sentence[pair.end(1):]}"


def outside_age(sentence: str) -> int | None:
    """An age the sentence's one age range leaves out ("aged 40 to 49", "65 and older",
    "under 18"), if it names one in years."""
    found = ages(sentence, points=False)
    if len(found) != 1 or found[0].label:
        return None
    low, high = found[0].low, found[0].high
    if high < 100:
        return int(high) + 7
    return int(low) - 7 if low >= 25 else None


def cases(seed: int, per_kind: int) -> list[dict]:
    rng = random.Random(seed)
    docs = [(title, section, sentences(text)) for title, section, text in documents()]
    docs = [d for d in docs if 3 <= len(d[2]) <= 12]
    rng.shuffle(docs)
    made: dict[str, list[dict]] = {}

    def add(kind: str, expected: str, question: str, answer: str, title: str, section: str,
            text: str) -> None:
        rows = made.setdefault(kind, [])
        if len(rows) < per_kind:
            rows.append({"id": f"transfer-{kind}-{len(rows):03d}", "kind": kind,
                         "expected": expected, "question": question,
                         "answer": answer.rstrip(". ") + " [1].",
                         "passages": [{"number": 1, "title": title, "section": section,
                                       "text": text}]})

    for index, (title, section, said) in enumerate(docs):
        start = rng.randrange(0, max(1, len(said) - 4))
        window = said[start:start + 5]
        text = " ".join(window)
        question = f"What does the guidance say about {title}, {section}?"
        target = rng.choice(window)
        if len(target.split()) < 6:
            continue
        add("verbatim", "supported", question, target, title, section, text)
        for sentence in window:
            for kind, expected, edited in edits(sentence, text, rng):
                add(kind, expected, question, edited, title, section, text)
            if (age := outside_age(sentence)) is not None:
                add("outside-population", "not_applicable",
                    f"Does this apply to someone aged {age}? ({title})", sentence, title,
                    section, text)
        at = rng.randrange(0, len(window) - 1)
        if min(len(window[at].split()), len(window[at + 1].split())) >= 6:
            for kind, expected, edited in across(window[at], window[at + 1], text, rng):
                add(kind, expected, question, edited, title, section, text)
        elsewhere = docs[(index + 1) % len(docs)][2]
        add("other-document", "unsupported", question, rng.choice(elsewhere), title,
            section, text)
        if added := item_added(target, " ".join(elsewhere), text):
            add("item-added", "unsupported", question, added, title, section, text)
    return [row for rows in made.values() for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-kind", type=int, default=150)
    args = parser.parse_args()
    rows = cases(args.seed, args.per_kind)
    args.out.write_text("".join(json.dumps(row) + "\n" for row in rows))
    print(f"{len(rows)} cases written to {args.out}")


if __name__ == "__main__":
    main()
