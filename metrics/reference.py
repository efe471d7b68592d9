"""Real against real: the headline quality (metrics/quality.py) of real built-in clips
against other real ones, for each look, clip size and number of clips. It is the best
any generator can score there, and it grows as the number of clips falls (a Fréchet
distance between few clips is mostly sampling noise), so a score means something only
beside this value at its own look, size and n.

    python metrics/reference.py [--n 16 32 64 128 256] [--seeds 1 2 3]

prints REAL_AGAINST_REAL measured afresh: n real clips of seed 0 (the reference, as in
research/quality_ladder.py) against n of each other seed, the mean over those seeds, for
each look and size below. Documented scores (docs/quality.md, the READMEs) are at
DOCUMENTED_N clips.
"""
import argparse
import sys

from base import chainer_compat  # noqa: F401
import numpy as np

DOCUMENTED_N = 256  # clips of each kind in every documented score
SIZES = ((16, 32), (32, 64))  # (frames, pixels): the first run's and the seed's
# {(look, frames, pixels): {n: real against real}}: `python metrics/reference.py` with
# models/feature_net.npz as shipped (its per-frame recogniser of 2026-12-02).
REAL_AGAINST_REAL = {
    ('standard', 16, 32): {16: 134.6, 32: 79.3, 64: 39.2, 128: 20.0, 256: 9.8},
    ('standard', 32, 64): {16: 75.0, 32: 43.2, 64: 22.1, 128: 10.5, 256: 5.0},
    ('large', 16, 32): {16: 216.7, 32: 113.8, 64: 53.3, 128: 28.7, 256: 14.7},
    ('large', 32, 64): {16: 98.3, 32: 57.6, 64: 28.9, 128: 13.3, 256: 6.7},
}


def _size(n_frames, size):
    return f'{size}x{size}x{n_frames}'


def real_against_real(look, n_frames, size, n):
    """The tabulated value at this look, size and n (between tabulated n, interpolated
    on a log-log scale; outside them, the nearest), or None when none is tabulated."""
    table = REAL_AGAINST_REAL.get((look, n_frames, size))
    if not table:
        return None
    counts = sorted(table)
    if n <= counts[0] or n >= counts[-1]:
        return table[counts[0] if n <= counts[0] else counts[-1]]
    high = next(c for c in counts if c >= n)
    low = counts[counts.index(high) - 1]
    if high == n:
        return table[n]
    weight = np.log(n / low) / np.log(high / low)
    return float(np.exp((1 - weight) * np.log(table[low]) + weight * np.log(table[high])))


def describe(look, n_frames, size, n):
    """'real against real at 64x64x32, standard look, 256 clips: 5.1' (or why there is none)."""
    if look is None:
        return 'real against real: not tabulated for clips other than the built-in data'
    value = real_against_real(look, n_frames, size, n)
    where = f'{_size(n_frames, size)}, {look} look'
    if value is None:
        return (f'real against real at {where}: not tabulated (metrics/reference.py holds'
                ' the built-in looks at 32x32x16 and 64x64x32)')
    return f'real against real at {where}, {n} clips: {value:.1f}'


def small_n_warning(n):
    """A warning line when n clips are too few to compare with documented scores, else None."""
    if n >= DOCUMENTED_N:
        return None
    return (f'warning: {n} clips of each kind; documented scores use {DOCUMENTED_N}, and with'
            ' fewer clips every score, real against real included, comes out higher:'
            ' compare it only with the real-against-real value beside it')


def measure(look, n_frames, size, counts, seeds):
    """{n: mean over seeds of the quality of n real clips of that seed against n of seed 0}."""
    from base.video_io import frames_to_float
    from metrics import feature_net, ladder
    from metrics.quality import QualityReference
    net = feature_net.check_feature_net('models/feature_net.npz', 'the shipped feature network')
    largest = max(counts)
    real = frames_to_float(ladder.real_clips(0, largest, n_frames, size, look=look))
    others = [frames_to_float(ladder.real_clips(seed, largest, n_frames, size, look=look))
              for seed in seeds]
    found = {}
    for n in counts:
        reference = QualityReference(net, real[:n])
        found[n] = float(np.mean([reference.score(other[:n])['quality'] for other in others]))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, nargs='+', default=[16, 32, 64, 128, 256])
    parser.add_argument('--seeds', type=int, nargs='+', default=[1, 2, 3])
    args = parser.parse_args(argv)
    print('REAL_AGAINST_REAL = {')
    for look in ('standard', 'large'):
        for n_frames, size in SIZES:
            found = measure(look, n_frames, size, args.n, args.seeds)
            values = ', '.join(f'{n}: {v:.1f}' for n, v in found.items())
            print(f'    ({look!r}, {n_frames}, {size}): {{{values}}},', flush=True)
    print('}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
