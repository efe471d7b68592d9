"""gpu.ini, the GPU recipe: it parses, trains (here on the CPU, at a tiny size) into a run
folder of its own, and a resume into that folder with networks of another shape stops
before any work."""
import os
import subprocess
import sys

import pytest

from nn.network_files import config_for
from tests.conftest import ROOT
from base.config import load_config

GPU_INI = os.path.join(ROOT, 'gpu.ini')
SHAPES = ('ch', 'critic_ch', 'frame_size', 'n_frames', 'latent_dim', 'upsample',
          'critic_edge_gain')
FEATURE_NET = os.path.join(ROOT, 'models', 'feature_net.npz')


def test_the_gpu_recipe_parses_uses_gpu_0_and_a_run_folder_of_its_own():
    config = load_config(GPU_INI)
    first_run = load_config(os.path.join(ROOT, 'setup.ini'))
    assert config.model.use_gpu == 0 and first_run.model.use_gpu == -1
    assert config.saving.out_dir != first_run.saving.out_dir
    assert config.data.root_dir != first_run.data.root_dir, 'the standard look, its own data'
    assert (config.model.frame_size, config.model.n_frames) == (64, 32)


@pytest.mark.skipif(not os.path.isfile(os.path.join(ROOT, 'models', 'generator.npz')),
                    reason='models/generator.npz absent')
def test_the_gpu_recipe_builds_the_shipped_generators_networks():
    shipped = config_for(os.path.join(ROOT, 'models', 'generator.npz')).model
    recipe = load_config(GPU_INI).model
    assert {key: getattr(recipe, key) for key in SHAPES} == \
        {key: getattr(shipped, key) for key in SHAPES}


def train(*overrides):
    return subprocess.run([sys.executable, os.path.join(ROOT, 'main_train.py'), '--config',
                           GPU_INI, '--set', 'MODEL.use_gpu=-1', *overrides], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def sets(**values):
    return [item for key, value in values.items() for item in ('--set', f'{key}={value}')]


@pytest.mark.subprocess
@pytest.mark.skipif(not os.path.isfile(FEATURE_NET), reason='models/feature_net.npz absent')
def test_the_gpu_recipe_trains_on_the_cpu_and_refuses_another_runs_folder(tmp_path,
                                                                          shapes_dir):
    out = tmp_path / 'run'
    where = sets(**{'SAVING.out_dir': out, 'DATA.root_dir': shapes_dir, 'DATA.workers': 0,
                    'DATA.cache': 'no'})
    tiny = sets(**{'MODEL.iterations': 2, 'MODEL.ch': 8, 'MODEL.frame_size': 16,
                   'MODEL.n_frames': 16, 'MODEL.batch_size': 2, 'MODEL.latent_dim': 8,
                   'SAVING.quality_interval': 2, 'SAVING.quality_clips': 4})
    result = train(*where, *tiny)
    assert result.returncode == 0, result.stderr
    assert 'finished at iteration 2' in result.stdout and (out / 'snapshot_iter_2').is_file()
    assert (out / 'quality.json').is_file() and (out / 'quality.png').is_file()

    before = {name: os.stat(out / name).st_mtime_ns for name in os.listdir(out)}
    refused = train(*where)  # the recipe's own size into the tiny run's folder
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip() == (
        f"error: {out / 'snapshot_iter_2'} holds a generator of ch 8, 16x16x16, latent_dim 8;"
        " this config asks for ch 128, 64x64x32, latent_dim 100: [SAVING] out_dir ="
        f" '{out}' holds another run; choose another out_dir (or resume that run with the"
        " setup.ini it was made with)")
    assert 'videogan: WGAN-GP' not in refused.stdout, 'stopped before any work'
    assert {name: os.stat(out / name).st_mtime_ns for name in os.listdir(out)} == before
