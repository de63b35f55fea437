"""Turning a question into a BM25 query over the store's full-text index."""

from __future__ import annotations

import re

# Function words that carry no topic; BM25's idf already discounts common words, but an
# OR-query of every word would otherwise rank passages full of "the" and "should".
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

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def query_terms(question: str) -> list[str]:
    """Lower-cased content words of the question, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(question.lower()):
        word = word.replace("’", "'")
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(word, None)
    return list(seen)


def fts_query(question: str) -> str:
    """An FTS5 MATCH expression: any of the question's terms, each quoted so that no word
    can be read as FTS5 syntax (a question is data, never a query program)."""
    terms = [t.replace('"', "") for t in query_terms(question)]
    return " OR ".join(f'"{t}"' for t in terms if t)
