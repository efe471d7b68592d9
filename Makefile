# Two entry points: `make train` (built-in dataset, writes gifs) and `make test`.
# Both create .venv with what they need on first use: `make train` the runtime alone,
# `make test` also the test tools (pytest, MPI). FAST=0 skips the optional PyTorch kernels
# that make CPU training several times faster. Every version comes from constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --quiet
PIN := -c constraints.txt
CONFIG ?= setup.ini
FAST ?= 1
SETUP := $(if $(filter 1,$(FAST)),setup-fast,setup)

.PHONY: setup setup-fast setup-dev setup-gpu train test test-quick test-modern bench clean-venv

setup: $(VENV)/.installed

# chainer 7.8.1 is a source package whose setup.py imports pkg_resources, which the setuptools
# pip builds with (the newest) lacks: it is built once beside setuptools<70 without build
# isolation (pip keeps the wheel in its cache). Then requirements.txt, the project (editable)
# and its dependencies, which brings setuptools back to constraints.txt's current version;
# chainer imports beside it through base/chainer_compat.py.
$(VENV)/.installed: requirements.txt pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIN) --upgrade pip
	$(PIP) install "setuptools<70" wheel
	$(PIP) install $(PIN) --no-build-isolation --no-deps chainer
	$(PIP) install $(PIN) -r requirements.txt
	touch $@

setup-fast: $(VENV)/.installed-fast

# torch's CPU build (about 200 MB) from PyTorch's CPU index where it answers; elsewhere the
# default index's torch (on Linux PyPI's is the CUDA build, several GB; FAST=0 skips it).
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
$(VENV)/.installed-fast: $(VENV)/.installed requirements-fast.txt constraints.txt
	@if $(PY) -c "import urllib.request as r; r.urlopen('$(TORCH_CPU_INDEX)/torch/', timeout=15)" \
	        2>/dev/null; then index="--extra-index-url $(TORCH_CPU_INDEX)"; \
	else index=; echo "setup-fast: $(TORCH_CPU_INDEX) does not answer;" \
	        "torch from the default index"; fi; \
	echo "$(PIP) install $(PIN) $$index -r requirements-fast.txt"; \
	$(PIP) install $(PIN) $$index -r requirements-fast.txt
	touch $@

# The test suite's tools (requirements-dev.txt): make test only.
setup-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt constraints.txt
	$(PIP) install $(PIN) -r requirements-dev.txt
	touch $@

# One CUDA GPU: CuPy 13 (keeps numpy < 2; for a CUDA 13 driver CUPY="cupy-cuda13x<14") and
# PyTorch's CUDA build, whose cuDNN kernels run the convolutions ([MODEL] fast_gpu). Set
# TORCH_INDEX to a PyTorch wheel index for another CUDA version (docs/speed.md).
CUPY ?= cupy-cuda12x<14
TORCH_INDEX ?=
setup-gpu: $(VENV)/.installed-gpu

$(VENV)/.installed-gpu: $(VENV)/.installed requirements-fast.txt
	$(PIP) install $(PIN) "$(CUPY)"
	$(PIP) install $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) -r requirements-fast.txt
	$(PY) -c "import torch, cupy; print('cupy', cupy.__version__, '| torch', torch.__version__, '| GPU seen by torch:', torch.cuda.is_available())"
	touch $@

train: $(SETUP)
	$(PY) main_train.py --config $(CONFIG)

# Every run of the suite prints its 15 slowest tests and, last, its total time.
DURATIONS := --durations=15

test: $(SETUP) setup-dev
	$(PY) -m pytest -q $(DURATIONS) tests

# The suite without the tests that launch a process (marked subprocess: main_train.py runs,
# fresh interpreters, mpiexec), for a quick check while editing.
test-quick: $(SETUP) setup-dev
	$(PY) -m pytest -q $(DURATIONS) -m "not subprocess" tests

# The suite on Python 3.12 + numpy 2 + newest setuptools/OpenCV (tools/modern_env.sh).
test-modern: .venv/modern/.installed
	.venv/modern/bin/python -m pytest -q $(DURATIONS) tests

.venv/modern/.installed: tools/modern_env.sh
	bash tools/modern_env.sh

bench: setup-fast
	$(PY) bench/train_step.py --peer torch
	$(PY) bench/loader.py

clean-venv:
	rm -rf $(VENV) .venv/modern
