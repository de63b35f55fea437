"""The real app (`meditron-rag ui`) in Debian's headless Chromium, driven by Playwright.

Skipped when /usr/bin/chromium is absent (Debian: `apt-get install chromium`); browsers are
never downloaded. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import pytest

from bench.probe import free_port, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "corpora" / "starter"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
UPLOAD = b"""---
title: "Zebra Fever Management"
organisation: "Test Society"
date: "2026-01"
---

# Zebra fever

## Treatment

Adults with zebra fever should receive striped quinine every 8 hours for 7 days.
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's Chromium at /usr/bin/chromium "
                              "(apt-get install chromium); browsers are never downloaded"),
]


def index_two(data_dir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """A two-document index (a PDF, a Markdown file) in `data_dir`."""
    from ingest import ingest
    from ingest.store import SQLiteStore

    store = SQLiteStore.open(data_dir / "index", embedder=embedder)
    with store.writing():
        ingest([STARTER / "who-hand-hygiene-2009.pdf",
                STARTER / "uspstf-colorectal-cancer-screening-2021.md"], store, embedder, 200, 32)
    store.close()


def serve_app(isolated: Path, embedder, env: dict[str, str],  # type: ignore[no-untyped-def]
              args: tuple[str, ...] = (), index: bool = True) -> Iterator[str]:
    """`meditron-rag ui` on a free port (over a two-document index unless `index` is False),
    with `env` and further `args`; its URL."""
    if index:
        index_two(isolated, embedder)
    port = free_port()
    script = Path(sys.executable).with_name("meditron-rag")
    env = {**os.environ, "MEDITRON_RAG_GENERATION_MAX_TOKENS": "16",
           "MEDITRON_RAG_RETRIEVAL_TOP_K": "3", **env}
    log = (isolated.parent / "server.log").open("wb")
    proc = subprocess.Popen([str(script), "ui", "--port", str(port), "--host", "127.0.0.1",
                             *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        if why := wait_healthy(url, proc, 60):
            pytest.fail(f"{why}: " + (isolated.parent / "server.log").read_text(errors="replace"))
        yield url
    finally:
        stop(proc, 10)
        log.close()


@pytest.fixture
def server(isolated: Path, embedder) -> Iterator[str]:
    yield from serve_app(isolated, embedder, {})


def open_page(playwright, url: str):  # type: ignore[no-untyped-def]
    """Debian's Chromium, headless, on `url`, waiting up to two minutes for each step."""
    from playwright.sync_api import expect

    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)
    expect.set_options(timeout=120_000)
    page.goto(url)
    return browser, page


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def test_ask_upload_and_study_in_chromium(server: str, isolated: Path,
                                          scan_sized_pdf: bytes) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser, page = open_page(p, server)
        expect(page.get_by_text("Not for clinical use").first).to_be_visible()

        # Ask: the answer's sources, a PDF one with its page.
        ask(page, "How long should an alcohol-based handrub take?")
        source = page.get_by_text(re.compile(r"\[\d\] Hand Hygiene.* · p\. \d")).first
        expect(source).to_be_visible()
        opener = page.get_by_role("button", name=re.compile(r"Open PDF \(p\. \d\)"))
        expect(opener.filter(visible=True).first).to_be_visible()
        expect(page.get_by_text("Quoted from the sources; every sentence checked.").first
               ).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "browser-ask.png"), full_page=True)

        # An age no passage covers: said plainly, with what the passages do cover.
        ask(page, "Should adults older than 85 be screened for colorectal cancer?")
        expect(page.get_by_text(re.compile(r"do not cover ages 86 and older")).first
               ).to_be_visible()
        expect(page.get_by_text(re.compile(r"ages 76 to 85: “Screening should be offered"))
               .first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "browser-not-covered.png"), full_page=True)

        # Library: upload a guideline and a scan-sized PDF (over 10 MB, which the browser
        # allows: it is held to the PDF limit), then ask about the guideline.
        page.get_by_role("tab", name="Library").click()
        page.locator("input[type=file]").first.set_input_files(
            files=[{"name": "zebra.md", "mimeType": "text/markdown", "buffer": UPLOAD},
                   {"name": "okapi-scan.pdf", "mimeType": "application/pdf",
                    "buffer": scan_sized_pdf}])
        add = page.get_by_role("button", name="Add to the library")
        expect(add).to_be_enabled()
        add.click()
        expect(page.get_by_text(re.compile(r"2 ingested"))).to_be_visible()
        [saved] = (isolated / "uploads").glob("*/zebra.md")  # one folder per content hash
        assert saved.read_bytes() == UPLOAD
        [scan] = (isolated / "uploads").glob("*/okapi-scan.pdf")
        assert scan.read_bytes() == scan_sized_pdf
        page.screenshot(path=str(ARTIFACTS / "browser-library.png"), full_page=True)
        page.get_by_role("tab", name="Ask").click()
        ask(page, "How often should adults with zebra fever receive striped quinine?")
        expect(page.get_by_text(re.compile(r"\[1\] Zebra Fever Management")).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "browser-upload-ask.png"), full_page=True)

        # Study: one question, answered and graded.
        page.get_by_role("tab", name="Study").click()
        page.get_by_role("button", name="New round").click()
        expect(page.get_by_text(re.compile(r"Question 1 of \d"))).to_be_visible()
        page.get_by_role("radiogroup", name="Your answer").locator("label").first.click()
        page.get_by_role("button", name="Check").click()
        expect(page.get_by_text(re.compile(r"^(Correct: |Not quite)"))).to_be_visible()
        expect(page.get_by_text(re.compile(r"Score this session: [01]/1"))).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "browser-study.png"), full_page=True)
        browser.close()


def test_a_wrong_draft_is_struck_in_chromium(isolated: Path, embedder, scripted_model) -> None:
    """A model's draft (scripted) with a contradicted number, a question echo and a file name:
    only the supported sentence is the answer; the rest are struck, with the reason."""
    from playwright.sync_api import expect, sync_playwright

    question = "How often should a colonoscopy be repeated?"
    draft = (f"Colonoscopy is done every 10 years. Colonoscopy is done every 5 years. {question} "
             "uspstf-colorectal-cancer-screening-2021.md")
    url = scripted_model(draft)
    for address in serve_app(isolated, embedder, {"MEDITRON_RAG_LLM_SERVER_URL": url}):
        with sync_playwright() as p:
            browser, page = open_page(p, address)
            ask(page, question)
            expect(page.get_by_text("Set apart from the model's answer:")).to_be_visible()
            struck = page.locator("del", has_text="Colonoscopy is done every 5 years.")
            expect(struck).to_be_visible()
            expect(page.get_by_text("contradicted by the cited passage").first).to_be_visible()
            expect(page.get_by_text("not a claim").first).to_be_visible()
            expect(page.locator("del", has_text="uspstf-colorectal-cancer-screening-2021.md")
                   ).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "browser-struck.png"), full_page=True)
            browser.close()


@contextmanager
def running_serve(isolated: Path, tmp_path: Path, embedder,  # type: ignore[no-untyped-def]
                  env: dict[str, str]) -> Iterator[str]:
    """`meditron-rag serve` over a two-document index in `isolated`, with `env`; its URL."""
    import httpx

    index_two(isolated, embedder)
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen([str(Path(sys.executable).with_name("meditron-rag")), "serve",
                              "--port", str(port)], cwd=ROOT, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True,
                             env={**os.environ, **env})
    try:
        for _ in range(240):
            try:
                if httpx.get(api + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        yield api
    finally:
        stop(serve, 10)
        log.close()


@contextmanager
def app_on(api: str, tmp_path: Path, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`meditron-rag ui --api API` with a data directory of its own, left empty; its URL."""
    app_data = tmp_path / "app-data"
    app = serve_app(app_data, embedder, {"MEDITRON_RAG_DATA_DIR": str(app_data)},
                    ("--api", api), index=False)
    with closing(app):
        yield next(app)
    assert not (app_data / "index").exists()


# A caption only a finished answer has: "<model> · <seconds> s · <notice>".
FINISHED = re.compile(r" · \d+\.\d s · ")


def ask_while_the_answer_is_written(page, first: str,  # type: ignore[no-untyped-def]
                                    second: str) -> None:
    """Ask `first`, then try to send `second` while its answer is written: the box is disabled
    until the first answer has joined the conversation whole; then `second` is answered after
    it."""
    from playwright.sync_api import expect

    box = page.get_by_test_id("stChatInputTextArea")
    messages = page.get_by_test_id("stChatMessage")
    ask(page, first)
    expect(box).to_be_disabled()  # at once: the answer takes seconds
    box.fill(second)  # waits while the box is disabled: until the first answer is done
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text(first)
    expect(messages.nth(1).get_by_text(FINISHED)).to_be_visible()
    expect(page.get_by_role("button", name="Stop the answer")).to_have_count(0)
    box.press("Enter")
    expect(messages).to_have_count(4)
    expect(messages.nth(3).get_by_text(FINISHED)).to_be_visible()
    expect(messages.nth(2)).to_contain_text(second)
    expect(messages.nth(1).get_by_text(FINISHED)).to_be_visible()  # the first stays whole


def test_a_question_sent_while_an_answer_is_written_waits_for_it_in_chromium(
        isolated: Path, embedder) -> None:
    """The embedded SmolLM2 writes its answer (generative mode, so it streams) while a
    second question is tried."""
    from playwright.sync_api import sync_playwright

    env = {"MEDITRON_RAG_GENERATION_ANSWER_MODE": "generative"}
    for url in serve_app(isolated, embedder, env):
        with sync_playwright() as p:
            browser, page = open_page(p, url)
            ask_while_the_answer_is_written(page, "Who should be screened for colorectal "
                                            "cancer?", "At what age should screening stop?")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser-second-question.png"),
                            full_page=True)
            browser.close()


def test_the_app_through_a_running_serve_in_chromium(isolated: Path, tmp_path: Path,
                                                     embedder) -> None:
    """`meditron-rag ui --api URL`: the page answers from the server's index and model (the
    app's own data directory stays empty); a follow-up tried while the first answer is written
    waits for it, and shows the query it searched."""
    from playwright.sync_api import expect, sync_playwright

    env = {"MEDITRON_RAG_GENERATION_ANSWER_MODE": "generative"}
    with running_serve(isolated, tmp_path, embedder, env) as api, \
            app_on(api, tmp_path, embedder) as url, sync_playwright() as p:
        ARTIFACTS.mkdir(exist_ok=True)
        browser, page = open_page(p, url)
        expect(page.get_by_text(f"Answered by the API at {api}").first).to_be_visible()
        ask_while_the_answer_is_written(page, "Who should be screened for colorectal cancer?",
                                        "And at what age should it stop?")
        expect(page.get_by_text(re.compile(r"\[\d\] Colorectal Cancer")).first).to_be_visible()
        expect(page.get_by_text(re.compile(r"Searched for: And at what age should it stop\? "
                                           r"\(.*colorectal.*\)")).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "browser-api-follow-up.png"), full_page=True)
        browser.close()


# No sentence repeated: the generator ends a stream that loops.
SLOW_DRAFT = " ".join([f"Colonoscopy is done every 10 years, says sentence {n}." for n in range(12)]
                      + ["Last-word-of-the-draft."])


@pytest.mark.parametrize("through", ["app", "api"])
def test_stop_keeps_what_was_written_in_chromium(through: str, isolated: Path, tmp_path: Path,
                                                 embedder, scripted_model) -> None:
    """A model that writes slowly (scripted: one word every 0.3 s) goes on writing through a
    change of setting (a rerun) and is stopped mid-answer: what it wrote stays in the
    conversation, marked as stopped, and the next question is answered after it, by the app's
    own pipeline and through `meditron-rag serve`."""
    from playwright.sync_api import expect, sync_playwright

    env = {"MEDITRON_RAG_LLM_SERVER_URL": scripted_model(SLOW_DRAFT, pause_s=0.3)}
    with ExitStack() as stack:
        if through == "api":
            api = stack.enter_context(running_serve(isolated, tmp_path, embedder, env))
            url = stack.enter_context(app_on(api, tmp_path, embedder))
        else:
            app = serve_app(isolated, embedder, env)
            url = next(app)
            stack.enter_context(closing(app))
        p = stack.enter_context(sync_playwright())
        browser, page = open_page(p, url)
        messages = page.get_by_test_id("stChatMessage")
        ask(page, "How often should a colonoscopy be repeated?")
        expect(messages.nth(1).get_by_text("Colonoscopy is done every").first).to_be_visible()
        # A setting changed meanwhile reruns the script: the answer goes on being written.
        page.get_by_role("tab", name="Settings").click()
        until = page.get_by_label("Dated until")
        until.fill("2030")
        until.press("Enter")
        page.get_by_role("tab", name="Ask").click()
        expect(messages.nth(1)).to_contain_text("says sentence 3.")
        page.get_by_role("button", name="Stop the answer").click()
        stopped = messages.nth(1).get_by_text("Stopped before the answer was finished")
        expect(stopped).to_be_visible()
        expect(messages.nth(1)).to_contain_text("Colonoscopy is done every")
        expect(messages.nth(1)).not_to_contain_text("Last-word-of-the-draft.")
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
        scripted_model("Colonoscopy is done every 10 years.")  # the next answer, at once
        ask(page, "And a sigmoidoscopy?")
        expect(messages).to_have_count(4)
        expect(messages.nth(3).get_by_text(FINISHED)).to_be_visible()
        expect(stopped).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"browser-stop-{through}.png"), full_page=True)
        browser.close()
