"""The Chainer Trainer of a run: optimizers, updater, reports, plots, gifs, snapshots.

Snapshots, model files and sample gifs are written every interval and once
more when the run ends or is interrupted (Ctrl-C or SIGTERM), always between
two iterations, so a resumed run continues exactly where it stopped.
"""
import glob
import os
import re
import signal

import chainer
import numpy as np
from chainer import training
from chainer.training import extensions

from computations.distributed import World, multi_node
from computations.quality import quality_metric
from computations.run_page import run_page
from computations.sampling import generate_videos
from computations.updater import WGANGPUpdater
from datastream.framereader import clip_converter
from utils.video_io import save_gif, tile_grid

REPORT_KEYS = ['epoch', 'iteration', 'gen/loss', 'critic/loss', 'critic/wdist', 'critic/gp',
               'quality/fd', 'elapsed_time']
SNAPSHOT_PATTERN = 'snapshot_iter_{.updater.iteration}'


class RunLength:
    """Stop trigger: the configured length, or an interrupt latched between iterations."""

    def __init__(self, iterations, epochs):
        self.length = (iterations, 'iteration') if iterations else (epochs, 'epoch')
        self.pending = False
        self.stop_now = False

    def reached(self, trainer):
        count, unit = self.length
        updater = trainer.updater
        return (updater.iteration if unit == 'iteration' else updater.epoch_detail) >= count

    def __call__(self, trainer):
        return self.stop_now or self.reached(trainer)

    def get_training_length(self):
        return self.length

    def request_stop(self, signum=None, frame=None):
        """Signal handler: finish this iteration, save, stop; a second signal quits at once."""
        if self.pending:
            raise KeyboardInterrupt
        self.pending = True
        print('\nstopping after this iteration and saving a snapshot'
              ' (press Ctrl-C again to quit at once)', flush=True)

    def install_handlers(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.request_stop)


class EveryOrLast:
    """Fires every `interval` iterations and on the run's last iteration."""

    def __init__(self, interval, run_length):
        self.interval, self.run_length = interval, run_length

    def __call__(self, trainer):
        return trainer.updater.iteration % self.interval == 0 or self.run_length(trainer)


def latch_interrupt(run_length, world):
    """First extension of each iteration: an interrupt seen now (by any rank)
    applies to it, on every rank alike."""
    @training.make_extension(trigger=(1, 'iteration'), priority=1000)
    def latch(trainer):
        run_length.stop_now = world.any(run_length.pending)
    return latch


def sample_gifs(gen, z, out_dir):
    """Extension writing a grid gif of the fixed latents z to out_dir/samples."""
    os.makedirs(os.path.join(out_dir, 'samples'), exist_ok=True)

    @training.make_extension()
    def write_samples(trainer):
        name = f'iter_{trainer.updater.iteration:07d}.gif'
        save_gif(os.path.join(out_dir, 'samples', name), tile_grid(generate_videos(gen, z)))
    return write_samples


def make_optimizer(model, adam):
    optimizer = chainer.optimizers.Adam(alpha=adam.learning_rate, beta1=adam.beta1,
                                        beta2=adam.beta2)
    optimizer.setup(model)
    return optimizer


def _add_reports(trainer, saving, report_out, run_length):
    disp = (saving.disp_interval, 'iteration')
    trainer.extend(extensions.LogReport(trigger=disp))
    trainer.extend(extensions.PrintReport(REPORT_KEYS, out=report_out), trigger=disp)
    trainer.extend(extensions.ProgressBar(training_length=run_length.length,
                                          update_interval=max(1, min(10, saving.disp_interval))))
    plot = (saving.plot_interval, 'iteration')
    trainer.extend(extensions.PlotReport(['gen/loss', 'critic/loss'], 'iteration',
                                         trigger=plot, file_name='loss.png'))
    trainer.extend(extensions.PlotReport(['critic/wdist', 'critic/gp'], 'iteration',
                                         trigger=plot, file_name='wdist.png'))


def _add_snapshots(trainer, gen, critic, saving, run_length):
    every = EveryOrLast(saving.snap_interval, run_length)
    trainer.extend(extensions.snapshot(filename=SNAPSHOT_PATTERN, n_retains=3), trigger=every)
    trainer.extend(extensions.snapshot_object(gen, 'gen_iter_{.updater.iteration}.npz'),
                   trigger=every)
    trainer.extend(extensions.snapshot_object(critic, 'dis_iter_{.updater.iteration}.npz'),
                   trigger=every)


def build_trainer(config, gen, critic, iterator, device, out_dir, report_out=None,
                  world=World(), dataset=None):
    """A ready Trainer and its RunLength (whose handlers main installs). Under
    MPI every rank trains; only rank 0 reports and writes files."""
    optimizers = {'gen': multi_node(make_optimizer(gen, config.adam), world),
                  'critic': multi_node(make_optimizer(critic, config.adam), world)}
    updater = WGANGPUpdater(iterator, optimizers, config.adam.critic_iter,
                            config.adam.penalty_coeff, config.model.seed, device, clip_converter,
                            world.rank, world.size)
    run_length = RunLength(config.model.iterations, config.model.epochs)
    trainer = training.Trainer(updater, run_length, out=out_dir)
    trainer.extend(latch_interrupt(run_length, world))
    if world.is_root:
        _add_quality(trainer, config, gen, dataset, run_length)
        _add_outputs(trainer, config, gen, critic, out_dir, report_out, run_length)
    return trainer, run_length


def _add_quality(trainer, config, gen, dataset, run_length):
    saving = config.saving
    if saving.quality_interval and dataset is not None:
        metric = quality_metric(gen, dataset, saving.feature_net, saving.quality_clips,
                                config.model.seed)
        trainer.extend(metric, trigger=EveryOrLast(saving.quality_interval, run_length))
        trainer.extend(extensions.PlotReport(['quality/fd'], 'iteration', file_name='quality.png',
                                             trigger=(saving.quality_interval, 'iteration')))


def _add_outputs(trainer, config, gen, critic, out_dir, report_out, run_length):
    _add_reports(trainer, config.saving, report_out, run_length)
    _add_snapshots(trainer, gen, critic, config.saving, run_length)
    z = gen.make_hidden(config.saving.n_samples, np.random.RandomState(config.model.seed))
    every_plot = EveryOrLast(config.saving.plot_interval, run_length)
    trainer.extend(sample_gifs(gen, z, out_dir), trigger=every_plot)
    trainer.extend(run_page(out_dir, config), trigger=every_plot)


def latest_snapshot(out_dir):
    """Path of the newest snapshot_iter_N in out_dir, or None."""
    found = []
    for path in glob.glob(os.path.join(out_dir, 'snapshot_iter_*')):
        match = re.fullmatch(r'snapshot_iter_(\d+)', os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return max(found)[1] if found else None


def resume(trainer, out_dir, resume_from):
    """Load the snapshot named by [SAVING] resume; return its path or None."""
    if resume_from == 'none':
        return None
    path = latest_snapshot(out_dir) if resume_from == 'latest' else resume_from
    if path is None:
        return None
    if not os.path.isfile(path):
        raise FileNotFoundError(f'[SAVING] resume = {resume_from!r}: snapshot file not found')
    chainer.serializers.load_npz(path, trainer)
    return path
