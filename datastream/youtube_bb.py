"""YouTube Bounding Boxes annotation files and the clips they define.

Classification CSVs (no header): youtube_id, timestamp_ms, class_id, class_name,
object_presence. Detection CSVs add object_id after class_name and the box
xmin, xmax, ymin, ymax (fractions of the frame) after object_presence. As the
dataset's reference downloader does, rows are sorted by (youtube_id, class_id,
object_id, timestamp) and each run of rows with the same youtube_id, class_id and
object_id (object_id '0' in classification files) is one clip, named
`<youtube_id>+<class_id>+<object_id>`, from its first to its last timestamp.
"""
import csv
import gzip
import os
import shutil
from dataclasses import dataclass
from itertools import groupby

CSV_NAMES = ('yt_bb_classification_train', 'yt_bb_classification_validation',
             'yt_bb_detection_train', 'yt_bb_detection_validation')
CSV_URL = 'https://research.google.com/youtube-bb/{name}.csv.gz'


class AnnotationError(ValueError):
    """An annotation file that is not in either YouTube-BB layout."""


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


def read_rows(path):
    """Every annotation row of a .csv or .csv.gz file."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8', newline='') as handle:
        return [_parse(fields, path, number)
                for number, fields in enumerate(csv.reader(handle), start=1) if fields]


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


def clips_by_video(clips, limit=0):
    """{youtube_id: [clips]} in first-seen order, at most `limit` videos (0 = all)."""
    videos = {}
    for clip in clips:
        if clip.youtube_id not in videos and limit and len(videos) >= limit:
            continue
        videos.setdefault(clip.youtube_id, []).append(clip)
    return videos


def fetch_csv(name, dest, opener=None):
    """Download the official annotation file `name` (see CSV_NAMES) to dest."""
    if name not in CSV_NAMES:
        raise AnnotationError(f'--fetch-csv {name!r}: expected one of {", ".join(CSV_NAMES)}')
    if opener is None:
        from urllib.request import urlopen as opener
    with opener(CSV_URL.format(name=name)) as response, open(dest + '.part', 'wb') as out:
        shutil.copyfileobj(response, out)
    os.replace(dest + '.part', dest)
    return dest
