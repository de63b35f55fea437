from pathlib import Path

import pytest
import yaml

from meditron_rag.config import Config, load_config
from meditron_rag.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_config_yaml_lists_every_setting_with_its_default():
    on_disk = yaml.safe_load((ROOT / "config.yaml").read_text())
    defaults = Config().model_dump(mode="json")
    defaults["data_dir"] = "data"
    assert on_disk == defaults


def test_relative_data_dir_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "config.yaml").write_text("data_dir: store\n")
    config = load_config(tmp_path / "config.yaml", environ={})
    assert config.data_dir == (tmp_path / "store").resolve()
    assert config.source == (tmp_path / "config.yaml").resolve()


def test_unknown_key_names_the_key_and_the_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("llm:\n  modle: smollm2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "llm.modle" in str(info.value) and str(path) in str(info.value)


def test_bad_value_names_the_key(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("retrieval:\n  top_k: lots\n")
    with pytest.raises(ConfigError, match="retrieval.top_k"):
        load_config(path, environ={})


def test_a_quantized_v_cache_without_flash_attention_is_refused_by_name(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("llm:\n  cache_type_v: q8_0\n")
    with pytest.raises(ConfigError, match="flash_attn"):
        load_config(path, environ={})
    path.write_text("llm:\n  cache_type_v: q8_0\n  flash_attn: true\n")
    assert load_config(path, environ={}).llm.cache_type_v == "q8_0"


def test_not_yaml(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("llm: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, environ={})


def test_environment_then_overrides_win(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("llm:\n  n_ctx: 1024\n")
    env = {"MEDITRON_RAG_LLM_N_CTX": "4096", "MEDITRON_RAG_RETRIEVAL_TOP_K": "3"}
    config = load_config(path, environ=env)
    assert config.llm.n_ctx == 4096 and config.retrieval.top_k == 3
    config = load_config(path, {"retrieval": {"top_k": 7}}, environ=env)
    assert config.retrieval.top_k == 7


def test_unknown_environment_setting_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="MEDITRON_RAG_LLM"):
        load_config(ROOT / "config.yaml", environ={"MEDITRON_RAG_LLM": "x"})
    with pytest.raises(ConfigError, match="llm.colour"):
        load_config(ROOT / "config.yaml", environ={"MEDITRON_RAG_LLM_COLOUR": "x"})


def test_bad_environment_value_is_refused():
    with pytest.raises(ConfigError, match="llm.n_ctx"):
        load_config(ROOT / "config.yaml", environ={"MEDITRON_RAG_LLM_N_CTX": "big"})


def test_missing_explicit_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_the_apps_api_url_is_an_http_url_or_nothing():
    url = load_config(None, environ={"MEDITRON_RAG_UI_API_URL": "http://127.0.0.1:8000/"})
    assert url.ui.api_url == "http://127.0.0.1:8000"
    assert load_config(None, environ={"MEDITRON_RAG_UI_API_URL": ""}).ui.api_url is None
    with pytest.raises(ConfigError, match="ui.api_url"):
        load_config(None, environ={"MEDITRON_RAG_UI_API_URL": "127.0.0.1:8000"})
