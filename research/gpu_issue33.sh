#!/usr/bin/env bash
# The GPU issue's first call on a lent GPU (../shared/GPU.md; about 5 minutes), run from the
# repository root with `.whl` carried (chainer's wheel, setuptools<70): bench/gpu_check.py
# (every GPU path against the CPU), bench/gpu_profile.py (s/iter against PyTorch eager at
# the first-run size, ch 256 64x64x32 batch 32 and the original code's size at batch 16
# and 64, with the GPU busy share, host syncs and kernel launches per iteration), then
# main_train.py's first run (setup.ini, every default extension) on the GPU for MAIN_S
# seconds for its it/s. Everything lands in $OUT/issue33.log; the tables print last.
# On the CPU for a check: GPU=-1 OUT=/tmp/o CHECK_S=0 CONFIGS=tiny MAIN_S=30 bash research/gpu_issue33.sh
set -u
GPU=${GPU:-0}
OUT=${OUT:?set OUT to a results folder}
CHECK_S=${CHECK_S:-100}
CONFIGS=${CONFIGS:-first,shapes,seed16,seed64}
MAIN_S=${MAIN_S:-75}
PY=${PY:-python3}
mkdir -p "$OUT"
exec > >(tee "$OUT/issue33.log") 2>&1
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD
export PYTHONUNBUFFERED=1
stamp() { echo "== $(date +%T) $*"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null
$PY -c "import numpy, chainer, torch; import cupy
print('numpy', numpy.__version__, 'chainer', chainer.__version__, 'torch', torch.__version__,
      'cupy', cupy.__version__)" 2>/dev/null

if [ "$CHECK_S" -gt 0 ]; then
    stamp "gpu_check"
    timeout -s TERM "$CHECK_S" $PY bench/gpu_check.py --device "$GPU" --budget $((CHECK_S - 30))
    echo "gpu_check exit $?"
fi
stamp "gpu_profile $CONFIGS"
$PY bench/gpu_profile.py --device "$GPU" --configs "$CONFIGS" --reps 10 > "$OUT/profile.md"
echo "gpu_profile exit $?"

stamp "main_train.py, the first run, for $MAIN_S s"
RUN=/tmp/issue33_first
rm -rf "$RUN"
timeout -s TERM "$MAIN_S" $PY main_train.py --set MODEL.use_gpu="$GPU" \
    --set SAVING.out_dir="$RUN" --set SAVING.resume=none > "$OUT/first_run.txt" 2>&1
echo "main_train exit $? (124: stopped by the timer, as planned)"
stamp done
echo "## bench/gpu_profile.py"
cat "$OUT/profile.md"
echo "## main_train.py first run: its progress lines (it/s with every default extension)"
grep -a -E "it/s|finished|stopped" "$OUT/first_run.txt" | tail -4
