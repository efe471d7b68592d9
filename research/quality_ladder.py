"""The quality ladder at the built-in data's size, as a markdown table for docs/quality.md.

    python research/quality_ladder.py [--n 256] [--frames 32] [--size 64] [--look standard]
        [--model models/generator.npz]

Real built-in clips (seed 0) are the reference; each row scores other clips
against them: real clips of other seeds (the noise floor and its spread), the
degradations of metrics/ladder.py (the discs included: the same clips with every
shape drawn as a disc), and the shipped generator at two latent seeds. Each row
has the quality, its parts, the recognisability beside it (and the share named
before matching the real clips' kinds), and the seconds of the score here.
"""
import argparse
import os
import sys
import time

from base import chainer_compat  # noqa: F401
import numpy as np

from computations.sampling import generate_videos
from base.video_io import frames_to_float
from datastream.moving_shapes import LOOKS
from metrics import feature_net, ladder
from metrics.reference import describe
from metrics.quality import COMPONENTS, QualityReference
from nn.network_files import config_for, load_generator


def generated(model_path, n, seed):
    gen = load_generator(model_path, config_for(model_path).model)
    return generate_videos(gen, gen.make_hidden(n, np.random.RandomState(seed)))


def rows(args):
    """(name, clips) pairs to score, uint8 (N, T, H, W, 3)."""
    other = ladder.real_clips(1, args.n, args.frames, args.size, look=args.look)
    yield 'real clips, seed 1', other
    for seed in (2, 3):
        yield f'real clips, seed {seed}', ladder.real_clips(seed, args.n, args.frames, args.size,
                                                             look=args.look)
    discs = ladder.real_clips(1, args.n, args.frames, args.size, discs=True, look=args.look)
    yield from ladder.ladder(other, discs=discs).items()
    if args.model:
        for seed in (1, 2):
            yield f'{args.model}, latents seed {seed}', generated(args.model, args.n, seed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=256)
    parser.add_argument('--frames', type=int, default=32)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--look', default='standard', choices=sorted(LOOKS))
    parser.add_argument('--model', default=os.path.join('models', 'generator.npz'))
    parser.add_argument('--feature-net', default=os.path.join('models', 'feature_net.npz'))
    args = parser.parse_args(argv)
    real = frames_to_float(ladder.real_clips(0, args.n, args.frames, args.size, look=args.look))
    net = feature_net.check_feature_net(args.feature_net, '--feature-net')
    reference = QualityReference(net, real)
    print(f'{args.n} clips of {args.size}x{args.size}x{args.frames} ({args.look} look) against'
          f' {args.n} real (seed 0); tabulated'
          f' {describe(args.look, args.frames, args.size, args.n)}\n')
    print('| judged clips | quality | ' + ' | '.join(COMPONENTS)
          + ' | fd (shrunk) | recognisability (named) | seconds |')
    print('|---' * (len(COMPONENTS) + 5) + '|')
    for name, clips in rows(args):
        start = time.time()
        s = reference.score(frames_to_float(clips))
        parts = ' | '.join(f'{s[c]:.1f}' for c in COMPONENTS)
        print(f"| {name} | {s['quality']:.1f} | {parts} | {s['fd']:.1f} |"
              f" {s['recognisability']:.2f} ({s['recognised']:.2f}) |"
              f' {time.time() - start:.1f} |', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
