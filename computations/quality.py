"""Training-time quality: every [SAVING] quality_interval iterations the headline
quality (metrics/quality.py) of generated clips against built-in ones, logged as
quality/score beside the older distance quality/fd, and plotted in quality.png; the
recognisability beside it is logged as quality/recognisability (not plotted: it is a
share, higher is better)."""
import numpy as np
from chainer import training

from computations.sampling import generate_videos
from datastream.framereader import to_float
from metrics import feature_net
from metrics.quality import QualityReference

REPORTED = ('quality/score', 'quality/fd')


def quality_metric(generator_at, dataset, net_path, n_clips, seed):
    """Extension reporting quality/score and quality/fd of the generator that
    generator_at(iteration) returns; real features are computed once, on first use."""
    net = feature_net.load(net_path)
    z = generator_at(0).make_hidden(n_clips, np.random.RandomState(seed + 1))
    reference = []

    @training.make_extension(priority=training.PRIORITY_WRITER + 1)  # before LogReport
    def quality(trainer):
        if not reference:
            clips = np.stack([dataset[i][0] for i in range(min(n_clips, len(dataset)))])
            reference.append(QualityReference(net, to_float(clips)))
        gen = generator_at(trainer.updater.iteration)
        videos = to_float(generate_videos(gen, z).transpose(0, 4, 1, 2, 3))
        scores = reference[0].score(videos)
        trainer.observation['quality/score'] = scores['quality']
        trainer.observation['quality/fd'] = scores['fd']
        trainer.observation['quality/recognisability'] = scores['recognisability']  # log only
    return quality


def final_clips(dataset_size, n_clips=256):
    """How many clips of each kind final_quality scores: n_clips, at most half the dataset."""
    return min(n_clips, dataset_size // 2)


def final_quality(gen, dataset, net_path, n_clips=256, seed=0):
    """(scores of gen's videos, scores of other real clips) against the dataset's
    first n clips, n = final_clips(len(dataset), n_clips): the run's quality beside the
    real-against-real value it would reach at best."""
    n = final_clips(len(dataset), n_clips)
    clips = np.stack([dataset[i][0] for i in range(2 * n)])
    reference = QualityReference(feature_net.load(net_path), to_float(clips[:n]))
    z = gen.make_hidden(n, np.random.RandomState(seed + 2))
    videos = to_float(generate_videos(gen, z).transpose(0, 4, 1, 2, 3))
    return reference.score(videos), reference.score(to_float(clips[n:]))
