# The commands the README, CI and developers use. `make run` and `make test` each do the whole
# set-up on a fresh machine: a virtual environment, CPU PyTorch first, then the project.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Extra pip arguments for PyTorch, e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
# on Linux outside an offline mirror, so that pip does not pull the CUDA build.
TORCH_PIP_ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test install lint cli-docs corpus-pdfs clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0" $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

# The main job on the embedded defaults: index corpora/starter on first run, serve the app.
run: install
	$(BIN)/meditron-rag ui --seed corpora/starter

# The whole test suite.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Style and types: ruff, then mypy over the packages, bench/ and scripts/ (pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/python -m mypy

# Rewrite docs/cli.md from the commands' --help (tests/test_docs.py fails while it differs).
cli-docs: install
	$(BIN)/python -m scripts.cli_docs

corpus-pdfs: install
	$(BIN)/python -m scripts.build_corpus_pdfs

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
