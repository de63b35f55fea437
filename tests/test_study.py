"""Fill-in-the-blank cards, grading and export, on sentences small enough to check by hand."""

from __future__ import annotations

import csv
import io
import random

from rag.records import Passage
from rag.study import (
    BLANK,
    Result,
    distractors,
    find_terms,
    grade,
    make_cards,
    normalise,
    score,
    sentences,
    term_pool,
    to_anki_csv,
    to_markdown,
)

TEXT = """## Recommendations

### Adults aged 45 to 49 years (grade B)

The USPSTF recommends screening adults aged 45 to 49 years for colorectal cancer.
Colonoscopy should be repeated every 10 years when the result is normal.
- Faecal immunochemical test: every year.
Short line.
"""


def passage(text: str = TEXT, chunk_id: int = 1, title: str = "Colorectal screening") -> Passage:
    return Passage(
        chunk_id=chunk_id, document_id="crc", title=title, organisation="USPSTF",
        date="2021-05", url="", path="/x/crc.md", section="Recommendations", page_start=1,
        page_end=1, paginated=False, char_start=0, char_end=len(text), text=text,
    )


def test_sentences_skip_headings_bullets_and_fragments() -> None:
    assert sentences(TEXT) == [
        "The USPSTF recommends screening adults aged 45 to 49 years for colorectal cancer.",
        "Colonoscopy should be repeated every 10 years when the result is normal.",
    ]


def test_find_terms_kinds_in_order() -> None:
    s = "Adults aged 50 to 75 years (grade A) should be screened every 2 years with 30 mg."
    kinds = [(kind, s[a:b]) for kind, a, b in find_terms(s)]
    assert kinds[:4] == [("grade", "grade A"), ("age", "50 to 75 years"),
                         ("interval", "every 2 years"), ("number", "30 mg")]
    assert all(kind == "term" for kind, _ in kinds[4:])


def test_pool_collects_terms_by_kind() -> None:
    pool = term_pool([TEXT, "Screen women aged 21 to 29 years every 3 years."])
    assert pool["age"] == ["21 to 29 years", "45 to 49 years"]
    assert pool["interval"] == ["every 10 years", "every 3 years"]


def test_distractors_same_kind_then_synthetic() -> None:
    pool = {"interval": ["every 3 years", "every 10 years"]}
    wrong = distractors("every 10 years", "interval", pool, 3, random.Random(0))
    assert wrong[0] == "every 3 years"
    assert wrong[1:] == ["every 20 years", "every 11 years"]  # 10 * 2, 10 + 1
    assert distractors("grade B", "grade", {}, 2, random.Random(0)) == ["grade A", "grade C"]
    assert distractors("45 to 49 years", "age", {}, 2, random.Random(0)) == [
        "50 to 54 years", "40 to 44 years"]


def test_make_cards_blank_one_term_with_options() -> None:
    cards = make_cards([passage()], n=5, seed=1)
    assert len(cards) == 2
    by_answer = {c.answer: c for c in cards}
    age = by_answer["45 to 49 years"]
    assert age.kind == "age"
    assert age.prompt == (
        f"The USPSTF recommends screening adults aged {BLANK} for colorectal cancer.")
    assert age.answer in age.options and len(age.options) == 4
    assert len({normalise(o) for o in age.options}) == 4
    assert age.source == "Colorectal screening (USPSTF, 2021-05), Recommendations"
    assert by_answer["every 10 years"].kind == "interval"
    assert make_cards([passage()], n=5, seed=1)[0].options == cards[0].options  # repeatable


def test_grading_numbers_exact_words_forgiving() -> None:
    card = make_cards([passage()], n=5, seed=0)
    age = next(c for c in card if c.kind == "age")
    assert grade(age, "45 to 49 years")
    assert grade(age, "45-49")
    assert grade(age, "45–49 years")
    assert not grade(age, "40 to 49")
    assert not grade(age, "")
    interval = next(c for c in card if c.kind == "interval")
    assert grade(interval, "10 years") and not grade(interval, "every 5 years")
    term = make_cards([passage("Offer the patient a colonoscopy after a positive result today.")],
                      n=1)[0]
    assert term.kind == "term" and term.answer == "colonoscopy"
    assert grade(term, "Colonoscopy") and grade(term, "colonoscpy")
    assert not grade(term, "sigmoidoscopy")


def test_score_and_exports() -> None:
    cards = make_cards([passage()], n=2, seed=0)
    results = [Result(cards[0], cards[0].answer, True), Result(cards[1], "wrong", False)]
    s = score(results)
    assert (s.correct, s.total) == (1, 2)
    assert s.topics == {"Colorectal screening": [1, 2]}
    md = to_markdown(results)
    assert "Score: 1/2" in md and "- Colorectal screening: 1/2" in md
    assert f"**{cards[1].answer}**" in md and "(wrong)" in md

    text = to_anki_csv(cards)
    header, body = text.split("\n", 2)[:2], text.split("\n", 2)[2]
    assert header == ["#separator:semicolon", "#html:false"]
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert len(rows) == 2 and all(len(r) == 2 for r in rows)
    front, back = rows[0]
    assert BLANK in front
    assert back.startswith(cards[0].answer)
    assert back.endswith("Source: Colorectal screening (USPSTF, 2021-05), Recommendations")
