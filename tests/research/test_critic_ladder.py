import numpy as np
import pytest

from research.critic_ladder import mean_score, table, unseen_uint8
from datastream.framereader import FrameReader
from datastream.moving_shapes import build_dataset
from metrics import ladder
from nn.DCGAN import Critic, frame_laplacian
from tests.conftest import tiny_sections, write_ini
from base.config import load_config
from base.video_io import frames_to_float


def _rows(text):
    """{clips: (score, gap, distance)} of the markdown table."""
    rows = {}
    for line in text.splitlines()[2:]:
        name, score, gap, distance = [cell.strip() for cell in line.strip('|').split('|')]
        rows[name] = (float(score), float(gap), None if distance == '-' else float(distance))
    return rows


def test_each_row_is_the_critics_mean_score_and_its_gap_to_real():
    critic = Critic(ch=8, n_frames=16, frame_size=16)
    real = ladder.real_clips(0, 3, 16, 16)
    generated = ladder.real_clips(1, 3, 16, 16)
    rows = _rows(table(critic, real, generated))
    assert list(rows) == ['real', *ladder.ladder(real), 'generated']
    real_score = mean_score(critic, frames_to_float(real))
    assert rows['real'] == (pytest.approx(real_score, abs=0.05), 0, 0)
    blurred = frames_to_float(ladder.blurred(real, 1.5))
    distance = np.sqrt(((blurred - frames_to_float(real)) ** 2).sum(axis=(1, 2, 3, 4))).mean()
    score = mean_score(critic, blurred)
    assert rows['blur sigma 1.5'] == pytest.approx((score, real_score - score, distance),
                                                   abs=0.051)
    assert rows['generated'][2] is None and rows['no motion'][2] > 0


def test_the_distance_is_measured_as_an_edge_gain_critic_sees_the_clips():
    critic = Critic(ch=8, n_frames=16, frame_size=16, edge_gain=1.0)
    real = ladder.real_clips(0, 3, 16, 16)
    rows = _rows(table(critic, real))
    difference = frames_to_float(ladder.blurred(real, 1.5)) - frames_to_float(real)
    seen = difference - frame_laplacian(difference).array
    distance = np.sqrt((seen ** 2).sum(axis=(1, 2, 3, 4))).mean()
    assert rows['blur sigma 1.5'][2] == pytest.approx(distance, abs=0.051)
    plain = np.sqrt((difference ** 2).sum(axis=(1, 2, 3, 4))).mean()
    assert distance > 1.5 * plain


def test_unseen_clips_are_the_ones_a_larger_dataset_would_hold_next(tmp_path):
    small, large = str(tmp_path / 'small'), str(tmp_path / 'large')
    build_dataset(small, 3, seed=0, look='large')
    build_dataset(large, 5, seed=0, look='large')
    config = load_config(write_ini(tmp_path / 'c.ini', tiny_sections(small, str(tmp_path / 'run'))))
    unseen = unseen_uint8(config, 2)
    reader = FrameReader(large, 'index.txt', 16, 16)
    expected = np.stack([reader.get_example(i)[0].transpose(1, 2, 3, 0) for i in (3, 4)])
    assert np.array_equal(unseen, expected)


def test_unseen_clips_get_their_own_row():
    critic = Critic(ch=8, n_frames=16, frame_size=16)
    real = ladder.real_clips(0, 3, 16, 16)
    unseen = ladder.real_clips(1, 3, 16, 16)
    rows = _rows(table(critic, real, unseen=unseen))
    real_score = mean_score(critic, frames_to_float(real))
    score = mean_score(critic, frames_to_float(unseen))
    assert list(rows)[-1] == 'real, not trained on'
    assert rows['real, not trained on'][:2] == pytest.approx((score, real_score - score),
                                                             abs=0.051)
