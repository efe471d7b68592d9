# Two entry points: `make train` (built-in dataset, writes gifs) and `make test`.
# Both create .venv with what they need on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= setup.ini

.PHONY: setup train test clean-venv

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools<70" wheel
	$(PY) -m pip install --quiet --no-build-isolation -r requirements-dev.txt
	touch $@

train: setup
	$(PY) main_train.py --config $(CONFIG)

test: setup
	$(PY) -m pytest -q tests

clean-venv:
	rm -rf $(VENV)
