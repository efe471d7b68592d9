"""A snapshot given a frame critic keeps everything else and resumes with it."""
import numpy as np

from tests.test_main_train import run
from utils.add_frame_critic import CRITIC, CRITIC_OPTIMIZER, main
from utils.npz_entries import read_entries as _load, write_entries


def test_snapshot_with_a_frame_critic_resumes_the_run(tmp_path, tiny_ini):
    assert run('main_train.py', '--config', tiny_ini).returncode == 0
    source = tmp_path / 'run' / 'snapshot_iter_3'
    target = tmp_path / 'frames' / 'snapshot_iter_3'
    unchanged = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.frame_critic_every=2',
                    '--set', 'MODEL.iterations=4')
    assert unchanged.returncode == 2
    assert 'snapshot_iter_3: has no updater/model:critic/frames/' in unchanged.stderr
    assert 'add_frame_critic.py' in unchanged.stderr
    assert main([str(source), '--config', tiny_ini, '--every', '2', '--out', str(target)]) == 0
    before, after = _load(source), _load(target)
    assert all(np.array_equal(after[k], v) for k, v in before.items())
    added = sorted(set(after) - set(before))
    assert CRITIC + 'frames/f1/W' in added and CRITIC_OPTIMIZER + 'frames/f6/b/t' in added
    assert not after[CRITIC_OPTIMIZER + 'frames/f1/W/v'].any()
    result = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.frame_critic_every=2',
                 '--set', f'SAVING.out_dir={target.parent}', '--set', 'MODEL.iterations=4')
    assert result.returncode == 0, result.stderr
    assert 'resumed from' in result.stdout and 'iteration 3' in result.stdout
    critic = _load(target.parent / 'dis_iter_4.npz')
    assert not np.array_equal(critic['frames/f1/W'], after[CRITIC + 'frames/f1/W'])


def test_errors_name_the_file_and_what_was_expected(tmp_path, tiny_ini, capsys):
    assert run('main_train.py', '--config', tiny_ini).returncode == 0
    source, target = tmp_path / 'run' / 'snapshot_iter_3', tmp_path / 'out'

    def error_of(*args):
        assert main(list(args)) == 2
        err = capsys.readouterr().err
        assert err.startswith('error: ') and err.count('\n') == 1
        return err
    assert 'none: file not found' in error_of(str(tmp_path / 'none'), '--config', tiny_ini,
                                              '--out', str(target))
    assert 'not a trainer snapshot' in error_of(str(tmp_path / 'run' / 'dis_iter_3.npz'),
                                                '--config', tiny_ini, '--out', str(target))
    assert main([str(source), '--config', tiny_ini, '--out', str(target)]) == 0
    assert 'already has a frame critic' in error_of(str(target), '--config', tiny_ini,
                                                    '--out', str(tmp_path / 'again'))
    assert 'the critic has ch 8, the config ch 16' in error_of(
        str(source), '--config', _ini_with_ch(tmp_path, tiny_ini), '--out', str(target))
    assert '--every 0: expected an integer of at least 1' in error_of(
        str(source), '--config', tiny_ini, '--every', '0', '--out', str(target))


def test_a_damaged_snapshot_or_unusable_out_is_one_line(tmp_path, tiny_ini, capsys):
    source, target = tmp_path / 'snapshot_iter_3', tmp_path / 'frames' / 'snapshot_iter_3'
    write_entries(str(source), {CRITIC + 'c4/W': np.zeros((8, 4, 4, 4, 4), np.float32)})
    data = source.read_bytes()
    source.write_bytes(data[:len(data) - 30])
    assert main([str(source), '--config', tiny_ini, '--out', str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {source}: not a readable .npz (') and err.count('\n') == 1
    assert not target.exists()
    (tmp_path / 'file').write_text('x')
    source.write_bytes(data)
    assert main([str(source), '--config', tiny_ini, '--out',
                 str(tmp_path / 'file' / 'snapshot_iter_3')]) == 2
    assert f'--out {tmp_path / "file"}: is a file' in capsys.readouterr().err


def _ini_with_ch(tmp_path, tiny_ini):
    path = tmp_path / 'wide.ini'
    path.write_text(open(tiny_ini).read().replace('ch = 8', 'ch = 16'))
    return str(path)
