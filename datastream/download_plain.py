"""Download clips of the YouTube Bounding Boxes dataset.

    python datastream/download_plain.py yt_bb_detection_validation.csv.gz --out yt \\
        [--classes 0,dog] [--present-only] [--limit 100] [--min-seconds 2] [--workers 4] \\
        [--frame-size 64] [--timeout 60]

Each video is downloaded once (the smallest stream at least --frame-size pixels
high, no audio needed) and checked to decode, every clip of it is cut to
OUT/videos/<class_id>/<clip>.mp4 and appended to OUT/job-list.txt the moment it
is complete, and the full video is removed. Rerun to resume: finished clips are
skipped. Videos that cannot be had are recorded in OUT/failures.csv and skipped;
network errors and timeouts (--timeout s without an answer) are retried with
backoff. Rows whose ids cannot name a file (youtube_bb.valid_clips) are recorded
there too and never written. A clip file already there that job-list.txt does
not list is kept, never replaced. Next: datastream/split_video.py.
"""
import csv
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from tqdm import tqdm

from datastream.backends import (DEFAULT_FRAME_SIZE, NETWORK_TIMEOUT,
                                 Transient, Unavailable, get_backend)
from datastream.video_cut import VideoError, cut_clips, open_video
from datastream.youtube_bb import (CSV_NAMES, AnnotationError, clips_by_video,
                                   clips_from_rows, fetch_csv, read_rows, utf8_lines,
                                   valid_clips)
from base.cli import (check_ranges, interrupts_deferred, parser as new_parser,
                      results_in_order, run)
from base.safe_files import ensure_output_dir

RETRIED_REASONS = {'network', 'unreadable-download', 'backend-error'}
ROW_REASONS = {'bad-id'}  # about one row of the annotation file, checked again each run
MAX_DELAY = 600  # seconds: the longest wait before a retry


class JobList:
    """OUT/job-list.txt: one finished clip per line, appended as each completes."""

    def __init__(self, out):
        self.path = os.path.join(out, 'job-list.txt')
        self.lock = threading.Lock()
        self.done = set()
        if os.path.isfile(self.path):
            with open(self.path, 'rb') as lines:
                self.done = {line.strip() for line in utf8_lines(lines, self.path)
                             if line.strip()}

    def add(self, relative):
        with self.lock, open(self.path, 'a', encoding='utf-8') as out:
            out.write(relative + '\n')
            out.flush()
            os.fsync(out.fileno())
            self.done.add(relative)


class Failures:
    """OUT/failures.csv: youtube_id, reason, message of each video that failed; a row
    already there is not added again."""

    def __init__(self, out):
        self.path = os.path.join(out, 'failures.csv')
        self.lock = threading.Lock()
        self.rows = set()
        if os.path.isfile(self.path):
            with open(self.path, 'rb') as rows:
                self.rows = {tuple(row) for row in csv.reader(utf8_lines(rows, self.path))}
        self.permanent = {row[0] for row in self.rows if len(row) >= 2
                          and row[1] not in RETRIED_REASONS | ROW_REASONS}

    def add(self, youtube_id, reason, message):
        row = (youtube_id, reason, ' '.join(str(message).split()))
        with self.lock, open(self.path, 'a', encoding='utf-8', newline='') as out:
            if row not in self.rows:
                csv.writer(out).writerow(row)
                self.rows.add(row)


def clip_path(clip):
    """Clip file relative to OUT."""
    return os.path.join('videos', clip.class_id, clip.name + '.mp4')


def download_with_retry(backend, youtube_id, dest, retries, backoff):
    """backend(youtube_id, dest), retried on Transient errors and timeouts; any other
    error of the backend is Unavailable('backend-error') for this video alone."""
    for attempt in range(retries + 1):
        try:
            return backend(youtube_id, dest)
        except (Transient, TimeoutError) as err:
            if attempt == retries:
                if isinstance(err, Transient):
                    raise
                raise Transient(f'{youtube_id}: no answer within the timeout') from err
        except Unavailable:
            raise
        except Exception as err:
            raise Unavailable('backend-error', f'{youtube_id}: {type(err).__name__}:'
                              f' {err}') from err
        time.sleep(min(backoff * 2 ** attempt, MAX_DELAY))


def check_decodes(youtube_id, path):
    """Unavailable('undecodable') unless OpenCV opens the video and decodes a frame."""
    name = os.path.basename(path or '')
    try:
        capture, _ = open_video(path or '')
    except VideoError:
        raise Unavailable('undecodable', f'{youtube_id}: the downloaded {name} is not a'
                          ' video OpenCV can open (empty, cut short or an unknown'
                          ' container)') from None
    try:
        decoded, _ = capture.read()
    finally:
        capture.release()
    if not decoded:
        raise Unavailable('undecodable', f'{youtube_id}: OpenCV opens the downloaded {name}'
                          ' but decodes no frame (a codec this OpenCV build lacks?)')


def _in_the_way(clips, out, jobs):
    """The clips whose file is there but not in job-list.txt: not this tool's, kept."""
    kept = [c for c in clips if clip_path(c) not in jobs.done
            and os.path.lexists(os.path.join(out, clip_path(c)))]
    for clip in kept:
        tqdm.write(f'warning: {os.path.join(out, clip_path(clip))} is not listed in job-list.txt,'
                   ' so it is kept and not cut again (delete it to have it cut)', file=sys.stderr)
    return kept


def process_video(youtube_id, clips, out, backend, jobs, args):
    """Download one video and cut its unfinished clips; returns a Counter of outcomes."""
    kept = _in_the_way(clips, out, jobs)
    todo = [c for c in clips if c not in kept and not (
        clip_path(c) in jobs.done and os.path.isfile(os.path.join(out, clip_path(c))))]
    outcome = Counter({'skipped': len(clips) - len(todo) - len(kept),
                       'failed:in-the-way': len(kept)})
    if not todo:
        return outcome
    os.makedirs(os.path.join(out, '.downloads'), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.join(out, '.downloads')) as tmp:
        source = download_with_retry(backend, youtube_id, tmp, args.retries, args.backoff)
        check_decodes(youtube_id, source)
        cuts = [(os.path.join(out, clip_path(c)), c.start_ms, c.stop_ms) for c in todo]
        written = cut_clips(source, cuts,
                            on_done=lambda dst, _: jobs.add(os.path.relpath(dst, out)))
    outcome['written'] += len(written)
    outcome['failed:outside-video'] += len(todo) - len(written)
    return outcome


def run_video(youtube_id, clips, out, backend, jobs, failures, args):
    """process_video that never raises for one bad video: failures go to failures.csv."""
    try:
        return process_video(youtube_id, clips, out, backend, jobs, args)
    except Unavailable as err:
        reason, message = err.reason, err
    except Transient as err:
        reason, message = 'network', err
    except VideoError as err:
        reason, message = 'unreadable-download', err
    failures.add(youtube_id, reason, message)
    return Counter({f'failed:{reason}': len(clips)})


def download_all(videos, out, backend, args, rejected=()):
    """Process every video (in parallel with args.workers); returns the total Counter.
    rejected: (clip, why) of rows whose ids cannot name a file, recorded as failures."""
    jobs, failures = JobList(out), Failures(out)
    for clip, why in rejected:
        failures.add(clip.youtube_id, 'bad-id', f'{clip.name}: {why}')
    todo = {v: c for v, c in videos.items() if v not in failures.permanent}
    total = Counter({'failed:earlier': sum(len(c) for v, c in videos.items() if v not in todo),
                     'failed:bad-id': len(rejected)})
    with interrupts_deferred() as caught, ThreadPoolExecutor(max_workers=args.workers) as pool, \
            progress(len(todo)) as bar:
        futures = [pool.submit(run_video, v, c, out, backend, jobs, failures, args)
                   for v, c in todo.items()]
        try:
            for result in results_in_order(futures, caught):
                total += result
                bar.set_postfix_str(f'{total["written"]} clips written, {total["skipped"]}'
                                    f' already done, {failed(total)} failed', refresh=False)
                bar.update()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # start no further video
            raise
    return total


def progress(n_videos):
    """The progress bar of n_videos on stderr, shown only when stderr is a terminal."""
    return tqdm(total=n_videos, desc='videos', unit='video', file=sys.stderr, disable=None)


def failed(total):
    return sum(n for key, n in total.items() if key.startswith('failed:'))


def summary(total):
    reasons = ', '.join(f'{key[7:]} {n}' for key, n in sorted(total.items())
                        if key.startswith('failed:') and n)
    return (f'clips written {total["written"]}, skipped (already done) {total["skipped"]},'
            f' failed {failed(total)}' + (f' ({reasons})' if reasons else ''))


def build_parser():
    parser = new_parser(__doc__.strip().splitlines()[0])
    parser.add_argument('csv', nargs='?', help='annotation file (.csv or .csv.gz)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--fetch-csv', choices=CSV_NAMES, help='download this official'
                        ' annotation file into --out instead of naming one')
    parser.add_argument('--classes', default='', help='class ids or names, comma separated'
                        ' (default: every class)')
    parser.add_argument('--present-only', action='store_true',
                        help='only rows where the object is present')
    parser.add_argument('--limit', type=int, default=0, help='at most this many videos'
                        ' (0 = all)')
    parser.add_argument('--min-seconds', type=float, default=0.0,
                        help='shortest clip kept, seconds')
    parser.add_argument('--workers', type=int, default=4, help='videos downloaded and cut in'
                        ' parallel (threads, 1 to 64)')
    parser.add_argument('--backend', choices=['pytubefix', 'yt-dlp'], default='pytubefix',
                        help='YouTube downloader (datastream/backends.py)')
    parser.add_argument('--retries', type=int, default=3, help='retries of network errors')
    parser.add_argument('--backoff', type=float, default=2.0, help='first retry delay, s')
    parser.add_argument('--frame-size', type=int, default=DEFAULT_FRAME_SIZE,
                        help='smallest video height wanted, px (the training frame size)')
    parser.add_argument('--timeout', type=float, default=NETWORK_TIMEOUT,
                        help='seconds without an answer before a network call is retried')
    return parser


def parse_args(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    check_ranges(args, (('limit', 0, None), ('min_seconds', 0, 86400), ('workers', 1, 64),
                        ('retries', 0, 20), ('backoff', 0, MAX_DELAY), ('frame_size', 1, 4320),
                        ('timeout', 0.001, 3600)))
    if not args.csv and not args.fetch_csv:
        parser.error('give an annotation CSV or --fetch-csv NAME')
    return args


def _annotation_file(args):
    """The annotation file: --csv, or the --fetch-csv download in --out (made once: one
    already there is read, never replaced)."""
    if args.csv:
        return args.csv
    dest = os.path.join(args.out, args.fetch_csv + '.csv.gz')
    if os.path.exists(dest):
        print(f'reading {dest}, downloaded before (delete it to download it again)',
              file=sys.stderr)
        return dest
    return fetch_csv(args.fetch_csv, dest, timeout=args.timeout)


def _main(argv=None, backend=None):
    args = parse_args(argv)
    ensure_output_dir(args.out, '--out')
    if backend is None:
        backend = partial(get_backend(args.backend), frame_size=args.frame_size,
                          timeout=args.timeout)
    path = _annotation_file(args)
    if not os.path.isfile(path):
        raise AnnotationError(f'{path}: annotation file not found')
    classes = {c.strip() for c in args.classes.split(',') if c.strip()}
    clips, rejected = valid_clips(clips_from_rows(read_rows(path), classes, args.present_only,
                                                  args.min_seconds))
    videos = clips_by_video(clips, args.limit)
    print(f'{sum(map(len, videos.values()))} clips in {len(videos)} videos from {path}'
          + (f'; {len(rejected)} clips with ids unfit for a file name skipped (see'
             ' failures.csv)' if rejected else ''), file=sys.stderr)
    total = download_all(videos, args.out, backend, args, rejected)
    print(summary(total))
    return 0


def main(argv=None, backend=None):
    """Exit code of the downloader; `backend` replaces the real one (tests)."""
    return run(partial(_main, backend=backend), argv)


if __name__ == '__main__':
    sys.exit(main())
