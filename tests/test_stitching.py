from rag.stitching import statements, stitched


def test_statements_are_sentences_items_and_rows_with_what_leads_in_to_them():
    text = ("Offer one of these vaccines:\n1. PCV20 alone\n2. PCV15, then PPSV23. Not both.\n\n"
            "| Age | Dose |\n|---|---|\n| Adults | 500 micrograms |")
    found = statements(text)
    assert [s.text for s in found] == ["PCV20 alone", "PCV15, then PPSV23.", "Not both.",
                                       "| Adults | 500 micrograms |"]
    assert found[0].tokens == ("pcv20", "alon")  # the item's "1." is no word of it
    assert found[0].lead == found[2].lead and {"offer", "vaccin"} <= found[0].lead
    assert {"age", "dose"} <= found[3].lead


def test_stitched_tells_a_swapped_word_from_one_put_in():
    text = "Aspirin is recommended after a heart attack. Statins lower cholesterol."
    swapped = stitched("Statins are recommended after a heart attack", text, frozenset())
    assert swapped and swapped.kind == "detail" and swapped.passage_words == "aspirin"
    joined = stitched("Aspirin and statins are recommended after a heart attack", text,
                      frozenset())
    assert joined and joined.kind == "joined" and joined.claim_words == "statin"
    assert stitched("Aspirin is recommended after a heart attack, and statins lower "
                    "cholesterol", text, frozenset()) is None
    # A word the caller lets any sentence lend (the passage's title) joins nothing.
    assert stitched("Aspirin and statins are recommended after a heart attack", text,
                    frozenset({"statin"})) is None
    assert stitched("Statins lower cholesterol", "Statins lower cholesterol.", frozenset()) is None

