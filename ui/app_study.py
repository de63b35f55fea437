"""Study tab: fill-in-the-blank rounds from the recommendation sentences of the guidelines.

No language model is involved (`rag.study` picks sentences and blanks one term), so it works
with the smallest model. Results and a score per topic are kept for the session and export as
Markdown or as a CSV that Anki imports.
"""

from __future__ import annotations

from typing import cast

import streamlit as st

from ingest import DocumentRecord, Store
from rag import Engine, Passage
from rag.study import Card, Result, grade, make_cards, score, term_pool, to_anki_csv, to_markdown
from ui.app_common import passage_html, plain


@st.cache_resource(max_entries=4)
def _pool(index_dir: str, generation: int, _store: Store) -> dict[str, list[str]]:
    """Distractor terms from the whole corpus, rebuilt when the index changes."""
    texts = (c.text for d in _store.documents() for c in _store.document_chunks(d.id))
    return term_pool(texts)


def document_passages(store: Store, doc: DocumentRecord) -> list[Passage]:
    return [
        Passage(
            chunk_id=c.id, document_id=doc.id, title=doc.title or doc.name,
            organisation=doc.organisation, date=doc.date, url=doc.url, path=doc.path,
            section=c.section, page_start=c.page_start, page_end=c.page_end,
            paginated=doc.paginated, char_start=c.char_start, char_end=c.char_end, text=c.text,
            ocr_confidence=c.ocr_confidence,
        )
        for c in store.document_chunks(doc.id)
    ]


def _state() -> dict:
    return st.session_state.setdefault(
        "study", {"cards": [], "at": 0, "results": [], "checked": None, "round": 0})


def _new_round(engine: Engine, docs: list[DocumentRecord], mode: str, chosen: list[str],
               topic: str, n: int) -> str:
    store = engine.store
    state = _state()
    if mode == "Documents":
        by_id = {d.id: d for d in docs}
        cards: list[Card] = []
        picked = [by_id[i] for i in chosen if i in by_id]
        for doc in picked:
            per = max(1, n // len(picked))
            cards += make_cards(document_passages(store, doc),
                                _pool(store.location, store.generation, store), per,
                                seed=state["round"], topic=doc.title or doc.name)
        cards = cards[:n]
    else:
        passages = engine.retrieve(topic, 8)
        cards = make_cards(passages, _pool(store.location, store.generation, store), n,
                           seed=state["round"], topic=topic.strip())
    if not cards:
        return "No sentence with an age, interval, grade, number or key term was found there."
    state.update(cards=cards, at=0, checked=None, round=state["round"] + 1)
    return ""


def _card(card: Card, number: int, total: int) -> None:
    state = _state()
    st.markdown(f"**Question {number} of {total}** · {plain(card.topic)}")
    st.markdown(passage_html(card.prompt), unsafe_allow_html=True)
    key = f"study-{state['round']}-{number}"
    choice = st.radio("Your answer", card.options, index=None, key=key, format_func=plain)
    checked: Result | None = state["checked"]
    if checked is None:
        if st.button("Check", key=f"{key}-check", disabled=choice is None, type="primary"):
            result = Result(card, str(choice), grade(card, str(choice)))
            state["results"].append(result)
            state["checked"] = result
            st.rerun()
        return
    if checked.correct:
        st.success(f"Correct: {plain(card.answer)}")
    else:
        st.error(f"Not quite: the answer is “{plain(card.answer)}”.")
    text = card.passage.text
    start = text.find(card.sentence)
    spans = [(start, start + len(card.sentence))] if start >= 0 else []
    st.caption(f"From {plain(card.source)}")
    st.markdown(passage_html(text, spans), unsafe_allow_html=True)
    if st.button("Next question" if number < total else "Finish the round", key=f"{key}-next"):
        state.update(at=state["at"] + 1, checked=None)
        st.rerun()


def render(engine: Engine, docs: list[DocumentRecord]) -> None:
    state = _state()
    if not docs:
        st.info("Add documents in the Library tab first.")
        return
    # cast: as for the Library's selectbox (ui/app_library.py), the check for Python 3.10
    # matches this call to Streamlit's no-options overload.
    mode = cast(str, st.radio("Study from", ["Documents", "Topic"], horizontal=True,
                              key="study_mode"))
    titles = {d.id: f"{d.title or d.name} ({d.date or 'undated'})" for d in docs}
    chosen: list[str] = []
    topic = ""
    if mode == "Documents":
        chosen = st.multiselect("Documents", list(titles), format_func=lambda i: titles[i],
                                key="study_docs", default=[docs[0].id])
    else:
        topic = st.text_input("Topic", key="study_topic", placeholder="e.g. cervical screening")
    n = st.slider("Questions per round", 1, 15, 5, key="study_n")
    if st.button("New round", disabled=not (chosen or topic.strip())):
        problem = _new_round(engine, docs, mode, chosen, topic, n)
        if problem:
            st.warning(problem)

    cards: list[Card] = state["cards"]
    if cards and state["at"] < len(cards):
        _card(cards[state["at"]], state["at"] + 1, len(cards))
    elif cards:
        st.success("Round finished: start a new one above.")

    results: list[Result] = state["results"]
    if not results:
        return
    s = score(results)
    st.subheader(f"Score this session: {s.correct}/{s.total}")
    for name, (correct, total) in s.topics.items():
        st.progress(correct / total, text=f"{name}: {correct}/{total}")
    left, right = st.columns(2)
    left.download_button("Export as Markdown", to_markdown(results), "study-session.md",
                         "text/markdown", on_click="ignore")
    right.download_button("Export for Anki (CSV)", to_anki_csv([r.card for r in results]),
                          "study-session-anki.csv", "text/csv", on_click="ignore")
