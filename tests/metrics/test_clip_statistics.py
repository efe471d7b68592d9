"""The statistics utils/evaluate.py reports: pixel statistics, the critic's estimate, the
clips and scores collected from batch streams, and the report they make together."""
import chainer
import numpy as np
import pytest

from metrics.clip_statistics import collect, compare, mean_difference, pixel_stats


def test_pixel_statistics_of_known_videos():
    still = np.zeros((2, 3, 4, 2, 2))
    still[1] = 0.5
    stats = pixel_stats(still)
    assert stats['temporal_energy'] == 0 and stats['mean'] == pytest.approx(0.25)
    assert stats['std'] == pytest.approx(0.25)
    flicker = np.zeros((1, 3, 3, 2, 2))
    flicker[:, :, 1] = 1
    assert pixel_stats(flicker)['per_frame']['temporal_energy'] == [1.0, 1.0]


def test_frame_artefacts_of_washed_out_ends_and_a_two_frame_flicker():
    rng = np.random.RandomState(0)
    steady = rng.uniform(-1, 1, (4, 3, 8, 6, 6))
    assert pixel_stats(steady)['edge_contrast'] == pytest.approx(1, abs=0.1)
    assert pixel_stats(steady)['alternation'] < 0.1
    faded = steady.copy()
    faded[:, :, [0, -1]] *= 0.5
    assert pixel_stats(faded)['edge_contrast'] == pytest.approx(0.5, abs=0.05)
    pairs = np.repeat(steady[:, :, :4], 2, axis=2)  # frames 2k and 2k+1 equal
    assert pixel_stats(pairs)['alternation'] > 1


def test_mean_difference_interval():
    result = mean_difference(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
    assert result['mean'] == 2.0 and result['stderr'] == pytest.approx(1.0)
    assert result['ci95'] == pytest.approx([0.04, 3.96])



def test_collect_keeps_every_batch_in_order_with_the_critics_scores():
    batches = [np.full((2, 3, 2, 1, 1), 1, np.float32), np.full((1, 3, 2, 1, 1), 2, np.float32)]
    modes = []

    def critic(x):
        modes.append((chainer.config.train, chainer.config.enable_backprop))
        return chainer.Variable(x.sum(axis=(1, 2, 3, 4))[:, None])
    videos, scores = collect(iter(batches), critic)
    assert videos.shape == (3, 3, 2, 1, 1) and videos[:, 0, 0, 0, 0].tolist() == [1, 1, 2]
    assert scores.tolist() == [6, 6, 12]
    assert modes == [(False, False)] * 2, 'inference mode, no graph kept'
    videos, scores = collect(iter(batches))
    assert len(videos) == 3 and scores is None


class FixedReference:
    """A stand-in QualityReference whose score is known."""

    def score(self, judged):
        return {'quality': 7.0, 'semantic': 1.0, 'texture': 2.0, 'motion': 3.0, 'kinds': 1.0,
                'fd': 0.5, 'recognisability': 0.25, 'recognised': 0.5}


def test_compare_reports_the_quality_the_pixels_and_what_it_was_given():
    rng = np.random.RandomState(0)
    real, judged = rng.uniform(-1, 1, (2, 4, 3, 16, 32, 32))
    result = compare(real, judged, FixedReference(), look='standard')
    assert result['quality'] == 7.0 and sum(result['components'].values()) == 7.0
    assert result['reference']['n_frames'] == 16 and result['reference']['frame_size'] == 32
    assert result['reference']['real_against_real'] > 0, 'tabulated for the built-in look'
    assert result['pixels']['real']['mean'] == pytest.approx(real.mean())
    assert 'wasserstein_estimate' not in result and 'fvd' not in result
    scores = (np.array([1.0, 3.0, 2.0, 2.0]), np.zeros(4))
    result = compare(real, judged, FixedReference(), scores,
                     features=lambda videos: videos.reshape(len(videos), 3, -1).mean(axis=2))
    assert result['reference']['real_against_real'] is None, 'other clips: none tabulated'
    assert result['wasserstein_estimate']['mean'] == 2.0
    assert result['critic'] == {'real_mean': 2.0, 'fake_mean': 0.0}
    assert set(result['fvd']) == {'frechet_distance', 'precision', 'recall'}
