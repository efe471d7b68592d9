import numpy as np
import pytest

from bench.critic_ladder import mean_score, table
from metrics import ladder
from nn.DCGAN import Critic, frame_laplacian


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
    real_score = mean_score(critic, ladder.to_float(real))
    assert rows['real'] == (pytest.approx(real_score, abs=0.05), 0, 0)
    blurred = ladder.to_float(ladder.blurred(real, 1.5))
    distance = np.sqrt(((blurred - ladder.to_float(real)) ** 2).sum(axis=(1, 2, 3, 4))).mean()
    score = mean_score(critic, blurred)
    assert rows['blur sigma 1.5'] == pytest.approx((score, real_score - score, distance),
                                                   abs=0.051)
    assert rows['generated'][2] is None and rows['no motion'][2] > 0


def test_the_distance_is_measured_as_an_edge_gain_critic_sees_the_clips():
    critic = Critic(ch=8, n_frames=16, frame_size=16, edge_gain=1.0)
    real = ladder.real_clips(0, 3, 16, 16)
    rows = _rows(table(critic, real))
    difference = ladder.to_float(ladder.blurred(real, 1.5)) - ladder.to_float(real)
    seen = difference - frame_laplacian(difference).array
    distance = np.sqrt((seen ** 2).sum(axis=(1, 2, 3, 4))).mean()
    assert rows['blur sigma 1.5'][2] == pytest.approx(distance, abs=0.051)
    plain = np.sqrt((difference ** 2).sum(axis=(1, 2, 3, 4))).mean()
    assert distance > 1.5 * plain
