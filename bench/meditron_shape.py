"""A GGUF with exactly Meditron-7B's shape and random weights, for timing without a download.

Meditron-7B is a Llama-2-7B: 32 layers, hidden size 4096, 32 attention heads (no grouped
query attention), feed-forward size 11008, vocabulary 32000, context 2048. Speed and memory on
a CPU depend on those shapes and on the quantization type, not on the values of the weights,
so a file of random weights with the same shapes, quantized to the same Q4_K_M as the published
GGUF, times prompt processing and generation the way the real model does.

How long a prompt is depends on the tokenizer, so the file carries Llama's own 32,000-entry
SentencePiece vocabulary, the one Meditron-7B uses: llama.cpp keeps it, tensors-free, as
`models/ggml-vocab-llama-spm.gguf` in its source tree, which the llama-cpp-python source
distribution on PyPI contains. `llama_vocabulary()` fetches that once with pip into the cache.

How it is built (`build()`), on demand, into a cache folder outside the repository:
1. write an F16 GGUF tensor by tensor with the `gguf` package (one tensor in memory at a time;
   about 13.5 GB on disk) with that vocabulary;
2. quantize it with llama.cpp's own `llama_model_quantize` to Q4_K_M (about 4 GB);
3. delete the F16 intermediate.
What it cannot tell: anything about answer quality (the weights are noise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from meditron_rag.errors import MeditronRagError

N_LAYERS = 32
N_EMBD = 4096
N_HEAD = 32
N_FF = 11008
N_VOCAB = 32000
N_CTX = 2048
NAME = "meditron-shaped-7b"
VOCAB_FILE = "ggml-vocab-llama-spm.gguf"
F16_BYTES = 13_500_000_000
Q4_BYTES = 4_100_000_000


def cache_dir() -> Path:
    """Where benchmark models are built: $MEDITRON_RAG_BENCH_CACHE or ~/.cache/meditron-rag/bench
    (never inside the repository)."""
    env = os.environ.get("MEDITRON_RAG_BENCH_CACHE")
    base = Path(env) if env else (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "meditron-rag" / "bench"
    )
    return base.expanduser()


def model_path(folder: Path | None = None) -> Path:
    # "llama-vocab": files of earlier versions carried a one-token-per-character vocabulary.
    return (folder or cache_dir()) / f"{NAME}.llama-vocab.Q4_K_M.gguf"


def llama_vocabulary(folder: Path | None = None) -> tuple[list[str], list[float], list[int]]:
    """Llama's SentencePiece vocabulary as (tokens, scores, types), fetched once into `folder`."""
    import gguf

    path = (folder or cache_dir()) / VOCAB_FILE
    if not path.exists():
        _fetch_vocabulary(path)
    reader = gguf.GGUFReader(str(path))

    def values(key: str) -> list:
        field = reader.fields[key]
        return [field.parts[i] for i in field.data]

    tokens = [bytes(part).decode("utf-8") for part in values("tokenizer.ggml.tokens")]
    scores = [float(part[0]) for part in values("tokenizer.ggml.scores")]
    types = [int(part[0]) for part in values("tokenizer.ggml.token_type")]
    return tokens, scores, types


def _fetch_vocabulary(path: Path) -> None:
    """Copy llama.cpp's Llama vocabulary out of the llama-cpp-python sdist (PyPI, via pip)."""
    from importlib.metadata import version

    spec = f"llama-cpp-python=={version('llama_cpp_python')}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", spec, "--no-deps", "--no-binary", ":all:",
             "--quiet", "-d", tmp],
            capture_output=True, text=True, timeout=600)
        archives = list(Path(tmp).glob("*.tar.gz"))
        if done.returncode != 0 or not archives:
            raise MeditronRagError(
                f"Could not fetch Llama's tokenizer vocabulary (from {spec} on PyPI) for the "
                f"Meditron-shaped model: {done.stderr.strip()[-300:] or 'no archive'}. Connect "
                f"to PyPI once, or put llama.cpp's models/{VOCAB_FILE} at {path}.")
        with tarfile.open(archives[0]) as archive:
            member = next((m for m in archive.getmembers()
                           if m.name.endswith(f"vendor/llama.cpp/models/{VOCAB_FILE}")), None)
            source = archive.extractfile(member) if member else None
            if source is None:
                raise MeditronRagError(f"{archives[0].name} has no models/{VOCAB_FILE}.")
            part = path.with_suffix(".part")
            part.write_bytes(source.read())
    os.replace(part, path)


def tensor_specs() -> list[tuple[str, tuple[int, ...]]]:
    """(name, numpy shape) of every tensor of a llama-architecture 7B, in file order."""
    specs: list[tuple[str, tuple[int, ...]]] = [("token_embd.weight", (N_VOCAB, N_EMBD))]
    for i in range(N_LAYERS):
        b = f"blk.{i}."
        specs += [
            (b + "attn_norm.weight", (N_EMBD,)),
            (b + "attn_q.weight", (N_EMBD, N_EMBD)),
            (b + "attn_k.weight", (N_EMBD, N_EMBD)),
            (b + "attn_v.weight", (N_EMBD, N_EMBD)),
            (b + "attn_output.weight", (N_EMBD, N_EMBD)),
            (b + "ffn_norm.weight", (N_EMBD,)),
            (b + "ffn_gate.weight", (N_FF, N_EMBD)),
            (b + "ffn_up.weight", (N_FF, N_EMBD)),
            (b + "ffn_down.weight", (N_EMBD, N_FF)),
        ]
    specs += [("output_norm.weight", (N_EMBD,)), ("output.weight", (N_VOCAB, N_EMBD))]
    return specs


def parameter_count() -> int:
    return sum(int(np.prod(shape)) for _, shape in tensor_specs())


def write_f16(path: Path, seed: int = 0, log: Callable[[str], None] = print) -> Path:
    """Write the F16 GGUF, one tensor in memory at a time, with Llama's vocabulary."""
    import gguf

    rng = np.random.default_rng(seed)
    # One pool of N(0, 0.02) values; each matrix is a random window of it, so the file is
    # written at disk speed without drawing 6.7 billion random numbers.
    pool = (rng.standard_normal(N_FF * N_EMBD + (1 << 20), dtype=np.float32) * 0.02).astype(
        np.float16)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(NAME)
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYERS)
    writer.add_feed_forward_length(N_FF)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    tokens, scores, types = llama_vocabulary()
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    specs = tensor_specs()
    for name, shape in specs:
        dtype = np.float32 if len(shape) == 1 else np.float16
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        writer.add_tensor_info(name, shape, np.dtype(dtype), nbytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for n, (_name, shape) in enumerate(specs, start=1):
        if len(shape) == 1:
            tensor: np.ndarray = np.ones(shape, dtype=np.float32)
        else:
            size = int(np.prod(shape))
            if size <= len(pool):
                start = int(rng.integers(0, len(pool) - size + 1))
                tensor = pool[start:start + size].reshape(shape)
            else:  # the embedding and output matrices: tile the pool
                tensor = np.resize(np.roll(pool, int(rng.integers(0, len(pool)))), shape)
        writer.write_tensor_data(tensor)
        if n % 45 == 0 or n == len(specs):
            log(f"  wrote {n}/{len(specs)} tensors")
    writer.close()
    return path


def quantize(source: Path, target: Path, threads: int | None = None) -> Path:
    """llama.cpp's own quantizer: F16 GGUF to Q4_K_M."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.nthread = threads or (os.cpu_count() or 1)
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    tmp = target.with_suffix(".part")
    code = llama_cpp.llama_model_quantize(
        str(source).encode(), str(tmp).encode(), llama_cpp.byref(params))
    if code != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise MeditronRagError(f"llama_model_quantize failed with code {code} on {source}.")
    os.replace(tmp, target)
    return target


def build(folder: Path | None = None, keep_f16: bool = False,
          log: Callable[[str], None] = print) -> Path:
    """The Q4_K_M file, built once into `folder` (default: `cache_dir()`); returns its path."""
    folder = folder or cache_dir()
    target = model_path(folder)
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    f16 = folder / f"{NAME}.F16.gguf"
    need = (0 if f16.exists() else F16_BYTES) + Q4_BYTES + 1_000_000_000
    free = shutil.disk_usage(folder).free
    if free < need:
        raise MeditronRagError(
            f"Building the Meditron-shaped model needs about {need / 1e9:.1f} GB free in "
            f"{folder}; {free / 1e9:.1f} GB are. Free some space or set "
            "MEDITRON_RAG_BENCH_CACHE to another disk."
        )
    started = time.perf_counter()
    if not f16.exists():
        log(f"Writing {f16} ({parameter_count() / 1e9:.2f}B parameters, F16) ...")
        tmp = f16.with_suffix(".part")
        write_f16(tmp, log=log)
        os.replace(tmp, f16)
    log(f"Quantizing to Q4_K_M: {target} ...")
    quantize(f16, target)
    if not keep_f16:
        f16.unlink(missing_ok=True)
    log(f"Built {target} ({target.stat().st_size / 1e9:.2f} GB) in "
        f"{time.perf_counter() - started:.0f} s.")
    return target


if __name__ == "__main__":  # pragma: no cover - `python -m bench.meditron_shape`
    print(build())
