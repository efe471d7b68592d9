"""Split videos into training clips in the seed's format: one JPEG per clip, frames stacked.

    python datastream/split_video.py [--jobs OUT/job-list.txt] [VIDEO_OR_FOLDER ...] --out DATASET

Per source video a folder DATASET/<video name>/ of clip_NNN.jpg, and
DATASET/index.txt listing every finished folder: train on it with
`[DATA] root_dir = DATASET`, `index_dir = index.txt`, `builtin = no`.
Each video is resampled to --fps by timestamps, --skip leading frames dropped,
frames resized (short side --size) and centre-cropped square, and cut into
clips of --frames frames; a tail of at least --min-frames repeats its last frame,
a shorter tail is dropped. A finished video is not redone on a rerun; a
half-written one is. Unreadable videos are reported and skipped.
"""
import argparse
import os
import shutil
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from datastream.framereader import VIDEO_EXTS  # noqa: E402
from datastream.moving_shapes import write_stacked_jpeg  # noqa: E402
from datastream.video_cut import VideoError, frames_with_times  # noqa: E402

DONE = '.done'


def square(frame, size):
    """BGR frame -> RGB size x size: short side resized to size, centre-cropped."""
    height, width = frame.shape[:2]
    scale = size / min(height, width)
    frame = cv2.resize(frame, (max(size, round(width * scale)), max(size, round(height * scale))),
                       interpolation=cv2.INTER_AREA)
    top, left = (frame.shape[0] - size) // 2, (frame.shape[1] - size) // 2
    return cv2.cvtColor(frame[top:top + size, left:left + size], cv2.COLOR_BGR2RGB)


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
    return os.path.splitext(os.path.basename(source))[0]


def split_one(source, out, args):
    """Split one video into out/<name>/; returns ('done'|'split'|'unreadable', clips, note)."""
    folder = os.path.join(out, folder_name(source))
    if os.path.isfile(os.path.join(folder, DONE)):
        return 'done', 0, ''
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    count = 0
    try:
        frames = resampled(source, args.fps, args.size)
        for count, clip in enumerate(clips_of(frames, args.frames, args.min_frames,
                                              args.max_clips, args.skip), start=1):
            write_stacked_jpeg(os.path.join(folder, f'clip_{count - 1:03d}.jpg'), clip)
    except VideoError as err:
        shutil.rmtree(folder, ignore_errors=True)
        return 'unreadable', 0, str(err)
    with open(os.path.join(folder, DONE), 'w') as marker:
        marker.write(f'{count}\n')
    if args.delete_source:
        os.remove(source)
    return 'split', count, ''


def sources(job_lists, paths):
    """Video files named by job lists (relative to their folder) and paths/folders."""
    found = []
    for job_list in job_lists:
        base = os.path.dirname(os.path.abspath(job_list))
        with open(job_list, encoding='utf-8') as lines:
            found += [os.path.join(base, line.strip()) for line in lines
                      if line.strip() and not line.startswith('#')]
    for path in paths:
        if os.path.isdir(path):
            found += sorted(os.path.join(path, n) for n in os.listdir(path)
                            if n.lower().endswith(VIDEO_EXTS))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def write_index(out):
    """out/index.txt listing every finished clip folder; returns how many."""
    folders = sorted(n for n in os.listdir(out) if os.path.isfile(os.path.join(out, n, DONE)))
    with open(os.path.join(out, 'index.txt.tmp'), 'w', encoding='utf-8') as index:
        index.write(''.join(f'{name}\n' for name in folders))
    os.replace(os.path.join(out, 'index.txt.tmp'), os.path.join(out, 'index.txt'))
    return len(folders)


def split_all(videos, out, args):
    total = Counter()
    pool = ProcessPoolExecutor(args.workers) if args.workers > 1 else None
    results = (pool.map(split_one, videos, [out] * len(videos), [args] * len(videos)) if pool
               else map(split_one, videos, [out] * len(videos), [args] * len(videos)))
    for done, (video, (status, clips, note)) in enumerate(zip(videos, results), start=1):
        total[status] += 1
        total['clips'] += clips
        if status == 'unreadable':
            print(f'\nwarning: skipping unreadable video {video}: {note}', file=sys.stderr)
        print(f'\rvideos {done}/{len(videos)}: {total["clips"]} clips', end='', file=sys.stderr)
    if pool:
        pool.shutdown()
    print(file=sys.stderr)
    return total


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('inputs', nargs='*', help='video files or folders of videos')
    parser.add_argument('--jobs', action='append', default=[], help="the downloader's job list")
    parser.add_argument('--out', required=True, help='dataset folder')
    parser.add_argument('--fps', type=float, default=25.0)
    parser.add_argument('--skip', type=int, default=0, help='leading frames to drop')
    parser.add_argument('--size', type=int, default=128, help='frame size in pixels')
    parser.add_argument('--frames', type=int, default=32, help='frames per clip')
    parser.add_argument('--min-frames', type=int, default=16, help='shortest tail kept')
    parser.add_argument('--max-clips', type=int, default=0, help='per video (0 = all)')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--delete-source', action='store_true')
    args = parser.parse_args(argv)
    for name, low in (('fps', 0.001), ('size', 1), ('frames', 1), ('min_frames', 1),
                      ('skip', 0), ('max_clips', 0), ('workers', 1)):
        if getattr(args, name) < low:
            parser.error(f'--{name.replace("_", "-")} {getattr(args, name)}:'
                         f' expected a value >= {low}')
    if not args.inputs and not args.jobs:
        parser.error('give video files or folders, or --jobs JOB_LIST')
    return args


def main(argv=None):
    args = parse_args(argv)
    missing = [j for j in args.jobs if not os.path.isfile(j)]
    if missing:
        print(f'error: --jobs {missing[0]}: job list not found', file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    videos = sources(args.jobs, args.inputs)
    total = split_all(videos, args.out, args)
    folders = write_index(args.out)
    print(f'videos split {total["split"]}, already done {total["done"]}, unreadable'
          f' {total["unreadable"]}; clips written {total["clips"]};'
          f' {os.path.join(args.out, "index.txt")} lists {folders} folders')
    return 0


if __name__ == '__main__':
    sys.exit(main())
