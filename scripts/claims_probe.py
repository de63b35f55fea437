"""Claims of kinds the labelled files lack, written over the shared development passages.

The development cases (../shared/data/claims/claims_dev.jsonl) change a sentence in a few set
ways: a negation, a number, a population. A model can be wrong in other ways, so this builds
cases of other kinds on the passages of its verbatim cases: a route, a rank, a frequency, a
quantifier, an antonym, the two sides of a preference traded, a limit ("if problems persist",
"who have a risk condition") left out, ages taken out of their places, a dose from another
row of a table, and faithful paraphrases beside them. Each case names the verbatim case
whose passage it rests on; those passages are read from ../shared at run time, never copied
here. A second set rests on passages of the starter corpus, written out below. Then
measure it as any claims file:

    python -m scripts.claims_probe /tmp/claims_probe.jsonl
    python -m bench eval --claims /tmp/claims_probe.jsonl --out docs
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "claims" / "claims_dev.jsonl"
S, C, U = "supported", "contradicted", "unsupported"
# (words of the verbatim case whose passage a claim rests on, kind, expected, the claim)
CASES: list[tuple[str, str, str, str]] = [
    ("intramuscular (IM) adrenaline is the first-line", "route", C,
     "Intravenous adrenaline is the first-line treatment [1]."),
    ("intramuscular (IM) adrenaline is the first-line", "number", C,
     "IM adrenaline should be repeated after 15 minutes if problems persist [1]."),
    ("intramuscular (IM) adrenaline is the first-line", "rank", C,
     "Intramuscular adrenaline is the second-line treatment [1]."),
    ("intramuscular (IM) adrenaline is the first-line", "condition", C,
     "IM adrenaline should be repeated after 5 minutes even if problems resolve [1]."),
    ("intramuscular (IM) adrenaline is the first-line", "limit-left-out", U,
     "IM adrenaline should be repeated after 5 minutes [1]."),
    ("intramuscular (IM) adrenaline is the first-line", "paraphrase", S,
     "Intramuscular adrenaline is first-line and is repeated after five minutes if problems "
     "persist [1]."),
    ("prospective surveillance is recommended rather than retrospective", "role-swap", C,
     "Retrospective surveillance is recommended rather than prospective [1]."),
    ("prospective surveillance is recommended rather than retrospective", "role-swap", C,
     "Retrospective rather than prospective surveillance is recommended [1]."),
    ("prospective surveillance is recommended rather than retrospective", "antonym", C,
     "Prospective surveillance is discouraged [1]."),
    ("prospective surveillance is recommended rather than retrospective", "paraphrase", S,
     "Prospective rather than retrospective surveillance is recommended [1]."),
    ("Feedback should be provided to all audited persons", "quantifier", C,
     "Feedback should be provided to none of the audited persons [1]."),
    ("Feedback should be provided to all audited persons", "antonym", C,
     "Feedback should be withheld from audited persons [1]."),
    ("Feedback should be provided to all audited persons", "quantifier", C,
     "Feedback should be provided only to managers [1]."),
    ("Feedback should be provided to all audited persons", "paraphrase", S,
     "All audited persons and relevant staff should receive feedback [1]."),
    ("one patient per bed", "number", C,
     "WHO considers the standard for bed occupancy to be two patients per bed [1]."),
    ("one patient per bed", "modality", C,
     "WHO considers that the standard of one patient per bed may be exceeded [1]."),
    ("one patient per bed", "polarity", C,
     "WHO considers that the standard of one patient per bed should be exceeded [1]."),
    ("one patient per bed", "invented", U,
     "WHO considers the standard for nurse staffing to be one nurse per four patients [1]."),
    ("cetirizine is preferred to chlorphenamine", "role-swap", C,
     "Once the patient is stable, chlorphenamine is preferred to cetirizine [1]."),
    ("cetirizine is preferred to chlorphenamine", "role-swap", C,
     "Chlorphenamine is preferred over cetirizine once the patient is stable [1]."),
    ("cetirizine is preferred to chlorphenamine", "non-dropped", C,
     "Once the patient is stable, a sedating antihistamine is preferred [1]."),
    ("cetirizine is preferred to chlorphenamine", "route", C,
     "Once the patient is stable, a non-sedating intravenous antihistamine such as cetirizine "
     "is preferred [1]."),
    ("cetirizine is preferred to chlorphenamine", "paraphrase", S,
     "Cetirizine, a non-sedating oral antihistamine, is preferred over chlorphenamine once the "
     "patient is stable [1]."),
    ("must not be used for Airway, Breathing or Circulation", "polarity", C,
     "They should be used for Airway, Breathing or Circulation problems during emergency "
     "treatment [1]."),
    ("Anyone who asks for an HBV test should get one", "condition", C,
     "Anyone who asks for an HBV test should get one only if they disclose a risk factor [1]."),
    ("Anyone who asks for an HBV test should get one", "paraphrase", S,
     "A person who requests an HBV test should be tested even without disclosing a risk "
     "factor [1]."),
    ("every adult should be tested at least once in their lifetime", "frequency", C,
     "Every adult should be tested at least once a year [1]."),
    ("every adult should be tested at least once in their lifetime", "quantifier", C,
     "Only adults with risk factors should be tested [1]."),
    ("every adult should be tested at least once in their lifetime", "comparative", C,
     "Every adult should be tested at most once in their lifetime [1]."),
    ("low-dose computed tomography (LDCT) every year", "frequency", C,
     "The USPSTF recommends screening for lung cancer with LDCT every three years in eligible "
     "adults [1]."),
    ("low-dose computed tomography (LDCT) every year", "comparative", C,
     "Adults need a smoking history of at most 20 pack-years to qualify for LDCT "
     "screening [1]."),
    ("low-dose computed tomography (LDCT) every year", "test", C,
     "The USPSTF recommends screening for lung cancer with chest radiography every year [1]."),
    ("low-dose computed tomography (LDCT) every year", "population", C,
     "The USPSTF recommends yearly LDCT screening for lung cancer in adults aged 50 to 80 years "
     "who have never smoked [1]."),
    ("low-dose computed tomography (LDCT) every year", "limit-left-out", U,
     "Yearly low-dose CT screening for lung cancer is recommended for adults aged 50 to 80 "
     "years with at least 20 pack-years [1]."),
    ("Use of ABHR as the primary mode of hand hygiene", "antonym", C,
     "Use of ABHR as the primary mode of hand hygiene in healthcare settings is discouraged by "
     "the CDC and WHO [1]."),
    ("Use of ABHR as the primary mode of hand hygiene", "other-agency", C,
     "Use of ABHR as the primary mode of hand hygiene is recommended by the FDA [1]."),
    ("Use of ABHR as the primary mode of hand hygiene", "role-swap", C,
     "Soap and water rather than ABHR is recommended as the primary mode of hand hygiene in "
     "healthcare settings [1]."),
    ("Everyone with elevated BP or hypertension should receive lifestyle", "non-dropped", C,
     "Everyone with elevated BP or hypertension should receive drug therapy [1]."),
    ("Everyone with elevated BP or hypertension should receive lifestyle", "quantifier", C,
     "Only some people with hypertension should receive lifestyle therapy [1]."),
    ("Everyone with elevated BP or hypertension should receive lifestyle", "polarity", C,
     "People with elevated BP or hypertension need no lifestyle therapy [1]."),
    ("Everyone with elevated BP or hypertension should receive lifestyle", "paraphrase", S,
     "Lifestyle (non-drug) therapy should be given to everyone with elevated BP or "
     "hypertension [1]."),
    ("The recommendation does not extend to cisgender women", "polarity", C,
     "The recommendation extends to cisgender women and transgender men [1]."),
    ("The recommendation does not extend to cisgender women", "only", C,
     "The recommendation extends only to cisgender women [1]."),
    ("The recommendation does not extend to cisgender women", "paraphrase", S,
     "Cisgender women are not covered by the recommendation, because trial evidence of benefit "
     "is lacking [1]."),
    ("CDC based the recommendation on three large randomised", "evidence", C,
     "CDC based the recommendation on observational studies among MSM and TGW [1]."),
    ("CDC based the recommendation on three large randomised", "word-number", C,
     "CDC based the recommendation on two large randomised controlled trials among MSM and "
     "TGW [1]."),
    ("should be removed and discarded (or reprocessed if reusable) after leaving", "temporal", C,
     "If a respirator is used, it should be removed and discarded before leaving the patient "
     "room [1]."),
    ("should be removed and discarded (or reprocessed if reusable) after leaving", "antonym", C,
     "A respirator should be kept on after leaving the patient room [1]."),
    ("should be removed and discarded (or reprocessed if reusable) after leaving", "paraphrase",
     S, "A respirator should be removed and discarded, or reprocessed if reusable, after "
        "leaving the patient room and closing the door [1]."),
    ("One dose of PCV is recommended for adults in this age range", "polarity", C,
     "PCV is not recommended for adults in this age range who have a risk condition [1]."),
    ("One dose of PCV is recommended for adults in this age range", "population", C,
     "One dose of PCV is recommended for adults in this age range who have no risk condition "
     "for pneumococcal disease [1]."),
    ("retested periodically while the risk continues", "frequency", C,
     "Susceptible people with ongoing risk of exposure should be tested only once [1]."),
    ("retested periodically while the risk continues", "limit-left-out", U,
     "People who are susceptible should be retested periodically [1]."),
    ("adults who have already received an RSV vaccine", "polarity", C,
     "Adults who received an RSV vaccine in the 2023-2024 season should receive another "
     "dose [1]."),
    ("adults who have already received an RSV vaccine", "number", C,
     "It is a two-dose series [1]."),
    ("adults who have already received an RSV vaccine", "paraphrase", S,
     "Adults already vaccinated against RSV, including in the 2023–2024 season, should not get "
     "another dose [1]."),
    ("only 52% of documents address the need", "number", C,
     "Only 25% of documents address the need for standardized definitions [1]."),
    ("only 52% of documents address the need", "comparative", C,
     "More than 90% of documents address the need for standardized definitions [1]."),
    ("reuse of syringes on more than one patient", "polarity", C,
     "Reuse of lancets has never caused bloodborne pathogen transmission in outpatient "
     "settings [1]."),
    ("reducing HAIs and AMR", "antonym", C,
     "Evidence-based practice guidelines should be developed for the purpose of increasing "
     "HAIs and AMR [1]."),
    ("should be trained to achieve an expert level", "antonym", C,
     "This group of professionals should be trained to achieve a basic level of knowledge "
     "covering all areas relevant to IPC [1]."),
    ("WHO considers the standard for bed occupancy", "exception", C,
     "WHO considers that one patient per bed should not be exceeded, except in "
     "emergencies [1]."),
    ("Therefore, prospective surveillance is recommended", "unless", C,
     "Prospective surveillance is not recommended unless retrospective surveillance "
     "fails [1]."),
]


# Passages of the starter corpus (corpora/starter), with claims on them.
_RSV = ("All adults aged 75 years or older, and adults aged 60 to 74 years who are at increased "
        "risk of severe RSV disease, should receive a single dose of RSV vaccine.")
_DOSES = ("| Age | Dose | Volume of 1 mg/mL |\n|---|---|---|\n"
          "| Adults and children over 12 years | 500 micrograms | 0.5 mL |\n"
          "| Children 6 to 12 years | 300 micrograms | 0.3 mL |\n"
          "| Children 6 months to 6 years | 150 micrograms | 0.15 mL |")
_REFRACTORY = ("- Start a low-dose IV adrenaline infusion, which should be given by experienced "
               "staff with monitoring.\n- Keep giving IM adrenaline every 5 minutes until the "
               "infusion is running.")
_BREAST_2016 = ("It recommended a screening mammogram every two years for women aged 50 to 74, "
                "and left the decision to begin screening between 40 and 49 to the individual "
                "woman.")
_GINA = ("For safety, GINA no longer recommends treating adults and adolescents (12 years and "
         "older) with a short-acting beta2-agonist (SABA) alone. Every adult and adolescent "
         "with asthma should instead receive an inhaled corticosteroid (ICS)-containing "
         "treatment. In mild asthma this can be symptom-driven; otherwise it is taken daily.")
_HANDS = ("- Wash with soap and water when the hands are visibly dirty or soiled with blood or "
          "other body fluids (IB), and after using the toilet (II).\n- If handrub is not "
          "available, wash with soap and water (IB).\n- Do not use soap and alcohol-based "
          "handrub at the same time (II).")
_COLORECTAL = ("Screening should be offered selectively. The net benefit is small, so the "
               "decision depends on the person's overall health, their past screening history "
               "and their preferences. People who have never been screened are the most likely "
               "to benefit.")
_CERVICAL = ("The new element compared with 2012 was primary high-risk HPV (hrHPV) testing on "
             "its own, every 5 years, as an option from age 30.")
_UNDER_21 = ("Do not screen (grade D). Cervical cancer is rare at this age, and most HPV "
             "infections and cell changes clear on their own, so screening mainly causes "
             "overtreatment.")
_OSTEOPOROSIS = ("Screen those whose risk of an osteoporotic fracture is raised, judged by a "
                 "clinical risk assessment (the USPSTF describes this group as women with one "
                 "or more risk factors for osteoporosis). Grade B.")
_LUNG_STOP = ("Stop screening when either of these applies:\n\n- the person has not smoked "
              "for 15 years;\n- the person develops a health problem that substantially limits "
              "life expectancy, or that limits their ability or willingness to have curative "
              "lung surgery.")
_BP_TARGET = ("Target a systolic BP of 120 to 129 mmHg in most adults receiving BP-lowering "
              "treatment, provided it is well tolerated (class I, level A).")
_DOXY = "- 200 mg of doxycycline, taken once, within 72 hours after oral, vaginal or anal sex."
_DOXY_TRIALS = ("In them, 200 mg of doxycycline taken within 72 hours after sex reduced "
                "syphilis and chlamydia infections by more than 70% and gonococcal infections "
                "by about half. Tetracycline resistance is already common in gonococci, which "
                "helps explain why protection against gonorrhoea was weaker.")
_BREAST_2024 = ("Women at average risk should have a screening mammogram every two years "
                "(biennially) from age 40 up to and including age 74. This replaces the 2016 "
                "recommendation, under which routine biennial screening began at 50 and "
                "screening in the forties was left to an individual decision. For women aged 75 "
                "or older, and for additional imaging in women with dense breasts, the Task "
                "Force still found the evidence insufficient to recommend for or against.")
_PANEL = ("Universal screening uses three blood tests together:\n\n1. HBsAg (hepatitis B "
          "surface antigen), which shows current infection;\n2. anti-HBs (antibody to surface "
          "antigen), which shows immunity;\n3. total anti-HBc (antibody to core antigen), which "
          "shows past or current infection.\n\nA single blood draw with all three tests sorts "
          "people into those who are infected, those who are immune, and those who are "
          "susceptible and should be vaccinated.")
STARTER: list[tuple[str, str, str, str]] = [
    (_RSV, "scope-widened", C,
     "All adults aged 60 years or older should receive a single dose of RSV vaccine [1]."),
    (_RSV, "limit-left-out", U,
     "Adults aged 60 to 74 years should receive a single dose of RSV vaccine [1]."),
    (_RSV, "paraphrase", S,
     "Adults 60 to 74 at increased risk of severe RSV disease should receive one dose of RSV "
     "vaccine [1]."),
    (_RSV, "number", C,
     "All adults aged 65 years or older should receive a single dose of RSV vaccine [1]."),
    (_DOSES, "number", C, "For children 6 to 12 years the dose is 500 micrograms [1]."),
    (_DOSES, "number", C, "For adults the dose is 300 micrograms [1]."),
    (_DOSES, "paraphrase", S, "Children aged 6 to 12 years get 300 micrograms (0.3 mL) [1]."),
    (_REFRACTORY, "antonym", C,
     "Stop giving IM adrenaline once the low-dose IV infusion is started [1]."),
    (_REFRACTORY, "temporal", C,
     "Keep giving IM adrenaline every 5 minutes after the infusion is running [1]."),
    (_REFRACTORY, "polarity", C,
     "The IV adrenaline infusion can be given by anyone without monitoring [1]."),
    (_BREAST_2016, "scope-widened", C,
     "It recommended a screening mammogram every two years for women aged 40 to 74 [1]."),
    (_BREAST_2016, "modality", C,
     "It recommended that women aged 40 to 49 begin screening [1]."),
    (_GINA, "polarity", C,
     "GINA recommends treating adults and adolescents with SABA alone [1]."),
    (_GINA, "condition", C, "In mild asthma, ICS-containing treatment is taken daily [1]."),
    (_GINA, "paraphrase", S,
     "GINA no longer recommends SABA alone for adults and adolescents aged 12 and older [1]."),
    (_HANDS, "role-swap", C, "If soap and water are not available, use handrub [1]."),
    (_HANDS, "polarity", C, "Use soap and alcohol-based handrub at the same time [1]."),
    (_HANDS, "limit-left-out", U, "Wash with soap and water [1]."),
    (_HANDS, "paraphrase", S,
     "When hands are visibly soiled with blood or body fluids, wash them with soap and "
     "water [1]."),
    (_COLORECTAL, "modality", C,
     "Screening should be offered routinely to adults aged 76 to 85 [1]."),
    (_COLORECTAL, "antonym", C,
     "People who have never been screened are the least likely to benefit [1]."),
    (_COLORECTAL, "antonym", C, "The net benefit is large [1]."),
    (_COLORECTAL, "paraphrase", S,
     "Screening is offered selectively, depending on overall health, past screening and "
     "preferences [1]."),
    (_CERVICAL, "modality", C,
     "From age 30, hrHPV testing on its own every 5 years is required [1]."),
    (_CERVICAL, "number", C,
     "hrHPV testing on its own every 3 years is an option from age 30 [1]."),
    (_UNDER_21, "antonym", C, "Cervical cancer is common at this age [1]."),
    (_OSTEOPOROSIS, "population", C,
     "Screen men whose risk of an osteoporotic fracture is raised [1]."),
    (_OSTEOPOROSIS, "paraphrase", S,
     "Women whose risk of an osteoporotic fracture is raised, judged by a clinical risk "
     "assessment, should be screened [1]."),
    (_LUNG_STOP, "antonym", C,
     "Continue screening when the person has not smoked for 15 years [1]."),
    (_LUNG_STOP, "number", C, "Stop screening when the person has not smoked for 5 years [1]."),
    (_LUNG_STOP, "polarity", C, "Stop screening when the person has smoked for 15 years [1]."),
    (_BP_TARGET, "comparative", C, "Target a systolic BP below 120 mmHg in most treated "
                                   "adults [1]."),
    (_BP_TARGET, "quantifier", C,
     "Target a systolic BP of 120 to 129 mmHg in all adults receiving BP-lowering "
     "treatment [1]."),
    (_BP_TARGET, "paraphrase", S,
     "In most treated adults the systolic target is 120 to 129 mmHg, if well tolerated [1]."),
    (_DOXY, "temporal", C, "Take 200 mg of doxycycline once, within 72 hours before sex [1]."),
    (_DOXY, "number", C, "Take 100 mg of doxycycline twice a day after sex [1]."),
    (_DOXY_TRIALS, "antonym", C, "Tetracycline resistance is rare in gonococci [1]."),
    (_DOXY_TRIALS, "comparative", C,
     "Protection against gonorrhoea was stronger than against syphilis [1]."),
    (_DOXY_TRIALS, "number", C,
     "Doxy PEP reduced syphilis and chlamydia infections by about half [1]."),
    (_BREAST_2024, "two-facts-one-wrong", C,
     "Women at average risk should have a mammogram every two years from age 40 to 74, and "
     "every year from age 75 [1]."),
    (_BREAST_2024, "number", C,
     "The 2024 recommendation replaces the 2016 one, under which routine biennial screening "
     "began at 40 [1]."),
    (_BREAST_2024, "invented-recommendation", C,
     "For women aged 75 or older, the Task Force recommends against screening [1]."),
    (_BREAST_2024, "invented-recommendation", C,
     "For women with dense breasts, the Task Force recommends additional imaging [1]."),
    (_BREAST_2024, "paraphrase", S,
     "The USPSTF recommends a screening mammogram every two years for women at average risk "
     "aged 40 to 74 [1]."),
    (_PANEL, "number", C, "Universal screening uses two blood tests together [1]."),
    (_PANEL, "role-swap", C, "Anti-HBs shows current infection, and HBsAg shows immunity [1]."),
    (_PANEL, "role-swap", C, "Those who are immune should be vaccinated [1]."),
    (_PANEL, "paraphrase", S,
     "One blood draw with all three tests shows who is infected, who is immune and who is "
     "susceptible and should be vaccinated [1]."),
    (_DOSES, "two-facts-one-wrong", C,
     "Give 500 micrograms to adults and 300 micrograms to children over 12 years [1]."),
    (_DOSES, "paraphrase", S,
     "Adults and children over 12 get 500 micrograms; children aged 6 to 12 get 300 "
     "micrograms [1]."),
    (_DOSES, "number", C, "Children 6 months to 6 years get 0.3 mL [1]."),
]


def build(dev: Path) -> list[dict]:
    """The cases, each on the passages (and question) of the first verbatim case of `dev`
    whose sentence or passage holds its words."""
    verbatim = [case for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()
                if (case := json.loads(line))["kind"] == "verbatim"]
    out = []
    for n, (words, kind, expected, answer) in enumerate(CASES):
        base = next((c for c in verbatim if words.lower() in " ".join(
            [c["answer"], *(p["text"] for p in c["passages"])]).lower()), None)
        if base is None:
            raise SystemExit(f"No verbatim case of {dev} holds {words!r}.")
        out.append({"id": f"probe-{n:03d}-{kind}", "kind": kind, "expected": expected,
                    "question": base["question"], "answer": answer, "rests_on": base["id"],
                    "passages": base["passages"]})
    for n, (text, kind, expected, answer) in enumerate(STARTER, start=len(out)):
        out.append({"id": f"probe-{n:03d}-{kind}", "kind": kind, "expected": expected,
                    "question": "", "answer": answer, "passages": [
                        {"number": 1, "title": "", "section": "", "text": text}]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="the claims file to write (JSON lines)")
    parser.add_argument("--dev", type=Path, default=DEV, help="the development cases")
    args = parser.parse_args()
    if not args.dev.exists():
        raise SystemExit(f"{args.dev} is missing: the probe rests on ../shared's passages.")
    cases = build(args.dev)
    args.out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases),
                        encoding="utf-8")
    print(f"Wrote {len(cases)} cases to {args.out}.")


if __name__ == "__main__":
    main()
