"""Split videos into training clips in the seed's format: one JPEG per clip, frames stacked.

    python datastream/split_video.py [--jobs OUT/job-list.txt] [VIDEO_OR_FOLDER ...] --out DATASET

Per source video a folder DATASET/<video name>/ of clip_NNN.jpg, and
DATASET/index.txt listing every finished folder: train on it with
`[DATA] root_dir = DATASET`, `index_file = index.txt`, `builtin = no`.
Each video is resampled to --fps by timestamps, --skip leading frames dropped,
frames centre-cropped square and resized to --size, and cut into
clips of --frames frames; a tail of at least --min-frames repeats its last frame,
a shorter tail is dropped. A finished video is not redone on a rerun; a
half-written one is. Unreadable videos are reported and skipped. Two videos
with the same file name get different folders (the second one's name carries a
hash of its path); the tool deletes only half-written folders it made itself.
An index.txt already there keeps every line: new folders are added at its end.
Ctrl-C or SIGTERM stops every worker at its next frame; the folders they were
writing are removed, so a rerun redoes those videos.
"""
import hashlib
import multiprocessing
import os
import signal
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np
from tqdm import tqdm

from datastream.framereader import VIDEO_EXTS, square_frame
from datastream.moving_shapes import write_stacked_jpeg
from datastream.video_cut import VideoError, frames_with_times
from base.cli import (check_ranges, interrupts_deferred, parser as new_parser,
                      results_in_order, run)
from base.errors import UserError
from base.safe_files import ensure_output_dir, remove_owned, write_text

DONE = '.done'  # written last: the folder's clips are complete
SOURCE = '.videogan-source'  # written first: the video the folder's clips come from
INDEX = 'index.txt'
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_STOP = None  # in a worker process: the event its parent sets to stop it


class Stopped(Exception):
    """The parent process asked this worker to stop."""


def square(frame, size):
    """BGR frame -> RGB size x size, centre-cropped as the frame reader crops."""
    return cv2.cvtColor(square_frame(frame, size), cv2.COLOR_BGR2RGB)


def resampled(path, fps, size):
    """Frames at times 0, 1/fps, 2/fps, ...: each the latest source frame at that time."""
    step, next_time, previous, last_time = 1000.0 / fps, 0.0, None, None
    for stamp, frame in frames_with_times(path):
        while previous is not None and next_time < stamp:
            yield previous
            next_time += step
        previous, last_time = square(frame, size), stamp
    while previous is not None and next_time <= last_time:
        yield previous
        next_time += step


def clips_of(frames, n_frames, min_frames, max_clips, skip=0):
    """Consecutive clips of n_frames; a tail of >= min_frames is padded with its last frame."""
    clip = []
    count = 0
    for index, frame in enumerate(frames):
        if index < skip:
            continue
        clip.append(frame)
        if len(clip) == n_frames:
            yield np.stack(clip)
            clip, count = [], count + 1
            if max_clips and count >= max_clips:
                return
    if clip and len(clip) >= min_frames:
        yield np.stack(clip + [clip[-1]] * (n_frames - len(clip)))


def folder_name(source):
    """The clip folder name of a video: its file name without extension, made safe
    to list in an index (no line breaks, no leading '#' or blanks)."""
    stem = os.path.splitext(os.path.basename(os.path.normpath(source)))[0]
    stem = ''.join('_' if ch in '\r\n\t\0/' else ch for ch in stem).strip()
    if stem in ('.', '..'):
        return stem.replace('.', '_')
    return '_' + stem[1:] if stem.startswith('#') else stem or 'video'


def _source_of(folder):
    """The source recorded in a clip folder by this tool, or None."""
    try:
        with open(os.path.join(folder, SOURCE), encoding='utf-8') as marker:
            return marker.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _free_for(folder, source):
    """Whether this source may use folder: new, its own, or a finished folder from
    before sources were recorded."""
    if not os.path.exists(folder):
        return True
    recorded = _source_of(folder)
    if recorded is not None:
        return recorded == source
    return os.path.isfile(os.path.join(folder, DONE))


def assign_folders(videos, out):
    """{video: folder name} unique per source: a video's own name where it is free,
    else the name with a hash of the video's absolute path; UserError when neither is."""
    taken, names = {INDEX}, {}
    for video in videos:
        source, base = os.path.abspath(video), folder_name(video)
        hashed = f'{base}-{hashlib.sha1(source.encode()).hexdigest()[:8]}'
        free = [n for n in (base, hashed)
                if n not in taken and _free_for(os.path.join(out, n), source)]
        if not free:
            raise UserError(f'--out {out}: the folders {base} and {hashed} there hold files'
                            f' this tool did not make from {video}; move them away')
        taken.add(free[0])
        names[video] = free[0]
    return names


def _start_folder(folder, source):
    """An empty clip folder owned by source: a half-written one of the same source
    is cleared; nothing this tool did not make is ever deleted."""
    if _source_of(folder) == source:
        remove_owned(folder, SOURCE)
    os.makedirs(folder)
    write_text(os.path.join(folder, SOURCE), source + '\n')


def _worker_start(stop):
    """A worker leaves SIGINT and SIGTERM to its parent, which stops it through `stop`."""
    global _STOP
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    _STOP = stop


def _until_stopped(frames):
    for frame in frames:
        if _STOP is not None and _STOP.is_set():
            raise Stopped
        yield frame


def _write_clips(source, folder, args):
    """Write the clips of source into folder; returns how many."""
    count = 0
    frames = _until_stopped(resampled(source, args.fps, args.size))
    for count, clip in enumerate(clips_of(frames, args.frames, args.min_frames,
                                          args.max_clips, args.skip), start=1):
        write_stacked_jpeg(os.path.join(folder, f'clip_{count - 1:03d}.jpg'), clip)
    return count


def split_one(source, folder, args):
    """Split one video into folder; returns ('done'|'split'|'unreadable', clips, note).
    A folder left unfinished (unreadable video, error, stop) is removed."""
    if os.path.isfile(os.path.join(folder, DONE)):
        return 'done', 0, ''
    _start_folder(folder, os.path.abspath(source))
    try:
        count = _write_clips(source, folder, args)
    except VideoError as err:
        remove_owned(folder, SOURCE)
        return 'unreadable', 0, str(err)
    except BaseException:
        remove_owned(folder, SOURCE)
        raise
    write_text(os.path.join(folder, DONE), f'{count}\n')
    if args.delete_source:
        os.remove(source)
    return 'split', count, ''


def _read_job_list(job_list):
    """Video paths of a downloader job list, relative to its folder."""
    base = os.path.dirname(os.path.abspath(job_list))
    try:
        with open(job_list, encoding='utf-8') as lines:
            return [os.path.join(base, line.strip()) for line in lines
                    if line.strip() and not line.startswith('#')]
    except UnicodeDecodeError as err:
        raise UserError(f'--jobs {job_list}: not UTF-8 text (byte {err.start})') from None


def sources(job_lists, paths):
    """Video files named by job lists (relative to their folder) and paths/folders;
    UserError for a path that does not exist."""
    found = []
    for job_list in job_lists:
        if not os.path.isfile(job_list):
            raise UserError(f'--jobs {job_list}: job list not found')
        found += _read_job_list(job_list)
    for path in paths:
        if os.path.isdir(path):
            found += sorted(os.path.join(path, n) for n in os.listdir(path)
                            if n.lower().endswith(VIDEO_EXTS))
        elif os.path.isfile(path):
            found.append(path)
        else:
            raise UserError(f'{path}: no such video file or folder')
    unique = {}
    for path in found:
        unique.setdefault(os.path.abspath(path), path)
    return list(unique.values())


def index_lines(out):
    """The lines of out/index.txt as they are, [] when there is none; UserError when it
    is not a UTF-8 text file."""
    path = os.path.join(out, INDEX)
    if not os.path.lexists(path):
        return []
    if not os.path.isfile(path):
        raise UserError(f'--out {out}: {INDEX} there is not a file; expected the index')
    try:
        with open(path, encoding='utf-8-sig', newline='') as lines:
            return list(lines)
    except UnicodeDecodeError as err:
        raise UserError(f'{path}: not UTF-8 text (byte {err.start}); save it as UTF-8, or'
                        ' move it away to have a new index written') from None


def write_index(out):
    """Add each finished clip folder that out/index.txt does not list yet at its end,
    keeping every line there; returns how many entries it lists."""
    lines = index_lines(out)
    listed = {os.path.normpath(line.strip()) for line in lines
              if line.strip() and not line.strip().startswith('#')}
    new = sorted(n for n in os.listdir(out)
                 if n not in listed and os.path.isfile(os.path.join(out, n, DONE)))
    if lines and not lines[-1].endswith(('\n', '\r')):
        lines[-1] += '\n'
    if new or not lines:
        write_text(os.path.join(out, INDEX), ''.join(lines + [f'{n}\n' for n in new]))
    return len(listed) + len(new)


def _tally(videos, results):
    """Counter of the results of videos, with a progress bar on stderr when it is a
    terminal (tqdm) and a warning line for each unreadable video."""
    total = Counter()
    with tqdm(total=len(videos), desc='videos', unit='video', file=sys.stderr,
              disable=None) as bar:
        for video, (status, clips, note) in zip(videos, results):
            total[status] += 1
            total['clips'] += clips
            if status == 'unreadable':
                tqdm.write(f'warning: skipping unreadable video {video}: {note}',
                           file=sys.stderr)
            bar.set_postfix_str(f'{total["clips"]} clips', refresh=False)
            bar.update()
    return total


def _submitted(pool, jobs):
    """Futures of split_one for each job; the pool's workers start (at the first submit)
    with SIGINT and SIGTERM blocked, so that none sees them before it ignores them."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return [pool.submit(split_one, *job) for job in jobs]
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def split_all(videos, out, args):
    """Split every video into its folder under out; returns the Counter of results. On
    any error or interrupt, queued videos are cancelled and running ones stopped."""
    names = assign_folders(videos, out)
    jobs = [(video, os.path.join(out, names[video]), args) for video in videos]
    if args.workers == 1:
        return _tally(videos, (split_one(*job) for job in jobs))
    stop = multiprocessing.Event()
    with interrupts_deferred() as caught:
        pool = ProcessPoolExecutor(args.workers, initializer=_worker_start, initargs=(stop,))
        try:
            return _tally(videos, results_in_order(_submitted(pool, jobs), caught))
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)


def build_parser():
    parser = new_parser(__doc__.strip().splitlines()[0])
    parser.add_argument('inputs', nargs='*', help='video files or folders of videos')
    parser.add_argument('--jobs', action='append', default=[], help="the downloader's job list"
                        ' (OUT/job-list.txt of datastream/download_plain.py); may be repeated')
    parser.add_argument('--out', required=True, help='dataset folder')
    parser.add_argument('--fps', type=float, default=25.0, help='frames per second of the'
                        ' clips: each video is resampled to it by timestamps')
    parser.add_argument('--skip', type=int, default=0, help='leading frames to drop')
    parser.add_argument('--size', type=int, default=128, help='frame size in pixels')
    parser.add_argument('--frames', type=int, default=32, help='frames per clip')
    parser.add_argument('--min-frames', type=int, default=16, help='frames of the shortest'
                        ' tail kept (padded with its last frame)')
    parser.add_argument('--max-clips', type=int, default=0, help='clips per video at most'
                        ' (0 = all)')
    parser.add_argument('--workers', type=int, default=2, help='videos split in parallel'
                        ' (processes, 1 to 256)')
    parser.add_argument('--delete-source', action='store_true', help='delete each source'
                        ' video once all its clips are written')
    return parser


def parse_args(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    check_ranges(args, (('fps', 0.001, 1000), ('size', 1, 4096), ('frames', 1, 10000),
                        ('min_frames', 1, None), ('skip', 0, None),
                        ('max_clips', 0, None), ('workers', 1, 256)))
    if not args.inputs and not args.jobs:
        parser.error('give video files or folders, or --jobs JOB_LIST')
    return args


def _main(argv):
    args = parse_args(argv)
    videos = sources(args.jobs, args.inputs)
    ensure_output_dir(args.out, '--out')
    index_lines(args.out)
    total = split_all(videos, args.out, args)
    entries = write_index(args.out)
    print(f'videos split {total["split"]}, already done {total["done"]}, unreadable'
          f' {total["unreadable"]}; clips written {total["clips"]};'
          f' {os.path.join(args.out, INDEX)} lists {entries} entries')
    return 0


def main(argv=None):
    return run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
