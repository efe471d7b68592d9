import glob
import io
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from datastream.framereader import read_index
from datastream.split_video import folder_name, main
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


@pytest.mark.subprocess
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


def test_an_index_already_there_keeps_every_line(tmp_path):
    video = write_mp4(tmp_path / 'v.mp4', counter_frames(16, 32, 32), fps=10)
    out = tmp_path / 'ds'
    os.makedirs(out / 'mine')
    mine = '# my own clips\r\nmine/\n../other_set/clip.jpg'
    (out / 'index.txt').write_bytes(mine.encode())
    args = [video, '--out', str(out), '--size', '16', '--frames', '16']
    assert main(args) == 0
    assert (out / 'index.txt').read_bytes() == (mine + '\nv\n').encode()
    assert main(args) == 0
    assert (out / 'index.txt').read_bytes() == (mine + '\nv\n').encode(), 'v is listed once'


def test_an_index_that_is_not_text_stops_before_any_work(tmp_path, capsys):
    video = write_mp4(tmp_path / 'v.mp4', counter_frames(16, 32, 32), fps=10)
    out = tmp_path / 'ds'
    os.makedirs(out)
    (out / 'index.txt').write_bytes(b'caf\xe9\n')
    assert main([video, '--out', str(out), '--size', '16', '--frames', '16']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'index.txt: not UTF-8' in err and err.count('\n') == 1
    assert os.listdir(out) == ['index.txt']


def test_a_video_named_like_the_index_gets_its_own_folder(tmp_path):
    video = write_mp4(tmp_path / 'index.txt.mp4', counter_frames(16, 32, 32), fps=10)
    out = tmp_path / 'ds'
    assert main([video, '--out', str(out), '--size', '16', '--frames', '16']) == 0
    (name,) = (out / 'index.txt').read_text().split()
    assert name.startswith('index.txt-') and (out / name / '.done').is_file()


@pytest.mark.parametrize('option, value', [
    ('--fps', 'nan'), ('--fps', 'inf'), ('--fps', '0.0'), ('--fps', '5000.0'), ('--size', '0'),
    ('--frames', '0'), ('--workers', '0'), ('--skip', '-1')])
def test_every_number_is_checked_before_any_work(tmp_path, capsys, option, value):
    video = write_mp4(tmp_path / 'v.mp4', counter_frames(16, 32, 32), fps=10)
    out = tmp_path / 'ds'
    assert main([video, '--out', str(out), option, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {option} {value}') and err.count('\n') == 1
    assert not out.exists()


def done_folders(out):
    """Clip folders under out; AssertionError for one that is not complete."""
    folders = [f for f in os.listdir(out) if (out / f).is_dir()]
    for folder in folders:
        clips = [n for n in os.listdir(out / folder) if n.endswith('.jpg')]
        assert (out / folder / '.done').read_text() == f'{len(clips)}\n', folder
    return folders


@pytest.mark.subprocess
@pytest.mark.parametrize('number, group', [(signal.SIGTERM, False), (signal.SIGTERM, True),
                                           (signal.SIGINT, True)],
                         ids=['SIGTERM', 'SIGTERM-to-group', 'SIGINT-to-group'])
def test_an_interrupt_stops_every_worker_with_one_line(tmp_path, number, group):
    """300 copies of one short video: the run is stopped while most are still queued;
    a signal to the group reaches the workers too, as Ctrl-C does."""
    (tmp_path / 'in').mkdir()
    first = write_mp4(tmp_path / 'in' / 'v000.mp4', counter_frames(100, 32, 32, 2), fps=10)
    for video in range(1, 300):
        os.link(first, tmp_path / 'in' / f'v{video:03d}.mp4')
    out = tmp_path / 'ds'
    process = subprocess.Popen(
        [sys.executable, 'datastream/split_video.py', str(tmp_path / 'in'), '--out', str(out),
         '--workers', '2', '--size', '16', '--frames', '4', '--fps', '10'], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 120
    while not glob.glob(str(out / '*' / '.done')) and time.time() < deadline:
        time.sleep(0.01)
    (os.killpg if group else os.kill)(process.pid, number)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and stderr.strip().endswith('interrupted'), stderr
    assert 'Traceback' not in stderr and stderr.count('interrupted') == 1
    assert 0 < len(done_folders(out)) < 300, 'stopped before the queued videos'


def test_folder_names_never_leave_the_dataset():
    assert folder_name('/videos/.. .mp4') == '__' and folder_name('/videos/. .mp4') == '_'


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, as an interactive run's is."""

    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_silent_otherwise(tmp_path, capsys, monkeypatch):
    video = write_mp4(tmp_path / 'walk.mp4', counter_frames(20, 32, 32), fps=10)
    command = [video, '--out', str(tmp_path / 'ds'), '--fps', '10', '--frames', '8',
               '--size', '16', '--workers', '1']
    assert main(command) == 0
    captured = capsys.readouterr()
    assert captured.err == '' and 'videos split 1' in captured.out, 'no \\r counter in a log'
    terminal = Terminal()
    monkeypatch.setattr(sys, 'stderr', terminal)
    assert main(command[:2] + [str(tmp_path / 'ds2')] + command[3:]) == 0
    assert '100%' in terminal.getvalue() and '1/1' in terminal.getvalue()
    assert '2 clips' in terminal.getvalue() and 'videos split 1' in capsys.readouterr().out
