#!/usr/bin/env bash
# Recipe trials side by side on one lent GPU (../shared/GPU.md), run from the repository root
# with `.whl` carried: each line of the TRIALS file, `NAME LOOK [--set KEY=VALUE ...]`, trains
# main_train.py at the first run's settings (setup.ini) plus its --set overrides on built-in
# data of that LOOK (standard, large, calm; standard8k = 8,192 standard clips) for TRIAL_S
# seconds, all at once, with the quality of the moving average on 128 clips every
# QUALITY_EVERY iterations (a multiple of 50). Results land in $OUT/trials.tar.gz.part* (join
# with cat): per trial its printed log, log (JSON), setup.ini, plots, the sample gifs at every
# third quality point and the last, and the moving average's networks (the critic,
# the raw generator and trainer snapshots too with SNAPSHOTS=yes, to continue a trial
# elsewhere). Locally, GPU=-1 runs the same on the CPU.
set -u
GPU=${GPU:-0}
TRIAL_S=${TRIAL_S:-400}
QUALITY_EVERY=${QUALITY_EVERY:-200}
TRIALS=${TRIALS:?set TRIALS to a file of trial lines}
ROOT=${ROOT:-runs/gpu_trials}
OUT=${OUT:?set OUT to a results folder}
mkdir -p "$OUT" "$ROOT"
exec > >(tee "$OUT/trials.log") 2>&1
PY=${PY:-python3}
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}  # many runs share the cores
stamp() { echo "== $(date +%T) $*"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null

stamp "built-in data for every look the trials name"
LOOKS=$(grep -v '^#' "$TRIALS" | awk 'NF {print $2}' | sort -u | tr '\n' ' ')
$PY - $LOOKS <<'EOF'
import multiprocessing
import os
import sys

from datastream.moving_shapes import LOOKS as BUILTIN, Look, numbered_clip, write_stacked_jpeg

# (look, clips): the configurable looks and two for trials alone
LOOKS = {**{name: (look, 1024) for name, look in BUILTIN.items()},
         'standard8k': (BUILTIN['standard'], 8192),
         'calm': (Look(radius=(0.2, 0.3), max_shapes=1, background=0.5), 1024)}


def write(job):
    name, i = job
    look, _ = LOOKS[name]
    clip = numbered_clip(0, i, look, 32, 64)[0]
    write_stacked_jpeg(f'data/trial_{name}/clips/clip_{i:05d}.jpg', clip)


if __name__ == '__main__':
    names = sys.argv[1:]
    for name in names:
        os.makedirs(f'data/trial_{name}/clips', exist_ok=True)
    with multiprocessing.get_context('fork').Pool() as pool:
        pool.map(write, [(n, i) for n in names for i in range(LOOKS[n][1])], chunksize=64)
    for name in names:
        with open(f'data/trial_{name}/index.txt', 'w') as index:
            index.write('clips\n')
EOF
DATA_RC=$?
echo "data exit $DATA_RC"
[ "$DATA_RC" = 0 ] || exit 1

for NAME in $(grep -v '^#' "$TRIALS" | awk 'NF {print $1}'); do
    if [ -e "$ROOT/$NAME" ]; then echo "$ROOT/$NAME exists: name each trial anew"; exit 1; fi
done
stamp "trials for ${TRIAL_S} s each, all at once"
PIDS=()
while read -r NAME LOOK ARGS; do
    [ -z "$NAME" ] && continue
    # shellcheck disable=SC2086  # ARGS holds the trial's --set pairs
    timeout -s TERM -k 90 "$TRIAL_S" $PY main_train.py --set MODEL.use_gpu="$GPU" \
        --set DATA.root_dir="data/trial_$LOOK" --set DATA.builtin=no \
        --set SAVING.out_dir="$ROOT/$NAME" --set MODEL.iterations=1000000 \
        --set SAVING.quality_interval="$QUALITY_EVERY" --set SAVING.quality_clips=128 \
        --set SAVING.plot_interval="$QUALITY_EVERY" --set SAVING.snap_interval=1000000 \
        --set SAVING.disp_interval=50 $ARGS > "$ROOT/$NAME.out" 2>&1 &
    PIDS+=($!)
done < <(grep -v '^#' "$TRIALS")
[ "${#PIDS[@]}" -gt 0 ] || { echo "no trials in $TRIALS"; exit 1; }
wait "${PIDS[@]}"  # not a bare wait: that would wait for the tee above too
for f in "$ROOT"/*.out; do echo "--- $f"; tail -3 "$f"; done
# gifs at every third quality point and the last of each trial; the archive in 15 MB parts
shopt -s nullglob
for d in "$ROOT"/*/samples; do
    LAST=$(ls "$d" | tail -1)
    for g in "$d"/iter_*.gif; do
        N=$((10#$(basename "$g" .gif | cut -d_ -f2)))
        [ $((N % (3 * QUALITY_EVERY))) = 0 ] || [ "$(basename "$g")" = "$LAST" ] || rm "$g"
    done
done
# the moving averages alone (they make the gifs and scores), unless SNAPSHOTS=yes
EXCLUDE=(--exclude='snapshot_iter_*' --exclude='critic_iter_*' --exclude='gen_iter_*')
[ "${SNAPSHOTS:-no}" = yes ] && EXCLUDE=()  # to continue a trial elsewhere
tar czf - "${EXCLUDE[@]}" -C "$ROOT" . | split -b 15M -d - "$OUT/trials.tar.gz.part"
ls -la "$OUT"
stamp done
