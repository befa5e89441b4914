# The README's two commands: `make run` (set up and serve) and `make test` (lint + tests).
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1

.PHONY: setup run test model

setup: $(VENV)/.installed

# torch==2.13.0 first: it is the CPU build; an unpinned torch would pull a CUDA build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[train,dev]"
	touch $@

run: setup
	$(VENV)/bin/presslens serve

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# Rebuild the shipped model from the corpus (and NewsMTSC's train set when present).
model: setup
	$(PY) -m training.build_default
