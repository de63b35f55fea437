"""Every llama.cpp model we load goes through here, with weight repacking off unless asked.

llama.cpp's default model parameters turn on its CPU's extra buffer types (`use_extra_bufts`):
at load it keeps a second, repacked copy of the quantized weights for faster kernels, AMX on
Intel Xeons since Sapphire Rapids, CPU_REPACK elsewhere. That copy is a second model's worth
of memory, and on some Xeons with AMX (virtualised Sapphire Rapids hosts) the first
decode with it segfaults (ggml-org/llama.cpp#20824), which no Python code can catch.

llama-cpp-python's `Llama` (0.3.36) has no parameter for it: its constructor starts from
`llama_cpp.llama_model_default_params()` and never sets the field. So the function it reads is
replaced for the duration of the load, under a lock, and the loaded model is checked: a
future llama-cpp-python that stopped reading its defaults there is refused before its first
decode, not run with repacking on.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meditron_rag.errors import ModelLoadError

if TYPE_CHECKING:
    from llama_cpp import Llama

# One load at a time may change the defaults, so a load in another thread (the app loads the
# embedder and the generator in turn, the server in its own) never sees a half-restored one.
_LOCK = threading.RLock()


@contextmanager
def repacking(enabled: bool) -> Iterator[None]:
    """Within the block, every `Llama` starts from llama.cpp's default model parameters with
    `use_extra_bufts` set to `enabled`; the library's own defaults are back afterwards."""
    import llama_cpp.llama_cpp as low  # the module `Llama` reads its defaults from

    with _LOCK:
        original = low.llama_model_default_params

        def defaults() -> Any:
            params = original()
            params.use_extra_bufts = enabled
            return params

        low.llama_model_default_params = defaults
        try:
            yield
        finally:
            low.llama_model_default_params = original


def check_repacking(llm: Llama, enabled: bool) -> None:
    """Refuse a loaded model whose repacking is not what was asked, before its first decode."""
    if bool(llm.model_params.use_extra_bufts) != enabled:
        import llama_cpp

        llm.close()
        raise ModelLoadError(
            f"llama-cpp-python {llama_cpp.__version__} loaded {llm.model_path} with weight "
            f"repacking {'off' if enabled else 'on'} against llm.repack_weights; meditron-rag "
            "cannot set it in this version: install llama-cpp-python 0.3.36."
        )


def has_amx(cpuinfo: str | None = None) -> bool:
    """Whether the CPU has AMX tiles (Linux's /proc/cpuinfo; False where it cannot tell)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    return any(line.startswith("flags") and "amx_tile" in line.split()
               for line in cpuinfo.splitlines())


def load_llama(model_path: str | Path, repack_weights: bool = False, **kwargs: Any) -> Llama:
    """`Llama(model_path, **kwargs)` with llama.cpp's weight repacking on only if asked; asked
    on a CPU with AMX, a warning first, since the crash it may bring gives no message."""
    from llama_cpp import Llama

    if repack_weights and has_amx():
        warnings.warn("llm.repack_weights is on and this CPU has AMX: on some such CPUs "
                      "llama.cpp's repacked weights crash on the first decode "
                      "(ggml-org/llama.cpp#20824). If meditron-rag stops with a segmentation "
                      "fault, set llm.repack_weights: false.", stacklevel=2)
    with repacking(repack_weights):
        llm = Llama(model_path=str(model_path), **kwargs)
    check_repacking(llm, repack_weights)
    return llm
