"""meditron_rag.llama: weight repacking (llama.cpp's extra buffer types) only when asked, with
the real SmolLM2 GGUF. Repacking is what crashes llama.cpp on some Xeons with AMX; these tests
check the setting that reaches llama.cpp, which holds on any CPU."""

from __future__ import annotations

import threading

import llama_cpp.llama_cpp as low
import pytest

from meditron_rag.config import load_config
from meditron_rag.errors import ModelLoadError
from meditron_rag.llama import check_repacking, load_llama, repacking
from meditron_rag.models import resolve


@pytest.fixture(scope="module")
def gguf():
    return resolve("smollm2", "llm", load_config(environ={}))


def test_repacking_is_off_unless_asked_and_the_library_defaults_stay(gguf):
    assert load_llama(gguf, n_ctx=64, verbose=False).model_params.use_extra_bufts is False
    asked = load_llama(gguf, repack_weights=True, n_ctx=64, verbose=False)
    assert asked.model_params.use_extra_bufts is True
    assert low.llama_model_default_params().use_extra_bufts is True


def test_a_model_loaded_against_the_setting_is_refused(gguf):
    from llama_cpp import Llama

    with repacking(True):
        llm = Llama(str(gguf), n_ctx=64, verbose=False)
    check_repacking(llm, True)
    with pytest.raises(ModelLoadError, match="repacking on against llm.repack_weights"):
        check_repacking(llm, False)


def test_loads_in_two_threads_each_get_their_own_setting(gguf):
    got: dict[bool, list[bool]] = {True: [], False: []}

    def load(flag: bool) -> None:
        for _ in range(3):
            llm = load_llama(gguf, repack_weights=flag, n_ctx=64, verbose=False)
            got[flag].append(bool(llm.model_params.use_extra_bufts))
            llm.close()

    threads = [threading.Thread(target=load, args=(flag,)) for flag in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {True: [True] * 3, False: [False] * 3}
