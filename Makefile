# Two entry points: `make train` (built-in dataset, writes gifs) and `make test`.
# Both create .venv with what they need on first use. FAST=0 skips the optional
# PyTorch kernels that make CPU training several times faster.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --quiet
CONFIG ?= setup.ini
FAST ?= 1
SETUP := $(if $(filter 1,$(FAST)),setup-fast,setup)

.PHONY: setup setup-fast setup-gpu train test test-modern bench clean-venv

setup: $(VENV)/.installed

# The project itself goes in editable (pyproject.toml), so every script imports the library.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip "setuptools<70" wheel
	$(PIP) install --no-build-isolation -r requirements-dev.txt
	PYTHONWARNINGS=ignore $(PIP) install --no-build-isolation --no-deps -e .
	touch $@

setup-fast: $(VENV)/.installed-fast

# torch pulls in setuptools>=77, whose distutils shim chainer cannot import; torch needs it only
# to build C++ extensions, so setuptools<70 goes back (pip then reports that one conflict).
$(VENV)/.installed-fast: $(VENV)/.installed bench/requirements.txt
	$(PIP) install -r bench/requirements.txt
	@echo "setup-fast: putting setuptools<70 back for chainer (torch's C++-extension builder alone wants newer)"
	$(PIP) install "setuptools<70"
	touch $@

# One CUDA GPU: CuPy 13 (keeps numpy < 2; for a CUDA 13 driver CUPY="cupy-cuda13x<14") and
# PyTorch's CUDA build, whose cuDNN kernels run the convolutions ([MODEL] fast_gpu). Set
# TORCH_INDEX to a PyTorch wheel index for another CUDA version (docs/speed.md).
CUPY ?= cupy-cuda12x<14
TORCH_INDEX ?=
setup-gpu: $(VENV)/.installed-gpu

$(VENV)/.installed-gpu: $(VENV)/.installed bench/requirements.txt
	$(PIP) install "$(CUPY)"
	$(PIP) install $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) -r bench/requirements.txt
	$(PIP) install "setuptools<70"
	$(PY) -c "import torch, cupy; print('cupy', cupy.__version__, '| torch', torch.__version__, '| GPU seen by torch:', torch.cuda.is_available())"
	touch $@

train: $(SETUP)
	$(PY) main_train.py --config $(CONFIG)

test: $(SETUP)
	$(PY) -m pytest -q tests

# The suite on Python 3.12 + numpy 2 + newest setuptools/OpenCV (tools/modern_env.sh).
test-modern: .venv/modern/.installed
	.venv/modern/bin/python -m pytest -q tests

.venv/modern/.installed: tools/modern_env.sh
	bash tools/modern_env.sh

bench: setup-fast
	$(PY) bench/train_step.py --peer torch
	$(PY) bench/loader.py

clean-venv:
	rm -rf $(VENV) .venv/modern
