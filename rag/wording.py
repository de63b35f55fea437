"""How a claim may word what its passage says, as pure functions: the abbreviations it uses
for words the passage spells out, the words it spells out for the passage's abbreviations,
the pronouns it uses for the person asked about, and the words of a question that a negation
denies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from meditron_rag.text import NEGATIONS, STOPWORDS, is_number, tokens

# "He", "she", "you": the person the question asks about, whom the passage names by group.
PRONOUNS = frozenset(tokens("he she him her his hers you your they them their"))
_SURFACE = re.compile(r"[A-Za-z][\w'-]*")
# "AF", "CKD", "HFrEF": two to six letters, at least two of them capitals.
_ABBREVIATION = re.compile(r"\b(?=\w*[A-Z]\w*[A-Z])[A-Za-z]{2,6}\b")


def spelled_out(claim: list[str], known: set[str]) -> list[str]:
    """The claim without abbreviations spelled out: "blood pressure" where the passage has
    "BP", "computed tomography" where it has "CT"."""
    out, i = [], 0
    while i < len(claim):
        pair = claim[i:i + 2]
        if len(pair) == 2 and not any(map(is_number, pair)) and pair[0][0] + pair[1][0] in known:
            i += 2
            continue
        out.append(claim[i])
        i += 1
    return out


def affirmed(words: Sequence[str]) -> set[str]:
    """The words of a question that no negation a few words before denies: "shows no signs of
    dehydration" does not say the child is at risk of dehydration."""
    return {t for k, t in enumerate(words)
            if not any(w in NEGATIONS for w in words[max(0, k - 3):k])}


def abbreviated(sentence: str, text: str) -> dict[str, str]:
    """The sentence's abbreviations that stand for words `text` spells out, with those words:
    "AF" for "atrial fibrillation", "CKD" for "chronic kidney disease" (words the check
    skips, such as "with", do not count)."""
    abbreviations = _ABBREVIATION.findall(sentence)
    if not abbreviations:
        return {}
    words = [w for w in _SURFACE.findall(text) if w.lower() not in STOPWORDS]
    found = {}
    for abbreviation in abbreviations:
        letters = abbreviation.lower()
        n = len(letters)
        for i in range(len(words) - n + 1):
            if all(w[0].lower() == c for w, c in zip(words[i:i + n], letters, strict=True)):
                found[abbreviation] = " ".join(words[i:i + n])
                break
    return found
