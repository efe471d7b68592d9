#!/usr/bin/env bash
# Continue the shapes issue's long CPU run in the background: seed runs/small_long from the
# committed snapshot when the folder has none, then train (SIGTERM pauses it with a snapshot).
set -eu
cd "$(dirname "$0")/.."
RUN=runs/small_long
SNAP=models/small/trainer_snapshot.npz
if ! ls "$RUN"/snapshot_iter_* >/dev/null 2>&1 && [ -f "$SNAP" ]; then
    N=$(.venv/bin/python -c "import numpy; print(int(numpy.load('$SNAP')['updater/iteration']))")
    mkdir -p "$RUN" && cp "$SNAP" "$RUN/snapshot_iter_$N"
fi
exec .venv/bin/python main_train.py --config research/small_long.ini
