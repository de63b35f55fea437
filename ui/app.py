"""The browser app: `meditron-rag ui` runs `streamlit run ui/app.py -- --data-dir D ...`.

One Engine (models and index) per process, shared by every session through st.cache_resource;
each session keeps its chat, study round and settings in st.session_state.
"""

from __future__ import annotations

import streamlit as st

from meditron_rag import NOT_FOR_CLINICAL_USE
from meditron_rag.errors import MeditronRagError
from ui import app_ask, app_library, app_settings, app_study
from ui.app_common import STYLE, base_config, cutoff_of, engine_for, newest_date, plain

st.set_page_config(page_title="meditron-rag", page_icon="📚", layout="wide")
st.markdown(STYLE, unsafe_allow_html=True)

try:
    config = base_config()
    settings = app_settings.current(config)
    engine = engine_for(config.model_copy(update={
        "llm": config.llm.model_copy(update={"model": settings.model}),
        "generation": config.generation.model_copy(update={"answer_mode": settings.answer_mode}),
    }))
    docs = engine.store.documents()
except MeditronRagError as exc:
    st.error(str(exc))
    st.stop()

with st.sidebar:
    st.title("meditron-rag")
    st.warning(NOT_FOR_CLINICAL_USE)
    st.markdown(f"**Model:** {plain(settings.model)}")
    st.caption(f"Model knowledge cutoff: {cutoff_of(settings.model)}.")
    newest = newest_date([d.date for d in docs])
    st.caption(f"Newest document in the index: {plain(newest or 'none dated')} "
               f"({len(docs)} documents). Answers come from these documents, not from the "
               "model's memory.")

ask, library, study, options = st.tabs(["Ask", "Library", "Study", "Settings"])
with options:
    app_settings.render(config, docs)
with library:
    app_library.render(engine, docs)
with study:
    app_study.render(engine, docs)
with ask:
    app_ask.render(engine, settings)
