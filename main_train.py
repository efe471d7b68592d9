"""Train the video WGAN-GP described by setup.ini.

    python main_train.py [--config setup.ini] [--set SECTION.key=value ...]
"""
import argparse
import contextlib
import os
import shlex
import sys
from functools import partial

from base import chainer_compat  # noqa: F401  (before chainer: new-stack fixes)
import chainer
import numpy as np

from computations.distributed import batch_normalization, create_world, shard
from computations.progress import clock
from computations.quality import final_clips, final_quality
from computations.report_stream import open_report_stream
from computations.run_config import load_run_config
from computations.run_control import check_resume_file, check_resume_shapes, resume
from computations.run_folder import RunFolder, check_log_file
from computations.run_page import close_page, write_quality
from computations.trainer import build_trainer, shown_generator
from datastream.framereader import FrameReader, make_iterator
from datastream.moving_shapes import check_look, ensure_builtin
from metrics.feature_net import check_feature_net
from metrics.quality import COMPONENTS, MIN_CLIPS
from nn import torch_kernels
from nn.DCGAN import build_networks
from nn.sizes import describe_size, training_bytes
from base.allocator import keep_freed_memory
from base.cli import EXIT_INTERRUPTED, run
from base.config import write_config
from base.devices import device_for
from base.errors import UserError
from base.memory import require_memory
from base.safe_files import ensure_output_dir


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--config', default='setup.ini', help='configuration file')
    parser.add_argument('--set', action='append', default=[], metavar='SECTION.key=value',
                        help='override one config value (repeatable)')
    return parser.parse_args(argv)


def conv_backend(model, kernels):
    """Which code runs the convolutions, in words (kernels: what select chose)."""
    if model.use_gpu >= 0:
        if kernels == 'torch':
            return "PyTorch cuDNN kernels on CuPy arrays ([MODEL] kernels)"
        cudnn = chainer.backends.cuda.cudnn_enabled
        return 'CuPy' + (' with cuDNN' if cudnn else ' im2col (no cuDNN in this CuPy)')
    if kernels == 'torch':
        return "PyTorch CPU kernels ([MODEL] kernels)"
    return 'Chainer' + (' (install torch for the fast path)' if model.kernels == 'auto' else '')


def print_header(config, config_path, n_clips, device, world, kernels):
    m, a = config.model, config.adam
    length = f'{m.iterations} iterations' if m.iterations else f'{m.epochs} epochs'
    print(f'videogan: WGAN-GP on {n_clips} clips from {config.data.root_dir} ({config_path})')
    critic = f' (critic {m.critic_ch})' if m.critic_ch else ''
    print(f'  video {m.n_frames}x{m.frame_size}x{m.frame_size}, ch {m.ch}{critic},'
          f' batch {m.batch_size}, latent {m.latent_dim}, upsample {m.upsample}, {length},'
          f' device {device}, seed {m.seed}')
    if world.comm is not None:
        print(f'  {world.size} ranks ({config.scale.communicator} communicator): each trains'
              f' on its own shard; global batch {world.size * m.batch_size}')
    anneal = ' falling to 0' if a.anneal else ''
    edges = f' (critic edge gain {m.critic_edge_gain})' if m.critic_edge_gain else ''
    lazy = f' every {a.penalty_every} critic steps' if a.penalty_every > 1 else ''
    print(f'  adam lr {a.learning_rate}{anneal} betas ({a.beta1}, {a.beta2}),'
          f' critic_iter {a.critic_iter}, penalty {a.penalty_coeff}{lazy}{edges};'
          f' convolutions: {conv_backend(m, kernels)}')
    print(f'  run folder {config.saving.out_dir}')


def prepare_data(config, world):
    """The dataset (made first when built-in; cached once by rank 0)."""
    data, model = config.data, config.model
    if world.is_root and data.builtin:
        ensure_builtin(data, model.seed)
    dataset = None
    if world.is_root:
        dataset = FrameReader(data.root_dir, data.index_file, model.n_frames, model.frame_size,
                              cache=data.cache)
    world.barrier()
    return dataset or FrameReader(data.root_dir, data.index_file, model.n_frames,
                                  model.frame_size, cache=data.cache)


def build_models(model, device, world):
    np.random.seed(model.seed)
    gen, critic = build_networks(model, partial(batch_normalization, world=world))
    gen.to_device(device)
    critic.to_device(device)
    device.use()
    return gen, critic


def check_before_work(config, world):
    """Everything that would fail later, checked before the dataset or a network is made;
    returns out_dir claimed for this run (rank 0; None on the other ranks)."""
    saving, model, data = config.saving, config.model, config.data
    if data.builtin:
        check_look(data.root_dir, data.index_file, data.builtin_look)
    check_log_file(saving.log_file)
    torch_kernels.select(model.kernels, model.use_gpu >= 0)
    if saving.quality_interval or (data.builtin and os.path.isfile(saving.feature_net)):
        check_feature_net(saving.feature_net, '[SAVING] feature_net =')
    if model.use_gpu < 0:
        require_memory(training_bytes(model), f'[MODEL] batch_size {model.batch_size} videos'
                       f' of {describe_size(model)}')
    check_resume_file(saving.resume)
    check_resume_shapes(model, saving.out_dir, saving.resume)
    ensure_output_dir(saving.out_dir, '[SAVING] out_dir =')
    return RunFolder(saving.out_dir, saving.resume, saving.log_file) if world.is_root else None


def train(config, config_path):
    """Train; the exit code: 0 when the run reached its length, 130 when an interrupt
    stopped it first (its snapshot saved)."""
    keep_freed_memory()
    world = create_world(config.scale.communicator)
    folder = check_before_work(config, world)
    try:
        return train_in_folder(config, config_path, world, folder)
    finally:
        if folder is not None:
            folder.release()


def check_quality_clips(saving, dataset):
    if saving.quality_interval and min(saving.quality_clips, len(dataset)) < MIN_CLIPS:
        raise UserError(f'[SAVING] quality_interval = {saving.quality_interval}: the score needs'
                        f' at least {MIN_CLIPS} clips and the dataset has {len(dataset)}; add'
                        ' clips or set quality_interval = 0')


def train_in_folder(config, config_path, world, folder):
    dataset = prepare_data(config, world)
    check_quality_clips(config.saving, dataset)
    gpu = config.model.use_gpu
    device = device_for(world.intra_rank if world.comm is not None and gpu >= 0 else gpu)
    kernels = torch_kernels.select(config.model.kernels, gpu >= 0)
    if world.is_root:
        print_header(config, config_path, len(dataset), device, world, kernels)
    gen, critic = build_models(config.model, device, world)
    out_dir = config.saving.out_dir
    iterator = make_iterator(shard(dataset, world, config.model.seed), config.model.batch_size,
                             config.data.workers, config.model.seed)
    log_file = config.saving.log_file if world.is_root else ''
    with open_report_stream(out_dir, log_file) as report_out:
        trainer, run_length = build_trainer(config, gen, critic, iterator, device, out_dir,
                                            report_out, world, dataset,
                                            folder and folder.run_id)
        resumed = resume(trainer, out_dir, config.saving.resume)
        if world.is_root:
            if resumed:
                print(f'resumed from {resumed} at iteration {trainer.updater.iteration}')
            write_config(config, os.path.join(out_dir, 'setup.ini'))
        run_length.install_handlers()
        try:
            with out_of_memory_named(config.model), page_closed_on_error(trainer):
                trainer.run(show_loop_exception_msg=False)
        finally:
            run_length.restore_handlers()
            iterator.finalize()
    stopped = run_length.interrupted(trainer)
    if world.is_root:
        close_page(trainer, 'interrupted' if stopped else 'finished')
        if stopped:
            print_stopped(out_dir, trainer.updater.iteration, run_length)
        else:
            print_outputs(out_dir, trainer, config.model.average_decay > 0)
            if print_quality(config, trainer, dataset):
                close_page(trainer, 'finished')  # now with the final quality
    return EXIT_INTERRUPTED if stopped else 0


@contextlib.contextmanager
def page_closed_on_error(trainer):
    """The run page says the run failed (or was quit at once, by a second interrupt) when
    training raises; the error itself goes on unchanged."""
    try:
        yield
    except BaseException as err:
        with contextlib.suppress(Exception):
            close_page(trainer, 'interrupted' if isinstance(err, KeyboardInterrupt)
                       else 'failed')
        raise


@contextlib.contextmanager
def out_of_memory_named(model):
    """Running out of (GPU) memory while training becomes one UserError naming the batch and
    size that did not fit and what to lower."""
    try:
        yield
    except Exception as err:  # CuPy's OutOfMemoryError is a MemoryError, PyTorch's is not
        if not (isinstance(err, MemoryError) or type(err).__name__ == 'OutOfMemoryError'):
            raise
        where = 'GPU memory' if model.use_gpu >= 0 else 'memory'
        raise UserError(f'out of {where} training batches of {model.batch_size} at'
                        f' {describe_size(model)}: lower [MODEL] batch_size first, then ch,'
                        ' frame_size or n_frames') from None


def print_quality(config, trainer, dataset):
    """The final videos' quality beside real clips' (built-in data; needs the feature net),
    printed and written to out_dir/quality.json; returns its path, or None."""
    net = config.saving.feature_net
    if not config.data.builtin or not os.path.isfile(net) or len(dataset) < 4:
        return None
    scores, floor = final_quality(shown_generator(trainer), dataset, net)
    parts = ', '.join(f'{name} {scores[name]:.1f}' for name in COMPONENTS)
    print(f'  quality       {scores["quality"]:.1f} ({parts}); real clips against real:'
          f' {floor["quality"]:.1f}. Lower is better: docs/quality.md')
    iteration = trainer.updater.iteration
    path = write_quality(config.saving.out_dir, {
        'iteration': iteration, 'generator': shown_name(iteration, config.model.average_decay > 0),
        'clips': final_clips(len(dataset)), **scores, 'real_against_real': floor,
        'feature_net': net})
    print(f'  quality file  {path}')
    return path


def print_stopped(out_dir, iteration, run_length):
    count, unit = run_length.length
    recorded = os.path.join(out_dir, 'setup.ini')
    print(f'\nstopped by an interrupt at iteration {iteration} (the run is {count} {unit}s'
          f' long); its snapshot is {os.path.join(out_dir, f"snapshot_iter_{iteration}")}.'
          f'\n  continue:     {command(sys.executable, __file__)} --config {shlex.quote(recorded)}'
          ' --set SAVING.resume=latest')


def command(*paths):
    """paths as a command a user can paste here: each relative to the current folder when
    below it, else absolute, quoted for the shell."""
    def shown(path):
        relative = os.path.relpath(path)
        return shlex.quote(relative if not relative.startswith('..') else os.path.abspath(path))
    return ' '.join(shown(path) for path in paths)


def shown_name(iteration, averaged):
    """The file of the generator the samples show (the moving average when kept)."""
    return f'gen_avg_iter_{iteration}.npz' if averaged else f'gen_iter_{iteration}.npz'


def print_outputs(out_dir, trainer, averaged=False):
    iteration = trainer.updater.iteration
    count, unit = trainer.stop_trigger.length
    gen = shown_name(iteration, averaged)
    print(f'\nfinished at iteration {iteration}: the run reached its length ({count} {unit}s)'
          f' in {clock(trainer.elapsed_time)} of training (h:mm:ss). In {out_dir}:')
    print(f'  sample gifs   {os.path.join(out_dir, "samples")}/iter_*.gif')
    log = '; log: log' if os.path.isfile(os.path.join(out_dir, 'log')) else ''
    print(f'  loss plots    {os.path.join(out_dir, "loss.png")}, wdist.png{log}')
    print(f'  snapshots     snapshot_iter_{iteration} (resume), gen_iter_{iteration}.npz,'
          f' critic_iter_{iteration}.npz' + f', {gen}' * averaged)
    print(f'  run page      {os.path.join(out_dir, "index.html")}')
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'utils', 'generate.py')
    print(f'  generate:     {command(sys.executable, script)} --model'
          f' {shlex.quote(os.path.join(out_dir, gen))}')


def _main(argv):
    args = parse_args(argv)
    config = load_run_config(args.config, args.set)
    return train(config, args.config)


def main(argv=None):
    return run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
