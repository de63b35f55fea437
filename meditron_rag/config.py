"""The one typed config, loaded once from config.yaml.

Precedence, lowest first: the defaults below, config.yaml, environment variables
(`MEDITRON_RAG_<SECTION>_<KEY>`, e.g. `MEDITRON_RAG_LLM_MODEL`), then CLI flags.
An unknown key or a bad value stops with a message that names the key and where it came from.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from meditron_rag.errors import ConfigError

ENV_PREFIX = "MEDITRON_RAG_"
CONFIG_ENV = "MEDITRON_RAG_CONFIG"
CONFIG_NAME = "config.yaml"
# The database password of `store.url`: read from the environment only, never a setting.
STORE_PASSWORD_ENV = "MEDITRON_RAG_STORE_PASSWORD"
# The HTTP API's bearer token: the environment or serve.token_file, never a setting.
API_TOKEN_ENV = "MEDITRON_RAG_API_TOKEN"
_SECRETS = (  # (pattern, replacement)
    (re.compile(r"(://[^:/?#@\s]*:)[^@/?#\s]+@"), r"\1***@"),  # postgresql://user:secret@host
    (re.compile(r"(\bpassword\s*=\s*)('[^']*'|[^&\s]+)", re.IGNORECASE), r"\1***"),  # conninfo
)


def redact(text: str, *secrets: str) -> str:
    """`text` with any password in a database URL or conninfo, and each of `secrets`,
    replaced by ***: for messages, logs and `config show`."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class EmbeddingConfig(_Section):
    model: str = "all-minilm-l6-v2"
    # Who embeds questions in a process that answers them: llama.cpp (the same weights as a
    # GGUF; no PyTorch in that process) or sentence-transformers. Ingest always uses the latter.
    runtime: Literal["llama.cpp", "sentence-transformers"] = "llama.cpp"
    batch_size: int = Field(32, ge=1, le=4096)
    ingest_window: int = Field(128, ge=1, le=65536)
    ingest_lookahead: int = Field(1024, ge=1, le=1_000_000)
    device: str = "cpu"
    threads: int | None = Field(None, ge=1)


class LLMConfig(_Section):
    model: str = "smollm2"
    n_ctx: int = Field(2048, ge=256, le=131072)
    n_threads: int | None = Field(None, ge=1)
    n_batch: int = Field(256, ge=8)
    use_mmap: bool = True
    repack_weights: bool = False
    flash_attn: bool = False
    # KV cache types, keys and values apart as in llama.cpp's --cache-type-k/-v.
    cache_type_k: Literal["f16", "q8_0"] = "q8_0"
    cache_type_v: Literal["f16", "q8_0"] = "f16"
    prefix_cache: bool = True
    prompt_format: Literal["auto", "completion", "chat"] = "auto"
    server_url: str | None = None
    server_timeout_s: float = Field(120.0, gt=0)

    @model_validator(mode="after")
    def _quantized_values_need_flash_attention(self) -> LLMConfig:
        # llama.cpp refuses it at load; saying so here names the settings to change.
        if self.cache_type_v != "f16" and not self.flash_attn:
            raise ValueError("cache_type_v q8_0 needs flash_attn: true (llama.cpp quantizes the "
                             "V cache only with flash attention)")
        return self


class IngestConfig(_Section):
    # A cap on one file's ingest time as much as on its size (config.yaml says why).
    max_file_mb: int = Field(10, ge=1)
    # A PDF's own size limit: its bytes are mostly images (config.yaml says why).
    max_pdf_mb: int = Field(200, ge=1)

    @property
    def max_file_bytes(self) -> int:
        """The file size limit as the loaders compare it."""
        return self.max_file_mb * 1024 * 1024

    @property
    def max_pdf_bytes(self) -> int:
        """The PDF size limit as the loaders compare it."""
        return self.max_pdf_mb * 1024 * 1024


class PdfConfig(_Section):
    # Scanned pages (no text layer, or a garbage one) are read by this OCR engine; "off"
    # refuses a scanned file. config.yaml says why tesseract.
    ocr_engine: Literal["tesseract", "rapidocr", "off"] = "tesseract"
    ocr_dpi: int = Field(300, ge=72, le=600)
    # Tesseract's language codes, joined by "+" ("eng+fra"); RapidOCR's models are fixed.
    ocr_language: str = Field("eng", pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$")
    # Ruled tables are kept as Markdown tables, cut into pieces of at most table_chars
    # characters, each with the caption and the header row.
    tables: bool = True
    table_chars: int = Field(800, ge=100, le=20000)


class IndexConfig(_Section):
    kind: Literal["auto", "flat", "ivf"] = "auto"
    approximate_above: int = Field(50_000, ge=1_000)


class StoreConfig(_Section):
    backend: Literal["sqlite", "postgres"] = "sqlite"
    url: str | None = None
    hnsw_m: int = Field(16, ge=2, le=100)
    hnsw_ef_construction: int = Field(64, ge=4, le=1000)
    hnsw_ef_search: int = Field(100, ge=1, le=1000)
    hnsw_build_memory_mb: int = Field(1024, ge=64, le=1_048_576)

    @field_validator("url")
    @classmethod
    def _no_password_in_the_url(cls, url: str | None) -> str | None:
        # The config is printed (`config show`) and logged; a password belongs in the
        # environment or ~/.pgpass, where libpq reads it.
        if url and redact(url) != url:
            raise ValueError(f"holds a password: take it out and set {STORE_PASSWORD_ENV} "
                             "(or PGPASSWORD, or a ~/.pgpass line) instead")
        return url

    @model_validator(mode="after")
    def _postgres_needs_a_url(self) -> StoreConfig:
        if self.backend == "postgres" and not self.url:
            raise ValueError("backend postgres needs store.url, a libpq URL such as "
                             "postgresql://meditron@db.example.org/meditron")
        return self


class ChunkingConfig(_Section):
    chunk_tokens: int = Field(200, ge=32, le=512)
    overlap_tokens: int = Field(32, ge=0, le=256)


class RetrievalConfig(_Section):
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    top_k: int = Field(5, ge=1, le=50)
    candidates: int = Field(40, ge=1, le=1000)
    fusion: Literal["convex", "rrf"] = "convex"
    dense_weight: float = Field(0.8, ge=0.0, le=1.0)
    rrf_k: int = Field(60, ge=1)
    reranker: str | None = None
    rerank_candidates: int = Field(20, ge=1, le=200)


class GenerationConfig(_Section):
    # extractive: the passages' own best sentences, quoted and checked (no model runs);
    # generative: the model writes, every sentence is checked; auto: extractive for a GGUF
    # under 1 GB (too small to write a checked answer), generative otherwise.
    answer_mode: Literal["auto", "extractive", "generative"] = "auto"
    extractive_sentences: int = Field(3, ge=1, le=10)
    # A question is not covered when the passages' best evidence sentence scores under
    # not_covered_below, or when most of its subject words are in no passage and the best
    # sentence scores under not_covered_missing_below (scores: 0.7 x cosine to the question
    # + 0.3 x share of its words, with the embedded all-MiniLM-L6-v2).
    not_covered_below: float = Field(0.45, ge=0.0, le=1.0)
    not_covered_missing_below: float = Field(0.55, ge=0.0, le=1.0)
    max_tokens: int = Field(320, ge=16, le=4096)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0)
    evidence_sentences: int = Field(3, ge=0, le=50)
    max_question_chars: int = Field(2000, ge=16)


class UIConfig(_Section):
    host: str = "localhost"
    port: int = Field(8501, ge=1, le=65535)
    # The operator's cap on one upload, over ingest's limits (config.yaml says why).
    max_upload_mb: int = Field(200, ge=1)
    # A running `meditron-rag serve` (http://host:port) the app asks and keeps its library
    # through, so that app and API share one model process; None: the app loads its own.
    api_url: str | None = None
    api_timeout_s: float = Field(60.0, gt=0, le=3600)

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^\s/]+", value.strip()):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value.strip().rstrip("/")


class ServeConfig(_Section):
    """The HTTP API of `meditron-rag serve` (config.yaml says what each is for)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    token_file: Path | None = None
    token_for_reads: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    queue_waiting: int = Field(16, ge=0, le=10_000)
    retry_after_s: int = Field(10, ge=1, le=3600)
    follow_ups: bool = True
    keepalive_s: float = Field(15.0, gt=0, le=300)


class Config(_Section):
    """Every setting of meditron-rag. `source` is the file it was read from, if any."""

    data_dir: Path = Path("data")
    embedding: EmbeddingConfig = EmbeddingConfig()
    llm: LLMConfig = LLMConfig()
    ingest: IngestConfig = IngestConfig()
    pdf: PdfConfig = PdfConfig()
    chunking: ChunkingConfig = ChunkingConfig()
    index: IndexConfig = IndexConfig()
    store: StoreConfig = StoreConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    generation: GenerationConfig = GenerationConfig()
    ui: UIConfig = UIConfig()
    serve: ServeConfig = ServeConfig()

    source: Path | None = Field(None, exclude=True)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


def default_data_dir() -> Path:
    """Where state lives when no config file names a folder."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "meditron-rag"


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: an explicit path, $MEDITRON_RAG_CONFIG, or ./config.yaml."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"Config file {path} does not exist.")
        return path
    if env := os.environ.get(CONFIG_ENV):
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV} points at {path}, which does not exist.")
        return path
    local = Path.cwd() / CONFIG_NAME
    return local if local.is_file() else None


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """Nest MEDITRON_RAG_<SECTION>_<KEY> variables into a dict shaped like config.yaml."""
    sections = {
        name for name, field in Config.model_fields.items()
        if isinstance(field.default, _Section)
    }
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in (CONFIG_ENV, STORE_PASSWORD_ENV,
                                                       API_TOKEN_ENV):
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key in Config.model_fields and key not in sections and key != "source":
            out[key] = value
            continue
        section, _, sub = key.partition("_")
        if section not in sections or not sub:
            raise ConfigError(f"Unknown setting in environment variable {name}.")
        out.setdefault(section, {})[sub] = None if value.lower() in ("", "null", "none") else value
    return out


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError, origin: str) -> str:
    parts = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"])
        if item["type"] == "extra_forbidden":
            parts.append(f"unknown key '{key}'")
        else:
            parts.append(f"'{key}': {item['msg']} (got {item.get('input')!r})")
    return redact(f"Bad config in {origin}: " + "; ".join(parts) + ".")


def api_token(config: Config) -> str:
    """The token from the environment, else the first line of serve.token_file; "" if none."""
    if token := os.environ.get(API_TOKEN_ENV, "").strip():
        return token
    path = config.serve.token_file
    if path is None:
        return ""
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"serve.token_file {path} cannot be read: {exc.strerror}.") from None
    token = lines[0].strip() if lines else ""
    if not token:
        raise ConfigError(f"serve.token_file {path} is empty: put the token on its first line.")
    return token


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Config:
    """Read the config once: defaults, then the file, then the environment, then `overrides`."""
    environ = dict(os.environ) if environ is None else environ
    file = find_config_file(path)
    data: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file} is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            kind = type(loaded).__name__
            raise ConfigError(f"{file} must hold a mapping of settings, not a {kind}.")
        data = loaded or {}
    origin = str(file) if file else "the defaults"
    try:
        Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None
    env = _env_overrides(environ)
    merged = _merge(_merge(data, env), overrides or {})
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        where = f"{origin}, environment variables or command-line flags"
        raise ConfigError(_describe(exc, where)) from None
    base = file.parent.resolve() if file else None
    if "data_dir" not in merged:
        data_dir = base / config.data_dir if base else default_data_dir()
    else:
        data_dir = config.data_dir.expanduser()
        if not data_dir.is_absolute():
            data_dir = (base or Path.cwd()) / data_dir
    config.data_dir = data_dir.resolve()
    config.source = file.resolve() if file else None
    return config
