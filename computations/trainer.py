"""The Chainer Trainer of a run: optimizers, updater, reports, plots, gifs, snapshots.

Snapshots, model files and sample gifs are written every interval and once
more when the run ends or is interrupted (computations/run_control.py); a
non-finite weight stops the run before a snapshot is written.
"""
import os
import secrets

import numpy as np
from chainer import training
from chainer.training import extensions

from computations.distributed import World, multi_node
from computations.flat_adam import FlatAdam
from computations.generator_average import GeneratorAverage
from computations.progress import Progress
from computations.quality import REPORTED, quality_metric
from computations.rate_schedule import annealed_rates
from computations.run_control import EveryOrLast, RunLength, latch_interrupt
from computations.run_folder import RunIdentity
from computations.run_page import REPORT_KEYS, RunPage
from computations.sampling import generate_videos
from computations.updater import Diverged, WGANGPUpdater
from datastream.framereader import clip_converter
from nn.network_files import write_network
from base.config import format_config
from base.npz_entries import write_entries
from base.video_io import save_gif, tile_grid

SNAPSHOT_PATTERN = 'snapshot_iter_{.updater.iteration}'
PLOT_INCHES = (9, 4.5)  # at matplotlib's 100 dpi, 900 x 450 pixels before the legend


def sample_gifs(generator_at, z, out_dir):
    """Extension writing a grid gif of the fixed latents z, made by the generator
    generator_at(iteration) returns, to out_dir/samples."""
    os.makedirs(os.path.join(out_dir, 'samples'), exist_ok=True)

    @training.make_extension()
    def write_samples(trainer):
        iteration = trainer.updater.iteration
        videos = generate_videos(generator_at(iteration), z)
        save_gif(os.path.join(out_dir, 'samples', f'iter_{iteration:07d}.gif'), tile_grid(videos))
    return write_samples


def network_file(name, network_at, settings):
    """Extension writing network_at(iteration) to out/NAME_iter_N.npz with the run's
    setup.ini text `settings` (nn/network_files.py), complete or not at all."""
    @training.make_extension()
    def write_file(trainer):
        iteration = trainer.updater.iteration
        write_network(os.path.join(trainer.out, f'{name}_iter_{iteration}.npz'),
                      network_at(iteration), settings)
    return write_file


def finite_weights(networks):
    """Extension raising Diverged when a weight of any {name: link} is not finite;
    it runs just before the snapshots, so no non-finite snapshot is ever written."""
    @training.make_extension(priority=training.extension.PRIORITY_WRITER + 1)
    def check_weights(trainer):
        for name, link in networks.items():
            for path, param in link.namedparams():
                if param.array is not None and not link.xp.isfinite(param.array).all():
                    raise Diverged(f'training diverged at iteration {trainer.updater.iteration}:'
                                   f' {name} weight {path} is not finite; no snapshot of it was'
                                   ' written. Resume the last snapshot with a lower'
                                   ' [ADAM] learning_rate')
    return check_weights


def make_optimizer(model, adam):
    """Adam with the [ADAM] learning_rate and betas, all parameters stepped at once
    (computations/flat_adam.py)."""
    optimizer = FlatAdam(alpha=adam.learning_rate, beta1=adam.beta1, beta2=adam.beta2)
    optimizer.setup(model)
    return optimizer


def _add_reports(trainer, saving, report_out, run_length):
    disp = (saving.disp_interval, 'iteration')

    def skipped_so_far(result):
        result['data/skipped'] = trainer.updater.skipped_clips
    trainer.extend(extensions.LogReport(trigger=disp, postprocess=skipped_so_far))
    printed = [key for key in REPORT_KEYS if key != 'data/skipped'
               and (saving.quality_interval or key not in REPORTED)]
    trainer.extend(extensions.PrintReport(printed, out=report_out), trigger=disp)
    trainer.extend(Progress(run_length, max(saving.disp_interval, saving.plot_interval)))
    plot = (saving.plot_interval, 'iteration')
    trainer.extend(plot_report(['gen/loss', 'critic/loss'], 'loss.png', plot, 'loss',
                               'Losses (critic: -wdist + lambda * gp)'))
    trainer.extend(plot_report(['critic/wdist', 'critic/gp'], 'wdist.png', plot, 'value',
                               'Wasserstein estimate and gradient penalty'))


def plot_report(keys, file_name, trigger, ylabel, title):
    """A PlotReport of keys against the iteration, in a figure wide enough to read on the
    run page, its axes labelled."""
    def label(figure, axes, summary):
        figure.set_size_inches(*PLOT_INCHES)
        axes.set_ylabel(ylabel)
        axes.set_title(title)
    return extensions.PlotReport(keys, 'iteration', trigger=trigger, file_name=file_name,
                                 postprocess=label)


def _add_snapshots(trainer, networks, config, run_length):
    """The trainer snapshot and, beside it, NAME_iter_N.npz for each
    {NAME: function(iteration) -> link}."""
    every = EveryOrLast(config.saving.snap_interval, run_length)
    settings = format_config(config)
    trainer.extend(finite_weights({'generator': trainer.updater.gen,
                                   'critic': trainer.updater.critic}), trigger=every)
    # write_entries stores a None without pickling it (base/npz_entries.py)
    trainer.extend(extensions.snapshot(savefun=write_entries, filename=SNAPSHOT_PATTERN,
                                       n_retains=3), trigger=every)
    for name, network_at in networks.items():
        trainer.extend(network_file(name, network_at, settings), name=f'{name}_file', trigger=every)


def build_trainer(config, gen, critic, iterator, device, out_dir, report_out=None,
                  world=World(), dataset=None, run_id=None):
    """A ready Trainer and its RunLength (whose handlers main installs). Under
    MPI every rank trains; only rank 0 reports and writes files, its snapshots
    carrying run_id (computations/run_folder.py; a new one when None)."""
    optimizers = {name: multi_node(make_optimizer(link, config.adam), world)
                  for name, link in (('gen', gen), ('critic', critic))}
    updater = WGANGPUpdater(iterator, optimizers, critic_iter=config.adam.critic_iter,
                            penalty_coeff=config.adam.penalty_coeff, seed=config.model.seed,
                            device=device, converter=clip_converter, rank=world.rank,
                            size=world.size, penalty_every=config.adam.penalty_every)
    run_length = RunLength(config.model.iterations, config.model.epochs)
    trainer = training.Trainer(updater, run_length, out=out_dir)
    if config.adam.anneal:
        trainer.extend(annealed_rates(optimizers, run_length), name='anneal')
    trainer.extend(latch_interrupt(run_length, world))
    if world.is_root:
        trainer.extend(RunIdentity(run_id or secrets.token_hex(8)))
        shown = _add_outputs(trainer, config, gen, critic, out_dir, report_out, run_length)
        _add_quality(trainer, config, shown, dataset, run_length)
    return trainer, run_length


def _add_quality(trainer, config, generator_at, dataset, run_length):
    saving = config.saving
    if saving.quality_interval and dataset is not None:
        metric = quality_metric(generator_at, dataset, saving.feature_net, saving.quality_clips,
                                config.model.seed)
        trainer.extend(metric, trigger=EveryOrLast(saving.quality_interval, run_length))
        trainer.extend(plot_report(list(REPORTED), 'quality.png',
                                   (saving.quality_interval, 'iteration'), 'score',
                                   'Quality (lower is better)'))


def _add_average(trainer, gen, model):
    """The generator's moving average (computations/generator_average.py), or None
    when average_decay is 0."""
    if not model.average_decay:
        return None
    average = GeneratorAverage(gen, model.average_decay, model.batch_size, model.seed)
    trainer.extend(average)
    return average


def _add_outputs(trainer, config, gen, critic, out_dir, report_out, run_length):
    """Reports, snapshots, network files, sample gifs and the run page; returns the
    function(iteration) -> the generator the gifs show."""
    _add_reports(trainer, config.saving, report_out, run_length)
    networks = {'gen': lambda _: gen, 'critic': lambda _: critic}
    average = _add_average(trainer, gen, config.model)
    if average is not None:
        networks['gen_avg'] = average.standing
    _add_snapshots(trainer, networks, config, run_length)
    z = gen.make_hidden(config.saving.n_samples, np.random.RandomState(config.model.seed))
    every_plot = EveryOrLast(config.saving.plot_interval, run_length)
    shown = networks['gen'] if average is None else average.standing
    trainer.extend(sample_gifs(shown, z, out_dir), trigger=every_plot)
    trainer.extend(RunPage(out_dir, config, run_length), trigger=every_plot)
    return shown


def shown_generator(trainer):
    """The generator the sample gifs show: the moving average (statistics recomputed)
    when the run keeps one, else the generator itself."""
    try:
        average = trainer.get_extension(GeneratorAverage.name)
    except ValueError:
        return trainer.updater.gen
    return average.standing(trainer.updater.iteration)
