import os
import shutil

import imageio.v2 as imageio
import numpy as np
import pytest

from datastream.framereader import load_uint8_clip
from tests.conftest import write_ini
from utils.preview_data import chosen_clips, main


@pytest.fixture
def config(tmp_path, shapes_dir):
    return str(write_ini(tmp_path / 'setup.ini', {
        'DATA': {'root_dir': shapes_dir, 'index_dir': 'index.txt'},
        'MODEL': {'frame_size': 16, 'n_frames': 16}}))


def test_grid_shows_the_clips_at_the_training_size(tmp_path, config, shapes_dir, capsys):
    out = str(tmp_path / 'preview.gif')
    assert main(['--config', config, '--n', '4', '--start', '2', '--out', out]) == 0
    frames = np.stack([f[..., :3] for f in imageio.mimread(out)])
    assert frames.shape == (16, 33, 33, 3), '2x2 grid of 16x16 clips with a 1-pixel gap'
    clip = load_uint8_clip(os.path.join(shapes_dir, 'clips', 'clip_00002.jpg'), 16, 16)
    assert np.abs(frames[:, :16, :16].astype(int) - clip.transpose(1, 2, 3, 0)).mean() < 3
    assert 'wrote' in capsys.readouterr().out


def test_unreadable_clips_are_skipped_and_counted(tmp_path, shapes_dir, capsys):
    root = tmp_path / 'data'
    shutil.copytree(shapes_dir, root)
    (root / 'clips' / 'clip_00001.jpg').write_bytes(b'not a jpeg')
    config = write_ini(tmp_path / 'setup.ini', {
        'DATA': {'root_dir': str(root), 'index_dir': 'index.txt'},
        'MODEL': {'frame_size': 16, 'n_frames': 16}})
    out = str(tmp_path / 'preview.gif')
    assert main(['--config', str(config), '--n', '3', '--out', out]) == 0
    assert imageio.mimread(out)[0].shape[:2] == (16, 33), '2 readable clips in one row'
    assert '1 of those chosen unreadable' in capsys.readouterr().out


def test_shuffle_picks_distinct_clips_reproducibly():
    picks = chosen_clips(12, 5, 0, shuffle=3)
    assert picks == chosen_clips(12, 5, 0, shuffle=3) and len(set(picks)) == 5
    assert chosen_clips(12, 4, 10, None) == [10, 11, 0, 1]
    assert chosen_clips(3, 16, 0, None) == [0, 1, 2]


def test_bad_inputs_fail_with_one_line(tmp_path, config, capsys):
    assert main(['--config', config, '--root', str(tmp_path), '--out',
                 str(tmp_path / 'p.gif')]) == 2
    assert 'index.txt not found' in capsys.readouterr().err
    assert not (tmp_path / 'p.gif').exists()
    with pytest.raises(SystemExit):
        main(['--config', config, '--n', '0'])
    assert '--n 0: expected a value >= 1' in capsys.readouterr().err
