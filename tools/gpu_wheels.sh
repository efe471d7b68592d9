#!/usr/bin/env bash
# Build .whl/, the wheels a lent GPU machine without internet needs beside its own packages
# (../shared/GPU.md): chainer 7.8.1, pure Python, built here. Run from the repository root;
# then carry ".whl" and run research/gpu_session.sh there, which installs it.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
BUILD=${BUILD_VENV:-/tmp/videogan-wheel-build}
[ -x "$BUILD/bin/pip" ] || python3 -m venv "$BUILD"
"$BUILD/bin/pip" install --quiet "setuptools<70" wheel
"$BUILD/bin/pip" wheel --quiet --no-build-isolation --no-deps chainer==7.8.1 -w .whl
ls -la .whl
