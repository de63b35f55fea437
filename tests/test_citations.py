from __future__ import annotations

import pytest

from rag.citations import (
    SupportScorer,
    lexical_overlap,
    parse_markers,
    remove_markers,
    split_sentences,
    unsupported_numbers,
)


def test_parse_markers():
    assert parse_markers("a [1] b [2, 3] c [4-6] d [1]") == [1, 2, 3, 4, 5, 6]
    assert parse_markers("no markers") == []


def test_split_sentences_keeps_markers_with_their_sentence():
    text = "Screening starts at 40 [1]. It is every two years [1][2]. Done.\n\n- item [3]"
    assert split_sentences(text) == [
        "Screening starts at 40 [1].", "It is every two years [1][2].", "Done.", "- item [3]"]


def test_markers_to_missing_passages_are_removed():
    text, dropped = remove_markers("Start at 40 [1][7]. Every two years [2, 9].", {1, 2})
    assert text == "Start at 40 [1]. Every two years [2]."
    assert dropped == [7, 9]


def test_lexical_overlap_and_numbers():
    passage = "Biennial screening mammography for women aged 40 to 74 years."
    assert lexical_overlap("Mammography screening starts at 40 [1].", passage) == pytest.approx(
        3 / 4)  # mammograph, screen, 40 found; "start" not
    assert unsupported_numbers("Screen from age 50 [1].", passage) == {"50"}
    assert unsupported_numbers("Screen from age 40 [1].", passage) == set()


@pytest.fixture(scope="module")
def scorer(embedder):
    return SupportScorer(embedder.encode)


PASSAGES = {
    1: "Women aged 40 to 74 years: biennial screening mammography is recommended (grade B).",
    2: "Hand rubbing with an alcohol-based formulation should last 20 to 30 seconds.",
}


def test_supported_sentence(scorer):
    [s] = scorer.check("Biennial screening mammography is recommended from age 40 [1].", PASSAGES)
    assert s.supported and s.citations == [1] and s.best_passage == 1


def test_wrong_number_is_unsupported(scorer):
    [s] = scorer.check("Biennial screening mammography is recommended from age 50 [1].", PASSAGES)
    assert not s.supported and s.support == 0.0


def test_sentence_citing_the_wrong_passage_is_unsupported(scorer):
    [s] = scorer.check("Biennial screening mammography is recommended from age 40 [2].", PASSAGES)
    assert not s.supported


def test_invented_sentence_is_flagged(scorer):
    good, bad = scorer.check(
        "Hand rubbing should last 20 to 30 seconds [2]. "
        "Patients should also take vitamin C every morning [2].", PASSAGES)
    assert good.supported and not bad.supported


def test_subject_the_passages_do_not_cover(scorer):
    [s] = scorer.check("Gout is treated with biennial screening mammography [1].", PASSAGES,
                       question="How is gout treated?")
    assert not s.supported


def test_number_must_come_from_the_sentence_the_claim_rests_on(scorer):
    passages = {1: "Direct visualisation tests.\nColonoscopy: every 10 years.\n"
                   "CT colonography: every 5 years.\nFlexible sigmoidoscopy: every 5 years."}
    [wrong] = scorer.check("A colonoscopy is repeated every 5 years [1].", passages)
    [right] = scorer.check("A colonoscopy is repeated every 10 years [1].", passages)
    assert not wrong.supported and right.supported
