"""Clips per second delivered by the real data path, against what training consumes.

    python bench/loader.py [--clips 512] [--batches 60] [--workers 0,1,2]

Times FrameReader + the training iterator (make_iterator) on the built-in
dataset at 64x64 pixels, 32 frames, decoding JPEGs and from the uint8 cache, and the clips per second the project's
updater consumes (batch x critic_iter per iteration) at the CPU configs of
bench/train_step.py.
"""
import argparse
import tempfile
import time

import numpy as np

from bench.train_step import CONFIGS, ChainerStep
from datastream.framereader import FrameReader, clip_converter, make_iterator
from datastream.moving_shapes import build_dataset


def loader_rate(root, workers, batch, batches, cache=False, n_frames=32, frame_size=64):
    """Clips/s the iterator yields, converted to one float32 batch array each time."""
    dataset = FrameReader(root, 'index.txt', n_frames, frame_size, cache=cache)
    iterator = make_iterator(dataset, batch, workers, seed=0)
    try:
        for _ in range(3):
            clip_converter(iterator.next(), '@numpy')
        start = time.perf_counter()
        for _ in range(batches):
            clip_converter(iterator.next(), '@numpy')
        return batches * batch / (time.perf_counter() - start)
    finally:
        iterator.finalize()


def consumption_rate(name, reps=3, critic_iter=5):
    """Clips/s the project's CPU training step consumes at a bench config."""
    config = CONFIGS[name]
    step = ChainerStep(**config)
    step()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return config['batch'] * critic_iter / float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clips', type=int, default=512)
    parser.add_argument('--batches', type=int, default=60)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--workers', default='0,1,2')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        build_dataset(root, args.clips, seed=0)
        print(f'| data path at 64x64x32 (batch {args.batch}) | clips/s |')
        print('|---|---|')
        for cache in (False, True):
            for workers in map(int, args.workers.split(',')):
                rate = loader_rate(root, workers, args.batch, args.batches, cache)
                source = 'uint8 cache' if cache else 'stacked JPEG'
                print(f'| {source}, {workers} worker(s) | {rate:.0f} |', flush=True)
    print('\n| training consumes (CPU) | clips/s |\n|---|---|')
    for name in CONFIGS:
        print(f'| {name} {CONFIGS[name]} | {consumption_rate(name):.0f} |', flush=True)


if __name__ == '__main__':
    main()
