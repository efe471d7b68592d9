"""Fréchet distance and k-NN precision/recall between two sets of clip features.

The Fréchet Video Distance of the literature is this distance in the feature
space of a pretrained action-recognition network (I3D). Its weights cannot be
fetched here, so the default features come from metrics/feature_net.py, trained
on the built-in data's generating factors. Any other feature function plugs in
through the same seam: a callable taking float32 videos (N, 3, T, H, W) in
[-1, 1] and returning (N, D) features, e.g. converted I3D weights; on the
command line `utils/evaluate.py --fvd --features my_module:my_features`.
"""
import importlib

import numpy as np

from base.errors import UserError

MIN_ROWS = 2  # a covariance needs two clips of each kind


class MetricError(UserError):
    """Features a distance cannot be computed from (too few clips, not finite)."""


def check_features(features, what, least=MIN_ROWS):
    """features as float64 (N, D), N >= least, all finite; MetricError naming `what`."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2:
        raise MetricError(f'{what}: features of shape {features.shape}; expected (clips, D)')
    if len(features) < least:
        raise MetricError(f'{what}: {len(features)} clip(s); expected at least {least}'
                          ' (a distance between sets of clips needs that many of each kind)')
    if not np.isfinite(features).all():
        raise MetricError(f'{what}: the features hold NaN or infinite values; expected'
                          ' finite ones (non-finite clips or a feature function that failed)')
    return features


def _sqrt_psd(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(a, b):
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of Gaussian fits to rows of a, b.

    Tr((S_a S_b)^(1/2)) is computed as Tr((S_a^(1/2) S_b S_a^(1/2))^(1/2)), a
    symmetric PSD matrix, so only eigendecompositions of symmetric matrices are used."""
    a, b = check_features(a, 'real clips'), check_features(b, 'judged clips')
    if a.shape[1] != b.shape[1]:
        raise MetricError(f'features of {a.shape[1]} and {b.shape[1]} values; expected the same')
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrt_psd(cov_a)
    cross = np.trace(_sqrt_psd(root_a @ cov_b @ root_a))
    distance = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross
    return float(max(distance, 0.0))


def _radii(points, k):
    """Distance of each point to its k-th nearest other point."""
    distances = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    return np.sort(distances, axis=1)[:, k]


def _inside(queries, points, radii):
    """Fraction of queries inside at least one ball (points, radii)."""
    distances = np.sqrt(((queries[:, None] - points[None]) ** 2).sum(-1))
    return float((distances <= radii[None]).any(axis=1).mean())


def precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkäänniemi et al. 2019): the share of generated
    clips inside the real clips' k-NN manifold, and of real clips inside the generated one."""
    real = check_features(real, 'real clips', k + 1)
    fake = check_features(fake, 'judged clips', k + 1)
    return {'precision': _inside(fake, real, _radii(real, k)),
            'recall': _inside(real, fake, _radii(fake, k))}


def load_feature_function(spec):
    """'package.module:callable' -> the callable (the feature-function seam)."""
    module, colon, name = spec.partition(':')
    if not colon or not module or not name:
        raise ValueError(f'--features {spec!r}: expected MODULE:CALLABLE, e.g. my_i3d:features')
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f'--features {spec!r}: {err}') from None
