"""What a trained critic tells apart: its mean score on real clips of the run's data, on the
quality ladder's degradations of those clips (metrics/ladder.py) and on the run's generated
clips, as a markdown table for research/first-run-trials.md.

    python research/critic_ladder.py RUN/critic_iter_N.npz [--gen RUN/gen_avg_iter_N.npz] [--n 64]
                                  [--unseen]

The gap column is the real clips' mean score minus the row's. The critic is held near
1-Lipschitz by the gradient penalty in the clips as it sees them (pixels, or pixels with
sharpened edges: [MODEL] critic_edge_gain), so a degradation's gap is at most the mean L2
distance between each clip and its degraded copy as the critic sees them, given beside it: a
gap far below that distance is a difference the critic has not learned to use.

--unseen adds a row for clips of the same built-in dataset that the critic never saw (the
clips numbered after the dataset's last one, rendered and read as its own are): a critic that
scores them below the training clips has memorised some of its data.
"""
import argparse
import os
import sys
import tempfile

from base import chainer_compat  # noqa: F401  (before chainer)
import chainer
import numpy as np

from computations.sampling import generate_videos
from datastream.framereader import FrameReader, load_uint8_clip
from datastream.moving_shapes import (LOOKS, MARKER, numbered_clip, recorded_look,
                                      write_stacked_jpeg)
from metrics import ladder
from nn.network_files import config_for, load_critic, load_generator
from base.safe_files import owns
from base.video_io import channels_last, frames_to_float
from metrics.clip_statistics import collect


def real_uint8(config, n):
    """The first n clips of the run's data, uint8 (N, T, H, W, 3) as the ladder takes them."""
    model = config.model
    data = FrameReader(config.data.root_dir, config.data.index_file, model.n_frames,
                       model.frame_size)
    return np.stack([channels_last(data.get_example(i)[0]) for i in range(n)])


def unseen_uint8(config, n):
    """n clips of the run's built-in dataset that are not in it: those numbered after its
    last clip, rendered, stored and read as the dataset's own, uint8 (N, T, H, W, 3)."""
    data, model = config.data, config.model
    look = LOOKS[recorded_look(data.root_dir)]
    held = len(FrameReader(data.root_dir, data.index_file, model.n_frames, model.frame_size))
    clips = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'clip.jpg')
        for i in range(held, held + n):
            frames, _ = numbered_clip(model.seed, i, look)
            write_stacked_jpeg(path, frames)
            clips.append(channels_last(load_uint8_clip(path, model.n_frames, model.frame_size)))
    return np.stack(clips)


def mean_score(critic, clips, batch=16):
    """The critic's mean score of float clips (N, 3, T, H, W), scored as evaluate scores."""
    _, scores = collect((clips[i:i + batch] for i in range(0, len(clips), batch)), critic)
    return float(scores.mean())


def table(critic, real, generated=None, unseen=None):
    """Markdown rows: real clips, each degradation of them, then the generated clips and the
    unseen real ones when given (uint8 (N, T, H, W, 3) like the real ones)."""
    real_float = frames_to_float(real)
    real_score = mean_score(critic, real_float)
    lines = ['| clips | critic score | gap to real | distance to real, as the critic sees it |',
             '|---|---|---|---|', f'| real | {real_score:.1f} | 0 | 0 |']
    for name, changed in ladder.ladder(real).items():
        changed_float = frames_to_float(changed)
        seen = chainer.as_array(critic.sharpen(changed_float - real_float))
        distance = np.sqrt((seen ** 2).sum(axis=(1, 2, 3, 4))).mean()
        score = mean_score(critic, changed_float)
        lines.append(f'| {name} | {score:.1f} | {real_score - score:.1f} | {distance:.1f} |')
    if generated is not None:
        score = mean_score(critic, frames_to_float(generated))
        lines.append(f'| generated | {score:.1f} | {real_score - score:.1f} | - |')
    if unseen is not None:
        score = mean_score(critic, frames_to_float(unseen))
        lines.append(f'| real, not trained on | {score:.1f} | {real_score - score:.1f} | - |')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('critic', help='RUN/critic_iter_N.npz')
    parser.add_argument('--gen', help='a generator of the run (default: gen_avg_iter_N.npz'
                        ' beside the critic, else gen_iter_N.npz)')
    parser.add_argument('--n', type=int, default=64, help='clips of each kind')
    parser.add_argument('--unseen', action='store_true',
                        help='add clips of the built-in dataset that it does not hold')
    args = parser.parse_args(argv)
    config = config_for(args.critic)
    if args.unseen and not owns(config.data.root_dir, MARKER):
        parser.error(f'--unseen: {config.data.root_dir} ([DATA] root_dir) is not a built-in'
                     ' dataset, so its unseen clips cannot be rendered')
    critic = load_critic(args.critic, config.model)
    gen_path = args.gen
    if gen_path is None:
        candidates = [args.critic.replace('critic_iter_', name) for name in
                      ('gen_avg_iter_', 'gen_iter_')]
        gen_path = next((path for path in candidates if os.path.isfile(path)), None)
    generated = None
    if gen_path:
        gen = load_generator(gen_path, config.model)
        generated = generate_videos(gen, gen.make_hidden(args.n, np.random.RandomState(1)))
    print(f'{args.critic} on {args.n} clips of {config.data.root_dir}'
          f" and {gen_path or 'no generator'}\n")
    unseen = unseen_uint8(config, args.n) if args.unseen else None
    print(table(critic, real_uint8(config, args.n), generated, unseen))
    return 0


if __name__ == '__main__':
    sys.exit(main())
