"""Ask tab: a chat whose answers stream in, with their sources shown before the first word.

Each answer is kept in `st.session_state["history"]` and drawn again on every rerun: the text
sentence by sentence (unsupported ones marked), its warnings, then each source with the
passage (supporting sentences highlighted), a way to open the original at that page, and for
a PDF the page itself with those sentences boxed. The history is a conversation: a follow-up
is searched with the subject of the questions before it, and the query searched is shown.
Answers come from `ui.app_source` (this process's Engine, or a running `meditron-rag serve`,
whose line for the model the app then waits in, saying so).

One question at a time, and nothing asked or answered is lost. While an answer is written,
the chat input is disabled: `submit_mode="disable"` has the browser disable it the moment a
question is sent, and `disabled` keeps it so on every rerun until the answer has joined the
history (Streamlit then also ignores a value sent for it). The answer itself is written by a
worker thread (`ui.app_turn`), so a click elsewhere, whose rerun cuts the script short, only
redraws it; "Stop the answer" ends it and keeps what was written so far, marked as stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import streamlit as st

from ingest.page_words import ocr_note
from rag import Answer, Passage
from ui.app_common import matching_spans, passage_html, plain
from ui.app_page import PageWordsFn, show_page
from ui.app_settings import Settings
from ui.app_source import Source
from ui.app_turn import Stopped, Turn


def history() -> list[Answer | Stopped | dict[str, str]]:
    return st.session_state.setdefault("history", [])


def _open_original(passage: Passage, key: str) -> None:
    """A download of the file (PDFs say which page), and the web page where there is one."""
    path = Path(passage.path)
    left, right = st.columns(2)
    if passage.paginated and path.suffix.lower() == ".pdf" and path.is_file():
        left.download_button(
            f"Open PDF (p. {passage.page_start})", data=path.read_bytes, file_name=path.name,
            mime="application/pdf", key=key, on_click="ignore",
            help=f"Opens the original file; the passage is on page {passage.page_start}.",
        )
    elif passage.section:
        left.caption(f"Section: {plain(passage.section)}")
    if passage.url.startswith(("https://", "http://")):
        anchor = f"#page={passage.page_start}" if passage.url.lower().endswith(".pdf") else ""
        right.link_button("Original on the web", passage.url + anchor)


def render_sources(passages: list[Passage], answer: Answer | None, key: str,
                   words: PageWordsFn) -> None:
    for p in passages:
        claims = [s.text for s in answer.sentences if p.number in s.citations or
                  s.best_passage == p.number] if answer else []
        cited = bool(claims)
        label = plain(f"[{p.number}] {p.title} · {p.location}") + (" · cited" if cited else "")
        if p.ocr_confidence is not None:
            label += " · " + plain(ocr_note(p.ocr_confidence))
        with st.expander(label, expanded=cited):
            meta = " · ".join(x for x in (p.organisation, p.date or "undated") if x)
            st.caption(plain(f"{meta} · {p.document_id}"))
            if p.superseded_by:
                st.warning(f"Superseded by {plain(p.superseded_by)}.")
            spans = matching_spans(p.text, claims)
            st.markdown(passage_html(p.text, spans), unsafe_allow_html=True)
            _open_original(p, f"{key}-open-{p.number}")
            if spans:
                show_page(p, [p.text[a:b] for a, b in spans], f"{key}-page-{p.number}", words)


_LABELS = {"contradicted": "contradicted by the cited passage",
           "unsupported": "not supported by the cited passage",
           "not_applicable": "the cited passage does not apply to who you asked about",
           "not_a_claim": "not a claim"}


def render_answer(answer: Answer, key: str, words: PageWordsFn) -> None:
    """The verified answer, then the model's sentences set apart (struck, with the reason)."""
    if answer.status in ("no_evidence", "not_covered") or not answer.sentences:
        st.info(plain(answer.text))
    else:
        if answer.status == "extractive":
            st.caption("Quoted from the sources; every sentence checked.")
        # Escaped: an answer may quote a source holding markup, which is shown as text.
        st.markdown("\n\n".join(plain(s.text) for s in answer.sentences))
    if answer.rejected:
        lines = [f"~~{plain(s.text)}~~ :red[**{_LABELS[s.verdict]}**]: {plain(s.reason)}"
                 for s in answer.rejected]
        st.markdown("**Set apart from the model's answer:**\n\n" + "\n\n".join(lines))
    for warning in answer.warnings:
        st.warning(plain(warning))
    st.caption(f"{plain(answer.model)} · {answer.timings.get('total_s', 0):.1f} s · "
               f"{answer.notice}")
    st.markdown("**Sources**")
    render_sources(answer.passages, answer, key, words)


def searched() -> dict[int, str]:
    """The search query of each answer in the history that was not its question as asked."""
    return st.session_state.setdefault("searched", {})


def _searched_caption(query: str) -> None:
    st.caption(f"Searched for: {plain(query)} (read after the questions before it)")


def running() -> Turn | None:
    """The question being answered, until it joins the history."""
    turn: Turn | None = st.session_state.get("turn")
    return turn


def _take() -> None:
    """The chat input's callback: runs before the script, so the run it starts already draws
    the input disabled and the question as being answered."""
    st.session_state["turn"] = Turn(str(st.session_state["question"]))


def _finish(turn: Turn) -> None:
    """`turn` joins the conversation: its answer, its error, or what was written until it was
    stopped."""
    if (query := turn.query()) and query != turn.question:
        searched()[len(history())] = query
    history().append(turn.record())
    st.session_state["turn"] = None


def _stop() -> None:
    """The Stop button's callback: the worker ends at its next step; what it wrote is kept."""
    if (turn := running()) is not None:
        turn.stop.set()
        _finish(turn)


def _draw_turn(turn: Turn) -> None:
    """The question and its answer so far, then each step as the worker writes it."""
    with st.chat_message("user"):
        st.text(turn.question)
    with st.chat_message("assistant"):
        waiting, sources, text = st.empty(), st.container(), st.container()
        st.button("Stop the answer", key="stop", on_click=_stop,
                  help="End this answer: what was written so far stays in the conversation, "
                       "marked as stopped.")

        def tokens() -> Iterator[str]:
            notice = ""
            for step in turn.follow():
                if step is None:
                    # Drawn again while nothing comes: a click (Stop) can end this run here.
                    if notice:
                        waiting.info(notice)
                    else:
                        waiting.empty()
                elif step.kind == "search":
                    if step.data != turn.question:
                        with sources:
                            _searched_caption(str(step.data))
                elif isinstance(step.data, list):
                    # Unfolded while the answer is written: the evidence is on screen at once.
                    with sources:
                        st.markdown("**Sources found**")
                        for p in step.data:
                            with st.expander(plain(p.source_line()), expanded=True):
                                st.markdown(passage_html(p.text, []), unsafe_allow_html=True)
                elif step.kind == "queue":
                    notice = f"Waiting for the model: {step.data} question(s) ahead of yours."
                    waiting.info(notice)
                elif step.kind == "token":
                    notice = ""
                    waiting.empty()
                    yield str(step.data)

        with text:
            st.write_stream(tokens())


def _render_stopped(item: Stopped, key: str, words: PageWordsFn) -> None:
    if item.text.strip():
        st.markdown(plain(item.text))
    st.warning("Stopped before the answer was finished: what was written so far is kept, "
               "but it was not checked against the sources.")
    if item.passages:
        st.markdown("**Sources**")
        render_sources(item.passages, None, key, words)


def render(source: Source, settings: Settings) -> None:
    turn = running()
    for n, item in enumerate(history()):
        with st.chat_message("user"):
            st.text(item["question"] if isinstance(item, dict) else item.question)
        with st.chat_message("assistant"):
            if n in searched():
                _searched_caption(searched()[n])
            if isinstance(item, dict):
                st.error(plain(item["error"]))
            elif isinstance(item, Stopped):
                _render_stopped(item, f"a{n}", source.page_words)
            else:
                render_answer(item, f"a{n}", source.page_words)
    if history() and st.button("New conversation", key="new_conversation",
                               disabled=turn is not None,
                               help="Forget the questions so far: the next question is "
                                    "searched on its own."):
        st.session_state["history"] = []
        st.session_state["searched"] = {}
        st.rerun()
    live = st.container()  # above the input, drawn after it: the input is disabled at once
    st.chat_input("Ask about the guidelines, e.g. When should colorectal cancer screening "
                  "start?", key="question", on_submit=_take, disabled=turn is not None,
                  submit_mode="disable")
    if turn is None:
        if not history():
            st.caption("Answers cite numbered passages from the indexed guidelines; open each "
                       "source to check it. A follow-up such as \"and for men?\" is searched "
                       "with the subject of the questions before it.")
        return
    if not turn.started:
        turn.start(source, settings, [item["question"] if isinstance(item, dict)
                                      else item.question for item in history()])
    with live:
        _draw_turn(turn)
    _finish(turn)
    if turn.failure is not None:
        raise turn.failure
    st.rerun()
