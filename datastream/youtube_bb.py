"""YouTube Bounding Boxes annotation files and the clips they define.

Classification CSVs (no header): youtube_id, timestamp_ms, class_id, class_name,
object_presence. Detection CSVs add object_id after class_name and the box
xmin, xmax, ymin, ymax (fractions of the frame) after object_presence. As the
dataset's reference downloader does, rows are sorted by (youtube_id, class_id,
object_id, timestamp) and each run of rows with the same youtube_id, class_id and
object_id (object_id '0' in classification files) is one clip, named
`<youtube_id>+<class_id>+<object_id>`, from its first to its last timestamp.
Those ids become file names, so valid_clips keeps only clips whose youtube_id is
a YouTube id and whose class and object ids are short names of A-Z a-z 0-9 _ -.
"""
import csv
import gzip
import http.client
import re
import shutil
from dataclasses import dataclass
from itertools import groupby
from urllib.error import HTTPError, URLError

from datastream.backends import NETWORK_TIMEOUT, YOUTUBE_ID
from base.errors import UserError
from base.safe_files import atomic_path

CSV_NAMES = ('yt_bb_classification_train', 'yt_bb_classification_validation',
             'yt_bb_detection_train', 'yt_bb_detection_validation')
CSV_URL = 'https://research.google.com/youtube-bb/{name}.csv.gz'
NAME_FIELD = re.compile(r'[A-Za-z0-9_-]{1,64}')  # class and object ids, used in file names


class AnnotationError(UserError):
    """An annotation file that is not in either YouTube-BB layout."""


class FetchError(UserError):
    """An official annotation file that could not be downloaded (no answer, refused)."""


@dataclass(frozen=True)
class Row:
    youtube_id: str
    timestamp_ms: int
    class_id: str
    class_name: str
    object_id: str
    present: bool


@dataclass(frozen=True)
class Clip:
    youtube_id: str
    class_id: str
    class_name: str
    object_id: str
    start_ms: int
    stop_ms: int

    @property
    def name(self):
        return f'{self.youtube_id}+{self.class_id}+{self.object_id}'

    @property
    def seconds(self):
        return (self.stop_ms - self.start_ms) / 1000


def _parse(fields, path, line):
    if len(fields) == 5:
        youtube_id, stamp, class_id, class_name, presence = fields
        object_id = '0'
    elif len(fields) == 10:
        youtube_id, stamp, class_id, class_name, object_id, presence = fields[:6]
    else:
        raise AnnotationError(f'{path} line {line}: {len(fields)} columns; expected 5'
                              ' (classification) or 10 (detection)')
    try:
        return Row(youtube_id, int(stamp), class_id, class_name, object_id,
                   presence.strip() == 'present')
    except ValueError:
        raise AnnotationError(f'{path} line {line}: timestamp {stamp!r} is not an integer'
                              ' of milliseconds') from None


def utf8_lines(binary_lines, path, error=UserError):
    """Decode each line of a file opened in binary mode; `error` naming the file and
    the line when one is not UTF-8 text."""
    for number, raw in enumerate(binary_lines, start=1):
        try:
            yield raw.decode('utf-8-sig' if number == 1 else 'utf-8')
        except UnicodeDecodeError as err:
            raise error(f'{path} line {number}: not UTF-8 text (byte'
                        f' 0x{err.object[err.start:err.start + 1].hex()} at byte'
                        f' {err.start + 1} of the line); save the file as UTF-8') from None


def read_rows(path):
    """Every annotation row of a .csv or .csv.gz file."""
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as handle:
            reader = csv.reader(utf8_lines(handle, path, AnnotationError))
            return [_parse(fields, path, reader.line_num) for fields in reader if fields]
    except (gzip.BadGzipFile, EOFError) as err:
        raise AnnotationError(f'{path}: not a complete gzip file ({err}); download it'
                              ' again') from None
    except csv.Error as err:
        raise AnnotationError(f'{path}: not a CSV file ({err})') from None


def _wanted(row, classes):
    return not classes or row.class_id in classes or row.class_name in classes


def clips_from_rows(rows, classes=(), present_only=False, min_seconds=0.0):
    """Clips in (youtube_id, class_id, object_id) order, filtered as asked."""
    rows = [r for r in rows if _wanted(r, classes) and (r.present or not present_only)]
    rows.sort(key=lambda r: (r.youtube_id, r.class_id, r.object_id, r.timestamp_ms))
    clips = []
    for _, group in groupby(rows, key=lambda r: (r.youtube_id, r.class_id, r.object_id)):
        group = list(group)
        first, last = group[0], group[-1]
        clip = Clip(first.youtube_id, first.class_id, first.class_name, first.object_id,
                    first.timestamp_ms, last.timestamp_ms)
        if clip.seconds >= min_seconds:
            clips.append(clip)
    return clips


def unfit_field(clip):
    """Why a clip's ids cannot name its file, or None when they can."""
    if not YOUTUBE_ID.fullmatch(clip.youtube_id):
        return (f'youtube_id {clip.youtube_id!r} is not a YouTube video id (expected 11'
                ' characters of A-Z a-z 0-9 _ -)')
    for field in ('class_id', 'object_id'):
        if not NAME_FIELD.fullmatch(getattr(clip, field)):
            return (f'{field} {getattr(clip, field)!r} of video {clip.youtube_id} is not 1 to'
                    ' 64 characters of A-Z a-z 0-9 _ -')
    return None


def valid_clips(clips):
    """(clips whose ids can name files, [(clip, why not)] of the others)."""
    checked = [(clip, unfit_field(clip)) for clip in clips]
    return [c for c, why in checked if why is None], [(c, why) for c, why in checked if why]


def clips_by_video(clips, limit=0):
    """{youtube_id: [clips]} in first-seen order, at most `limit` videos (0 = all)."""
    videos = {}
    for clip in clips:
        if clip.youtube_id not in videos and limit and len(videos) >= limit:
            continue
        videos.setdefault(clip.youtube_id, []).append(clip)
    return videos


def _network_reason(err, timeout):
    reason = err.reason if isinstance(err, URLError) and not isinstance(err, HTTPError) else err
    if isinstance(reason, TimeoutError):
        return f'no answer within {timeout} s'
    return str(reason) or type(reason).__name__


def fetch_csv(name, dest, opener=None, timeout=NETWORK_TIMEOUT):
    """Download the official annotation file `name` (see CSV_NAMES) to dest; FetchError
    when the server refuses or sends nothing for `timeout` seconds."""
    if name not in CSV_NAMES:
        raise AnnotationError(f'--fetch-csv {name!r}: expected one of {", ".join(CSV_NAMES)}')
    if opener is None:
        from urllib.request import urlopen as opener
    url = CSV_URL.format(name=name)
    try:
        with atomic_path(dest) as partial:
            with opener(url, timeout=timeout) as response, open(partial, 'wb') as out:
                shutil.copyfileobj(response, out)
    except (URLError, TimeoutError, ConnectionError, http.client.HTTPException) as err:
        raise FetchError(f'--fetch-csv {name}: {url}: {_network_reason(err, timeout)};'
                         ' check the network and run again (or download the file by hand'
                         ' and give its path)') from None
    return dest
