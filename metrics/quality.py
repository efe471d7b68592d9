"""The headline video quality on the built-in data: lower is better, real clips
against other real clips score only the sampling noise (metrics/reference.py holds
that value for each look, size and number of clips; docs/quality.md).

    quality = semantic + texture + motion + kinds

semantic: the Fréchet distance between the feature network's pooled c4
features of real and judged clips, both read at their own size and frame rate
(no resizing, every frame: blur, lost shapes, frozen or jerky motion all move
it). texture: the Fréchet distance between per-channel means and deviations of
its c2 and c3 activations (sharpness and local structure). motion: the Fréchet
distance between statistics of frame-to-frame change (motion_statistics) on a
log2 scale: motion twice or half as strong as real costs the same, and a clip
that does not move at all sits a bounded distance from real clips, as far as
its missing motion, not millions of points (each statistic lies between its
floor and 255 levels or all pixels, so the part stays below about 950 whatever
the clips). kinds: KINDS_WEIGHT times the
Fréchet distance between the clips' kind profiles (kind_profile): how many
circles, squares and triangles the feature network's per-frame recogniser sees,
so clips whose shapes are all discs, or blobs of no kind, score worse than real
ones of the same colours, sizes and paths. `fd` is the older, literature-style
distance on clips shrunk to 16x32x32, kept for comparison.

Beside the score, `recognisability` (higher is better, at most 1): the share of
judged clips whose shape kinds the recogniser names with confidence frame after
frame (named_kinds), each named set of kinds counted at most as often as among
the real clips, so a generator that draws only discs can be no more
recognisable than the share of real clips that show only discs. `recognised`
is the same share before that matching.
"""
import collections

import numpy as np

from base.video_io import SCALE
from metrics import feature_net
from metrics.frechet import MIN_ROWS, MetricError, frechet_distance

COMPONENTS = ('semantic', 'texture', 'motion', 'kinds')
LEVEL = 1 / SCALE  # one level of 255 in the clips' [-1, 1] scale
SMALL_CHANGE, LARGE_CHANGE = 10, 40  # levels of 255
# The least change the motion statistics tell apart, added before the logarithm: one level
# of 255 for changes (JPEG noise is about that), 1/200 of the pixels for shares. A clip
# that does not move at all sits at these floors: as far below the real clips' motion as
# their motion is above them, a few doublings, never an infinity.
CHANGE_FLOOR, SHARE_FLOOR = 1.0, 0.005
# Points per unit of the kinds distance (between profiles of probabilities: a few units at
# most): discs in place of every shape then cost about as much as blur sigma 3 (docs/quality.md).
KINDS_WEIGHT = 30
CONFIDENT = 0.7  # a frame is named when each kind's likeliest count has at least this
STEADY = 0.75  # and a clip when at least this share of its frames name the same kinds
MIN_CLIPS = MIN_ROWS  # of each kind: each part is a Fréchet distance, which needs a covariance


def check_clips(clips, kind):
    """MetricError unless there are at least MIN_CLIPS clips of this kind."""
    if len(clips) < MIN_CLIPS:
        raise MetricError(f'the quality score needs at least {MIN_CLIPS} {kind} clips, got'
                          f' {len(clips)} (a covariance needs two)')


def _clip_motion(clip):
    """The log2 change statistics of one float (3, T, H, W) clip in [-1, 1]."""
    change = np.abs(np.diff(clip, axis=1)) / LEVEL
    per_step = change.mean(axis=(0, 2, 3))
    levels = np.concatenate([
        change.mean(axis=(1, 2, 3)), np.percentile(change, [50, 90, 99]),
        [abs(per_step[0::2].mean() - per_step[1::2].mean()), per_step.std()]])
    shares = np.array([(change > SMALL_CHANGE).mean(), (change > LARGE_CHANGE).mean()])
    return np.concatenate([np.log2(levels + CHANGE_FLOOR), np.log2(shares + SHARE_FLOOR)])


def motion_statistics(videos):
    """(N, 10) of float (N, 3, T, H, W) clips, each the log2 of a statistic plus its floor:
    per clip, the mean absolute change between frames in each colour channel, its 50th,
    90th and 99th percentiles, how much the change alternates between even and odd steps
    (a 2-frame flicker) and how much it varies over time, all in levels of 255 (plus
    CHANGE_FLOOR), and the shares of pixels changing by more than 10 and 40 levels (plus
    SHARE_FLOOR)."""
    return np.stack([_clip_motion(np.asarray(clip, np.float32)) for clip in videos])


def kind_profile(probabilities):
    """(N, len(KINDS) * (MAX_COUNT + 1)): per clip, the recogniser's mean probability over
    its frames of 0, 1, ... MAX_COUNT shapes of each kind (feature_net.kind_probabilities)."""
    return probabilities.mean(axis=1).reshape(len(probabilities), -1)


def named_kinds(probabilities):
    """Per clip, the shape counts (one per kind) that the recogniser names with confidence
    (each kind's likeliest count at CONFIDENT or more, at least one shape) in at least
    STEADY of its frames, or None: the clip's kinds cannot be named frame after frame."""
    named = []
    for clip in probabilities:
        frames = [tuple(int(count) for count in frame.argmax(-1)) for frame in clip
                  if frame.max(-1).min() >= CONFIDENT and frame.argmax(-1).sum() > 0]
        counts = collections.Counter(frames).most_common(1)
        named.append(counts[0][0] if counts and counts[0][1] >= STEADY * len(clip) else None)
    return named


def recognisability(judged, real):
    """The share of judged clips named with confidence (named_kinds), each named set of
    kinds counted at most as often as among the real clips (a histogram intersection)."""
    shares = [collections.Counter(kinds for kinds in named if kinds is not None)
              for named in (judged, real)]
    return sum(min(count / len(judged), shares[1][kinds] / len(real))
               for kinds, count in shares[0].items())


class QualityReference:
    """The features of a set of real clips, computed once, to score judged clips against."""

    def __init__(self, net, real):
        """net: a loaded FeatureNet; real: float (N, 3, T, H, W) clips in [-1, 1], N >= 2."""
        check_clips(real, 'real')
        self.net = net
        self.native, self.named = self._features(real)
        self.shrunk = feature_net.extract(net, real)

    def _features(self, videos):
        """({part: (N, D) features}, named_kinds) of float clips."""
        native = feature_net.native_features(self.net, videos)
        native['motion'] = motion_statistics(videos)
        probabilities = feature_net.kind_probabilities(self.net, videos)
        native['kinds'] = kind_profile(probabilities)
        return native, named_kinds(probabilities)

    def score(self, judged):
        """{'quality', 'semantic', 'texture', 'motion', 'kinds', 'fd', 'recognisability',
        'recognised'} of float (N, 3, T, H, W) clips, N >= 2."""
        check_clips(judged, 'judged')
        native, named = self._features(judged)
        scores = {name: frechet_distance(self.native[name], native[name])
                  for name in COMPONENTS}
        scores['kinds'] *= KINDS_WEIGHT
        scores['quality'] = sum(scores[name] for name in COMPONENTS)
        scores['fd'] = frechet_distance(self.shrunk, feature_net.extract(self.net, judged))
        scores['recognisability'] = recognisability(named, self.named)
        scores['recognised'] = sum(kinds is not None for kinds in named) / len(named)
        return scores
