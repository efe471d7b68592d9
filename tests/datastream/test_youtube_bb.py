import gzip
import io
import os
import socket
import time

import pytest

from datastream import youtube_bb
from datastream.youtube_bb import (AnnotationError, FetchError, clips_by_video,
                                   clips_from_rows, fetch_csv, read_rows)

CLASSIFICATION = """vid_b,3000,0,person,present
vid_a,2000,22,dog,present
vid_a,1000,22,dog,present
vid_a,4000,22,dog,absent
vid_a,1000,0,person,present
vid_b,1000,0,person,present
"""
DETECTION = """vid_a,1000,22,dog,1,present,0.1,0.5,0.2,0.6
vid_a,3000,22,dog,1,present,0.1,0.5,0.2,0.6
vid_a,2000,22,dog,0,present,0.1,0.5,0.2,0.6
vid_a,9000,22,dog,0,absent,-1,-1,-1,-1
vid_c,500,5,cat,0,present,0.3,0.4,0.3,0.4
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    if name.endswith('.gz'):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return str(path)


def test_classification_clips_are_grouped_sorted_and_named(tmp_path):
    clips = clips_from_rows(read_rows(write(tmp_path, 'c.csv', CLASSIFICATION)))
    assert [(c.name, c.start_ms, c.stop_ms) for c in clips] == [
        ('vid_a+0+0', 1000, 1000), ('vid_a+22+0', 1000, 4000), ('vid_b+0+0', 1000, 3000)]
    assert clips[1].seconds == 3.0 and clips[1].class_name == 'dog'


def test_detection_clips_use_object_ids_and_gz(tmp_path):
    clips = clips_from_rows(read_rows(write(tmp_path, 'd.csv.gz', DETECTION)),
                            present_only=True)
    assert [(c.name, c.start_ms, c.stop_ms) for c in clips] == [
        ('vid_a+22+0', 2000, 2000), ('vid_a+22+1', 1000, 3000), ('vid_c+5+0', 500, 500)]


def test_filters_by_class_presence_duration_and_video_limit(tmp_path):
    rows = read_rows(write(tmp_path, 'c.csv', CLASSIFICATION))
    assert [c.name for c in clips_from_rows(rows, classes={'dog'})] == ['vid_a+22+0']
    assert [c.name for c in clips_from_rows(rows, classes={'0'})] == ['vid_a+0+0', 'vid_b+0+0']
    present = clips_from_rows(rows, classes={'22'}, present_only=True)
    assert present[0].stop_ms == 2000
    assert [c.name for c in clips_from_rows(rows, min_seconds=2.5)] == ['vid_a+22+0']
    assert list(clips_by_video(clips_from_rows(rows), limit=1)) == ['vid_a']
    assert len(clips_by_video(clips_from_rows(rows))['vid_a']) == 2


def test_bad_file_is_a_clear_error(tmp_path):
    with pytest.raises(AnnotationError, match=r'bad.csv line 2: 3 columns; expected 5'):
        read_rows(write(tmp_path, 'bad.csv', 'a,1,0,x,present\na,b,c\n'))
    with pytest.raises(AnnotationError, match="timestamp 'soon'"):
        read_rows(write(tmp_path, 'bad2.csv', 'a,soon,0,x,present\n'))


def test_fetch_csv_downloads_the_named_file_through_the_opener(tmp_path):
    asked = []

    def opener(url, timeout):
        asked.append(url)
        return io.BytesIO(gzip.compress(CLASSIFICATION.encode()))
    path = fetch_csv('yt_bb_classification_validation', str(tmp_path / 'v.csv.gz'), opener)
    assert asked[0].endswith('/yt_bb_classification_validation.csv.gz')
    assert len(read_rows(path)) == 6
    with pytest.raises(AnnotationError, match='expected one of'):
        fetch_csv('yt_bb_everything', str(tmp_path / 'x.csv.gz'), opener)


def test_non_utf8_file_names_the_file_and_line(tmp_path):
    path = tmp_path / 'latin1.csv'
    path.write_bytes(b'a,1,0,x,present\na,2,0,caf\xe9,present\n')
    with pytest.raises(AnnotationError, match=r'latin1.csv line 2: not UTF-8 text'):
        read_rows(str(path))
    broken = tmp_path / 'broken.csv.gz'
    broken.write_bytes(b'a,1,0,x,present\n')
    with pytest.raises(AnnotationError, match=r'broken.csv.gz: not a complete gzip file'):
        read_rows(str(broken))


def test_fetch_csv_gives_up_on_a_server_that_never_answers(tmp_path, monkeypatch):
    for name in ('http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'):
        monkeypatch.delenv(name, raising=False)  # talk to the local socket directly
    with socket.socket() as server:  # accepts connections (backlog) and never answers
        server.bind(('127.0.0.1', 0))
        server.listen(4)
        port = server.getsockname()[1]
        monkeypatch.setattr(youtube_bb, 'CSV_URL', f'http://127.0.0.1:{port}/{{name}}.csv.gz')
        started = time.monotonic()
        with pytest.raises(FetchError, match='no answer within 0.5 s'):
            fetch_csv('yt_bb_classification_validation', str(tmp_path / 'v.csv.gz'),
                      timeout=0.5)
        assert time.monotonic() - started < 5
    assert os.listdir(tmp_path) == [], 'no file, not even a partial one, is left'
