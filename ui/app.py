"""The browser app: `meditron-rag ui` runs `streamlit run ui/app.py -- --data-dir D ...`.

One Engine (models and index) per process, shared by every session through st.cache_resource;
each session keeps its chat, study round and settings in st.session_state. With `ui.api_url`
(`meditron-rag ui --api URL`) the app loads no Engine: it asks and keeps its library through
that running `meditron-rag serve`, sharing its model and its line with the API's clients.
"""

from __future__ import annotations

import streamlit as st

from meditron_rag import NOT_FOR_CLINICAL_USE
from meditron_rag.errors import MeditronRagError
from rag import Engine
from ui import app_ask, app_library, app_settings, app_study
from ui.api_client import ApiClient
from ui.app_common import STYLE, base_config, cutoff_of, engine_for, newest_date, plain
from ui.app_source import Local

st.set_page_config(page_title="meditron-rag", page_icon="📚", layout="wide")
st.markdown(STYLE, unsafe_allow_html=True)

engine: Engine | None = None
source: Local | ApiClient
try:
    config = base_config()
    settings = app_settings.current(config)
    if config.ui.api_url:
        source = ApiClient(config)
        model = str(source.health().get("model", ""))
    else:
        engine = engine_for(config.model_copy(update={
            "llm": config.llm.model_copy(update={"model": settings.model}),
            "generation": config.generation.model_copy(
                update={"answer_mode": settings.answer_mode}),
        }))
        source, model = Local(engine), settings.model
    docs = source.documents()
except MeditronRagError as exc:
    st.error(str(exc))
    st.stop()

with st.sidebar:
    st.title("meditron-rag")
    st.warning(NOT_FOR_CLINICAL_USE)
    st.markdown(f"**Model:** {plain(model)}")
    if config.ui.api_url:
        st.caption(f"Answered by the API at {plain(config.ui.api_url)}, which shares its "
                   "model with every client.")
    st.caption(f"Model knowledge cutoff: {cutoff_of(model)}.")
    newest = newest_date([d.date for d in docs])
    st.caption(f"Newest document in the index: {plain(newest or 'none dated')} "
               f"({len(docs)} documents). Answers come from these documents, not from the "
               "model's memory.")

ask, library, study, options = st.tabs(["Ask", "Library", "Study", "Settings"])
with options:
    app_settings.render(config, docs)
with library:
    app_library.render(config, source, docs)
with study:
    if engine is None:
        st.info("Study rounds read the index's passages directly: run the app without "
                "ui.api_url, on the machine that holds the index, to study.")
    else:
        app_study.render(engine, docs)
with ask:
    app_ask.render(source, settings)
