"""Frame-accurate video reading and cutting with OpenCV (no system ffmpeg needed).

Frame timestamps are frame_number * 1000 / fps, so a cut [start, stop] keeps
exactly the frames whose timestamps fall inside it. Output clips are written to
`<name>.part.mp4` and renamed when complete, so a partial file never has the
final name.
"""
import os

import cv2


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


def _part_path(dst):
    return dst[:-len('.mp4')] + '.part.mp4' if dst.endswith('.mp4') else dst + '.part.mp4'


def cut_clips(src, cuts, on_done=None):
    """Write each (dst, start_ms, stop_ms) of src in one pass; on_done(dst, frames)
    is called as soon as a clip is complete. Returns {dst: frames written}."""
    _, fps = open_video(src)
    pending = sorted(cuts, key=lambda cut: cut[1])
    writers, written = {}, {}
    for stamp, frame in frames_with_times(src):
        for dst, start, stop in pending:
            if start - 0.5 <= stamp <= stop + 0.5 and dst not in written:
                if dst not in writers:
                    height, width = frame.shape[:2]
                    os.makedirs(os.path.dirname(dst) or '.', exist_ok=True)
                    writers[dst] = [cv2.VideoWriter(_part_path(dst),
                                                    cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                                    (width, height)), 0]
                writers[dst][0].write(frame)
                writers[dst][1] += 1
        for dst in [d for d, start, stop in pending if d in writers and stamp > stop]:
            _finish(dst, writers.pop(dst), written, on_done)
        if len(written) == len(pending):
            break
    for dst in list(writers):
        _finish(dst, writers.pop(dst), written, on_done)
    return written


def _finish(dst, writer_and_count, written, on_done):
    writer, count = writer_and_count
    writer.release()
    os.replace(_part_path(dst), dst)
    written[dst] = count
    if on_done:
        on_done(dst, count)
