"""Frame-accurate video reading and cutting with OpenCV (no system ffmpeg needed).

Frame timestamps are frame_number * 1000 / fps, so a cut [start, stop] keeps
exactly the frames whose timestamps fall inside it. Output clips are written
under a hidden temporary name and renamed when complete, so a partial file
never has the final name.
"""
import os

import cv2

from base.safe_files import atomic_path


class VideoError(Exception):
    """A video file that OpenCV cannot decode."""


def open_video(path):
    """(capture, fps) of a readable video; VideoError otherwise."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise VideoError(f'{path}: missing or empty file')
    capture = cv2.VideoCapture(path)
    fps = capture.get(cv2.CAP_PROP_FPS) if capture.isOpened() else 0
    if not fps or fps != fps or fps <= 0:
        capture.release()
        raise VideoError(f'{path}: not a readable video')
    return capture, fps


def frames_with_times(path):
    """Yield (timestamp_ms, BGR frame) for every frame of the video."""
    capture, fps = open_video(path)
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield index * 1000.0 / fps, frame
            index += 1
    finally:
        capture.release()


class _ClipWriter:
    """One clip being written under the atomic writer's hidden temporary name
    (base/safe_files.atomic_path): renamed by finish, removed by discard."""

    def __init__(self, dst, fps, shape):
        os.makedirs(os.path.dirname(dst) or '.', exist_ok=True)
        self.place = atomic_path(dst)
        partial = self.place.__enter__()
        height, width = shape[:2]
        self.writer = cv2.VideoWriter(partial, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                      (width, height))
        self.count = 0

    def write(self, frame):
        self.writer.write(frame)
        self.count += 1

    def finish(self):
        self.writer.release()
        self.place.__exit__(None, None, None)

    def discard(self):
        self.writer.release()
        self.place.__exit__(VideoError, VideoError('clip discarded'), None)


def cut_clips(src, cuts, on_done=None):
    """Write each (dst, start_ms, stop_ms) of src in one pass; on_done(dst, frames)
    is called as soon as a clip is complete. Returns {dst: frames written}; a clip
    left unfinished by an error leaves no file."""
    capture, fps = open_video(src)
    capture.release()
    pending = sorted(cuts, key=lambda cut: cut[1])
    writers, written = {}, {}
    try:
        for stamp, frame in frames_with_times(src):
            for dst, start, stop in pending:
                if start - 0.5 <= stamp <= stop + 0.5 and dst not in written:
                    if dst not in writers:
                        writers[dst] = _ClipWriter(dst, fps, frame.shape)
                    writers[dst].write(frame)
            for dst in [d for d, start, stop in pending if d in writers and stamp > stop]:
                _finish(dst, writers.pop(dst), written, on_done)
            if len(written) == len(pending):
                break
        for dst in list(writers):
            _finish(dst, writers.pop(dst), written, on_done)
    finally:
        for writer in writers.values():
            writer.discard()
    return written


def _finish(dst, writer, written, on_done):
    writer.finish()
    written[dst] = writer.count
    if on_done:
        on_done(dst, writer.count)
