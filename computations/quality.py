"""Training-time quality: the feature Fréchet distance between built-in clips and
generated ones every [SAVING] quality_interval iterations, logged as quality/fd
and plotted in quality.png beside the loss curves (metrics/ explains the metric)."""
import numpy as np
from chainer import training

from computations.sampling import generate_videos
from datastream.framereader import to_float
from metrics import feature_net
from metrics.frechet import frechet_distance


def quality_metric(gen, dataset, net_path, n_clips, seed):
    """Extension reporting quality/fd; real features are computed once, on first use."""
    net = feature_net.load(net_path)
    z = gen.make_hidden(n_clips, np.random.RandomState(seed + 1))
    real = {}

    @training.make_extension(priority=training.PRIORITY_WRITER)
    def quality(trainer):
        if 'features' not in real:
            clips = np.stack([dataset[i][0] for i in range(min(n_clips, len(dataset)))])
            real['features'] = feature_net.extract(net, to_float(clips))
        videos = to_float(generate_videos(gen, z).transpose(0, 4, 1, 2, 3))
        fd = frechet_distance(real['features'], feature_net.extract(net, videos))
        trainer.observation['quality/fd'] = fd
    return quality
