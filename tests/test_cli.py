"""The real `meditron-rag` command in a subprocess, with the real embedded models."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest.store import Identity, SQLiteStore
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rabies.md").write_text(textwrap.dedent("""\
        ---
        title: "Rabies post-exposure prophylaxis (test digest)"
        organisation: "Test Organisation"
        date: "2024-05"
        ---
        # Rabies post-exposure prophylaxis

        ## Wound care
        Every bite or scratch from a possibly rabid animal should be washed at once with soap
        and water for about fifteen minutes.
        """))
    (folder / "malaria.md").write_text(textwrap.dedent("""\
        # Malaria prevention for travellers

        ## Bite avoidance
        Travellers to malaria areas should sleep under insecticide-treated bed nets.
        """))
    return folder


def test_ingest_then_ask_cites_the_document_that_holds_the_answer(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    done = run_cli("ingest", str(corpus))
    assert done.returncode == 0, done.stderr
    assert "2 ingested (2 new" in done.stderr

    again = run_cli("ingest", "--json", str(corpus))
    assert again.returncode == 0 and json.loads(again.stdout)["unchanged"] == 2

    asked = run_cli("ask", "How long should a bite from a possibly rabid animal be washed?")
    assert asked.returncode == 0, asked.stderr
    sources = asked.stdout.split("Sources:")[-1]
    assert "Rabies post-exposure prophylaxis (test digest)" in sources
    assert "Not for clinical use" in asked.stdout

    as_json = run_cli("ask", "--json", "How long should a bite be washed?")
    result = json.loads(as_json.stdout)
    assert result["passages"][0]["document_id"] == "rabies"
    assert result["passages"][0]["section"].endswith("Wound care")
    assert result["notice"].startswith("Not for clinical use")
    assert set(result["timings"]) >= {"retrieval_s", "total_s"}
    assert result["status"] == "extractive" and result["mode"] == "extractive"
    assert "fifteen minutes" in result["text"]
    assert all(s["verdict"] == "supported" for s in result["sentences"])

    found = run_cli("search", "--json", "bed nets for travellers")
    assert json.loads(found.stdout)[0]["document_id"] == "malaria"

    listed = run_cli("docs", "list", "--json")
    assert {d["id"] for d in json.loads(listed.stdout)} == {"rabies", "malaria"}
    removed = run_cli("docs", "remove", "malaria")
    assert removed.returncode == 0
    assert "malaria" not in run_cli("docs", "list").stdout


@pytest.mark.parametrize("question", ["", "   \n "])
def test_empty_question_is_one_line_and_exit_2(question):
    done = run_cli("ask", question)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "Error: The question is empty: type a question about the guidelines.")


def test_far_too_long_question(tmp_path):
    done = run_cli("ask", "why " * 1000)
    assert done.returncode == 2 and "limit is 2000" in done.stderr
    assert "Traceback" not in done.stderr


def test_empty_corpus_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run_cli("ingest", str(tmp_path / "empty"))
    assert done.returncode == 1
    assert "No documents found" in done.stderr and "Traceback" not in done.stderr


def test_a_file_too_large_to_ingest_in_minutes_is_refused_and_the_batch_goes_on(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    paragraph = "Rest, fluids and review in two days are advised for every adult case.\n\n"
    (corpus / "huge.txt").write_text(paragraph * (11 * 1024 * 1024 // len(paragraph)))
    done = run_cli("ingest", str(corpus), timeout=120)  # the file alone would take ~9 minutes
    assert done.returncode == 7, done.stderr
    assert "failed: " in done.stderr and "huge.txt: file too large (11.0 MB > 10.0 MB limit)" in (
        done.stderr)
    found = run_cli("search", "bite wash soap water", "--json")
    assert json.loads(found.stdout)[0]["document_id"] == "rabies"


def test_asking_an_empty_index(tmp_path):
    done = run_cli("ask", "Anything?")
    assert done.returncode == 5 and "index is empty" in done.stderr


def test_missing_and_corrupt_model_files(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    assert run_cli("ingest", "-q", str(corpus)).returncode == 0
    missing = run_cli("--model", str(tmp_path / "nope.gguf"), "ask", "Bites?")
    assert missing.returncode == 3 and "No llm model at" in missing.stderr
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00" * (2 << 20))
    # The extractive mode runs no model; the generative one must load it.
    broken = run_cli("--model", str(corrupt), "ask", "Bites?",
                     env={"MEDITRON_RAG_GENERATION_ANSWER_MODE": "generative"})
    assert broken.returncode == 3 and "could not load" in broken.stderr
    assert "Traceback" not in broken.stderr
    meditron = run_cli("--model", "meditron-7b", "ask", "Bites?")
    assert meditron.returncode == 3 and "models pull meditron-7b" in meditron.stderr


def test_bad_config_names_key_and_file(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("retrieval:\n  top_k: many\n")
    done = run_cli("--config", str(config), "docs", "list")
    assert done.returncode == 2
    assert "retrieval.top_k" in done.stderr and str(config) in done.stderr


def test_help_on_every_command():
    for args in (["--help"], ["ingest", "--help"], ["ask", "--help"], ["search", "--help"],
                 ["docs", "--help"], ["models", "--help"], ["ui", "--help"],
                 ["serve", "--help"], ["models", "serve", "--help"]):
        done = run_cli(*args)
        assert done.returncode == 0 and "Usage:" in done.stdout


def test_models_list_and_paths(isolated):
    listed = run_cli("models", "list")
    assert listed.returncode == 0
    assert "smollm2" in listed.stdout and "meditron-7b" in listed.stdout
    assert run_cli("path").stdout.strip() == str(isolated.resolve())


def test_a_population_the_passages_do_not_cover_is_said_plainly(starter_data):
    asked = run_cli("ask", "--json", "Should adults older than 85 be screened for colorectal "
                    "cancer?")
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert result["status"] == "not_covered" and not result["grounded"]
    assert "do not cover ages 86 and older" in result["text"]
    assert "76 to 85" in result["text"]  # and what they do cover, quoted
    assert not [s for s in result["sentences"] if s["verdict"] == "supported"]
    shown = run_cli("ask", "Should adults older than 85 be screened for colorectal cancer?")
    assert "Not for clinical use" in shown.stdout
    # The README shows this transcript; it must be what the command prints.
    readme = (ROOT / "README.md").read_text()
    block = readme.split('$ meditron-rag ask "Should adults older than 85')[1].split("```")[0]
    printed = " ".join(block.split("\n", 1)[1].split())
    assert printed in " ".join(shown.stdout.split())


def test_eval_claims_reports_precision_and_kinds(tmp_path):
    cases = Path(__file__).parent / "data" / "claims_cases.jsonl"
    done = run_cli("eval", "--claims", str(cases), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["cases"] == len(cases.read_text().splitlines())
    assert result["precision_supported"] >= 0.98 and result["recall_supported"] >= 0.9
    assert result["kinds"]["polarity"]["caught"] == 1.0
    plain = run_cli("eval", "--claims", str(cases))
    assert "precision of supported" in plain.stdout and "| polarity |" in plain.stdout


ZETA = """\
    # Zeta fever (test digest)

    ## Treatment
    Antibiotics are not indicated for zeta fever. Patients should rest for five days and
    drink plenty of fluids.
    """

WRONG_DRAFT = (
    "Patients should drink plenty of fluids [1]. Antibiotics are indicated for zeta fever [1]. "
    "Patients should rest for ten days [1]. How should zeta fever be treated? zeta.md [1]"
)


def test_a_draft_that_contradicts_its_source_is_set_apart(tmp_path, scripted_model):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "zeta.md").write_text(textwrap.dedent(ZETA))
    assert run_cli("ingest", "-q", str(tmp_path / "corpus")).returncode == 0
    env = {"MEDITRON_RAG_LLM_SERVER_URL": scripted_model(WRONG_DRAFT)}
    asked = run_cli("ask", "--json", "How should zeta fever be treated?", env=env)
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert result["mode"] == "generative" and result["status"] == "complete"
    assert [s["text"] for s in result["sentences"]] == [
        "Patients should drink plenty of fluids [1]."]
    assert result["text"] == "Patients should drink plenty of fluids [1]."
    verdicts = {s["text"]: (s["verdict"], s["reason"]) for s in result["rejected"]}
    verdict, reason = verdicts["Antibiotics are indicated for zeta fever [1]."]
    assert verdict == "contradicted" and "not indicated" in reason
    verdict, reason = verdicts["Patients should rest for ten days [1]."]
    assert verdict == "contradicted" and "five" in reason
    assert verdicts["How should zeta fever be treated?"][0] == "not_a_claim"
    assert verdicts["zeta.md [1]"][0] == "not_a_claim"

    shown = run_cli("ask", "How should zeta fever be treated?", env=env).stdout
    answer = shown.split("Answer, every sentence checked against its source:")[1]
    answer, apart = answer.split("Set apart from the model's answer:")
    assert "drink plenty of fluids" in answer and "Antibiotics" not in answer
    assert "CONTRADICTED  Antibiotics are indicated for zeta fever [1]." in apart
    assert "why: the passage says" in apart and "not a claim" in apart


def test_ask_mode_flag_chooses_quotes_or_the_model(tmp_path, scripted_model):
    corpus = write_corpus(tmp_path / "corpus")
    assert run_cli("ingest", "-q", str(corpus)).returncode == 0
    env = {"MEDITRON_RAG_LLM_SERVER_URL": scripted_model(
        "A bite should be washed with soap and water for about fifteen minutes [1].")}
    question = "How long should a bite be washed?"
    quoted = json.loads(run_cli("ask", "--json", "--mode", "extractive", question,
                                env=env).stdout)
    written = json.loads(run_cli("ask", "--json", question, env=env).stdout)
    assert quoted["mode"] == "extractive" and quoted["text"].startswith("“")
    assert written["mode"] == "generative" and written["status"] == "complete"
    assert written["sentences"][0]["verdict"] == "supported"


def test_a_bad_link_fails_by_its_own_name_and_the_batch_goes_on(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    (tmp_path / "loop-a.md").symlink_to(tmp_path / "loop-b.md")
    (tmp_path / "loop-b.md").symlink_to(tmp_path / "loop-a.md")
    (tmp_path / "dangling.md").symlink_to(tmp_path / "gone.md")
    (corpus / "inner-loop.md").symlink_to(corpus / "inner-loop.md")
    (corpus / "inner-dangling.md").symlink_to(corpus / "nowhere.md")
    done = run_cli("ingest", str(tmp_path / "loop-a.md"), str(tmp_path / "dangling.md"),
                   str(corpus))
    assert done.returncode == 7, done.stderr
    assert "Traceback" not in done.stderr and "2 ingested (2 new" in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("  failed: ")]
    assert sorted(line.split(": ")[1] for line in failed) == sorted(
        str(p) for p in (tmp_path / "loop-a.md", tmp_path / "dangling.md",
                         corpus / "inner-loop.md", corpus / "inner-dangling.md"))
    assert sum("symbolic link loop" in line for line in failed) == 2
    assert any("link to " in line and "gone.md, which does not exist" in line for line in failed)


def test_rebuild_waits_for_no_one_and_a_killed_rebuild_loses_nothing(tmp_path, isolated):
    corpus = write_corpus(tmp_path / "corpus")
    assert run_cli("ingest", str(corpus)).returncode == 0
    # A writer at work: the real store's lock, held as `ingest` holds it.
    store = SQLiteStore.open(isolated / "index", embedder=Identity("all-minilm-l6-v2", 384))
    with store.writing():
        locked = run_cli("ingest", "--rebuild", str(corpus))
    store.close()
    assert locked.returncode == 5 and "being written by process" in locked.stderr
    listed = run_cli("docs", "list", "--json")
    assert {d["id"] for d in json.loads(listed.stdout)} == {"rabies", "malaria"}

    # A rebuild killed once it has stored a file leaves the old index whole.
    (corpus / "extra.md").write_text("# Extra\n\nGnus graze at dawn.\n")
    killed = subprocess.Popen(
        [str(Path(sys.executable).with_name("meditron-rag")), "ingest", "--rebuild",
         str(corpus)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert killed.stderr is not None
    first = killed.stderr.readline()
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert first.startswith("[1/3]"), first
    listed = run_cli("docs", "list", "--json")
    assert {d["id"] for d in json.loads(listed.stdout)} == {"rabies", "malaria"}
    rebuilt = run_cli("ingest", "--rebuild", str(corpus))
    assert rebuilt.returncode == 0 and "3 ingested (3 new" in rebuilt.stderr
    assert not (isolated / "index.rebuild").exists() and not (isolated / "index.old").exists()


def test_a_question_that_is_not_utf8_is_read_with_replacement_characters(tmp_path):
    assert run_cli("ingest", str(write_corpus(tmp_path / "corpus"))).returncode == 0
    question = b"\xffbed nets".decode("utf-8", "surrogateescape")
    found = run_cli("search", "--json", question)
    assert found.returncode == 0, found.stderr
    assert "not UTF-8" in found.stderr and "Traceback" not in found.stderr
    assert json.loads(found.stdout)[0]["document_id"] == "malaria"


def test_bad_filters_are_refused_naming_the_flag(tmp_path):
    assert run_cli("ingest", str(write_corpus(tmp_path / "corpus"))).returncode == 0
    for flags, says in [
        (["--since", "notadate"], "--since: 'notadate' is not a date: use YYYY, YYYY-MM or"),
        (["--since", "2999"], "--since: 2999 is in the future"),
        (["--until", "2024-13-45"], "--until: '2024-13-45' is not a date"),
        (["--since", "2024", "--until", "2020"], "2024 is after --until 2020"),
        (["--doc", "rabiess"], "no document 'rabiess' in the index; the ids are: malaria, rabies"),
    ]:
        command = "ask" if flags[0] == "--doc" else "search"
        done = run_cli(command, *flags, "How long should a bite be washed?")
        assert done.returncode == 2, (flags, done.stderr)
        assert says in done.stderr and "Traceback" not in done.stderr, done.stderr
