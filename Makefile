# The README's two commands: `make run` (set up and serve) and `make test` (lint + tests).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
# Where the CPU build of torch comes from when no local wheel provides it. PyPI's torch for
# Linux is the CUDA build (gigabytes of nvidia-* wheels): never let pip pick that one.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
export HF_HUB_OFFLINE := 1

.PHONY: setup run test test-slow model screenshot docker docker-check

setup: $(VENV)/.installed

# CPU torch first, pinned with its +cpu tag, so nothing that depends on torch can pull in the
# CUDA build: from pip's configured sources (a local wheel, a mirror) when they have it, else
# from the PyTorch CPU index. Then the package with its training and test extras.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	  "presslens needs Python >= 3.11; run with PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==$(TORCH_VERSION)+cpu" 2>/dev/null \
	  || $(PY) -m pip install -q "torch==$(TORCH_VERSION)+cpu" --index-url $(TORCH_INDEX)
	$(PY) -m pip install -q -e ".[train,dev,scale]"
	touch $@

run: setup
	$(VENV)/bin/presslens serve

# The fast suite (lint, import rules, every test but full training runs): minutes.
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -m "not rebuild"

# Training end to end on a small subset (fine-tune a few steps, fit, score, export).
test-slow: setup
	$(PY) -m pytest -m rebuild -v

# The README's picture: the browser test labels seed 001 on the page and keeps a screenshot.
screenshot: setup
	$(PY) -m pytest -q tests/service/test_page.py -k test_page_labels_seed_001
	cp test-artifacts/page-seed-001.png docs/page.png

# Rebuild the shipped model: fine-tune on the corpus, the real-news annotations and
# NewsMTSC (from ../shared/datasets when present), fit, score, export (~45 min, 2 cores).
model: setup
	$(PY) -m training.build_default

# The serving image (CPU only, no torch), and its proof: build, serve, classify, stop.
docker:
	docker build -t presslens .

docker-check:
	bash bench/docker_check.sh
