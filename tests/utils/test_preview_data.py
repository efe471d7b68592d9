import os
import shutil

import imageio.v2 as imageio
import numpy as np
import pytest

from datastream.framereader import load_uint8_clip
from tests.conftest import write_ini
from base import project_files
from utils import preview_data
from utils.preview_data import chosen_clips, main
from base.video_io import mp4_available


@pytest.fixture
def config(tmp_path, shapes_dir):
    return str(write_ini(tmp_path / 'setup.ini', {
        'DATA': {'root_dir': shapes_dir, 'index_file': 'index.txt'},
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
        'DATA': {'root_dir': str(root), 'index_file': 'index.txt'},
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
    assert main(['--config', config, '--n', '0']) == 2
    assert capsys.readouterr().err == 'error: --n 0: expected a value >= 1\n'


@pytest.mark.parametrize('name', ['preview', 'preview.jpg'])
def test_out_needs_an_accepted_extension(tmp_path, config, capsys, name):
    assert main(['--config', config, '--out', str(tmp_path / name)]) == 2
    assert capsys.readouterr().err == (f'error: --out {tmp_path / name}: expected a file name'
                                       ' ending in .gif or .mp4\n')
    assert os.listdir(tmp_path) == ['setup.ini']


def test_out_under_a_file_is_refused_before_reading_clips(tmp_path, config, capsys):
    (tmp_path / 'file').write_text('x')
    assert main(['--config', config, '--out', str(tmp_path / 'file' / 'p.gif')]) == 2
    assert f'--out {tmp_path / "file"}: is a file; expected a folder' in capsys.readouterr().err


def test_an_index_that_is_not_utf8_is_one_line(tmp_path, config, capsys):
    (tmp_path / 'index.txt').write_bytes('clips/clip_00000.jpg\n# caf\xe9\n'.encode('latin-1'))
    assert main(['--config', config, '--root', str(tmp_path), '--out',
                 str(tmp_path / 'p.gif')]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: index file {tmp_path / "index.txt"}: not UTF-8 text (byte ')
    assert err.count('\n') == 1


@pytest.mark.skipif(not mp4_available(), reason='imageio-ffmpeg is not installed')
def test_an_mp4_preview(tmp_path, config):
    assert main(['--config', config, '--n', '2', '--out', str(tmp_path / 'p.mp4')]) == 0
    assert visible(tmp_path) == ['p.mp4', 'setup.ini']


def visible(folder):
    return sorted(name for name in os.listdir(folder) if not name.startswith('.'))


def test_a_preview_is_replaced_by_the_same_command_or_with_overwrite(tmp_path, config, capsys):
    out = tmp_path / 'p.gif'
    assert main(['--config', config, '--n', '4', '--out', str(out)]) == 0
    assert main(['--config', config, '--n', '4', '--out', str(out)]) == 0
    four = out.read_bytes()
    assert main(['--config', config, '--n', '2', '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert f'error: --out {out}: p.gif was made by utils/preview_data.py from other inputs or' \
        ' options (clips of ' in err and '--overwrite' in err and err.count('\n') == 1
    assert out.read_bytes() == four
    assert main(['--config', config, '--n', '2', '--out', str(out), '--overwrite']) == 0
    assert out.read_bytes() != four


def test_a_file_it_did_not_make_is_never_replaced(tmp_path, config, capsys):
    out = tmp_path / 'p.gif'
    out.write_bytes(b'my own gif')
    for flags in ([], ['--overwrite']):
        assert main(['--config', config, '--out', str(out), *flags]) == 2
        assert capsys.readouterr().err == (
            f'error: --out {out}: p.gif is not a file that utils/preview_data.py made, so it'
            ' is never replaced; pass another --out or move the file away\n')
    assert out.read_bytes() == b'my own gif'


def test_the_projects_setup_ini_and_its_data_are_found_from_any_folder(tmp_path, shapes_dir,
                                                                        monkeypatch, capsys):
    project, cwd = tmp_path / 'project', tmp_path / 'cwd'
    (project / 'data').mkdir(parents=True)
    cwd.mkdir()
    os.symlink(shapes_dir, project / 'data' / 'shapes')
    write_ini(project / 'setup.ini', {'DATA': {'root_dir': 'data/shapes'},
                                      'MODEL': {'frame_size': 16, 'n_frames': 16}})
    monkeypatch.setattr(project_files, 'ROOT', str(project))
    monkeypatch.setattr(preview_data, 'PROJECT_CONFIG', str(project / 'setup.ini'))
    monkeypatch.chdir(cwd)
    assert main(['--n', '2']) == 0
    assert sorted(os.listdir(cwd)) == ['.videogan-preview_data.jsonl', 'data_preview.gif'], \
        'the output goes where the command runs'
    assert f'2 clips of {project / "data" / "shapes" / "index.txt"}' in capsys.readouterr().out
    assert 'the project' in preview_data.build_parser().format_help()
