"""Plot a run's quality curve against wall time, from its log (quality_interval > 0).

    python bench/plot_quality.py RUN_DIR OUT.png [--floor 9.8] [--by iteration]

--floor draws the real-against-real value for comparison (docs/quality.md); --by iteration
puts iterations on the x axis instead (for a run whose wall time was shared with other work).
"""
import argparse
import json
import os
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt


def curve(run_dir):
    """[(minutes, iteration, quality)] of the run's log entries that hold a quality."""
    with open(os.path.join(run_dir, 'log'), encoding='utf-8') as log:
        entries = json.load(log)
    return [(e['elapsed_time'] / 60, e['iteration'], e['quality/score'])
            for e in entries if 'quality/score' in e]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('run_dir')
    parser.add_argument('out')
    parser.add_argument('--floor', type=float, help='real clips against real clips')
    parser.add_argument('--by', choices=['time', 'iteration'], default='time')
    args = parser.parse_args(argv)
    points = curve(args.run_dir)
    if not points:
        print(f'error: {args.run_dir}/log holds no quality/score', file=sys.stderr)
        return 2
    minutes, iterations, quality = zip(*points)
    fig, axis = plt.subplots(figsize=(6, 3.5))
    x = iterations if args.by == 'iteration' else minutes
    axis.plot(x, quality, marker='.', label='generated (moving average)')
    if args.floor:
        axis.axhline(args.floor, color='grey', linestyle='--', label='real against real')
    axis.set(xlabel='iteration' if args.by == 'iteration' else 'wall time (minutes)',
             ylabel='quality (lower is better)', yscale='log')
    axis.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    return 0


if __name__ == '__main__':
    sys.exit(main())
