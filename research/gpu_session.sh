#!/usr/bin/env bash
# One lent-GPU session (../shared/GPU.md), run from the repository root on the lent machine
# with `.whl` carried (the chainer wheel): bench/gpu_check.py while the built-in dataset is
# made, then main_train.py at 64x64x32 for TRAIN_S seconds (continuing a shipped run from
# models/trainer_snapshot.npz when one is shipped and RUN holds none; without the fused nodes when gpu_check
# finds a difference, or again without them should the run fail early), a RESUME_S-second
# resume of that run on the GPU, and gifs from its GPU-written generator on the CPU.
# CHECK_ARGS go to gpu_check. Results land in $OUT: session.log,
# the newest trainer snapshot in 15 MB parts (join with cat) and run.tar.gz (log, networks,
# gifs, plots). Locally, GPU=-1 OUT=/tmp/out TRAIN_S=30 CHECK_S=0 runs the same steps on the CPU.
set -u
GPU=${GPU:-0}
TRAIN_S=${TRAIN_S:-270}
CHECK_S=${CHECK_S:-170}
CHECK_ARGS=${CHECK_ARGS:-}
RESUME_S=${RESUME_S:-45}
RUN=${RUN:-runs/gpu}
OUT=${OUT:?set OUT to a results folder}
mkdir -p "$OUT"
exec > >(tee "$OUT/session.log") 2>&1
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
stamp() { echo "== $(date +%T) $*"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null

stamp "built-in dataset (background) and gpu_check"
$PY -c "from utils import chainer_compat; from datastream.moving_shapes import ensure_dataset
ensure_dataset('data/moving_shapes', 'index.txt', 1024)" &
BUILD=$!
CHECK_RC=0
if [ "$CHECK_S" -gt 0 ]; then
    timeout -s TERM "$CHECK_S" $PY bench/gpu_check.py --device "$GPU" --budget $((CHECK_S - 60)) \
        $CHECK_ARGS
    CHECK_RC=$?
    echo "gpu_check exit $CHECK_RC"
fi
wait $BUILD

if [ ! -d "$RUN" ] && [ -f models/trainer_snapshot.npz ]; then
    N=$($PY -c "import numpy; print(int(numpy.load('models/trainer_snapshot.npz')['updater/iteration']))")
    mkdir -p "$RUN" && cp models/trainer_snapshot.npz "$RUN/snapshot_iter_$N"
    stamp "continuing the shipped run from iteration $N"
fi
ARGS=(--set MODEL.use_gpu="$GPU" --set MODEL.frame_size=64 --set MODEL.n_frames=32
      --set MODEL.ch=128 --set MODEL.batch_size=16 --set MODEL.iterations=1000000
      --set SAVING.out_dir="$RUN" --set SAVING.snap_interval=250 --set SAVING.plot_interval=250
      --set SAVING.disp_interval=50 --set SAVING.quality_interval=250
      --set DATA.workers=4 --set DATA.cache=yes)
# main_train.py as it is, and the same with one node per function (no fused nodes)
UNFUSED="import runpy, sys
from base import chainer_compat
import chainer
from nn import torch_kernels
chainer.global_config.fused_nodes = False
sys.argv = ['main_train.py'] + sys.argv[1:]
runpy.run_path('main_train.py', run_name='__main__')"
TRAIN=($PY main_train.py)
if [ "$CHECK_RC" = 1 ]; then
    echo "gpu_check found the GPU paths differing from the CPU: training without the fused nodes"
    TRAIN=($PY -c "$UNFUSED")
fi
stamp "train for ${TRAIN_S} s"
START=$(date +%s)
timeout -s TERM "$TRAIN_S" "${TRAIN[@]}" "${ARGS[@]}"
RC=$?
LEFT=$((TRAIN_S - $(date +%s) + START))
echo "train exit $RC, $LEFT s left"
if [ "$RC" != 124 ] && [ "$RC" != 0 ] && [ "$LEFT" -gt 60 ] && [ "$CHECK_RC" != 1 ]; then
    stamp "train again with one node per function (chainer.config.fused_nodes = False)"
    timeout -s TERM "$LEFT" $PY -c "$UNFUSED" "${ARGS[@]}"
    echo "unfused train exit $?"
fi

if [ "$RESUME_S" -gt 0 ]; then
    stamp "resume on the GPU"
    timeout -s TERM "$RESUME_S" $PY main_train.py "${ARGS[@]}"
    echo "resume exit $?"
fi
SNAP=$(ls -t "$RUN"/snapshot_iter_* 2>/dev/null | head -1)
N=${SNAP##*_}
stamp "gifs on the CPU from the GPU-written gen_avg_iter_$N.npz"
$PY utils/generate.py --model "$RUN/gen_avg_iter_$N.npz" --seeds 0-15 --gpu -1 \
    --outdir "$RUN/cpu_gifs"
echo "generate exit $?"

[ -n "$SNAP" ] && split -b 15M -d "$SNAP" "$OUT/snapshot_iter_$N.part"
KEEP=$(cd "$RUN" && ls -d log setup.ini ./*.png index.html "gen_avg_iter_$N.npz" "critic_iter_$N.npz" \
       cpu_gifs $(ls samples/* | tail -2) 2>/dev/null)
tar czf "$OUT/run.tar.gz" -C "$RUN" $KEEP
ls -la "$OUT"
stamp done
