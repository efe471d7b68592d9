"""Statistics that compare judged clips (generated, or any) with real ones: the headline
quality with its parts (metrics/quality.py), the real-against-real value beside it
(metrics/reference.py), per-frame pixel statistics, a critic's Wasserstein estimate with
its interval and, given a feature function, the Fréchet distance and precision/recall of
clip features (metrics/frechet.py). Clips are float (N, 3, T, H, W) in [-1, 1];
utils/evaluate.py writes compare's dict as its JSON report.
"""
import chainer
import numpy as np

from metrics import reference as reference_table
from metrics.frechet import frechet_distance, precision_recall
from metrics.quality import COMPONENTS


def pixel_stats(videos):
    """Per-frame mean, std and temporal difference energy of (N, 3, T, H, W) in [-1, 1]."""
    videos = np.asarray(videos, dtype=np.float64)
    diffs = np.diff(videos, axis=2) ** 2
    per_frame = {'mean': videos.mean(axis=(0, 1, 3, 4)), 'std': videos.std(axis=(0, 1, 3, 4)),
                 'temporal_energy': diffs.mean(axis=(0, 1, 3, 4))}
    summary = {name: float(values.mean()) for name, values in per_frame.items()}
    summary.update(frame_artefacts(per_frame['std'], per_frame['temporal_energy']))
    summary['per_frame'] = {name: values.round(6).tolist() for name, values in per_frame.items()}
    return summary


def frame_artefacts(std, energy):
    """Two signs of the stride-2 upsampling in time, both about 1 / 0 for real clips:
    edge_contrast, the first and last frames' std over the other frames' (below 1:
    washed-out ends), and alternation, how much the differences between frames
    alternate from one step to the next (|even - odd| / mean: a 2-frame flicker)."""
    edges = (std[0] + std[-1]) / 2
    middle = std[1:-1].mean() if len(std) > 2 else edges
    odd = energy[1::2].mean() if len(energy) > 1 else energy[0]
    swing, mean = abs(energy[0::2].mean() - odd), energy.mean()
    return {'edge_contrast': float(edges / middle) if middle > 0 else 1.0,
            'alternation': float(swing / mean) if mean > 0 else 0.0}


def mean_difference(real_scores, fake_scores):
    """E[real] - E[fake] with its standard error and 95% interval."""
    estimate = real_scores.mean() - fake_scores.mean()
    stderr = np.sqrt(real_scores.var(ddof=1) / len(real_scores)
                     + fake_scores.var(ddof=1) / len(fake_scores))
    return {'mean': float(estimate), 'stderr': float(stderr),
            'ci95': [float(estimate - 1.96 * stderr), float(estimate + 1.96 * stderr)]}


def collect(batches, critic=None):
    """(videos on the host, critic scores or None) of every batch, the critic run in
    inference mode without backprop."""
    scores, videos = [], []
    with chainer.no_backprop_mode(), chainer.using_config('train', False):
        for x in batches:
            if critic is not None:
                scores.append(chainer.backends.cuda.to_cpu(critic(x).array).ravel())
            videos.append(chainer.backends.cuda.to_cpu(x))
    return np.concatenate(videos), np.concatenate(scores) if scores else None


def feature_distances(real, fake):
    """{'frechet_distance', 'precision', 'recall'} of two (N, D) feature arrays."""
    return {'frechet_distance': frechet_distance(real, fake), **precision_recall(real, fake)}


def real_reference(real, look):
    """{'look', 'n_frames', 'frame_size', 'real_against_real', 'documented_n'}: the
    tabulated real against real (metrics/reference.py) at real's size and number of clips."""
    n_frames, size = np.shape(real)[2], np.shape(real)[3]
    return {'look': look, 'n_frames': int(n_frames), 'frame_size': int(size),
            'real_against_real': reference_table.real_against_real(look, n_frames, size,
                                                                   len(real)),
            'documented_n': reference_table.DOCUMENTED_N}


def compare(real, judged, reference, scores=(None, None), features=None, look=None):
    """The report as a dict: the headline quality (reference, a QualityReference of the
    real clips), its parts and the recognisability beside it, real against real at this
    look (the built-in data's look, None for other clips), size and n
    (metrics/reference.py), pixel statistics, the critic's estimate when scores
    (real, judged) are given and, with features (a feature function), the Fréchet
    distance and precision/recall."""
    quality = reference.score(judged)
    result = {'n': len(real), 'quality': quality['quality'],
              'components': {name: quality[name] for name in COMPONENTS},
              'fd': quality['fd'], 'recognisability': quality['recognisability'],
              'recognised': quality['recognised'], 'reference': real_reference(real, look),
              'pixels': {'real': pixel_stats(real), 'generated': pixel_stats(judged)}}
    real_scores, judged_scores = scores
    if real_scores is not None:
        result['wasserstein_estimate'] = mean_difference(real_scores, judged_scores)
        result['critic'] = {'real_mean': float(real_scores.mean()),
                            'fake_mean': float(judged_scores.mean())}
    if features is not None:
        result['fvd'] = feature_distances(features(real), features(judged))
    return result
