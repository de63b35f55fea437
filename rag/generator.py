"""Text generators: a GGUF in this process (llama-cpp-python) or an OpenAI-compatible server.

Both stream text pieces, count tokens for packing, and stop on a length cap, a stop string,
a loop, or a deadline, so nothing hangs and a cut answer is labelled as such.
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import hashlib
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from meditron_rag.config import GenerationConfig, LLMConfig
from meditron_rag.errors import GenerationError, ModelLoadError
from meditron_rag.llama import load_llama
from meditron_rag.models import check_gguf
from rag.prompts import COMPLETION, PromptFormat, chat_format

if TYPE_CHECKING:
    from llama_cpp.llama_types import CreateCompletionStreamResponse


@dataclass
class Generation:
    """Filled in while a stream runs: why it stopped and how many tokens it read and wrote."""

    finish: str = ""  # "stop", "length", "loop", "timeout"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float = 0.0
    seconds: float = 0.0


def looping(text: str, min_repeats: int = 3, min_len: int = 12) -> bool:
    """True when the tail of `text` is one stretch of at least `min_len` characters repeated
    `min_repeats` times: small models fall into such loops and never reach a stop string."""
    tail = text[-600:]
    for size in range(min_len, len(tail) // min_repeats + 1):
        unit = tail[-size:]
        if tail.endswith(unit * min_repeats):
            return True
    return False


KV_TYPES = {"f16": 1, "q8_0": 8}  # ggml type ids (llama_cpp.GGML_TYPE_F16, GGML_TYPE_Q8_0)


def _follow(choices: Iterable[Mapping[str, Any]], state: Generation, started: float,
            deadline_s: float) -> Iterator[str]:
    """The streamed choices' text, token by token, until the model stops, loops or runs out of
    time; `state` records when the first token came and why the stream ended."""
    text = ""
    for choice in choices:
        token = choice.get("text") or ""
        if token:
            if not state.completion_tokens:
                state.first_token_s = time.perf_counter() - started
            state.completion_tokens += 1
            text += token
            yield token
        if choice.get("finish_reason"):
            state.finish = choice["finish_reason"]
        if looping(text):
            state.finish = "loop"
            return
        if time.perf_counter() - started > deadline_s:
            state.finish = "timeout"
            return


def _sse_choices(response: Iterable[bytes]) -> Iterator[Mapping[str, Any]]:
    """The first choice of each server-sent event of an OpenAI-compatible completion stream."""
    for raw in response:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)["choices"][0]


class _Streaming(abc.ABC):
    """The one `stream` both generators share; each supplies its completion's choices."""

    format: PromptFormat
    timeout_s: float

    @abc.abstractmethod
    def _completion(self, prompt: str, settings: GenerationConfig, max_tokens: int,
                    stops: list[str], state: Generation, deadline_s: float
                    ) -> contextlib.AbstractContextManager[Iterable[Mapping[str, Any]]]:
        """The completion's stream of choices, open while the caller reads it."""

    def stream(
        self,
        prompt: str,
        settings: GenerationConfig,
        *,
        max_tokens: int | None = None,
        stops: Sequence[str] = (),
        timeout_s: float | None = None,
        state: Generation | None = None,
    ) -> Generator[str, None, None]:
        """The completion of `prompt` piece by piece, sampled as `settings` says; `max_tokens`
        (else `settings.max_tokens`) caps it and `timeout_s` (else the generator's own) is
        its deadline. `state` says afterwards why it stopped and how long it took."""
        state = state if state is not None else Generation()
        deadline = timeout_s or self.timeout_s
        started = time.perf_counter()
        with self._completion(prompt, settings, max_tokens or settings.max_tokens,
                              list(stops or self.format.stops), state, deadline) as choices:
            yield from _follow(choices, state, started, deadline)
        state.finish = state.finish or "stop"
        state.seconds = time.perf_counter() - started


class LocalGenerator(_Streaming):
    """A GGUF loaded once in this process; one lock serialises its users.

    llama-cpp-python keeps the KV cache of the previous prompt and reuses its longest common
    prefix, so the fixed start of our prompts (instructions, worked example) is evaluated once.
    Its weights are repacked only with `llm.repack_weights` (off in config.yaml):
    meditron_rag.llama says why.
    """

    timeout_s = 600.0  # no server deadline applies in-process; this stops a runaway stream

    def __init__(self, path: Path, name: str, settings: LLMConfig) -> None:
        """Load `path` with the runtime settings of `settings` (window, threads, batch,
        memory mapping, repacking, flash attention, KV cache types, prompt format)."""
        check_gguf(path)
        threads = settings.n_threads or max(1, (os.cpu_count() or 2))
        try:
            self.llm = load_llama(
                path, settings.repack_weights, n_ctx=settings.n_ctx, n_threads=threads,
                n_threads_batch=threads, n_batch=settings.n_batch, use_mmap=settings.use_mmap,
                verbose=False, flash_attn=settings.flash_attn,
                type_k=KV_TYPES[settings.cache_type_k], type_v=KV_TYPES[settings.cache_type_v],
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {path} ({exc}); the file may be corrupt or truncated: "
                "download it again."
            ) from None
        self.name = name
        self.n_ctx = settings.n_ctx
        self.lock = threading.Lock()
        template = self.llm.metadata.get("tokenizer.chat_template")
        prompt_format = settings.prompt_format
        use_chat = prompt_format == "chat" or (prompt_format == "auto" and bool(template))
        if use_chat and not template:
            raise ModelLoadError(
                f"{path} has no chat template; set llm.prompt_format to completion or auto."
            )
        self.format: PromptFormat = (
            chat_format(template, bos="", eos=self._eos()) if use_chat and template else COMPLETION
        )

    def warm_prefix(self, prefix: str, cache_dir: Path | None = None) -> str:
        """Evaluate the fixed start of every prompt once and keep its KV cache.

        llama.cpp then reuses it for each question (llama-cpp-python matches the longest common
        token prefix). With `cache_dir`, the state is also kept on disk, so a restart reads it
        back instead of recomputing it. The file is llama.cpp's own session file (tokens and
        state), named by a hash of the model file, window, cache types and tokens it belongs
        to; anything that does not load or does not match is recomputed. Returns "disk",
        "computed" or "empty".
        """
        import llama_cpp.llama_cpp as llama_cpp

        tokens = self.llm.tokenize(prefix.encode("utf-8"), add_bos=True, special=True)[:-1]
        if not tokens:
            return "empty"
        stat = Path(self.llm.model_path).stat()
        params = self.llm.context_params
        header = {
            "model": str(Path(self.llm.model_path).resolve()), "size": stat.st_size,
            "mtime": int(stat.st_mtime), "n_ctx": self.n_ctx, "type_k": int(params.type_k),
            "type_v": int(params.type_v), "tokens": [int(t) for t in tokens],
        }
        key = hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()[:20]
        path = cache_dir / f"prefix-{key}.kv" if cache_dir else None
        ctx = self.llm._ctx.ctx  # noqa: SLF001 - the state API needs the raw context
        with self.lock:
            if path is not None and path.exists():
                # llama.cpp reads the file tensor by tensor into the KV cache: the state of a
                # large model's prefix is big, and a copy of it in Python would add to the peak
                # memory.
                saved = (llama_cpp.llama_token * len(tokens))()
                count = ctypes.c_size_t(0)
                self.llm.reset()
                if (llama_cpp.llama_state_load_file(ctx, str(path).encode(), saved, len(tokens),
                                                    ctypes.byref(count))
                        and list(saved[: count.value]) == tokens):
                    self.llm.input_ids[: len(tokens)] = tokens
                    self.llm.n_tokens = len(tokens)
                    self.llm._requires_eval = True  # noqa: SLF001 - logits not restored
                    return "disk"
            self.llm.reset()
            self.llm.eval(tokens)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                array = (llama_cpp.llama_token * len(tokens))(*tokens)
                if llama_cpp.llama_state_save_file(ctx, str(tmp).encode(), array, len(tokens)):
                    os.replace(tmp, path)
                else:
                    tmp.unlink(missing_ok=True)
            return "computed"

    def _eos(self) -> str:
        eos_id = self.llm.token_eos()
        return self.llm.detokenize([eos_id], special=True).decode("utf-8", errors="ignore")

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    @contextlib.contextmanager
    def _completion(self, prompt: str, settings: GenerationConfig, max_tokens: int,
                    stops: list[str], state: Generation, deadline_s: float
                    ) -> Iterator[Iterable[Mapping[str, Any]]]:
        with self.lock:
            # With stream=True the completion is an iterator of chunks; the stub's return type
            # is the union of both modes.
            pieces = cast("Iterator[CreateCompletionStreamResponse]", self.llm.create_completion(
                prompt, max_tokens=max_tokens, temperature=settings.temperature,
                repeat_penalty=settings.repeat_penalty, stop=stops, stream=True,
            ))
            state.prompt_tokens = self.count_tokens(prompt)
            yield (piece["choices"][0] for piece in pieces)


class ServerGenerator(_Streaming):
    """Any OpenAI-compatible completion server: llama.cpp's, llama-cpp-python's, vLLM, Ollama.

    Token counts come from the server's /tokenize endpoint where it has one; otherwise from a
    conservative estimate (3 characters a token), so packing never overflows the window.
    Prompts are in the completion format: the server's chat template is not read, so
    `llm.prompt_format` applies to the in-process model only.
    """

    def __init__(self, url: str, model: str, settings: LLMConfig) -> None:
        """`model` is the name the server knows its model by ("": the server's own); the
        window is `settings.n_ctx` and a stream's deadline `settings.server_timeout_s`."""
        self.base = url.rstrip("/")
        if self.base.endswith("/v1"):
            self.base = self.base[:-3]
        self.model = model
        self.name = f"{model or 'model'} @ {self.base}"
        self.n_ctx = settings.n_ctx
        self.timeout_s = settings.server_timeout_s
        self.format = COMPLETION
        self._tokenize_path: str | None = None
        self._probe()

    def _post(self, path: str, body: Mapping[str, object]) -> urllib.request.Request:
        return urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
        )

    def _probe(self) -> None:
        """Fail now, with the URL, if the server is down; find its tokenizer endpoint."""
        for path in ("/tokenize", "/extras/tokenize"):
            try:
                with urllib.request.urlopen(
                    self._post(path, {"content": "a", "input": "a"}), timeout=5
                ) as response:
                    json.loads(response.read() or b"{}")
                self._tokenize_path = path
                return
            except urllib.error.HTTPError:
                continue
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise GenerationError(
                    f"The completion server at {self.base} does not answer ({reason}); start it "
                    "or set llm.server_url to null to use the in-process model."
                ) from None

    def count_tokens(self, text: str) -> int:
        if self._tokenize_path:
            body = {"content": text, "input": text}
            try:
                with urllib.request.urlopen(
                    self._post(self._tokenize_path, body), timeout=10
                ) as response:
                    data = json.loads(response.read())
                return len(data.get("tokens", [])) + 1
            except (urllib.error.URLError, OSError, ValueError):
                pass
        return len(text) // 3 + 1

    @contextlib.contextmanager
    def _completion(self, prompt: str, settings: GenerationConfig, max_tokens: int,
                    stops: list[str], state: Generation, deadline_s: float
                    ) -> Iterator[Iterable[Mapping[str, Any]]]:
        body: dict[str, object] = {
            "prompt": prompt, "max_tokens": max_tokens, "temperature": settings.temperature,
            "stop": stops[:4], "stream": True, "repeat_penalty": settings.repeat_penalty,
        }
        if self.model:
            body["model"] = self.model
        try:
            response = urllib.request.urlopen(
                self._post("/v1/completions", body), timeout=min(deadline_s, 60)
            )
        except (urllib.error.URLError, OSError) as exc:
            raise GenerationError(
                f"The completion server at {self.base} failed ({getattr(exc, 'reason', exc)})."
            ) from None
        with response:
            yield _sse_choices(response)
        state.prompt_tokens = self.count_tokens(prompt)
