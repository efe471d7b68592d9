"""Shared fixtures: a tiny built-in dataset, tiny run configs and trainers (CPU, seconds)."""
import json
import os
import sys

import cv2
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from base import chainer_compat  # noqa: E402,F401  (before any chainer import)

import chainer  # noqa: E402

from base.config import load_config  # noqa: E402
from computations.trainer import build_trainer  # noqa: E402
from datastream.framereader import FrameReader, make_iterator  # noqa: E402
from datastream.moving_shapes import build_dataset  # noqa: E402
from nn.DCGAN import build_networks  # noqa: E402

LOSS_KEYS = ('gen/loss', 'critic/loss', 'critic/gp', 'critic/wdist')

TINY = {
    'DATA': {'index_file': 'index.txt', 'workers': 0},
    'MODEL': {'ch': 8, 'batch_size': 2, 'frame_size': 16, 'n_frames': 16, 'iterations': 3,
              'latent_dim': 8, 'seed': 0},
    'ADAM': {'critic_iter': 2},
    'SAVING': {'snap_interval': 2, 'disp_interval': 1, 'plot_interval': 2, 'n_samples': 4},
}


def write_ini(path, sections):
    """Write {SECTION: {key: value}} as an ini file; returns the path as str."""
    lines = []
    for section, values in sections.items():
        lines.append(f'[{section}]')
        lines.extend(f'{key} = {value}' for key, value in values.items())
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def write_mp4(path, frames, fps=10):
    """Write (T, H, W, 3) RGB uint8 frames as an mp4 with OpenCV; returns the path as str."""
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return str(path)


def counter_frames(n_frames, height, width, step=8):
    """Frames whose brightness encodes their number (10 + step * t), for timing checks."""
    return np.stack([np.full((height, width, 3), 10 + step * t, np.uint8)
                     for t in range(n_frames)])


def tiny_sections(data_dir, out_dir, **changes):
    """TINY with paths filled in; changes are {'SECTION.key': value}."""
    sections = {name: dict(values) for name, values in TINY.items()}
    sections['DATA']['root_dir'] = data_dir
    sections['SAVING']['out_dir'] = out_dir
    for name, value in changes.items():
        section, key = name.split('.')
        sections.setdefault(section, {})[key] = value
    return sections


@pytest.fixture(scope='session')
def shapes_dir(tmp_path_factory):
    """12 built-in clips of 16 frames at 32 px."""
    root = tmp_path_factory.mktemp('shapes')
    build_dataset(str(root), 12, seed=0, n_frames=16, size=32)
    return str(root)


@pytest.fixture
def tiny_ini(tmp_path, shapes_dir):
    """Path of a tiny config that trains 3 iterations into tmp_path/run."""
    return write_ini(tmp_path / 'tiny.ini', tiny_sections(shapes_dir, str(tmp_path / 'run')))


def make_trainer(shapes_dir, out_dir, tmp_path, with_dataset=False, **changes):
    """(trainer, generator, critic) of the tiny config with changes {'SECTION.key': value},
    built as main_train.py builds it, on the CPU; with_dataset hands the trainer the
    dataset, as training-time quality needs."""
    config = load_config(write_ini(tmp_path / 'c.ini', tiny_sections(shapes_dir, out_dir,
                                                                     **changes)))
    np.random.seed(config.model.seed)
    gen, critic = build_networks(config.model)
    dataset = FrameReader(shapes_dir, 'index.txt', config.model.n_frames, config.model.frame_size)
    iterator = make_iterator(dataset, config.model.batch_size, config.data.workers,
                             config.model.seed)
    trainer, _ = build_trainer(config, gen, critic, iterator, chainer.get_device('@numpy'),
                               out_dir, report_out=open(os.devnull, 'w'),
                               dataset=dataset if with_dataset else None)
    return trainer, gen, critic


def logged_losses(out_dir):
    """The LOSS_KEYS of every row of a run folder's log."""
    with open(os.path.join(out_dir, 'log')) as log:
        return [[entry.get(key) for key in LOSS_KEYS] for entry in json.load(log)]
