"""Plot a run's headline quality against its training wall time, from the run's log.

    python research/quality_curve.py runs/x/log --out runs/x/curve.png [--real 5.7]
        [--mark 1731=H100 ...] [--by iteration]

x: minutes of the trainer's elapsed time (kept across resumes), or with --by iteration
the iteration (for a run whose wall time was shared with other work); y: quality/score
(log scale, lower is better). --real draws the real-against-real level and twice
it (issue 18's target); each --mark ITERATION=LABEL draws a labelled line at the
last log entry up to that iteration, e.g. where a run moved to another machine.
Prints the points.
"""
import argparse
import json
import sys

from base import cli
from base.errors import UserError
from base.safe_files import atomic_path, ensure_output_file

SCORE = 'quality/score'


def read_log(log_path):
    """[(iteration, elapsed seconds, quality or None)] of every entry of a run log."""
    try:
        with open(log_path, encoding='utf-8') as f:
            entries = json.load(f)
    except ValueError as err:
        raise UserError(f'{log_path}: not a run log (JSON list of entries): {err}') from None
    if not isinstance(entries, list):
        raise UserError(f'{log_path}: not a run log (expected a JSON list of entries)')
    return [(e['iteration'], e['elapsed_time'], e.get(SCORE)) for e in entries
            if isinstance(e, dict) and 'iteration' in e and 'elapsed_time' in e]


def quality_points(log_path):
    """(the scored entries, every entry) of a run log, as read_log gives them."""
    entries = read_log(log_path)
    points = [e for e in entries if e[2] is not None]
    if not points:
        raise UserError(f'{log_path}: no {SCORE} entries; expected a run trained with'
                        ' [SAVING] quality_interval > 0')
    return points, entries


def parse_mark(text):
    """'1713=H100' -> (1713, 'H100')."""
    iteration, sep, label = text.partition('=')
    if not sep or not iteration.strip().isdigit() or not label.strip():
        raise UserError(f'--mark {text}: expected ITERATION=LABEL, e.g. 1731=H100')
    return int(iteration), label.strip()


def x_of(entries, by):
    """The x coordinate of each (iteration, elapsed seconds, ...) entry: minutes or iteration."""
    return [i if by == 'iteration' else t / 60 for i, t, _ in entries]


def plot(points, entries, marks, real, out, by='time'):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(x_of(points, by), [q for _, _, q in points], 'o-', ms=3, label='quality of the run')
    if real:
        ax.axhline(real, color='green', ls=':', label=f'real against real ({real:g})')
        ax.axhline(2 * real, color='green', ls='--', label='target: 2x real')
    for iteration, label in marks:
        at = ([0.0] + x_of([e for e in entries if e[0] <= iteration], by))[-1]
        ax.axvline(at, color='grey', ls='--')
        ax.annotate(f'{label} from {iteration}', (at, 1), xycoords=('data', 'axes fraction'),
                    xytext=(3, -12), textcoords='offset points', fontsize=8)
    ax.set_yscale('log')
    ax.set_xlabel('iteration' if by == 'iteration' else 'training wall time (minutes)')
    ax.set_ylabel('quality (lower is better)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as partial:
        fig.savefig(partial, format='png', dpi=100)
    plt.close(fig)


def _main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('log', help="a run's log file (out_dir/log)")
    parser.add_argument('--out', required=True, help='the .png to write')
    parser.add_argument('--real', type=float, default=None,
                        help='the real-against-real quality to draw beside the curve')
    parser.add_argument('--mark', action='append', default=[], help='ITERATION=LABEL')
    parser.add_argument('--by', choices=['time', 'iteration'], default='time',
                        help='the x axis: wall time (default) or iteration')
    args = parser.parse_args(argv)
    cli.check_ranges(args, [('real', 0, None)])
    marks = [parse_mark(m) for m in args.mark]
    ensure_output_file(args.out, '--out', ('.png',))
    points, entries = quality_points(args.log)
    plot(points, entries, marks, args.real, args.out, args.by)
    for iteration, elapsed, quality in points:
        print(f'{iteration}\t{elapsed / 60:.1f} min\t{quality:.1f}')
    print(f'wrote {args.out}')
    return 0


def main(argv=None):
    """Exit code: 0, 2 for a bad input (one line on stderr), 130 when interrupted."""
    return cli.run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
