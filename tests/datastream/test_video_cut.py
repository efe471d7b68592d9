import os

import pytest

from datastream.video_cut import cut_clips, frames_with_times
from tests.conftest import counter_frames, write_mp4
from base.safe_files import is_partial


def test_clips_being_cut_have_hidden_names_and_an_error_leaves_none(tmp_path):
    source = write_mp4(tmp_path / 'source.mp4', counter_frames(30, 32, 32), fps=5)
    out = tmp_path / 'clips'
    seen = []

    def on_done(dst, frames):
        seen.extend(sorted(os.listdir(out)))
        raise OSError('disk full')
    with pytest.raises(OSError, match='disk full'):
        cut_clips(source, [(str(out / 'a.mp4'), 0, 1000), (str(out / 'b.mp4'), 0, 4000)],
                  on_done)
    partial = [n for n in seen if n != 'a.mp4']
    assert 'a.mp4' in seen and len(partial) == 1 and is_partial(partial[0])
    assert os.listdir(out) == ['a.mp4'], 'the unfinished clip is removed'
    assert len(list(frames_with_times(str(out / 'a.mp4')))) == 6
