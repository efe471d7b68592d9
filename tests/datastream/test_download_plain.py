import csv
import gzip
import io
import os
import shutil
import sys

import cv2
import pytest

from datastream.backends import Transient, Unavailable
from datastream import download_plain
from datastream.download_plain import main
from datastream.video_cut import frames_with_times
from tests.conftest import counter_frames, write_mp4

ROWS = """good1_VIDEO,1000,22,dog,present
good1_VIDEO,3000,22,dog,present
good1_VIDEO,2000,0,person,present
good1_VIDEO,4500,0,person,present
gone__VIDEO,1000,5,cat,present
gone__VIDEO,2000,5,cat,present
flaky_VIDEO,0,5,cat,present
flaky_VIDEO,1500,5,cat,present
"""


class FakeBackend:
    """Copies one local 6 s, 5 fps mp4 for every id; 'gone__VIDEO' is private and
    'flaky_VIDEO' fails twice with a network error first."""

    def __init__(self, source):
        self.source, self.calls, self.flaky_failures = source, [], 2
        self.flaky_error = Transient('connection reset')

    def __call__(self, youtube_id, dest_dir):
        self.calls.append(youtube_id)
        if youtube_id == 'gone__VIDEO':
            raise Unavailable('private', 'This video is private')
        if youtube_id == 'flaky_VIDEO' and self.flaky_failures:
            self.flaky_failures -= 1
            raise self.flaky_error
        path = os.path.join(dest_dir, youtube_id + '.mp4')
        shutil.copy(self.source, path)
        return path


@pytest.fixture
def setup(tmp_path):
    source = write_mp4(tmp_path / 'source.mp4', counter_frames(30, 48, 64), fps=5)
    annotations = tmp_path / 'yt.csv'
    annotations.write_text(ROWS)
    return str(annotations), str(tmp_path / 'out'), FakeBackend(source)


def brightness(path):
    return [round(frame.mean()) for _, frame in frames_with_times(path)]


def test_clips_are_cut_listed_and_failures_recorded(setup, capsys):
    annotations, out, backend = setup
    assert main([annotations, '--out', out, '--workers', '2', '--backoff', '0'], backend) == 0
    jobs = open(os.path.join(out, 'job-list.txt')).read().split()
    assert sorted(jobs) == sorted(['videos/22/good1_VIDEO+22+0.mp4',
                                   'videos/0/good1_VIDEO+0+0.mp4',
                                   'videos/5/flaky_VIDEO+5+0.mp4'])
    dog = os.path.join(out, 'videos/22/good1_VIDEO+22+0.mp4')
    frames = brightness(dog)
    assert abs(len(frames) - 11) <= 1, 'stop - start = 2 s at 5 fps, +-1 frame'
    source = brightness(backend.source)

    def source_frame(level):
        return min(range(len(source)), key=lambda i: abs(source[i] - level))
    assert source_frame(frames[0]) == 5, 'starts at 1000 ms, frame 5'
    assert source_frame(frames[-1]) == 15, 'ends at 3000 ms, frame 15'
    capture = cv2.VideoCapture(dog)
    assert capture.get(cv2.CAP_PROP_FRAME_WIDTH) == 64
    with open(os.path.join(out, 'failures.csv')) as rows:
        assert [row[:2] for row in csv.reader(rows)] == [['gone__VIDEO', 'private']]
    assert backend.calls.count('flaky_VIDEO') == 3, 'two network errors retried'
    assert not os.listdir(os.path.join(out, '.downloads')), 'full videos are removed'
    assert 'clips written 3, skipped (already done) 0, failed 1 (private 1)' in \
        capsys.readouterr().out


def test_rerun_skips_finished_clips_and_known_failures(setup, capsys):
    annotations, out, backend = setup
    main([annotations, '--out', out, '--backoff', '0'], backend)
    os.remove(os.path.join(out, 'videos/0/good1_VIDEO+0+0.mp4'))
    backend.calls.clear()
    main([annotations, '--out', out, '--backoff', '0'], backend)
    assert backend.calls == ['good1_VIDEO'], 'only the video with a missing clip is fetched'
    assert 'clips written 1, skipped (already done) 2, failed 1 (earlier 1)' in \
        capsys.readouterr().out.splitlines()[-1]


def test_partial_files_are_never_listed(setup):
    annotations, out, backend = setup
    main([annotations, '--out', out, '--backoff', '0', '--classes', 'dog'], backend)
    names = [n for _, _, files in os.walk(out) for n in files]
    assert not [n for n in names if '.part' in n]
    assert open(os.path.join(out, 'job-list.txt')).read() == 'videos/22/good1_VIDEO+22+0.mp4\n'


def test_network_error_after_retries_is_recorded_and_retried_next_time(setup):
    annotations, out, backend = setup
    backend.flaky_failures = 5
    main([annotations, '--out', out, '--backoff', '0', '--retries', '1',
          '--classes', 'cat'], backend)
    with open(os.path.join(out, 'failures.csv')) as rows:
        reasons = {row[0]: row[1] for row in csv.reader(rows)}
    assert reasons == {'gone__VIDEO': 'private', 'flaky_VIDEO': 'network'}
    backend.calls.clear()
    main([annotations, '--out', out, '--backoff', '0', '--classes', 'cat'], backend)
    assert backend.calls.count('flaky_VIDEO') >= 1 and 'gone__VIDEO' not in backend.calls


def test_missing_annotation_file_is_a_clear_error(tmp_path, capsys):
    assert main([str(tmp_path / 'nope.csv'), '--out', str(tmp_path / 'o')], lambda *a: None) == 2
    assert 'nope.csv: annotation file not found' in capsys.readouterr().err


def test_a_timeout_is_retried_like_a_network_error(setup):
    annotations, out, backend = setup
    backend.flaky_failures, backend.flaky_error = 1, TimeoutError('timed out')
    assert main([annotations, '--out', out, '--backoff', '0', '--classes', 'cat'], backend) == 0
    assert backend.calls.count('flaky_VIDEO') == 2
    assert open(os.path.join(out, 'job-list.txt')).read() == 'videos/5/flaky_VIDEO+5+0.mp4\n'


def test_a_download_opencv_cannot_decode_is_recorded_not_cut(setup, capsys):
    annotations, out, backend = setup

    def undecodable(youtube_id, dest_dir):
        path = os.path.join(dest_dir, youtube_id + '.webm')
        with open(path, 'wb') as junk:
            junk.write(b'\x1aE\xdf\xa3 not really a video' * 100)
        return path
    assert main([annotations, '--out', out, '--classes', 'dog'], undecodable) == 0
    with open(os.path.join(out, 'failures.csv')) as rows:
        (row,) = list(csv.reader(rows))
    assert row[:2] == ['good1_VIDEO', 'undecodable'] and 'good1_VIDEO.webm' in row[2]
    assert not os.path.exists(os.path.join(out, 'videos'))
    assert '(undecodable 1)' in capsys.readouterr().out


def never_called(youtube_id, dest_dir):
    raise AssertionError('no download may start')


def test_bad_input_files_are_one_line_errors_naming_the_line(setup, capsys):
    annotations, out, _ = setup
    with open(annotations, 'ab') as extra:
        extra.write(b'good1_VIDEO,5000,22,d\xf6g,present\n')
    assert main([annotations, '--out', out], never_called) == 2
    err = capsys.readouterr().err
    assert err.strip() == f'error: {annotations} line 9: not UTF-8 text (byte 0xf6 at byte' \
        ' 22 of the line); save the file as UTF-8'
    with open(annotations, 'w') as fixed:
        fixed.write(ROWS)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'job-list.txt'), 'wb') as jobs:
        jobs.write(b'videos/22/good1_VIDEO+22+0.mp4\nvideos/\xff.mp4\n')
    assert main([annotations, '--out', out, '--classes', 'cat'], never_called) == 2
    assert 'job-list.txt line 2: not UTF-8 text' in capsys.readouterr().err


@pytest.mark.parametrize('where', ['a file', 'under a file'])
def test_unusable_output_folder_is_refused_before_any_download(setup, capsys, where):
    annotations, out, _ = setup
    open(out, 'w').close()
    target = out if where == 'a file' else os.path.join(out, 'sub')
    assert main([annotations, '--out', target], never_called) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f'error: --out {target}: ') and '\n' not in err


UNFIT = """../../x.mp4,1000,22,dog,present
../../x.mp4,3000,22,dog,present
good2_VIDEO,1000,../..,dog,present
good2_VIDEO,3000,../..,dog,present
good2_VIDEO,1000,22,dog,0/../o,present,0.1,0.5,0.2,0.6
good2_VIDEO,1000,5,cat,present
good2_VIDEO,3000,5,cat,present
short,1000,5,cat,present
"""


def tree(root, leave_out):
    return {os.path.join(folder, n): os.path.getmtime(os.path.join(folder, n))
            for folder, _, names in os.walk(root) if not folder.startswith(leave_out)
            for n in names}


def test_ids_that_cannot_name_a_file_are_recorded_and_never_written(setup, capsys):
    annotations, out, backend = setup
    with open(annotations, 'w') as rows:
        rows.write(UNFIT)
    outside = tree(os.path.dirname(out), out)
    for _ in range(2):
        assert main([annotations, '--out', out, '--backoff', '0'], backend) == 0
    assert tree(os.path.dirname(out), out) == outside
    assert set(backend.calls) == {'good2_VIDEO'}
    assert open(os.path.join(out, 'job-list.txt')).read() == 'videos/5/good2_VIDEO+5+0.mp4\n'
    with open(os.path.join(out, 'failures.csv')) as rows:
        failures = [row[:2] for row in csv.reader(rows)]
    assert failures == [['../../x.mp4', 'bad-id'], ['good2_VIDEO', 'bad-id'],
                        ['good2_VIDEO', 'bad-id'], ['short', 'bad-id']], 'each once'
    assert '(bad-id 4)' in capsys.readouterr().out
    os.remove(os.path.join(out, 'videos/5/good2_VIDEO+5+0.mp4'))
    backend.calls.clear()
    main([annotations, '--out', out, '--backoff', '0'], backend)
    assert backend.calls == ['good2_VIDEO'], 'a bad row does not mark its video as failed'


def test_a_clip_file_the_job_list_does_not_list_is_kept(setup, capsys):
    annotations, out, backend = setup
    mine = os.path.join(out, 'videos', '22', 'good1_VIDEO+22+0.mp4')
    os.makedirs(os.path.dirname(mine))
    with open(mine, 'wb') as clip:
        clip.write(b'my own clip')
    assert main([annotations, '--out', out, '--classes', 'dog'], never_called) == 0
    assert open(mine, 'rb').read() == b'my own clip'
    assert not os.path.exists(os.path.join(out, 'job-list.txt'))
    captured = capsys.readouterr()
    assert 'in-the-way 1' in captured.out and 'good1_VIDEO+22+0.mp4 is not listed' in captured.err


def test_an_error_of_the_backend_is_recorded_for_its_video_alone(setup):
    annotations, out, backend = setup

    def broken_for_good1(youtube_id, dest_dir):
        if youtube_id == 'good1_VIDEO':
            raise LookupError('regex_search: could not find match for (?:v=|\\/)')
        return backend(youtube_id, dest_dir)
    assert main([annotations, '--out', out, '--backoff', '0', '--workers', '1'],
                broken_for_good1) == 0
    with open(os.path.join(out, 'failures.csv')) as rows:
        reasons = {row[0]: row[1] for row in csv.reader(rows)}
    assert reasons == {'good1_VIDEO': 'backend-error', 'gone__VIDEO': 'private'}
    assert open(os.path.join(out, 'job-list.txt')).read() == 'videos/5/flaky_VIDEO+5+0.mp4\n'
    backend.calls.clear()
    main([annotations, '--out', out, '--backoff', '0'], backend)
    assert 'good1_VIDEO' in backend.calls, 'a backend error is tried again next run'


@pytest.mark.parametrize('option, value', [
    ('--min-seconds', 'nan'), ('--min-seconds', 'inf'), ('--min-seconds', '-1.0'),
    ('--backoff', '-1.0'), ('--backoff', 'nan'), ('--backoff', 'inf'), ('--timeout', 'inf'),
    ('--timeout', '0.0'), ('--retries', '1000'), ('--workers', '0'), ('--limit', '-1')])
def test_every_number_is_checked_before_any_work(setup, capsys, option, value):
    annotations, out, _ = setup
    assert main([annotations, '--out', out, option, value], never_called) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {option} {value}: expected') and err.count('\n') == 1
    assert not os.path.exists(out)


def test_an_annotation_file_fetched_before_is_read_not_replaced(setup, monkeypatch):
    annotations, out, backend = setup
    os.makedirs(out)
    fetched = os.path.join(out, 'yt_bb_classification_validation.csv.gz')
    with gzip.open(fetched, 'wt') as rows:
        rows.write(ROWS)
    before = open(fetched, 'rb').read()
    monkeypatch.setattr(download_plain, 'fetch_csv', never_called)
    assert main(['--fetch-csv', 'yt_bb_classification_validation', '--out', out,
                 '--classes', 'dog'], backend) == 0
    assert open(fetched, 'rb').read() == before and backend.calls == ['good1_VIDEO']


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, as an interactive run's is."""

    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_silent_otherwise(setup, capsys, monkeypatch):
    annotations, out, backend = setup
    assert main([annotations, '--out', out, '--backoff', '0', '--classes', 'dog'], backend) == 0
    err = capsys.readouterr().err
    assert '\r' not in err and 'videos 1/1' not in err, 'no counter in a log'
    terminal = Terminal()
    monkeypatch.setattr(sys, 'stderr', terminal)
    assert main([annotations, '--out', out, '--backoff', '0'], backend) == 0
    shown = terminal.getvalue()
    assert '3/3' in shown and '100%' in shown and '1 already done, 1 failed' in shown
