"""Train the feature network of metrics/feature_net.py on fresh built-in clips.

    python metrics/train_feature_net.py [--train 4096] [--test 512] [--epochs 8] \\
        [--kind-frames 8000] [--kind-rounds 16] [--kinds-only] [--out models/feature_net.npz]

Clips are rendered with seeds the training dataset never uses (--seed 1000),
the held-out ones after the training ones. Then the per-frame kind recogniser
(the k* layers) learns alone, on --kind-rounds rounds of --kind-frames fresh
single frames each (seed --seed + 1; held out: --seed + 2), a quarter of each
look and frame size (standard and large, 32 and 64 pixels), through the
dataset's JPEG round trip, every other one mirrored. --kinds-only trains only
the recogniser, keeping the rest of the network in --out as it is (the shipped
file's backbone was trained before the recogniser existed). Writes the weights
and, beside them, a .json with the held-out accuracy and the command's settings.
"""
import argparse
import json
import os
import sys
import time

from base import chainer_compat  # noqa: F401
import chainer
import chainer.functions as F
import numpy as np

import cv2

from datastream.moving_shapes import LOOKS, numbered_clip
from metrics.feature_net import (INPUT, MAX_COUNT, FeatureNet, frames_at_input_size,
                                 kind_targets, targets)
from nn.network_files import ModelError
from base.cli import run
from base.npz_entries import read_entries
from base.video_io import frames_to_float
from base.errors import UserError
from base.safe_files import atomic_path, ensure_output_file, write_text


def make_clips(seed, start, count):
    """(videos float32 (N, 3, 16, 32, 32) in [-1, 1], labels, values) of fresh clips."""
    videos, labels, values = [], [], []
    for i in range(start, start + count):
        frames, factors = numbered_clip(seed, i, n_frames=INPUT[0], size=INPUT[1])
        videos.append(frames_to_float(frames))
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


BACKBONE = ('c1', 'c2', 'c3', 'c4', 'labels', 'values')  # all but the recogniser
KIND_SOURCES = [(look, size) for look in ('standard', 'large') for size in (32, 64)]


def kind_frames(seed, start, count):
    """(frames float32 (N, 3, 1, 32, 32) in [-1, 1], counts int32 (N, len(KINDS))) of fresh
    one-frame clips, in turn of each look and size, JPEG round trip, every other mirrored."""
    frames, counts = [], []
    for i in range(start, start + count):
        look, size = KIND_SOURCES[i % len(KIND_SOURCES)]
        frame, factors = numbered_clip(seed, i, LOOKS[look], n_frames=1, size=size)
        ok, data = cv2.imencode('.jpg', frame[0], [cv2.IMWRITE_JPEG_QUALITY, 95])
        frame = cv2.imdecode(data, cv2.IMREAD_COLOR)[None, :, ::-1 if i % 2 else 1]
        frames.append(frames_at_input_size(frames_to_float(frame)[None])[0])
        counts.append(kind_targets(factors))
    return np.stack(frames), np.stack(counts)


def kind_loss(net, frames, counts):
    logits = net.kind_logits(frames)
    return F.softmax_cross_entropy(F.reshape(logits, (-1, MAX_COUNT + 1)),
                                   np.repeat(counts[:, None], logits.shape[1], 1).ravel())


def kind_scores(net, frames, counts):
    """Held-out accuracy of the recogniser: per kind, every kind, and the share of frames
    it names with confidence (each kind's top count at 0.9 or more)."""
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        probabilities = F.softmax(net.kind_logits(frames), axis=3).array[:, 0]
    right = probabilities.argmax(-1) == counts
    return {'kind_count_accuracy': float(right.mean()),
            'all_kind_counts_right': float(right.all(axis=1).mean()),
            'named_with_confidence': float((probabilities.max(-1) >= 0.9).all(axis=1).mean())}


def train_kinds(net, frames_per_round, rounds, batch, seed):
    """Train the recogniser alone (Adam, its rate a quarter for the last third) on
    `rounds` rounds of fresh frames."""
    links = [getattr(net, name) for name in ('k1', 'n1', 'k2', 'n2', 'k3', 'n3', 'k4', 'n4',
                                             'kinds')]
    optimizer = chainer.optimizers.Adam(alpha=2e-3)
    optimizer.setup(net)
    for name in BACKBONE:
        getattr(net, name).disable_update()
    rng = np.random.RandomState(seed)
    for done in range(rounds):
        frames, counts = kind_frames(seed + 1, done * frames_per_round, frames_per_round)
        order, losses = rng.permutation(len(frames)), []
        for start in range(0, len(frames), batch):
            idx = order[start:start + batch]
            loss = kind_loss(net, frames[idx], counts[idx])
            for link in links:
                link.cleargrads()
            loss.backward()
            optimizer.update()
            losses.append(float(loss.array))
        if done + 1 == rounds - rounds // 3:
            optimizer.alpha /= 4
        print(f'kinds round {done + 1}/{rounds}: mean loss {np.mean(losses):.4f}', flush=True)


def load_backbone(net, path):
    """Set every layer of net but the recogniser from the feature network file at path
    (one from before the recogniser existed, too); UserError when it does not fit."""
    stored = read_entries(path)
    try:
        for name in BACKBONE:
            chainer.serializers.NpzDeserializer(stored, path=f'{name}/').load(getattr(net, name))
    except (KeyError, ValueError, TypeError) as err:
        raise ModelError(f'--kinds-only: {path} is not a feature network ({err})') from None


def _read_record(path):
    """The .json beside a feature network file (its training record), {} when absent."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--train', type=int, default=4096)
    parser.add_argument('--test', type=int, default=512)
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--seed', type=int, default=1000)
    parser.add_argument('--kind-frames', type=int, default=8000,
                        help='fresh frames in each round of the recogniser\'s training')
    parser.add_argument('--kind-rounds', type=int, default=16)
    parser.add_argument('--kind-batch', type=int, default=64)
    parser.add_argument('--kinds-only', action='store_true', help='train only the recogniser,'
                        ' keeping the rest of the network in --out')
    parser.add_argument('--out', default=os.path.join('models', 'feature_net.npz'))
    args = parser.parse_args(argv)
    for name, low in (('train', 1), ('test', 1), ('epochs', 1), ('batch', 1), ('seed', 0),
                      ('kind_frames', 1), ('kind_rounds', 1), ('kind_batch', 1)):
        if getattr(args, name) < low:
            raise UserError(f'--{name.replace("_", "-")} {getattr(args, name)}: expected a'
                            f' value >= {low}')
    if args.kinds_only and not os.path.isfile(args.out):
        raise UserError(f'--kinds-only: --out {args.out} not found; expected the feature'
                        ' network whose recogniser to train')
    ensure_output_file(args.out, '--out', ('.npz',))
    return args


def _main(argv):
    args = parse_args(argv)
    start = time.time()
    np.random.seed(args.seed)
    net = FeatureNet()
    record_path = os.path.splitext(args.out)[0] + '.json'
    if args.kinds_only:
        load_backbone(net, args.out)
        kinds = ('seed', 'test', 'kind_frames', 'kind_rounds', 'kind_batch', 'kinds_only', 'out')
        record = {'held_out': {}, **_read_record(record_path),
                  'kinds_settings': {name: getattr(args, name) for name in kinds}}
    else:
        train(net, make_clips(args.seed, 0, args.train), args.epochs, args.batch, args.seed)
        record = {'held_out': held_out_scores(net, *make_clips(args.seed, args.train, args.test)),
                  'settings': vars(args)}
    backbone_seconds = time.time() - start
    train_kinds(net, args.kind_frames, args.kind_rounds, args.kind_batch, args.seed)
    record['held_out'].update(kind_scores(net, *kind_frames(args.seed + 2, 0, args.test)))
    record['kinds_seconds'] = round(time.time() - start - backbone_seconds, 1)
    if not args.kinds_only:
        record['seconds'] = round(time.time() - start, 1)
    with atomic_path(args.out) as partial:
        chainer.serializers.save_npz(partial, net)
    write_text(record_path, json.dumps(record, indent=1))
    print(json.dumps(record['held_out'], indent=1))
    return 0


def main(argv=None):
    return run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
