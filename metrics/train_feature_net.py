"""Train the feature network of metrics/feature_net.py on fresh built-in clips.

    python metrics/train_feature_net.py [--train 4096] [--test 512] [--epochs 8] \\
        [--out models/feature_net.npz]

Clips are rendered with seeds the training dataset never uses (--seed 1000),
the held-out ones after the training ones. Writes the weights and, beside them,
a .json with the held-out accuracy and the command's settings.
"""
import argparse
import json
import os
import sys
import time

from utils import chainer_compat  # noqa: F401
import chainer
import chainer.functions as F
import numpy as np

from datastream.moving_shapes import numbered_clip
from datastream.framereader import to_float
from metrics.feature_net import INPUT, FeatureNet, targets
from utils.cli import run
from utils.errors import UserError
from utils.safe_files import atomic_path, ensure_output_file, write_text


def make_clips(seed, start, count):
    """(videos float32 (N, 3, 16, 32, 32) in [-1, 1], labels, values) of fresh clips."""
    videos, labels, values = [], [], []
    for i in range(start, start + count):
        frames, factors = numbered_clip(seed, i, n_frames=INPUT[0], size=INPUT[1])
        videos.append(to_float(frames.transpose(3, 0, 1, 2)))
        label, value = targets(factors)
        labels.append(label)
        values.append(value)
    return np.stack(videos), np.stack(labels), np.stack(values)


def loss_of(net, videos, labels, values):
    predicted_labels, predicted_values = net(videos)
    return (F.sigmoid_cross_entropy(predicted_labels, labels.astype(np.int32))
            + F.mean_squared_error(predicted_values, values))


def held_out_scores(net, videos, labels, values):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        predicted_labels, predicted_values = net(videos)
    correct = (predicted_labels.array > 0) == (labels > 0.5)
    error = np.abs(predicted_values.array - values)
    return {'label_accuracy': float(correct.mean()),
            'all_labels_right': float(correct.all(axis=1).mean()),
            'velocity_mae_px_per_frame': float(error[:, :2].mean()),
            'drift_mae_px_per_frame': float(error[:, 2:].mean()),
            'value_std': float(values.std())}


def train(net, data, epochs, batch, seed):
    optimizer = chainer.optimizers.Adam(alpha=1e-3)
    optimizer.setup(net)
    rng = np.random.RandomState(seed)
    videos, labels, values = data
    losses = []

    def step(*batch_data):
        loss = loss_of(net, *batch_data)
        losses.append(float(loss.array))
        return loss
    for epoch in range(epochs):
        order = rng.permutation(len(videos))
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            optimizer.update(step, videos[idx], labels[idx], values[idx])
        print(f'epoch {epoch + 1}/{epochs}: mean loss {np.mean(losses[-len(order) // batch:]):.4f}',
              flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--train', type=int, default=4096)
    parser.add_argument('--test', type=int, default=512)
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--seed', type=int, default=1000)
    parser.add_argument('--out', default=os.path.join('models', 'feature_net.npz'))
    args = parser.parse_args(argv)
    for name, low in (('train', 1), ('test', 1), ('epochs', 1), ('batch', 1), ('seed', 0)):
        if getattr(args, name) < low:
            raise UserError(f'--{name} {getattr(args, name)}: expected a value >= {low}')
    ensure_output_file(args.out, '--out', ('.npz',))
    return args


def _main(argv):
    args = parse_args(argv)
    start = time.time()
    np.random.seed(args.seed)
    net = FeatureNet()
    train(net, make_clips(args.seed, 0, args.train), args.epochs, args.batch, args.seed)
    scores = held_out_scores(net, *make_clips(args.seed, args.train, args.test))
    with atomic_path(args.out) as partial:
        chainer.serializers.save_npz(partial, net)
    record = {'held_out': scores, 'settings': vars(args),
              'seconds': round(time.time() - start, 1)}
    write_text(os.path.splitext(args.out)[0] + '.json', json.dumps(record, indent=1))
    print(json.dumps(record['held_out'], indent=1))
    return 0


def main(argv=None):
    return run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
