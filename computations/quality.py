"""Training-time quality: every [SAVING] quality_interval iterations the headline
quality (metrics/quality.py) of generated clips against built-in ones, logged as
quality/score beside the older distance quality/fd, and plotted in quality.png; the
recognisability beside it is logged as quality/recognisability (not plotted: it is a
share, higher is better)."""
import numpy as np
from chainer import training

from base.video_io import to_float
from computations.sampling import generate_float_videos
from metrics import feature_net
from metrics.quality import QualityReference

REPORTED = ('quality/score', 'quality/fd')
FEATURE_NET_KEY = '[SAVING] feature_net ='  # where net_path comes from, named in its errors


def quality_metric(generator_at, dataset, net_path, n_clips, seed):
    """Extension reporting quality/score and quality/fd of the generator that
    generator_at(iteration) returns; real features are computed once, on first use."""
    net = feature_net.check_feature_net(net_path, FEATURE_NET_KEY)
    z = generator_at(0).make_hidden(n_clips, np.random.RandomState(seed + 1))
    reference = []

    @training.make_extension(priority=training.PRIORITY_WRITER + 1)  # before LogReport
    def quality(trainer):
        if not reference:
            clips = np.stack([dataset[i][0] for i in range(min(n_clips, len(dataset)))])
            reference.append(QualityReference(net, to_float(clips)))
        gen = generator_at(trainer.updater.iteration)
        scores = reference[0].score(generate_float_videos(gen, z))
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
    net = feature_net.check_feature_net(net_path, FEATURE_NET_KEY)
    reference = QualityReference(net, to_float(clips[:n]))
    z = gen.make_hidden(n, np.random.RandomState(seed + 2))
    return reference.score(generate_float_videos(gen, z)), reference.score(to_float(clips[n:]))
