"""Packing must never overflow the window, whatever the passages: checked with the real
SmolLM2 tokenizer (loaded vocabulary-only) and the real prompt formats."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meditron_rag.config import load_config
from meditron_rag.models import resolve
from rag.packing import pack, trim_to_sentences
from rag.prompts import COMPLETION, chat_format


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def tokenizer():
    from meditron_rag.llama import load_llama

    path = resolve("smollm2", "llm", load_config(environ={}))
    llm = load_llama(path, vocab_only=True, verbose=False)
    count = lambda text: len(llm.tokenize(text.encode(), add_bos=True, special=True))  # noqa: E731
    chat = chat_format(llm.metadata["tokenizer.chat_template"], "", "<|im_end|>")
    return count, chat


def test_trim_keeps_whole_leading_sentences():
    text = "Alpha beta. Gamma delta epsilon. Zeta."
    assert trim_to_sentences(text, 5, words) == "Alpha beta. Gamma delta epsilon."
    assert trim_to_sentences(text, 2, words) == "Alpha beta."
    assert trim_to_sentences("one two three four", 3, words) == "one two …"


def test_best_passage_is_trimmed_not_dropped():
    render = lambda texts: "Q " + " ".join(texts)  # noqa: E731
    big = "First sentence here. " * 50
    packed = pack(render, [big, "second"], words, window=40, answer_tokens=10)
    assert 0 in packed.texts and packed.trimmed == [0]
    assert packed.prompt_tokens + 10 <= 40
    assert packed.left_out == [1]


def test_all_fit_nothing_left_out():
    render = lambda texts: "Q " + " ".join(texts)  # noqa: E731
    packed = pack(render, ["a b", "c d"], words, window=100, answer_tokens=10)
    assert packed.left_out == [] and packed.trimmed == [] and packed.prompt == "Q a b c d"


def test_prompt_that_cannot_fit_is_refused():
    with pytest.raises(ValueError, match="leaves"):
        pack(lambda texts: "x " * 50, [], words, window=40, answer_tokens=10)


sentence = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1,
    max_size=120,
).map(lambda s: s.strip() + ".")
passage = st.lists(sentence, min_size=1, max_size=30).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(passages=st.lists(passage, min_size=0, max_size=12),
       answer=st.integers(min_value=64, max_value=700),
       question=st.text(min_size=1, max_size=300))
def test_prompt_never_exceeds_the_window(tokenizer, passages, answer, question):
    count, chat = tokenizer
    for fmt in (COMPLETION, chat):
        def render(texts, fmt=fmt):
            return fmt.render("\n\n".join(texts), question)

        packed = pack(render, passages, count, 2048, answer)
        assert count(packed.prompt) == packed.prompt_tokens
        assert packed.prompt_tokens + answer <= 2048
        if passages:
            assert 0 in packed.texts  # the best passage always goes in
        assert sorted([*packed.texts, *packed.left_out]) == list(range(len(passages)))
