"""meditron_rag.llama: weight repacking (llama.cpp's extra buffer types) only when asked, with
the real SmolLM2 GGUF. Repacking is what crashes llama.cpp on some Xeons with AMX; these tests
check the setting that reaches llama.cpp, which holds on any CPU."""

from __future__ import annotations

import threading
import warnings

import llama_cpp.llama_cpp as low
import pytest

from meditron_rag.config import load_config
from meditron_rag.errors import ModelLoadError
from meditron_rag.llama import check_repacking, has_amx, load_llama, repacking
from meditron_rag.models import resolve


@pytest.fixture(scope="module")
def gguf():
    return resolve("smollm2", "llm", load_config(environ={}))


def test_repacking_is_off_unless_asked_and_the_library_defaults_stay(gguf):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # off: no warning on any CPU
        assert load_llama(gguf, n_ctx=64, verbose=False).model_params.use_extra_bufts is False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asked = load_llama(gguf, repack_weights=True, n_ctx=64, verbose=False)
    assert asked.model_params.use_extra_bufts is True
    # Asked for on a CPU with AMX (this machine's, as /proc/cpuinfo says), a warning first.
    said = [str(w.message) for w in caught if "repack_weights is on" in str(w.message)]
    assert len(said) == (1 if has_amx() else 0), said
    assert low.llama_model_default_params().use_extra_bufts is True


def test_amx_is_read_from_the_cpu_flags():
    xeon = ("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
            "flags\t\t: fpu avx512f amx_bf16 amx_tile amx_int8\n")
    epyc = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx512f avx512_bf16\n"
    assert has_amx(xeon) and not has_amx(epyc)
    assert not has_amx("model name\t: amx_tile in a name, not a flag\n") and not has_amx("")


def test_a_model_loaded_against_the_setting_is_refused(gguf):
    from llama_cpp import Llama

    with repacking(True):
        llm = Llama(str(gguf), n_ctx=64, verbose=False)
    check_repacking(llm, True)
    with pytest.raises(ModelLoadError, match="repacking on against llm.repack_weights"):
        check_repacking(llm, False)


@pytest.mark.filterwarnings("ignore:llm.repack_weights is on")  # on a CPU with AMX
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
