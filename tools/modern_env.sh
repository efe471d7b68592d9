#!/usr/bin/env bash
# Build .venv/modern: Python 3.12, numpy 2, the newest setuptools (no pkg_resources)
# and OpenCV, with chainer 7.8.1 built the only way it builds (setuptools<70, no
# build isolation) and setuptools upgraded afterwards. The test suite runs there
# through base/chainer_compat.py. Python 3.12 is the newest that pyproject.toml's
# requires-python admits.
set -euo pipefail
cd "$(dirname "$0")/.."
find_python() {
    for candidate in python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12; do
        if "$candidate" --version >/dev/null 2>&1; then echo "$candidate"; return; fi
    done
    echo "no Python 3.12 found (set MODERN_PYTHON)" >&2; exit 1
}
PY=${MODERN_PYTHON:-$(find_python)}
VENV=${MODERN_VENV:-.venv/modern}
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip "setuptools<70" wheel
"$VENV/bin/python" -m pip install --quiet --no-build-isolation chainer==7.8.1
"$VENV/bin/python" -m pip install --quiet --upgrade setuptools "numpy>=2" opencv-python-headless \
    pillow imageio matplotlib pytest pytubefix tqdm
PYTHONWARNINGS=ignore "$VENV/bin/python" -m pip install --quiet --no-build-isolation --no-deps -e .
touch "$VENV/.installed"
