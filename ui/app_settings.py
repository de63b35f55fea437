"""Settings tab: per-session choices, starting from config.yaml.

The model is shown, and changes only when a registered name or a path to a GGUF file that
exists is given; the other settings (passages, answer length, filters) apply at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ingest import DocumentRecord
from meditron_rag.config import Config
from meditron_rag.models import REGISTRY
from rag import Filters

ANSWER_MODES = {
    "auto": "Auto: quoted for a small model, written by a capable one",
    "extractive": "Quoted: the sources' own sentences, checked",
    "generative": "Written by the model, every sentence checked",
}


@dataclass
class Settings:
    model: str
    answer_mode: str
    top_k: int
    max_tokens: int
    filters: Filters


def _default(key: str, value: object) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def current(config: Config) -> Settings:
    """This session's settings (widget values, or the config's where not set yet)."""
    _default("set_model", config.llm.model)
    _default("set_mode", config.generation.answer_mode)
    _default("set_top_k", config.retrieval.top_k)
    _default("set_max_tokens", config.generation.max_tokens)
    _default("set_docs", [])
    _default("set_orgs", [])
    _default("set_from", "")
    _default("set_to", "")
    model = str(st.session_state["set_model"]).strip() or config.llm.model
    if model not in REGISTRY and not Path(model).expanduser().is_file():
        model = config.llm.model
    return Settings(
        model=model, answer_mode=str(st.session_state["set_mode"]),
        top_k=int(st.session_state["set_top_k"]),
        max_tokens=int(st.session_state["set_max_tokens"]),
        filters=Filters(
            list(st.session_state["set_docs"]), list(st.session_state["set_orgs"]),
            str(st.session_state["set_from"]).strip(), str(st.session_state["set_to"]).strip(),
        ),
    )


def render(config: Config, docs: list[DocumentRecord]) -> None:
    st.caption(f"Defaults from {config.source or 'built-in defaults'}; changes last for this "
               "session only.")
    if config.ui.api_url:
        st.caption(f"The model and the answer mode are those of the API at "
                   f"{config.ui.api_url}, which every client shares.")
    else:
        _model_and_mode(config)
    st.slider("Passages per answer", 1, 20, key="set_top_k")
    st.slider("Answer length (tokens)", 16, 1024, step=16, key="set_max_tokens")
    st.subheader("Filters")
    ids = [d.id for d in docs]
    titles = {d.id: f"{d.title or d.name} ({d.date or 'undated'})" for d in docs}
    st.session_state["set_docs"] = [d for d in st.session_state["set_docs"] if d in ids]
    st.multiselect("Only these documents", ids, key="set_docs", format_func=lambda i: titles[i],
                   placeholder="All documents")
    orgs = sorted({d.organisation for d in docs if d.organisation})
    st.session_state["set_orgs"] = [o for o in st.session_state["set_orgs"] if o in orgs]
    st.multiselect("Only these organisations", orgs, key="set_orgs",
                   placeholder="All organisations")
    left, right = st.columns(2)
    left.text_input("Dated from", key="set_from", placeholder="YYYY or YYYY-MM")
    right.text_input("Dated until", key="set_to", placeholder="YYYY or YYYY-MM")


def _model_and_mode(config: Config) -> None:
    """The model and answer mode of this session (the app alone: it loads them itself)."""
    st.text_input(
        "Model", key="set_model",
        help="A registered name (smollm2, meditron-7b once pulled) or the path to a .gguf file. "
             "Anything else is ignored and the configured model is kept.",
    )
    wanted = str(st.session_state["set_model"]).strip()
    if wanted and wanted not in REGISTRY and not Path(wanted).expanduser().is_file():
        st.warning(f"No model file at {wanted}: still using {config.llm.model}.")
    st.radio("Answer", list(ANSWER_MODES), key="set_mode", format_func=ANSWER_MODES.get,
             help="Quoted answers need no model and take a fraction of a second; written "
                  "ones take as long as the model does. Either way, only what the sources "
                  "support is shown as the answer.")
