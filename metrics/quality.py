"""The headline video quality on the built-in data: lower is better, real clips
against other real clips score only the sampling noise (about 4 at 256 clips of
64x64x32; docs/quality.md).

    quality = semantic + texture

semantic: the Fréchet distance between the feature network's pooled c4
features of real and judged clips, both read at their own size and frame rate
(no resizing, every frame: blur, lost shapes, frozen or jerky motion all move
it). texture: the Fréchet distance between per-channel means and deviations of
its c2 and c3 activations (sharpness and local structure). `fd` is the older,
literature-style distance on clips shrunk to 16x32x32, kept for comparison.
"""
from metrics import feature_net
from metrics.frechet import frechet_distance

COMPONENTS = ('semantic', 'texture')


class QualityReference:
    """The features of a set of real clips, computed once, to score judged clips against."""

    def __init__(self, net, real):
        """net: a loaded FeatureNet; real: float (N, 3, T, H, W) clips in [-1, 1]."""
        self.net = net
        self.native = feature_net.native_features(net, real)
        self.shrunk = feature_net.extract(net, real)

    def score(self, judged):
        """{'quality', 'semantic', 'texture', 'fd'} of float (N, 3, T, H, W) clips."""
        native = feature_net.native_features(self.net, judged)
        scores = {name: frechet_distance(self.native[name], native[name])
                  for name in COMPONENTS}
        scores['quality'] = sum(scores[name] for name in COMPONENTS)
        scores['fd'] = frechet_distance(self.shrunk, feature_net.extract(self.net, judged))
        return scores
