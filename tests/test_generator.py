"""The in-process generator with the real SmolLM2 GGUF: runtime settings and stopping."""

from __future__ import annotations

import llama_cpp.llama_cpp as llama_cpp
import pytest

from meditron_rag.config import GenerationConfig, LLMConfig, load_config
from meditron_rag.models import resolve
from rag.generator import Generation, LocalGenerator

SMALL = LLMConfig(n_ctx=512)  # the config's settings in a window that loads fast


@pytest.fixture(scope="module")
def gguf():
    return resolve("smollm2", "llm", load_config(environ={}))


def test_runtime_settings_reach_llama_cpp(gguf):
    gen = LocalGenerator(gguf, "smollm2", LLMConfig(n_ctx=512, flash_attn=True,
                                                    cache_type_k="q8_0", cache_type_v="q8_0"))
    assert gen.llm.model_params.use_extra_bufts is False  # as config.yaml: no repacking
    assert gen.llm.context_params.type_k == llama_cpp.GGML_TYPE_Q8_0
    assert gen.llm.context_params.type_v == llama_cpp.GGML_TYPE_Q8_0
    # The library's own defaults are left as they were for everyone else.
    assert llama_cpp.llama_model_default_params().use_extra_bufts is True
    assert gen.format.name == "chat"  # SmolLM2's GGUF carries a chat template


def test_completion_format_when_asked(gguf):
    gen = LocalGenerator(gguf, "smollm2", LLMConfig(n_ctx=512, prompt_format="completion"))
    assert gen.format.name == "completion"


def test_stream_respects_the_length_cap_and_reports_it(gguf):
    gen = LocalGenerator(gguf, "smollm2", SMALL)
    state = Generation()
    text = "".join(gen.stream("Count from one to one hundred: one, two,", GenerationConfig(),
                              max_tokens=8, state=state, stops=["zzz"]))
    assert text and state.completion_tokens <= 8
    assert state.finish == "length" and state.prompt_tokens > 5


def test_prefix_state_on_disk_gives_the_same_answer(gguf, tmp_path):
    prompt_prefix = "You answer questions about guidelines. Use the passages. " * 8
    prompt = prompt_prefix + "Question: How long should hands be rubbed?\nAnswer:"

    def answer(gen: LocalGenerator) -> str:
        return "".join(gen.stream(prompt, GenerationConfig(), max_tokens=16, stops=["zzz"]))

    plain = answer(LocalGenerator(gguf, "smollm2", SMALL))
    first = LocalGenerator(gguf, "smollm2", SMALL)
    assert first.warm_prefix(prompt_prefix, tmp_path) == "computed"
    assert answer(first) == plain
    restarted = LocalGenerator(gguf, "smollm2", SMALL)
    assert restarted.warm_prefix(prompt_prefix, tmp_path) == "disk"
    assert restarted.llm.n_tokens > 50
    assert answer(restarted) == plain
    other_window = LocalGenerator(gguf, "smollm2", LLMConfig(n_ctx=1024))
    assert other_window.warm_prefix(prompt_prefix, tmp_path) == "computed"
    for saved in tmp_path.glob("prefix-*.kv"):  # damaged files are recomputed, not trusted
        saved.write_bytes(b"\x00\xffnot json\n" + saved.read_bytes()[:100])
    damaged = LocalGenerator(gguf, "smollm2", SMALL)
    assert damaged.warm_prefix(prompt_prefix, tmp_path) == "computed"
    assert answer(damaged) == plain
    for saved in tmp_path.glob("prefix-*.kv"):  # as if a crash cut the file short
        saved.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    truncated = LocalGenerator(gguf, "smollm2", SMALL)
    assert truncated.warm_prefix(prompt_prefix, tmp_path) == "computed"
    assert answer(truncated) == plain
    assert truncated.warm_prefix(prompt_prefix, tmp_path) == "disk"
