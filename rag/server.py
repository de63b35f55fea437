"""A shared completion server for `llm.server_url`: llama-cpp-python's OpenAI-compatible server
on the configured model, loaded with our llama.cpp settings.

`python -m llama_cpp.server --model X` loads X with llama.cpp's default model parameters, weight
repacking on, and its settings have no field to turn that off: on some Xeons with AMX such a
server dies on its first completion (meditron_rag.llama says why). `meditron-rag serve` builds
the same server with the model loaded as the in-process generator loads it: window, threads,
batch, memory mapping, flash attention and KV cache types from config.yaml, and repacking only
with `llm.repack_weights`.
"""

from __future__ import annotations

import os
from typing import Any

from meditron_rag.config import Config
from meditron_rag.errors import MeditronRagError
from meditron_rag.llama import check_repacking, repacking
from meditron_rag.models import check_gguf, resolve
from rag.generator import KV_TYPES

SERVER_EXTRA = 'pip install "llama-cpp-python[server]>=0.3.7,<0.4"'


def server_app(config: Config, host: str, port: int) -> Any:
    """The server's ASGI app with the model of `config.llm` loaded (llama-cpp-python loads it
    when the app is made, and never again while it holds a single model)."""
    try:
        from llama_cpp.server import app as server
        from llama_cpp.server.settings import ModelSettings, ServerSettings
    except ImportError:
        raise MeditronRagError(
            f"The completion server needs llama-cpp-python's server extras: {SERVER_EXTRA}"
        ) from None
    llm = config.llm
    path = resolve(llm.model, "llm", config)
    check_gguf(path)
    threads = llm.n_threads or max(1, os.cpu_count() or 2)
    model = ModelSettings(
        model=str(path), model_alias=llm.model, n_ctx=llm.n_ctx, n_threads=threads,
        n_threads_batch=threads, n_batch=llm.n_batch, use_mmap=llm.use_mmap,
        flash_attn=llm.flash_attn, type_k=KV_TYPES[llm.cache_type_k],
        type_v=KV_TYPES[llm.cache_type_v],
        # Logits of the last token only, as in process: every token's would hold a window of
        # vocabulary-sized rows, and no client of ours asks for them.
        logits_all=False,
    )
    with repacking(llm.repack_weights):
        app = server.create_app(server_settings=ServerSettings(host=host, port=port),
                                model_settings=[model])
    proxy = server._llama_proxy  # noqa: SLF001 - set by create_app
    assert proxy is not None
    # The proxy's single model, as every request gets it.
    check_repacking(proxy(), llm.repack_weights)
    return app


def serve(config: Config, host: str, port: int) -> None:
    """Serve `config`'s model at http://host:port/v1 until interrupted."""
    import uvicorn

    uvicorn.run(server_app(config, host, port), host=host, port=port)
