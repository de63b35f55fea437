"""Follow-up questions: the search query for the last question of a conversation.

"And for men?" alone retrieves nothing about osteoporosis. A question that names no subject of
its own (it opens as a continuation, leans on a pronoun, or has at most `FEW_TOPIC_WORDS` topic
words) is searched together with the topic words of the question before it, less those it
replaces: a population, a sex, a number or a year asked anew takes the place of the old one.
Only the users' questions are read, never the answers, so the query stays a question's length
however long the conversation (the model's window holds the rewritten question alone), and no
model runs to condense it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from meditron_rag.text import STOPWORDS

FEW_TOPIC_WORDS = 2
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_CONTINUATION = re.compile(
    r"^\s*(and|or|but|also|then|so|same|what about|how about|what if|is that|does that|"
    r"is it|does it|and if)\b", re.IGNORECASE)
_PRONOUNS = frozenset("it its they them their this that these those there".split())
# Words a question uses to ask, not to name its subject.
_GENERIC = frozenset(
    """also else instead many much often long version update guideline guidelines recommend
    recommended recommendation used use given give get start begin stop case""".split()
)
# Words that name who a question is about: one named anew replaces the old.
_POPULATION = frozenset(
    """adult adults child children infant infants adolescent adolescents teen teenagers men
    women man woman male males female females boy boys girl girls older younger elderly old
    young pregnant pregnancy inpatient inpatients outpatient outpatients people person
    patients patient""".split()
)


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def topic_words(text: str) -> list[str]:
    """The words of `text` that name what it is about, in order, once each."""
    seen: dict[str, None] = {}
    for word in _words(text):
        if word not in STOPWORDS and word not in _GENERIC and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)


def is_follow_up(question: str) -> bool:
    """Whether `question` leans on the one before it for its subject."""
    words = _words(question)
    return (bool(_CONTINUATION.match(question)) or any(w in _PRONOUNS for w in words)
            or len([w for w in topic_words(question) if w not in _POPULATION])
            <= FEW_TOPIC_WORDS)


def _replaced(question_words: list[str]) -> set[str]:
    """The kinds of word the question names anew, so the earlier ones are dropped."""
    kinds = set()
    for word in question_words:
        if word in _POPULATION:
            kinds.add("population")
        if any(c.isdigit() for c in word):
            kinds.add("number")
    return kinds


def rewrite(question: str, previous: str) -> str:
    """`question` as a search query, given the search query of the question before it: itself
    when it names its own subject, else with the earlier topic words it does not replace."""
    if not previous.strip() or not is_follow_up(question):
        return question
    own = set(_words(question))
    kinds = _replaced(list(own))
    carried = [
        w for w in topic_words(previous)
        if w not in own
        and not ("population" in kinds and w in _POPULATION)
        and not ("number" in kinds and any(c.isdigit() for c in w))
    ]
    return f"{question.strip()} ({' '.join(carried)})" if carried else question


def search_query(questions: Sequence[str]) -> str:
    """The search query for the last of a conversation's questions, each earlier one
    rewritten in turn so that a subject carries through a chain of follow-ups."""
    query = ""
    for question in questions:
        query = rewrite(question, query)
    return query
