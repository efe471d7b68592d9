"""End to end: main_train.py and utils/generate.py as a user runs them."""
import json
import os
import re
import signal
import subprocess
import sys
import time

from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from nn.network_files import config_for
from tests.conftest import ROOT, tiny_sections, write_ini


def run(script, *args, timeout=300):
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def gif_info(path):
    """(frames shown at 10 fps, size): repeated frames are stored once, longer."""
    with Image.open(path) as gif:
        total_ms = 0
        for index in range(gif.n_frames):
            gif.seek(index)
            total_ms += gif.info['duration']
        return total_ms // 100, gif.size


class Links(HTMLParser):
    """Every src and href of a page."""

    def __init__(self):
        super().__init__()
        self.targets = []

    def handle_starttag(self, tag, attrs):
        self.targets += [value for name, value in attrs if name in ('src', 'href')]


def shown_python():
    """sys.executable as main_train shows it: relative when below the project root."""
    relative = os.path.relpath(sys.executable, ROOT)
    return relative if not relative.startswith('..') else os.path.abspath(sys.executable)


def printed_rows(stdout):
    """The log table's rows as {column: value} (each row begins with an erase, \x1b[J)."""
    header = next(line.split() for line in stdout.splitlines() if line.startswith('epoch '))
    return [dict(zip(header, map(float, line[3:].split())))
            for line in stdout.splitlines() if line.startswith('\x1b[J')]



def assert_evaluates(generator_file):
    """utils/evaluate.py rebuilds the generator and critic of a run's file and scores them."""
    score = run('utils/evaluate.py', '--model', str(generator_file), '--n', '2', '--batch', '2')
    assert score.returncode == 0, score.stderr
    assert 'Wasserstein estimate over 2 + 2 clips' in score.stdout

@pytest.mark.subprocess
def test_train_writes_log_plot_gifs_snapshots_then_generate(tmp_path, tiny_ini):
    result = run('main_train.py', '--config', tiny_ini, '--set', 'ADAM.penalty_every=2')
    assert result.returncode == 0, result.stderr
    assert 'gen/loss' in result.stdout and 'critic/wdist' in result.stdout
    assert re.search(r'finished at iteration 3: the run reached its length \(3 iterations\) in'
                     r' \d+:\d\d:\d\d of training', result.stdout), result.stdout
    out = tmp_path / 'run'
    assert f'  run page      {out / "index.html"}' in result.stdout
    assert (f'  generate:     {shown_python()} utils/generate.py --model {out / "gen_iter_3.npz"}'
            in result.stdout)
    # the progress line, not chainer's ProgressBar (per-epoch bar, 'inf iters/sec')
    assert re.search(r'^iteration 2/3 \(66%\), [\d.e+]+ it/s, \d+:\d\d:\d\d left$', result.stdout,
                     re.MULTILINE), result.stdout
    assert 'iters/sec' not in result.stdout and 'this epoch' not in result.stdout
    # the last of 2 critic steps has no penalty: critic/loss is not that step's -wdist
    rows = printed_rows(result.stdout)
    assert len(rows) == 3 and all(row['critic/loss'] != -row['critic/wdist'] for row in rows)
    for name in ('log', 'loss.png', 'wdist.png', 'setup.ini', 'snapshot_iter_3',
                 'gen_iter_3.npz', 'critic_iter_3.npz', 'snapshot_iter_2'):
        assert (out / name).is_file(), name
    assert gif_info(out / 'samples' / 'iter_0000003.gif') == (16, (16 * 2 + 1,) * 2)
    text = (out / 'index.html').read_text()
    assert 'class="state finished">finished</span>' in text and 'refresh' not in text
    page = Links()
    page.feed(text)
    assert page.targets[:2] == ['loss.png', 'wdist.png']
    assert page.targets[2:] == ['samples/iter_0000003.gif', 'samples/iter_0000002.gif']
    assert all((out / target).is_file() for target in page.targets)

    gen = run('utils/generate.py', '--model', str(out / 'gen_iter_3.npz'), '--n', '3',
              '--outdir', str(tmp_path / 'gifs'))
    assert gen.returncode == 0, gen.stderr
    assert sorted(n for n in os.listdir(tmp_path / 'gifs') if not n.startswith('.')) == [
        'grid.gif', 'seed0000.gif', 'seed0001.gif', 'seed0002.gif']
    assert gif_info(tmp_path / 'gifs' / 'seed0001.gif') == (16, (16, 16))

    alone = tmp_path / 'alone'  # a generator file needs no setup.ini beside it
    alone.mkdir()
    os.replace(out / 'gen_iter_3.npz', alone / 'gen_iter_3.npz')
    gen = run('utils/generate.py', '--model', str(alone / 'gen_iter_3.npz'), '--n', '1',
              '--outdir', str(alone / 'gifs'))
    assert gen.returncode == 0, gen.stderr
    assert gif_info(alone / 'gifs' / 'seed0000.gif') == (16, (16, 16))


@pytest.mark.subprocess
def test_resize_upsampling_trains_and_its_run_folder_generates(tmp_path, tiny_ini):
    result = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.upsample=resize',
                 '--set', 'SAVING.disp_interval=10')
    assert result.returncode == 0, result.stderr
    assert 'upsample resize' in result.stdout
    # shorter than disp_interval: the outputs listed at the end are the ones written
    assert ('; log: log' in result.stdout) == (tmp_path / 'run' / 'log').is_file()
    gen = run('utils/generate.py', '--model', str(tmp_path / 'run' / 'gen_iter_3.npz'),
              '--n', '1', '--outdir', str(tmp_path / 'gifs'))
    assert gen.returncode == 0, gen.stderr
    assert gif_info(tmp_path / 'gifs' / 'seed0000.gif') == (16, (16, 16))


@pytest.mark.subprocess
def test_an_older_setup_ini_trains_resumes_and_its_critic_is_evaluated(tmp_path, shapes_dir):
    """A file from before the retirements and the rename (frame_critic_every, critic_frame_ch,
    critic_learning_rate at their off values; index_dir) trains; the run it made resumes
    under the setup.ini it recorded (index_file, no retired key), and evaluate reads it."""
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run'))
    sections['DATA'] = {'index_dir': 'index.txt', 'root_dir': shapes_dir, 'workers': 0}
    sections['MODEL'].update(frame_critic_every=0, critic_frame_ch=0)
    sections['ADAM'].update(critic_learning_rate=0)
    result = run('main_train.py', '--config', write_ini(tmp_path / 'older.ini', sections))
    assert result.returncode == 0, result.stderr
    recorded = tmp_path / 'run' / 'setup.ini'
    assert "index_file = 'index.txt'" in recorded.read_text()
    assert 'critic_frame_ch' not in recorded.read_text()
    resumed = run('main_train.py', '--config', str(recorded), '--set', 'MODEL.iterations=4')
    assert resumed.returncode == 0, resumed.stderr
    assert 'resumed from' in resumed.stdout and 'finished at iteration 4' in resumed.stdout
    again = run('main_train.py', '--config', str(tmp_path / 'older.ini'),  # and back again
                '--set', 'MODEL.iterations=5')
    assert again.returncode == 0, again.stderr
    assert 'resumed from' in again.stdout and 'finished at iteration 5' in again.stdout
    assert_evaluates(tmp_path / 'run' / 'gen_iter_5.npz')


@pytest.mark.subprocess
def test_a_critic_of_its_own_width_trains_and_is_evaluated(tmp_path, tiny_ini):
    """[MODEL] critic_ch sets the critic's width apart from the generator's; the network
    files carry it, so evaluate rebuilds both."""
    result = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.critic_ch=16')
    assert result.returncode == 0, result.stderr
    assert 'ch 8 (critic 16),' in result.stdout
    critic = np.load(tmp_path / 'run' / 'critic_iter_3.npz')
    gen = np.load(tmp_path / 'run' / 'gen_iter_3.npz')
    assert critic['c4/W'].shape[0] == 16 and gen['dc1/W'].shape[0] == 8
    assert_evaluates(tmp_path / 'run' / 'gen_iter_3.npz')


@pytest.mark.subprocess
def test_an_edge_gain_critic_and_annealed_rates_are_named_kept_and_evaluated(tmp_path,
                                                                             tiny_ini):
    """The header names both; the critic file carries its edge gain, so whatever loads it
    (utils/evaluate.py, research/critic_ladder.py) rebuilds the critic that sees sharpened clips."""
    result = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.critic_edge_gain=0.5',
                 '--set', 'ADAM.anneal=yes')
    assert result.returncode == 0, result.stderr
    assert 'falling to 0' in result.stdout and '(critic edge gain 0.5)' in result.stdout
    assert config_for(str(tmp_path / 'run' / 'critic_iter_3.npz')).model.critic_edge_gain == 0.5


@pytest.mark.subprocess
def test_rerun_resumes_from_latest_snapshot(tmp_path, tiny_ini):
    assert run('main_train.py', '--config', tiny_ini).returncode == 0
    result = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.iterations=4')
    assert result.returncode == 0, result.stderr
    assert 'resumed from' in result.stdout and 'iteration 3' in result.stdout
    assert (tmp_path / 'run' / 'snapshot_iter_4').is_file()
    # the report's rows (epoch, iteration): the new one alone, not the restored ones again
    assert [row[1] for row in re.findall(r'\x1b\[J(\d+) +(\d+) ', result.stdout)] == ['4']


@pytest.mark.subprocess
@pytest.mark.parametrize('setting, start, end', [
    ('MODEL.ch=12', "error: --set [MODEL] ch = '12': expected a multiple of 8 (>= 8)", ''),
    ('MODEL.upsample=bilinear',
     "error: --set [MODEL] upsample = 'bilinear': expected one of deconv, resize", ''),
    ('MODEL.critic_frame_ch=8', "error: --set [MODEL] critic_frame_ch = '8': retired on",
     '; set it to 0 or delete the line')])
def test_a_bad_or_retired_setting_stops_before_any_work(tmp_path, tiny_ini, setting, start,
                                                        end):
    result = run('main_train.py', '--config', tiny_ini, '--set', setting)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert message.startswith(start) and message.endswith(end)
    assert len(message.splitlines()) == 1
    assert not (tmp_path / 'run').exists()


@pytest.mark.subprocess
def test_builtin_dataset_is_made_on_first_use(tmp_path):
    sections = tiny_sections(str(tmp_path / 'shapes'), str(tmp_path / 'run'), **{
        'DATA.builtin': 'yes', 'DATA.builtin_clips': 6, 'MODEL.iterations': 1,
        'SAVING.log_file': "'train.log'"})
    result = run('main_train.py', '--config', write_ini(tmp_path / 'c.ini', sections))
    assert result.returncode == 0, result.stderr
    assert 'made the built-in moving-shapes dataset' in result.stdout
    assert 'on 6 clips' in result.stdout
    assert re.search(r'quality +[\d.]+ \(semantic [\d.]+, texture [\d.]+, motion [\d.]+, kinds [\d.]+\);'
                     r' real clips against real: [\d.]+', result.stdout), result.stdout
    printed = (tmp_path / 'run' / 'train.log').read_text()
    assert 'critic/wdist' in printed and 'critic/wdist' in result.stdout, 'log_file tees'
    quality = json.loads((tmp_path / 'run' / 'quality.json').read_text())
    assert quality['iteration'] == 1 and quality['clips'] == 3 and quality['quality'] > 0
    assert set(quality['real_against_real']) >= {'quality', 'semantic', 'texture', 'motion'}
    assert f'  quality file  {tmp_path / "run" / "quality.json"}' in result.stdout
    page = (tmp_path / 'run' / 'index.html').read_text()
    assert f'<b>{quality["quality"]:.1f}</b> (semantic' in page


@pytest.mark.subprocess
def test_sigterm_saves_a_snapshot_between_iterations(tmp_path, shapes_dir):
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run'), **{
        'MODEL.iterations': 100000, 'SAVING.snap_interval': 100000})
    process = subprocess.Popen(
        [sys.executable, 'main_train.py', '--config', write_ini(tmp_path / 'c.ini', sections)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / 'run' / 'log'
    deadline = time.time() + 120
    while not (log.exists() and log.stat().st_size > 2) and time.time() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    snapshots = [n for n in os.listdir(tmp_path / 'run') if n.startswith('snapshot_iter_')]
    assert len(snapshots) == 1, snapshots
    assert f'stopped by an interrupt at iteration {snapshots[0].split("_")[-1]}' in stdout
    assert 'continue:' in stdout and 'quality' not in stdout.split('stopped by')[-1]
    assert (f'  continue:     {shown_python()} main_train.py --config'
            f' {tmp_path / "run" / "setup.ini"} --set SAVING.resume=latest') in stdout
    page = (tmp_path / 'run' / 'index.html').read_text()
    assert 'class="state interrupted">interrupted</span>' in page and 'refresh' not in page
    assert not (tmp_path / 'run' / 'quality.json').exists()


@pytest.mark.subprocess
def test_quality_metric_is_logged_plotted_and_on_the_run_page(tmp_path, shapes_dir):
    net = os.path.join(ROOT, 'models', 'feature_net.npz')
    if not os.path.isfile(net):
        pytest.skip('models/feature_net.npz absent')
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run'), **{
        'SAVING.quality_interval': 2, 'SAVING.quality_clips': 8, 'SAVING.feature_net': net,
        'MODEL.iterations': 4})
    result = run('main_train.py', '--config', write_ini(tmp_path / 'c.ini', sections))
    assert result.returncode == 0, result.stderr
    log = json.loads((tmp_path / 'run' / 'log').read_text())
    values = [entry['quality/score'] for entry in log if 'quality/score' in entry]
    assert len(values) == 2 and all(v > 0 for v in values)
    assert all(entry['quality/fd'] > 0 for entry in log if 'quality/score' in entry)
    assert (tmp_path / 'run' / 'quality.png').is_file()
    page = (tmp_path / 'run' / 'index.html').read_text()
    assert 'quality.png' in page and f'<th>quality/score</th><td>{values[-1]:.6g}' in page


@pytest.mark.subprocess
def test_quality_metric_turned_on_when_resuming(tmp_path, shapes_dir, tiny_ini):
    """An extension new since the snapshot starts fresh; the training state still resumes."""
    net = os.path.join(ROOT, 'models', 'feature_net.npz')
    if not os.path.isfile(net):
        pytest.skip('models/feature_net.npz absent')
    assert run('main_train.py', '--config', tiny_ini).returncode == 0
    result = run('main_train.py', '--config', tiny_ini, '--set', 'SAVING.quality_interval=4',
                 '--set', 'SAVING.quality_clips=8', '--set', f'SAVING.feature_net={net}',
                 '--set', 'MODEL.iterations=4')
    assert result.returncode == 0, result.stderr
    assert 'resumed from' in result.stdout and 'iteration 3' in result.stdout
    log = json.loads((tmp_path / 'run' / 'log').read_text())
    assert [entry['iteration'] for entry in log if 'quality/fd' in entry] == [4]


@pytest.mark.subprocess
def test_quality_metric_without_feature_network_stops_before_work(tmp_path, shapes_dir):
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run'), **{
        'SAVING.quality_interval': 2, 'SAVING.feature_net': str(tmp_path / 'none.npz')})
    result = run('main_train.py', '--config', write_ini(tmp_path / 'c.ini', sections))
    assert result.returncode == 2 and 'none.npz' in result.stderr and 'file not found' in \
        result.stderr
    assert not (tmp_path / 'run').exists()


@pytest.mark.subprocess
def test_moving_average_is_written_named_and_generates(tmp_path, tiny_ini):
    result = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.average_decay=0.9')
    assert result.returncode == 0, result.stderr
    average = tmp_path / 'run' / 'gen_avg_iter_3.npz'
    assert average.is_file() and f'--model {tmp_path / "run"}/gen_avg_iter_3.npz' in result.stdout
    gen = run('utils/generate.py', '--model', str(average), '--seeds', '0',
              '--outdir', str(tmp_path / 'gifs'))
    assert gen.returncode == 0, gen.stderr
    assert (tmp_path / 'gifs' / 'seed0000.gif').is_file()


class OutOfMemoryError(RuntimeError):
    """Stands in for torch.cuda.OutOfMemoryError (a RuntimeError of that name)."""


@pytest.mark.parametrize('error', [MemoryError('cudaErrorMemoryAllocation'),
                                   OutOfMemoryError('CUDA out of memory')])
def test_running_out_of_gpu_memory_names_the_batch_and_size(error):
    from main_train import out_of_memory_named
    from base.config import ModelConfig
    from base.errors import UserError
    model = ModelConfig(use_gpu=0, batch_size=64, ch=512)
    with pytest.raises(UserError, match=r'^out of GPU memory training batches of 64 at 32 frames'
                                        r' of 64x64 px at ch 512 .*: lower \[MODEL\] batch_size'):
        with out_of_memory_named(model):
            raise error
    with pytest.raises(RuntimeError, match='another failure'):
        with out_of_memory_named(model):
            raise RuntimeError('another failure')
