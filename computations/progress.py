"""The training console's progress line: iteration/total, rate and time left.

    iteration 200/1600 (12%), 2.13 it/s, 0:10:57 left

On a terminal the line is rewritten in place (at most every REFRESH_S seconds) and left
with the cursor at its start, so the log table's next row (chainer's PrintReport erases
from the cursor first) replaces it; elsewhere (a pipe, a file) it is printed as its own
line every `interval` iterations and at the run's last one. The rate counts this
session's iterations after its first one (which holds the warm-up), so a resumed run
does not count the earlier sessions' iterations as done in no time.
"""
import math
import sys
import time

from chainer import training

REFRESH_S = 0.5


def clock(seconds):
    """Whole seconds as h:mm:ss."""
    seconds = max(0, int(round(seconds)))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def total_iterations(updater, length):
    """The run's length (count, 'iteration' or 'epoch') in iterations, or None while an
    epoch's length in iterations is not yet known."""
    count, unit = length
    if unit == 'iteration':
        return count
    if not updater.epoch_detail:
        return None
    return math.ceil(round(count * updater.iteration / updater.epoch_detail, 6))


def progress_line(iteration, total, rate):
    """'iteration i/total (p%), r it/s, h:mm:ss left' (rate None: not known yet)."""
    if total is None:
        done = f'iteration {iteration}'
    else:
        done = f'iteration {iteration}/{total} ({100 * iteration // max(total, 1)}%)'
    if rate is None:
        return f'{done}, -- it/s'
    left = f', {clock((total - iteration) / rate)} left' if total is not None and rate else ''
    return f'{done}, {rate:.3g} it/s{left}'


class Progress(training.Extension):
    """Extension printing progress_line to out (default sys.stdout) after every iteration:
    in place on a terminal, every `interval` iterations elsewhere."""
    name = 'progress'
    trigger = (1, 'iteration')
    priority = training.PRIORITY_READER

    def __init__(self, run_length, interval, out=None, now=time.monotonic):
        self.run_length, self.interval = run_length, max(1, interval)
        self.out, self.now = out, now
        self.first = None  # (iteration, time) at this session's first call: the rate's start
        self.shown_at = None

    def _stream(self):
        return self.out or sys.stdout

    def rate(self, iteration):
        """Iterations a second since this session's first call, or None."""
        start_iteration, start_time = self.first
        spent = self.now() - start_time
        return (iteration - start_iteration) / spent if iteration > start_iteration and \
            spent > 0 else None

    def __call__(self, trainer):
        iteration = trainer.updater.iteration
        if self.first is None:
            self.first = (iteration, self.now())
        last = self.run_length(trainer)
        out = self._stream()
        tty = hasattr(out, 'isatty') and out.isatty()
        if tty and not last and self.shown_at is not None and \
                self.now() - self.shown_at < REFRESH_S:
            return
        if not tty and not last and iteration % self.interval:
            return
        line = progress_line(iteration, total_iterations(trainer.updater,
                                                         self.run_length.length),
                             self.rate(iteration))
        out.write(f'\r{line}\033[K\r' if tty else line + '\n')
        out.flush()
        self.shown_at = self.now()
