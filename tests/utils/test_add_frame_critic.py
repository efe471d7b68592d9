"""A snapshot given a frame critic keeps everything else and resumes with it."""
import numpy as np
import pytest

from tests.test_main_train import run
from utils.add_frame_critic import CRITIC, CRITIC_OPTIMIZER, main
from utils.npz_entries import read_entries as _load


def test_snapshot_with_a_frame_critic_resumes_the_run(tmp_path, tiny_ini):
    assert run('main_train.py', '--config', tiny_ini).returncode == 0
    source = tmp_path / 'run' / 'snapshot_iter_3'
    target = tmp_path / 'frames' / 'snapshot_iter_3'
    unchanged = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.frame_critic_every=2',
                    '--set', 'MODEL.iterations=4')
    assert unchanged.returncode == 2
    assert 'snapshot_iter_3: has no updater/model:critic/frames/' in unchanged.stderr
    assert 'add_frame_critic.py' in unchanged.stderr
    main([str(source), '--config', tiny_ini, '--every', '2', '--out', str(target)])
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
    with pytest.raises(SystemExit) as missing:
        main([str(tmp_path / 'none'), '--config', tiny_ini, '--out', str(target)])
    assert 'none: file not found' in str(missing.value)
    with pytest.raises(SystemExit) as not_snapshot:
        main([str(tmp_path / 'run' / 'dis_iter_3.npz'), '--config', tiny_ini,
              '--out', str(target)])
    assert 'not a trainer snapshot' in str(not_snapshot.value)
    main([str(source), '--config', tiny_ini, '--out', str(target)])
    with pytest.raises(SystemExit) as twice:
        main([str(target), '--config', tiny_ini, '--out', str(tmp_path / 'again')])
    assert 'already has a frame critic' in str(twice.value)
    with pytest.raises(SystemExit) as wrong_ch:
        main([str(source), '--config', _ini_with_ch(tmp_path, tiny_ini), '--out', str(target)])
    assert 'the critic has ch 8, the config ch 16' in str(wrong_ch.value)
    with pytest.raises(SystemExit):
        main([str(source), '--config', tiny_ini, '--every', '0', '--out', str(target)])
    assert '--every 0: expected an integer of at least 1' in capsys.readouterr().err


def _ini_with_ch(tmp_path, tiny_ini):
    path = tmp_path / 'wide.ini'
    path.write_text(open(tiny_ini).read().replace('ch = 8', 'ch = 16'))
    return str(path)
