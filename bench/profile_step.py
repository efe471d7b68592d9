"""Where one WGAN-GP iteration's time goes: per Chainer function (count and time), and the
Python functions cProfile sees most of.

    python bench/profile_step.py [--config small|large] [--reps 3] [--top 15]

Runs the project's own updater (bench/train_step.py's ChainerStep) on random clips after a
warm-up; the function table comes from Chainer's TimerHook over --reps iterations (forward and
backward applications of every FunctionNode, each timed on its own; a function applied inside
another's backward, as the convolutions' backward applies convolutions, counts in both, so the
times add up to more than the iteration), the second table from cProfile over the same
iterations (cumulative seconds). Run it on an otherwise idle machine.
"""
import argparse
import cProfile
import pstats
import sys
import time

from base import chainer_compat  # noqa: F401  (before chainer)
import chainer
from chainer.function_hooks import TimerHook

from bench.train_step import CONFIGS, ChainerStep


def function_table(hook, seconds, reps, top):
    """Markdown rows of the `top` functions by total time, per iteration."""
    rows = sorted(hook.summary().items(), key=lambda item: -item[1]['elapsed_time'])
    calls = sum(r['occurrence'] for _, r in rows) / reps
    timed = sum(r['elapsed_time'] for _, r in rows) / reps
    print(f'{seconds / reps:.3f} s per iteration; {calls:.0f} function applications, timed'
          f' {timed:.3f} s in them, nested applications counted twice\n')
    print('| function | applications / iter | s / iter | share of iteration |')
    print('|---|---|---|---|')
    for name, record in rows[:top]:
        share = record['elapsed_time'] / seconds
        print(f"| {name} | {record['occurrence'] / reps:.0f} |"
              f" {record['elapsed_time'] / reps:.4f} | {share:.1%} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', choices=sorted(CONFIGS), default='small')
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--top', type=int, default=15)
    args = parser.parse_args(argv)
    step = ChainerStep(**CONFIGS[args.config])
    step()
    hook = TimerHook()
    start = time.perf_counter()
    with hook:
        for _ in range(args.reps):
            step()
    function_table(hook, time.perf_counter() - start, args.reps, args.top)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.reps):
        step()
    profile.disable()
    print(f'\ncProfile over {args.reps} iterations, by cumulative time:\n')
    pstats.Stats(profile, stream=sys.stdout).sort_stats('cumulative').print_stats(args.top)
    print(f'chainer {chainer.__version__}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
