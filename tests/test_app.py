"""The Streamlit app through streamlit.testing, with the real embedded models and a real index.

The tests of this module share one small index (so the one Engine the app caches is loaded
once); each leaves the starter documents the others use in place.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from meditron_rag import NOT_FOR_CLINICAL_USE
from meditron_rag.config import Config, IngestConfig, UIConfig
from ui.app_common import app_args, matching_spans, passage_html
from ui.uploads import check_upload, display_name, limits_text, safe_name, upload_path

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "corpora" / "starter"
SMALL = [
    "uspstf-colorectal-cancer-screening-2021.md",
    "uspstf-cervical-cancer-screening-2018.md",
    "who-hand-hygiene-2009.pdf",
]
UPLOAD = b"""---
title: "Zebra Fever Management"
organisation: "Test Society"
date: "2026-01"
---

# Zebra fever

## Treatment

Adults with zebra fever should receive striped quinine every 8 hours for 7 days.
<script>alert("owned")</script> Children need no treatment for zebra fever.
"""


# --- pure helpers ----------------------------------------------------------------------------

def test_safe_name_keeps_uploads_inside_their_folder() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\Guide line (v2).PDF") == "Guide-line-v2.pdf"
    assert safe_name(".hidden.md") == "hidden.md"
    assert safe_name("<script>.md") == "script.md"
    assert safe_name("...") == "document"


def test_safe_name_keeps_every_script_and_upload_path_keeps_uploads_apart() -> None:
    assert [safe_name(n) for n in ("指南.md", "руководство.md", "دليل.md")] == [
        "指南.md", "руководство.md", "دليل.md"]
    assert len(safe_name("指" * 200 + ".md").encode()) <= 103
    folder = Path("/u")
    assert safe_name("a b.md") == safe_name("a-b.md")
    assert upload_path(folder, "a b.md", b"one") != upload_path(folder, "a-b.md", b"two")
    assert upload_path(folder, "a.md", b"one") != upload_path(folder, "a.md", b"new version")
    assert upload_path(folder, "a.md", b"one") == upload_path(folder, "a.md", b"one")
    assert upload_path(folder, "a.md", b"one").name == "a.md"


def test_check_upload_type_size_and_content() -> None:
    config = Config()
    assert check_upload("a.md", 10, b"# hi", config) == ""
    assert "not supported" in check_upload("a.exe", 10, b"MZ", config)
    assert "not a PDF" in check_upload("a.pdf", 10, b"hello", config)
    assert "binary" in check_upload("a.txt", 10, b"\x00\x01", config)
    assert "empty" in check_upload("a.txt", 0, b"", config)
    assert "control character" in check_upload("a\x00.md", 10, b"# hi", config)
    assert "control character" in check_upload("a\nb.md", 10, b"# hi", config)
    assert "5003 characters long" in check_upload("x" * 5000 + ".md", 10, b"# hi", config)


def test_uploads_follow_ingests_limits_under_max_upload_mb(scan_sized_pdf: bytes) -> None:
    """A PDF is held to ingest.max_pdf_mb and any other file to ingest.max_file_mb, as ingest
    holds them, and both to ui.max_upload_mb; a refusal names the setting to raise."""
    pdf, size = scan_sized_pdf[:4096], len(scan_sized_pdf)
    mb = f"{size / 2**20:.1f} MB"
    assert size > Config().ingest.max_file_bytes
    assert check_upload("okapi-scan.pdf", size, pdf, Config()) == ""
    assert check_upload("notes.md", 12 * 2**20, b"# Notes", Config()) == (
        "file too large (12.0 MB > 10.0 MB limit): split it or raise the limit "
        "(ingest.max_file_mb)")
    capped = Config(ui=UIConfig(max_upload_mb=11))
    assert check_upload("okapi-scan.pdf", size, pdf, capped) == (
        f"file too large ({mb} > 11.0 MB limit): split it or raise the limit "
        "(ui.max_upload_mb)")
    small_pdfs = Config(ingest=IngestConfig(max_pdf_mb=11))
    assert check_upload("okapi-scan.pdf", size, pdf, small_pdfs).endswith("(ingest.max_pdf_mb)")
    assert limits_text(Config()) == "PDF up to 200 MB, HTML, Markdown or text up to 10 MB each"
    assert limits_text(Config(ui=UIConfig(max_upload_mb=5))) == (
        "PDF up to 5 MB, HTML, Markdown or text up to 5 MB each")


def test_display_name_is_one_short_line() -> None:
    assert display_name("two\nlines\x00.md") == "two lines .md"
    long = display_name("x" * 5000 + ".md")
    assert len(long) == 80 and long.endswith("x.md") and "…" in long


def test_passage_html_escapes_before_highlighting() -> None:
    text = 'Give <script>alert("x")</script> now. Screen every 3 years & more.'
    spans = matching_spans(text, ["Screening every 3 years is advised."])
    out = passage_html(text, spans)
    assert "<script>" not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert "<mark>Screen every 3 years &amp; more.</mark>" in out


def test_app_args_only_under_streamlit_run() -> None:
    assert app_args(["pytest", "--config", "x"])["config"] is None
    args = app_args(["/p/ui/app.py", "--data-dir", "/d", "--model", "m", "--other"])
    assert args == {"data_dir": "/d", "config": None, "model": "m", "api": None}


# --- the app -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """Three starter guidelines (two Markdown, one PDF) in a data directory of this module."""
    from ingest import ingest
    from ingest.store import SQLiteStore

    data = tmp_path_factory.mktemp("app") / "data"
    store = SQLiteStore.open(data / "index", embedder=embedder)
    with store.writing():
        report = ingest([STARTER / name for name in SMALL], store, embedder, 200, 32)
    store.close()
    assert report.count("failed") == 0
    return data


@pytest.fixture
def at(app_data: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MEDITRON_RAG_DATA_DIR", str(app_data))
    app = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120)
    app.session_state["set_max_tokens"] = 32  # short answers keep the tests quick
    app.session_state["set_top_k"] = 3
    return app.run()


def as_read(markdown: str) -> str:
    """What a reader sees of Markdown whose punctuation the app escaped (`ui.app_common.plain`)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_ask_shows_answer_sources_and_notice(at: AppTest) -> None:
    assert not at.exception
    sidebar = " ".join(w.value for w in at.sidebar.warning)
    assert NOT_FOR_CLINICAL_USE in sidebar
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "smollm2" in " ".join(m.value for m in at.sidebar.markdown)
    assert "cutoff: unknown" in captions
    assert "Newest document in the index: 2021-05" in as_read(captions)

    ask(at, "How long should an alcohol-based handrub take?")
    labels = [e.label for e in at.expander]
    assert any("Hand Hygiene" in label and "p. " in as_read(label) for label in labels), labels
    assert any(b.label.startswith("Open PDF (p. ") for b in at.get("download_button")), labels
    assert any(t.label == "Show on the page" for t in at.toggle), labels
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert any(re.match(r"Page \d+ of who-hand-hygiene-2009\.pdf: the sentence the answer "
                        r"rests on is highlighted", c) for c in captions), captions
    assert at.chat_message[0].name == "user"
    history = at.session_state["history"]
    assert history[-1].passages and history[-1].question.startswith("How long")


@pytest.mark.slow
def test_upload_then_ask_about_it_escaped(at: AppTest, app_data: Path) -> None:
    uploader = at.file_uploader(key="upload-0")
    uploader.set_value([("../Zebra fever (v1).md", UPLOAD, "text/markdown"),
                        ("fake.pdf", b"not really a pdf", "application/pdf")])
    at.run()
    button(at, "Add to the library").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [saved] = (app_data / "uploads").glob("*/Zebra-fever-v1.md")
    assert saved.read_bytes() == UPLOAD
    assert any("fake.pdf: the file is named .pdf but is not a PDF" in as_read(e.value)
               for e in at.error)
    assert any("1 ingested" in m.value for m in at.warning)
    assert "Zebra Fever Management (zebra-fever-v1)" in at.selectbox(key="lib_doc").options

    ask(at, "How often should adults with zebra fever receive striped quinine?")
    answer = at.session_state["history"][-1]
    assert answer.passages[0].title == "Zebra Fever Management"
    shown = [m.value for m in at.markdown if "zebra fever" in m.value.lower()]
    assert any("&lt;script&gt;" in v or "\\<script\\>" in v for v in shown), shown
    assert not any("<script>" in v for v in shown), shown


def add(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    """Upload `files` through "Add documents" and press "Add to the library"."""
    key = f"upload-{at.session_state['upload_round']}"
    at.file_uploader(key=key).set_value([(n, d, "text/markdown") for n, d in files]).run()
    button(at, "Add to the library").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_a_scan_sized_pdf_is_added_and_a_large_text_file_refused(
        at: AppTest, app_data: Path, scan_sized_pdf: bytes) -> None:
    assert at.file_uploader(key="upload-0").help == (
        "PDF up to 200 MB, HTML, Markdown or text up to 10 MB each.")
    add(at, [("okapi-scan.pdf", scan_sized_pdf), ("notes.md", b"# Notes\n" * (12 * 2**17))])
    [saved] = (app_data / "uploads").glob("*/okapi-scan.pdf")
    assert saved.read_bytes() == scan_sized_pdf
    assert not list((app_data / "uploads").glob("*/notes.md"))
    assert any("1 ingested" in w.value for w in at.warning)
    assert [as_read(e.value) for e in at.error] == [
        "notes.md: file too large (12.0 MB > 10.0 MB limit): split it or raise the limit "
        "(ingest.max_file_mb)"]
    assert any(o.endswith("(okapi-scan)") for o in at.selectbox(key="lib_doc").options)


@pytest.mark.slow
def test_uploads_whose_names_sanitise_alike_are_all_kept(at: AppTest, app_data: Path) -> None:
    names = ["指南.md", "руководство.md", "دليل.md", "a b.md", "a-b.md"]
    for n, name in enumerate(names):
        add(at, [(name, f"# Gnu care {n}\n\nGive gnu {n} hay every {n + 2} hours.".encode())])
        assert any("1 ingested (1 new, 0 replaced)" in s.value for s in at.success), name
    options = at.selectbox(key="lib_doc").options
    for n in range(len(names)):
        assert sum(f"Gnu care {n} (" in o for o in options) == 1, options
    kept = {p.name for p in (app_data / "uploads").glob("*/*.md")}
    assert {"指南.md", "руководство.md", "دليل.md", "a-b.md"} <= kept


@pytest.mark.slow
def test_upload_names_with_a_nul_a_newline_or_5000_characters_are_refused_plainly(
        at: AppTest) -> None:
    add(at, [("a\x00b.md", b"# hi"), ("two\nlines.md", b"# hi"),
             ("x" * 5000 + ".md", b"# hi"),
             ("ok ![x](http://evil.test/x.png).md", b"# Ok\n\nGnus eat hay.")])
    errors = [as_read(e.value) for e in at.error]
    assert len(errors) == 3, errors
    assert all("\n" not in e and "\x00" not in e for e in errors)
    assert sum("control character" in e for e in errors) == 2
    assert any("5003 characters long" in e and len(e) < 300 for e in errors)
    assert any("1 ingested" in w.value for w in at.warning)


@pytest.mark.slow
def test_remove_a_document(at: AppTest) -> None:
    doc = "uspstf-cervical-cancer-screening-2018"
    at.selectbox(key="lib_doc").set_value(doc).run()
    button(at, f"Remove {doc}").click().run()
    assert not at.exception
    assert any(f"Removed {doc}." in s.value for s in at.success)
    assert not any(doc in option for option in at.selectbox(key="lib_doc").options)
    ask(at, "At what age should cervical cancer screening start?")
    assert all(p.document_id != doc for p in at.session_state["history"][-1].passages)


@pytest.mark.slow
def test_one_study_round(at: AppTest) -> None:
    at.multiselect(key="study_docs").set_value(["uspstf-colorectal-cancer-screening-2021"]).run()
    at.slider(key="study_n").set_value(2).run()
    button(at, "New round").click().run()
    cards = at.session_state["study"]["cards"]
    assert len(cards) == 2
    radio = next(r for r in at.radio if r.label == "Your answer")
    assert cards[0].answer in radio.options
    radio.set_value(cards[0].answer).run()
    button(at, "Check").click().run()
    assert any(s.value == f"Correct: {cards[0].answer}" for s in at.success)
    assert any("<mark>" in m.value for m in at.markdown)  # the passage, answer marked
    assert any("Score this session: 1/1" in h.value for h in at.subheader)
    labels = [b.label for b in at.get("download_button")]
    assert "Export as Markdown" in labels and "Export for Anki (CSV)" in labels


QUOKKA = """---
title: "Quokka Bite Care, version {v}"
organisation: "Test Society"
date: "2026-0{v}"
---
# Wound care
After a quokka bite, irrigate the wound for {minutes} minutes with clean water.
"""


@pytest.mark.slow
def test_replace_a_document_with_a_new_version(at: AppTest) -> None:
    at.file_uploader(key="upload-0").set_value(
        [("quokka.md", QUOKKA.format(v=1, minutes=5).encode(), "text/markdown")])
    at.run()
    button(at, "Add to the library").click().run()
    assert "Quokka Bite Care, version 1 (quokka)" in at.selectbox(key="lib_doc").options
    at.selectbox(key="lib_doc").set_value("quokka").run()
    at.file_uploader(key="replace-quokka-1").set_value(
        [("quokka-v2.md", QUOKKA.format(v=2, minutes=15).encode(), "text/markdown")])
    at.run()
    button(at, "Replace").click().run()
    assert not at.exception, [e.value for e in at.exception]
    options = at.selectbox(key="lib_doc").options
    assert "Quokka Bite Care, version 2 (quokka-v2)" in options
    assert not any(o.endswith("(quokka)") for o in options)
    ask(at, "How long should a quokka bite be irrigated?")
    passages = at.session_state["history"][-1].passages
    assert passages[0].title == "Quokka Bite Care, version 2"
    assert all("for 5 minutes" not in p.text for p in passages)


@pytest.mark.slow
def test_an_age_the_guideline_does_not_cover_is_said_plainly(at: AppTest) -> None:
    ask(at, "Should adults older than 85 be screened for colorectal cancer?")
    answer = at.session_state["history"][-1]
    assert answer.status == "not_covered"
    shown = " ".join(i.value for i in at.info)
    assert "do not cover ages 86 and older" in shown and "76 to 85" in shown
    assert not answer.sentences  # nothing is shown as a supported claim


@pytest.mark.slow
def test_extractive_answer_is_quoted_and_checked(at: AppTest) -> None:
    ask(at, "How long should an alcohol-based handrub take?")
    answer = at.session_state["history"][-1]
    assert answer.mode == "extractive" and answer.status == "extractive"
    assert answer.sentences and all(s.verdict == "supported" for s in answer.sentences)
    assert any("Quoted from the sources" in c.value for c in at.caption)


@pytest.mark.slow
def test_a_contradicting_draft_is_struck_with_its_reason(
        at: AppTest, monkeypatch: pytest.MonkeyPatch, scripted_model) -> None:
    draft = "Colonoscopy is done every 5 years. Colonoscopy is done every 10 years."
    monkeypatch.setenv("MEDITRON_RAG_LLM_SERVER_URL", scripted_model(draft))
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120).run()
    ask(at, "How often should a colonoscopy be repeated?")
    answer = at.session_state["history"][-1]
    assert [s.text for s in answer.sentences] == ["Colonoscopy is done every 10 years."]
    [wrong] = answer.rejected
    assert wrong.verdict == "contradicted" and "10" in wrong.reason
    shown = as_read(" ".join(m.value for m in at.markdown))
    assert "~~Colonoscopy is done every 5 years.~~" in shown and "contradicted" in shown


TRACKER = """---
title: "Tracked ![t](http://tracker.example/title.png) guide"
organisation: "Org [site](http://tracker.example/org)"
date: "![d](http://tracker.example/date.png)"
---

# Tracker fever

## Treatment ![h](http://tracker.example/heading.png)

Adults with tracker fever should drink water every hour for two days.
"""


@pytest.mark.slow
def test_markdown_in_document_metadata_is_shown_as_text(at: AppTest) -> None:
    """An image or link in a title, organisation, date or heading would make the reader's
    browser fetch the URL: everywhere the app shows them, they are text."""
    add(at, [("tracker.md", TRACKER.encode())])
    ask(at, "How often should adults with tracker fever drink water?")
    assert not at.exception, [e.value for e in at.exception]
    answer = at.session_state["history"][-1]
    assert "tracker.example" in answer.passages[0].title + answer.passages[0].section
    shown = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success")
             for e in getattr(at, kind)] + [e.label for e in at.expander]
    assert any("tracker.example" in v for v in shown), shown
    markup = re.compile(r"(?<!\\)!\[|(?<!\\)\[[^\]]*(?<!\\)\]\(")  # an image or a link
    assert not [v for v in shown if markup.search(v)], [v for v in shown if markup.search(v)]
