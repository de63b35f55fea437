"""What every page of the app shares: the config, the one Engine, and safe HTML for passages.

Document text is never trusted: `passage_html` escapes it with `html.escape` first and only
then wraps the highlighted sentences in <mark>, so a guideline holding <script> shows as text.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from meditron_rag.config import Config, load_config
from meditron_rag.text import jaccard, line_sentence_spans, word_set
from rag import Engine

# The model's training-data cutoff, against which the index's newest document is shown.
CUTOFFS = {
    "meditron-7b": "August 2023",
    "smollm2": "unknown: SmolLM2-135M is a tiny general model, not a medical model",
}


def app_args(argv: Sequence[str]) -> dict[str, str | None]:
    """`--data-dir`, `--config`, `--model`, `--api` after `streamlit run ui/app.py --`. Under
    other runners (AppTest, pytest) argv is theirs: read nothing and let the environment
    decide."""
    if not argv or Path(argv[0]).name != "app.py":
        return {"data_dir": None, "config": None, "model": None, "api": None}
    parser = argparse.ArgumentParser(allow_abbrev=False, add_help=False)
    parser.add_argument("--data-dir")
    parser.add_argument("--config")
    parser.add_argument("--model")
    parser.add_argument("--api")
    known, _ = parser.parse_known_args(list(argv[1:]))
    return vars(known)


def base_config() -> Config:
    """The config from the command line, config.yaml and the environment (read every run:
    it is small, and the Engine is keyed on its content)."""
    args = app_args(sys.argv)
    overrides: dict[str, object] = {}
    if args["data_dir"]:
        overrides["data_dir"] = args["data_dir"]
    if args["model"]:
        overrides["llm"] = {"model": args["model"]}
    if args["api"]:
        overrides["ui"] = {"api_url": args["api"]}
    return load_config(args["config"], overrides)


@st.cache_resource(show_spinner="Loading the models and the index…", max_entries=4)
def _engine(config_json: str, source: str) -> Engine:
    config = Config.model_validate_json(config_json)
    config.source = Path(source) if source else None
    return Engine(config)


def engine_for(config: Config) -> Engine:
    """One Engine per distinct config, shared by every session of this process."""
    return _engine(config.model_dump_json(), str(config.source or ""))


@st.cache_resource
def write_lock(data_dir: str) -> threading.Lock:
    """One ingest at a time per index in this process; readers never wait for it."""
    return threading.Lock()


def cutoff_of(model: str) -> str:
    return CUTOFFS.get(model, "unknown (not a registered model)")


def newest_date(dates: Sequence[str]) -> str:
    return max((d for d in dates if d), default="")


# --- document strings as text ----------------------------------------------------------------

_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text: str) -> str:
    """`text` (a title, a section, a file name: anything from a document or an upload) for a
    Markdown element or a widget label, where it must show as written: every ASCII punctuation
    mark backslash-escaped, so `![x](http://…)` is neither an image the reader's browser fetches
    nor a link, nor `:red[…]`, `**` or a bare URL markup; control characters become spaces."""
    shown = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return _MARKUP.sub(r"\\\1", shown)


# --- safe passage HTML -----------------------------------------------------------------------

def matching_spans(text: str, claims: Sequence[str], threshold: float = 0.2) -> list[
        tuple[int, int]]:
    """For each claim, the sentence of `text` that shares the most words with it. Not
    `Passage.highlights`: those mark the sentences picked for the prompt, for the question, and
    no prompt is built for an extractive or not-covered answer; these mark what the shown
    answer rests on."""
    spans = line_sentence_spans(text)
    chosen: set[tuple[int, int]] = set()
    for claim in claims:
        words = word_set(claim)
        scored = [(jaccard(words, word_set(text[a:b])), (a, b)) for a, b in spans]
        if scored:
            best, span = max(scored)
            if best >= threshold:
                chosen.add(span)
    return sorted(chosen)


def passage_html(text: str, highlights: Sequence[tuple[int, int]] = ()) -> str:
    """`text` escaped, with the `highlights` spans in <mark>, as one raw HTML block."""
    parts, at = [], 0
    for start, end in sorted(highlights):
        if start < at:
            continue
        parts.append(html.escape(text[at:start]))
        parts.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    parts.append(html.escape(text[at:]))
    # "!" and "[" as entities: an image or link written in the text stays text, also where a
    # Markdown renderer would look inside the block.
    body = "".join(parts).strip().replace("\n", "<br>").replace("!", "&#33;").replace(
        "[", "&#91;")
    return f'<div class="passage">{body}</div>'


STYLE = """
<style>
.passage {border-left: 3px solid #9aa5b1; padding: .3rem .7rem; margin: .3rem 0 .6rem 0;
  font-size: .92rem; line-height: 1.45; overflow-wrap: anywhere;}
.passage mark {background: #fff3b0; padding: 0 .1rem;}
.unsupported {color: #b42318;}
@media (max-width: 640px) {.passage {font-size: .88rem;}}
</style>
"""
