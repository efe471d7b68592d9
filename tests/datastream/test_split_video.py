import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from datastream.framereader import read_index
from datastream.split_video import main
from tests.conftest import ROOT, counter_frames, tiny_sections, write_ini, write_mp4


def clip_images(folder):
    names = sorted(n for n in os.listdir(folder) if n.endswith('.jpg'))
    return [cv2.imread(os.path.join(folder, n)) for n in names]


def levels(image, size):
    """Mean brightness of each stacked frame."""
    return [round(f.mean()) for f in image.reshape(-1, size, size, 3)]


def test_clips_have_the_seed_format_padding_and_count(tmp_path, capsys):
    video = write_mp4(tmp_path / 'walk.mp4', counter_frames(70, 48, 64, step=3), fps=10)
    out = tmp_path / 'ds'
    assert main([video, '--out', str(out), '--fps', '10', '--frames', '16', '--size', '32',
                 '--min-frames', '4', '--workers', '1']) == 0
    images = clip_images(out / 'walk')
    assert len(images) == 5 and all(i.shape == (16 * 32, 32, 3) for i in images)
    tail = levels(images[-1], 32)
    assert tail[5:] == [tail[5]] * 11, 'a 6-frame tail repeats its last frame'
    assert (out / 'index.txt').read_text() == 'walk\n'
    assert 'videos split 1' in capsys.readouterr().out
    main([video, '--out', str(tmp_path / 'ds8'), '--fps', '10', '--frames', '16',
          '--min-frames', '8', '--size', '32'])
    assert len(clip_images(tmp_path / 'ds8' / 'walk')) == 4, 'a tail under min-frames is dropped'


def test_resampling_skip_and_max_clips(tmp_path):
    video = write_mp4(tmp_path / 'v.mp4', counter_frames(40, 32, 32, step=6), fps=10)
    main([video, '--out', str(tmp_path / 'a'), '--fps', '5', '--frames', '4', '--size', '16',
          '--skip', '2', '--max-clips', '3'])
    images = clip_images(tmp_path / 'a' / 'v')
    assert len(images) == 3
    first = levels(images[0], 16)
    steps = np.diff(first)
    assert np.all(steps > 6) and np.all(steps < 18), 'every 2nd source frame at 5 fps'
    source = [round(f.mean()) for f in counter_frames(40, 32, 32, step=6)]
    assert abs(first[0] - source[4]) <= 6, 'skip 2 resampled frames = source frame 4'


def test_rerun_keeps_finished_videos_and_redoes_half_written_ones(tmp_path, capsys):
    os.makedirs(tmp_path / 'in')
    for name in ('a', 'b'):
        write_mp4(tmp_path / 'in' / f'{name}.mp4', counter_frames(20, 32, 32), fps=10)
    out = tmp_path / 'ds'
    args = [str(tmp_path / 'in'), '--out', str(out), '--frames', '16', '--size', '16',
            '--fps', '10']
    main(args)
    stamp = os.path.getmtime(out / 'a' / 'clip_000.jpg')
    os.remove(out / 'b' / '.done')
    capsys.readouterr()
    main(args)
    assert os.path.getmtime(out / 'a' / 'clip_000.jpg') == stamp
    assert 'videos split 1, already done 1' in capsys.readouterr().out
    assert (out / 'index.txt').read_text() == 'a\nb\n'


def test_unreadable_video_is_reported_and_skipped(tmp_path, capsys):
    (tmp_path / 'broken.mp4').write_bytes(b'not a video')
    (tmp_path / 'empty.mp4').write_bytes(b'')
    good = write_mp4(tmp_path / 'good.mp4', counter_frames(16, 32, 32), fps=10)
    assert main([str(tmp_path / 'broken.mp4'), str(tmp_path / 'empty.mp4'), good,
                 '--out', str(tmp_path / 'ds'), '--size', '16', '--frames', '16',
                 '--workers', '2']) == 0
    captured = capsys.readouterr()
    assert 'broken.mp4' in captured.err and 'empty.mp4' in captured.err
    assert 'unreadable 2' in captured.out
    assert (tmp_path / 'ds' / 'index.txt').read_text() == 'good\n'


def test_job_list_input_and_training_on_the_output(tmp_path):
    downloads = tmp_path / 'yt'
    os.makedirs(downloads / 'videos' / '22')
    write_mp4(downloads / 'videos' / '22' / 'abc+22+0.mp4', counter_frames(40, 48, 48, 5), 10)
    (downloads / 'job-list.txt').write_text('videos/22/abc+22+0.mp4\n')
    out = tmp_path / 'ds'
    assert main(['--jobs', str(downloads / 'job-list.txt'), '--out', str(out),
                 '--size', '32', '--frames', '16', '--fps', '10', '--delete-source']) == 0
    assert (out / 'index.txt').read_text() == 'abc+22+0\n'
    assert not (downloads / 'videos' / '22' / 'abc+22+0.mp4').exists()
    sections = tiny_sections(str(out), str(tmp_path / 'run'), **{'MODEL.iterations': 1})
    result = subprocess.run([sys.executable, 'main_train.py', '--config',
                             write_ini(tmp_path / 'c.ini', sections)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'on 2 clips' in result.stdout, '40 frames: 2 clips of 16, the 8-frame tail dropped'


def test_a_missing_input_is_one_line_and_the_dataset_is_kept(tmp_path, capsys):
    video = write_mp4(tmp_path / 'v.mp4', counter_frames(16, 32, 32), fps=10)
    out = tmp_path / 'ds'
    assert main([video, '--out', str(out), '--size', '16', '--frames', '16']) == 0
    before = sorted(os.listdir(out)), len(clip_images(out / 'v'))
    capsys.readouterr()
    assert main([str(tmp_path / 'missing' / 'folder') + '/', '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'missing/folder' in err and err.count('\n') == 1
    assert (sorted(os.listdir(out)), len(clip_images(out / 'v'))) == before


def test_videos_with_the_same_name_get_their_own_folders(tmp_path):
    for folder, step in (('a', 3), ('b', 9)):
        os.makedirs(tmp_path / folder)
        write_mp4(tmp_path / folder / 'clip.mp4', counter_frames(16, 32, 32, step), fps=10)
    out = tmp_path / 'ds'
    args = [str(tmp_path / 'a' / 'clip.mp4'), str(tmp_path / 'b' / 'clip.mp4'), '--out',
            str(out), '--size', '16', '--frames', '16', '--fps', '10', '--workers', '2',
            '--delete-source']
    assert main(args) == 0
    names = (out / 'index.txt').read_text().split()
    assert len(names) == 2 and names[0] == 'clip' and names[1].startswith('clip-')
    steps = [np.diff(levels(clip_images(out / n)[0], 16)).mean() for n in names]
    assert steps[0] == pytest.approx(3, abs=1) and steps[1] == pytest.approx(9, abs=1)


def test_a_folder_the_tool_did_not_make_is_never_touched(tmp_path):
    out = tmp_path / 'ds'
    os.makedirs(out / 'v')
    (out / 'v' / 'notes.txt').write_text('mine')
    video = write_mp4(tmp_path / 'v.mp4', counter_frames(16, 32, 32), fps=10)
    assert main([video, '--out', str(out), '--size', '16', '--frames', '16']) == 0
    assert os.listdir(out / 'v') == ['notes.txt']
    assert (out / 'index.txt').read_text().startswith('v-')


def test_names_with_hash_signs_round_trip_through_the_index(tmp_path):
    for name in ('#take 1', 'a#b'):
        write_mp4(tmp_path / f'{name}.mp4', counter_frames(16, 32, 32), fps=10)
    out = tmp_path / 'ds'
    assert main([str(tmp_path), '--out', str(out), '--size', '16', '--frames', '16']) == 0
    folders = {os.path.basename(os.path.dirname(p)) for p in read_index(str(out), 'index.txt')}
    assert folders == {'_take 1', 'a#b'}
