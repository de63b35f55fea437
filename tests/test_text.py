"""The shared text primitives: what each splitter cuts (and what it deliberately does not), the
word forms, and properties every splitter keeps on any text."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meditron_rag import text as t

# One text through every splitter: each cuts it its own way, and the differences are the point.
SAMPLE = ("Dr. Smith gave 2.5 mg. Then stop: wait; go.\nsoft wrap here. next one!  \n\n"
          "- item one\nNew line. lower case. (Bracket) [1] last")


def pieces(spans: list[t.Span], text: str = SAMPLE) -> list[str]:
    return [text[a:b] for a, b in spans]


def test_sentence_spans_skip_abbreviations_initials_and_decimals() -> None:
    assert pieces(t.sentence_spans(SAMPLE)) == [
        "Dr. Smith gave 2.5 mg. Then stop: wait; go.\nsoft wrap here. next one!",
        "- item one\nNew line. lower case.",
        "(Bracket) [1] last",
    ]
    text = "See J. Smith et al. Later work. It is 3.5 cm. Done at 5 p.m. Today. 2 doses."
    assert pieces(t.sentence_spans(text), text) == [
        "See J. Smith et al. Later work.", "It is 3.5 cm.", "Done at 5 p.m. Today.", "2 doses."]
    # A capital that names a kind ends a sentence like any word: no initial.
    text = "Give oral vitamin K. These apply to adults. Test for hepatitis B. Then stop."
    assert pieces(t.sentence_spans(text), text) == [
        "Give oral vitamin K.", "These apply to adults.", "Test for hepatitis B.", "Then stop."]


def test_sentence_spans_stay_inside_the_range_given() -> None:
    text = "Before. One here. Two here. After."
    assert pieces(t.sentence_spans(text, 8, 27), text) == ["One here.", "Two here."]


def test_paragraphs_and_items() -> None:
    text = "Intro line\nwrapped.\n\n- one\n  more\n- two\n| a | b |\n## Head\n\n\nEnd"
    assert pieces(t.paragraph_spans(text, 0, len(text)), text) == [
        "Intro line\nwrapped.", "- one\n  more\n- two\n| a | b |\n## Head", "End"]
    block = t.paragraph_spans(text, 0, len(text))[1]
    assert pieces(t.item_spans(text, *block), text) == [
        "- one\n  more", "- two", "| a | b |", "## Head"]
    later = text.index("- one")  # a range that starts inside the text is cut at its own gaps
    assert pieces(t.paragraph_spans(text, later, len(text)), text) == [
        "- one\n  more\n- two\n| a | b |\n## Head", "End"]


def test_sentence_spans_of_a_range_with_no_space_before_its_first_stop() -> None:
    text = "Give 5 mg. Dose.Then"  # "Dose." alone: its word is read from the range only
    assert pieces(t.sentence_spans(text, 11, len(text)), text) == ["Dose.Then"]


def test_clause_spans_cut_at_colons_semicolons_and_every_line() -> None:
    assert pieces(t.clause_spans(SAMPLE)) == [
        "Dr.", "Smith gave 2.5 mg.", "Then stop:", "wait;", "go.", "soft wrap here.",
        "next one!", "- item one", "New line.", "lower case.", "(Bracket) [1] last"]
    text = "One. Two words here! Three?\nFour"
    assert pieces(t.clause_spans(text), text) == ["One.", "Two words here!", "Three?", "Four"]


def test_claim_spans_keep_a_statement_whole_across_a_soft_wrap() -> None:
    assert pieces(t.claim_spans(SAMPLE)) == [
        "Dr.", "Smith gave 2.5 mg.", "Then stop: wait; go.", "soft wrap here.", "next one!",
        "- item one", "New line.", "lower case.", "(Bracket) [1] last"]
    text = "Adults aged 40\nto 74 years. Women\nshould be screened.\n- item"
    assert pieces(t.claim_spans(text), text) == [
        "Adults aged 40\nto 74 years.", "Women\nshould be screened.", "- item"]


def test_claim_and_clause_spans_keep_blank_pieces_the_app_drops() -> None:
    text = "A\n  \nB"
    assert pieces(t.clause_spans(text), text) == ["A", "  ", "B"]
    assert pieces(t.line_sentence_spans(text), text) == ["A", "B"]


def test_line_sentence_spans_cut_before_a_capital_or_bracket_only() -> None:
    assert pieces(t.line_sentence_spans(SAMPLE)) == [
        "Dr.", "Smith gave 2.5 mg.", "Then stop: wait; go.", "soft wrap here. next one!  ",
        "- item one", "New line. lower case.", "(Bracket) [1] last"]


def test_line_sentences_cut_at_a_semicolon_too() -> None:
    assert t.line_sentences("Give it now; Then wait. (Next) step. lower. Up? [2] no") == [
        "Give it now;", "Then wait.", "(Next) step. lower.", "Up? [2] no"]


def test_answer_sentences_keep_markers_with_their_sentence() -> None:
    text = "Screening starts at 40 [1]. It is every two years [1][2]. Done.\n\n- item [3]"
    assert t.answer_sentences(text) == [
        "Screening starts at 40 [1].", "It is every two years [1][2].", "Done.", "- item [3]"]


def test_a_marker_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    assert t.answer_sentences(
        "Take 400 micrograms of folic acid. [1] Start before pregnancy. [2]") == [
        "Take 400 micrograms of folic acid. [1]", "Start before pregnancy. [2]"]
    assert t.answer_sentences("“A quote.” [1] “Another.” [2]") == [
        "“A quote.” [1]", "“Another.” [2]"]
    assert t.answer_sentences("Give it.\n\n[2]") == ["Give it. [2]"]


def test_an_answer_sentence_goes_on_past_i_e_and_e_g() -> None:
    assert t.answer_sentences("Give 0.5 mg (i.e. 0.5 mL) IM [1]. Use a cream, e.g. Fusidic "
                              "acid [2]. Give 10 mg. Repeat it.") == [
        "Give 0.5 mg (i.e. 0.5 mL) IM [1].", "Use a cream, e.g. Fusidic acid [2].",
        "Give 10 mg.", "Repeat it."]


# --- words -----------------------------------------------------------------------------------

def test_terms_drop_stopwords_and_stem_so_forms_meet() -> None:
    assert t.terms("What are the vaccines for pregnant women?") == [
        "vaccin", "pregnant", "women"]
    assert t.terms("") == []


def test_terms_are_the_stored_index_terms() -> None:
    """Postings in existing indexes were built from exactly these: a change breaks them."""
    text = "Women’s 2 doses of PCV20 (e.g. in 2024) — don't skip; a b C_d x2 Ünïcode vaccinations."
    assert t.terms(text) == ["women", "2", "dose", "pcv20", "2024", "don't", "skip", "x2",
                             "ünïcode", "vaccin"]


def test_normal_form_of_numbers_ranges_and_units() -> None:
    assert t.tokens("every five years") == t.tokens("every 5 years")
    assert t.tokens("45 to 49") == t.tokens("45-49") == t.tokens("45–49")
    assert t.tokens("500 micrograms") == t.tokens("500 mcg") == t.tokens("500 µg")
    assert t.tokens("biennial screening") == t.tokens("every 2 years screening")
    assert "21" in t.normalise("twenty-one")
    assert t.tokens("It is not indicated for women [1].") == ["not", "indic", "woman"]
    # "One of" picks, it does not count; "more than one" of a thing is two or more of it.
    assert t.tokens("one of the criteria") == ["criteria"]
    assert "1" in t.tokens("at least one of the criteria")
    assert t.tokens("more than one risk factor") == t.tokens("two or more risk factors")
    assert t.tokens("more than one year") == ["more", "1", "year"]
    # A bound in other words, and abbreviations and synonyms guidelines use.
    assert t.tokens("for a minimum of 7 days") == t.tokens("for at least 7 days")
    assert t.tokens("exceeds 2000") == t.tokens("above 2000")
    assert t.tokens("IV flu vaccine") == t.tokens("intravenous influenza vaccine")
    assert t.tokens("extra precautions straight away") == t.tokens(
        "additional precautions immediately")
    assert t.tokens("check renal function prior to starting") == t.tokens(
        "monitor renal function before starting") == t.tokens(
        "measure renal function before starting")
    assert t.tokens("maintain the target, then clopidogrel on its own") == t.tokens(
        "keep the target, then clopidogrel alone")
    assert t.tokens("people unable to swallow") == t.tokens("people who cannot swallow")
    assert t.tokens("long-term antithrombotic therapy with these drugs") == t.tokens(
        "long-term antithrombotic treatment with these medicines")
    assert t.tokens("partners from the preceding 2 weeks") == t.tokens(
        "partners from the previous two weeks") == t.tokens("partners from the prior 2 weeks")
    # One unit each way: "72 hours" is "3 days", "g/litre" is "g/L", "or longer" a bound.
    assert t.tokens("within 72 hours") == t.tokens("within three days")
    assert t.tokens("24 to 48 hours") == ["24", "48", "hour"]
    assert t.tokens("up to 120 hours after") == t.tokens("up to 5 days after")
    # A baby is an infant: a claim that says "babies" for "infants" names no other group.
    assert t.tokens("babies under 4 weeks") == t.tokens("infants under 4 weeks")
    assert t.tokens("1.6 micrograms per kilogram") == t.tokens("1.6 micrograms/kg")
    assert t.tokens("400 IU") == t.tokens("400 international units") == t.tokens("400 units")
    assert t.tokens("for no longer than 2 years") == t.tokens("for a maximum of 2 years")
    assert t.tokens("0.5 mL, i.e. 500 micrograms") == t.tokens("0.5 mL, 500 micrograms")
    assert t.tokens("80 g/litre") == t.tokens("80 g/L")
    assert t.tokens("for 4 weeks or longer") == t.tokens("for at least 4 weeks")
    # Neither a negation nor a hedge.
    assert "not" not in t.tokens("whether or not she is breastfeeding")
    assert t.tokens("start as soon as possible") == t.tokens("start promptly")
    # "One" as a pronoun counts nothing: "a severe one" is no dose of 1.
    assert "1" not in t.tokens("a headache, particularly a severe one with visual disturbance")
    assert "1" in t.tokens("one dose") and t.tokens("the first one.") == ["first"]
    # Negations in other words: "no need to wait" does not wait, "if at all" allows none,
    # "without any of these" is "none of these".
    assert t.tokens("There's no need to wait for a hearing test") == t.tokens(
        "Do not wait for a hearing test")
    assert t.tokens("cautiously, if at all") == t.tokens("cautiously or not at all")
    assert t.tokens("without any of these features") == t.tokens("none of these features")
    # "Routinely" is negated with its verb wherever it stands; "do not X unless Y" is "X only
    # if Y".
    assert t.tokens("Oxygen should not be given routinely") == t.tokens(
        "Oxygen should not routinely be given")
    assert t.tokens("Do not offer parenteral nutrition unless enteral nutrition has failed") == (
        t.tokens("Offer parenteral nutrition only if enteral nutrition has failed"))


def test_normal_form_of_bounds_on_numbers() -> None:
    at_least = t.tokens("adults aged ≥65 years")
    assert at_least == t.tokens("adults aged 65 years or older") == t.tokens(
        "adults aged 65+ years") == t.tokens("adults aged >= 65 years")
    assert t.tokens("eGFR <30") == t.tokens("eGFR below 30") == t.tokens("eGFR less than 30")
    assert t.tokens("size <or=3 cm") == t.tokens("size ≤3 cm") == t.tokens("size 3 cm or less")
    assert "not" not in t.tokens("no more than 2 doses")
    # A bound under a negated verb is a bound ("no more than one" too), not a negation; a
    # time after an event is no bound of what is given.
    assert t.tokens("Do not switch more than one drug at a time") == t.tokens(
        "switch at most 1 drug at a time") == t.tokens("Switch no more than one drug at a time")
    assert t.tokens("don't give fewer than 5 doses") == t.tokens("give at least 5 doses")
    assert t.tokens("do not exceed 4 g a day") == t.tokens("at most 4 g a day")
    assert "not" in t.tokens("Do not offer PEP more than 72 hours after exposure")
    # "or older adults" names people, not a bound; "otherwise healthy" keeps its words.
    assert t.normalise("aged 6 to 11 or older adults") == "aged 6 to 11 or older adults"
    assert t.normalise("Over 65", bounds=False) == "over 65"
    # How often, written one way.
    assert t.tokens("twice a day") == t.tokens("twice daily") == t.tokens("2 times per day")
    assert t.tokens("weekly") == t.tokens("every week")
    # Two bounds joined: the second opens with "or more than", not "21 or more".
    assert t.normalise("women under 21 or over 65") == "women less than 21 or more than 65"


def test_content_words_leave_out_stopwords_markers_and_single_characters() -> None:
    assert t.content_words("Should women get 2 doses [3] of it, e.g. the PCV20 in 12?") == {
        "woman", "get", "dose", "pcv20", "12"}


def test_word_set_and_jaccard() -> None:
    assert t.word_set("The cat, the HAT.") == {"the", "cat", "hat"}
    assert t.jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert t.jaccard(set(), {"a"}) == 0.0


def test_stems_agree_across_threads() -> None:
    words = ["vaccination", "recommended", "screening"] * 200
    expected = t.stems(words)
    results: list[list[str]] = []
    threads = [threading.Thread(target=lambda: results.append(t.stems(words))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4


# --- properties on any text ------------------------------------------------------------------

_PIECES = ["A", "a", "word", "The", "e.g.", "Dr.", "3.5", "10", " ", "  ", "\n", "\n\n", ".",
           "!", "?", ";", ":", "[1]", "[2, 3]", "(", ")", "-", "•", "#", "|", "1.", "a)", "“",
           "”", "'", "\t", "U.S."]
texts = st.one_of(st.text(max_size=80),
                  st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))

SPLITTERS: dict[str, Callable[[str], list[t.Span]]] = {
    "sentence": t.sentence_spans,
    "paragraph": lambda s: t.paragraph_spans(s, 0, len(s)),
    "item": lambda s: t.item_spans(s, 0, len(s)),
    "clause": t.clause_spans,
    "claim": t.claim_spans,
    "line_sentence": t.line_sentence_spans,
}
STRIPPED = ("sentence", "paragraph", "item")


def _visible(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("name", SPLITTERS)
@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_spans_are_in_order_disjoint_and_cover_every_visible_character(name: str,
                                                                       text: str) -> None:
    spans = SPLITTERS[name](text)
    at = 0
    for start, end in spans:
        assert at <= start < end <= len(text)
        at = end
        if name in STRIPPED:
            assert not text[start].isspace() and not text[end - 1].isspace()
    assert _visible("".join(text[a:b] for a, b in spans)) == _visible(text)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_answer_and_line_sentences_lose_no_visible_character(text: str) -> None:
    parts = t.answer_sentences(text)
    assert all(p and p == p.strip() for p in parts)
    assert _visible("".join(parts)) == _visible(text)
    line = " ".join(text.split())
    assert _visible("".join(t.line_sentences(line))) == _visible(line)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_word_forms_are_lower_case_and_content_words_carry_content(text: str) -> None:
    assert all(w == w.lower() for w in [*t.word_set(text), *t.tokens(text)])
    words = t.content_words(text)
    assert not words & t.STOPWORDS and all(len(w) > 1 for w in words)
