from rag.denials import advises_denied, denied, denied_to_asked

MEASLES = ("Offer MMR vaccine within 72 hours of exposure to susceptible contacts aged 6 "
           "months and over. Pregnant women without evidence of measles immunity should be "
           "offered HNIG and must not receive MMR.")
NITROFURANTOIN = ("The first choice is nitrofurantoin 100 mg twice a day for 7 days, if eGFR is "
                  "45 ml/minute or more; avoid nitrofurantoin at term because it may cause "
                  "neonatal haemolysis.")


def test_a_denial_is_the_thing_denied_and_its_circumstances_up_to_a_reason():
    [avoid] = denied(NITROFURANTOIN)
    assert avoid.words == "avoid nitrofurantoin at term"
    assert avoid.thing == {"nitrofurantoin"} and avoid.circumstances == {"term"}
    assert {"first", "choic", "egfr"} <= avoid.sentence  # the rest of its sentence
    [cold] = denied("Do not routinely offer antibiotics to people with a cold.")
    assert cold.words == "not routinely offer antibiotics to people with a cold"
    assert cold.thing == {"antibiot"} and cold.circumstances == {"person", "cold"}
    # Whom a statement is about, not what not to give.
    assert denied("Give 2 doses to children who have never received influenza vaccine.") == []


def test_a_claim_that_advises_the_denied_thing_or_circumstance_contradicts():
    conflict = advises_denied("Pregnant women without measles immunity should be offered MMR",
                              MEASLES)
    assert conflict and conflict.kind == "polarity" and conflict.passage_words == (
        "not receive MMR")
    assert advises_denied("Nitrofurantoin is the first choice throughout pregnancy, "
                          "including at term", NITROFURANTOIN)


def test_what_the_passage_also_advises_or_the_claim_denies_itself_is_no_conflict():
    # MMR is advised elsewhere in the passage: only its circumstance could be denied.
    assert advises_denied("Susceptible contacts aged 6 months and over should be offered MMR "
                          "within 72 hours", MEASLES) is None
    assert advises_denied("Nitrofurantoin 100 mg twice a day for 7 days is the first choice",
                          NITROFURANTOIN) is None
    # The claim keeps the denial, in words of its own.
    for kept in ("Pregnant women without measles immunity must not be given MMR",
                 "MMR is contraindicated in pregnant women without measles immunity",
                 "Nitrofurantoin should be avoided at term",
                 "Parenteral nutrition should be offered only if enteral nutrition has failed"):
        assert advises_denied(kept, MEASLES + " " + NITROFURANTOIN + " Do not offer "
                              "parenteral nutrition unless enteral nutrition has failed.") is None
    # A statement that advises nothing: why the passage denies it.
    assert advises_denied("At term, nitrofurantoin may cause neonatal haemolysis",
                          NITROFURANTOIN) is None


DEMENTIA = ("Offer the acetylcholinesterase inhibitors donepezil, galantamine or rivastigmine as "
            "options for managing mild to moderate Alzheimer's disease. Offer memantine to "
            "people with severe Alzheimer's disease. Do not offer acetylcholinesterase "
            "inhibitors or memantine to people with frontotemporal dementia.")


def test_advice_for_others_is_no_answer_for_whom_the_passage_denies_it():
    # The question names the denial's people; the claim advises a member of the denied class.
    frontotemporal = "A 62-year-old has frontotemporal dementia. Is donepezil an option?"
    assert denied_to_asked("Donepezil is an option for mild to moderate Alzheimer's disease",
                           DEMENTIA, frontotemporal) == (
        "not offer acetylcholinesterase inhibitors or memantine to people with frontotemporal "
        "dementia")
    # Asked about the people the advice is for, or with the denial's words apart, or where
    # the claim speaks of them itself (that is checked as said): no such answer.
    for question in ("She has mild Alzheimer's disease. Is donepezil an option?",
                     "Is dementia that is frontotemporal a reason to avoid donepezil?"):
        assert denied_to_asked("Donepezil is an option for mild to moderate Alzheimer's "
                               "disease", DEMENTIA, question) == ""
    assert denied_to_asked("Donepezil is an option in frontotemporal dementia", DEMENTIA,
                           frontotemporal) == ""
    # The question says they are not so; the passage makes an exception for some of them.
    assert denied_to_asked("Donepezil is an option for mild to moderate Alzheimer's disease",
                           DEMENTIA, "It is not frontotemporal dementia. Is donepezil an "
                           "option?") == ""
    assert denied_to_asked("Donepezil is an option for mild to moderate Alzheimer's disease",
                           DEMENTIA.replace("frontotemporal dementia.", "frontotemporal "
                                            "dementia unless a specialist advises it."),
                           frontotemporal) == ""
