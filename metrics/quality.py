"""The headline video quality on the built-in data: lower is better, real clips
against other real clips score only the sampling noise (about 4 at 256 clips of
64x64x32; docs/quality.md).

    quality = semantic + texture + motion

semantic: the Fréchet distance between the feature network's pooled c4
features of real and judged clips, both read at their own size and frame rate
(no resizing, every frame: blur, lost shapes, frozen or jerky motion all move
it). texture: the Fréchet distance between per-channel means and deviations of
its c2 and c3 activations (sharpness and local structure). motion: the Fréchet
distance between statistics of frame-to-frame change (motion_statistics), each
in units of the real clips' spread. `fd` is the older, literature-style
distance on clips shrunk to 16x32x32, kept for comparison.
"""
import numpy as np

from metrics import feature_net
from metrics.frechet import MIN_ROWS, MetricError, frechet_distance

COMPONENTS = ('semantic', 'texture', 'motion')
SMALL_CHANGE, LARGE_CHANGE = 10 / 127.5, 40 / 127.5  # 10 and 40 levels of 255
# The least spread a motion statistic is measured in: half a level of 255. A statistic the
# real clips share exactly (the median change over a still background is 0 in every clip)
# would otherwise turn a change of one level into millions of points; the built-in looks'
# real clips spread at least twice as far in every statistic, so the floor leaves their
# scores alone.
MOTION_SPREAD_FLOOR = 0.5 / 127.5
MIN_CLIPS = MIN_ROWS  # of each kind: each part is a Fréchet distance, which needs a covariance


def check_clips(clips, kind):
    """MetricError unless there are at least MIN_CLIPS clips of this kind."""
    if len(clips) < MIN_CLIPS:
        raise MetricError(f'the quality score needs at least {MIN_CLIPS} {kind} clips, got'
                          f' {len(clips)} (a covariance needs two)')


def _clip_motion(clip):
    """The change statistics of one float (3, T, H, W) clip in [-1, 1]."""
    change = np.abs(np.diff(clip, axis=1))
    per_step = change.mean(axis=(0, 2, 3))
    mean = per_step.mean() + 1e-6
    return np.concatenate([
        change.mean(axis=(1, 2, 3)),
        np.percentile(change, [50, 90, 99]),
        [(change > SMALL_CHANGE).mean(), (change > LARGE_CHANGE).mean(),
         abs(per_step[0::2].mean() - per_step[1::2].mean()) / mean, per_step.std() / mean]])


def motion_statistics(videos):
    """(N, 10) of float (N, 3, T, H, W) clips: per clip, the mean absolute change
    between frames in each colour channel, its 50th, 90th and 99th percentiles, the
    shares of pixels changing by more than 10 and 40 levels, how much the change
    alternates between even and odd steps (a 2-frame flicker), and how much it
    varies over time."""
    return np.stack([_clip_motion(np.asarray(clip, np.float32)) for clip in videos])


class QualityReference:
    """The features of a set of real clips, computed once, to score judged clips against."""

    def __init__(self, net, real):
        """net: a loaded FeatureNet; real: float (N, 3, T, H, W) clips in [-1, 1], N >= 2."""
        check_clips(real, 'real')
        self.net = net
        self.native = feature_net.native_features(net, real)
        motion = motion_statistics(real)
        self.motion_scale = motion.mean(axis=0), np.maximum(motion.std(axis=0),
                                                            MOTION_SPREAD_FLOOR)
        self.native['motion'] = self._standard(motion)
        self.shrunk = feature_net.extract(net, real)

    def _standard(self, motion):
        mean, std = self.motion_scale
        return (motion - mean) / std

    def score(self, judged):
        """{'quality', 'semantic', 'texture', 'motion', 'fd'} of float (N, 3, T, H, W)
        clips, N >= 2."""
        check_clips(judged, 'judged')
        native = feature_net.native_features(self.net, judged)
        native['motion'] = self._standard(motion_statistics(judged))
        scores = {name: frechet_distance(self.native[name], native[name])
                  for name in COMPONENTS}
        scores['quality'] = sum(scores[name] for name in COMPONENTS)
        scores['fd'] = frechet_distance(self.shrunk, feature_net.extract(self.net, judged))
        return scores
