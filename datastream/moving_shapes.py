"""The built-in dataset: coloured shapes bouncing over a drifting textured background.

Each clip is rendered from its own random generator seeded by (seed, clip
number), so the dataset is the same on every machine. Clips are written in the
seed's format (one JPEG, frames stacked vertically) with an index file, and the
factors that made each clip (shapes, colours, velocities, drift) beside them.
"""
import hashlib
import json
import os
import re
from typing import NamedTuple

import cv2
import numpy as np

from base.config import check_choice
from base.safe_files import OutputError, atomic_path, claim_folder, owns, write_text

KINDS = ('circle', 'square', 'triangle')
MARKER = '.videogan-builtin'  # marks a folder as a built-in dataset (base/safe_files.py)
PALETTE = {'red': (230, 40, 40), 'green': (40, 210, 60), 'blue': (40, 80, 240),
           'yellow': (245, 220, 40), 'magenta': (220, 50, 220), 'white': (245, 245, 245)}


class Look(NamedTuple):
    """What the clips show: shape radii as fractions of the frame size (low, high), at
    most this many shapes a clip, and the strength of the background's gratings."""
    radius: tuple = (0.09, 0.18)
    max_shapes: int = 2
    background: float = 1.0


STANDARD = Look()
# The looks [DATA] builtin_look names: 'large' is the first run's milder variant, shapes
# about 1.6x the standard size.
LOOKS = {'standard': STANDARD, 'large': Look(radius=(0.16, 0.26))}
LOOK_FILE = 'look.json'  # beside the index: the look the clips were made with
FACTORS_FILE = 'factors.jsonl'
CLIP_FOLDER = 'clips'
CLIP_NAME = re.compile(r'clip_[0-9]{5}\.jpg')
RECORD_HEADER = '# videogan built-in dataset: sha1 and path of each file it wrote\n'
INDEX_TEXT = '# built-in moving-shapes dataset: one folder of stacked-JPEG clips\nclips\n'


def check_look_name(look, source=''):
    """ConfigError naming [DATA] builtin_look (in source, a setup.ini) unless it is one of
    LOOKS."""
    check_choice(look, tuple(LOOKS), source, 'DATA', 'builtin_look')


def _background(rng, n_frames, size, strength=1.0):
    """(T, S, S, 3) float texture of three colour gratings drifting together."""
    t = np.arange(n_frames)[:, None, None]
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    drift = rng.uniform(-1.0, 1.0, 2)
    base = rng.uniform(60, 140, 3)
    image = np.broadcast_to(base, (n_frames, size, size, 3)).copy()
    for _ in range(3):
        freq = rng.uniform(-0.06, 0.06, 2)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * (freq[0] * (x - drift[0] * t) + freq[1] * (y - drift[1] * t))
                      + phase)
        image += wave[..., None] * (strength * rng.uniform(-25, 25, 3))
    return image, drift


def _bounce(start, velocity, low, high, n_frames):
    """Positions over time of a point bouncing between low and high."""
    span = high - low
    travelled = (start - low + velocity * np.arange(n_frames)) % (2 * span)
    return low + np.where(travelled < span, travelled, 2 * span - travelled)


def _mask(kind, y, x, cy, cx, radius):
    """Boolean (T, S, S) mask of one shape whose centre moves along (cy, cx)."""
    dy, dx = y - cy[:, None, None], x - cx[:, None, None]
    if kind == 'circle':
        return dy ** 2 + dx ** 2 <= radius ** 2
    if kind == 'square':
        side = 0.85 * radius
        return (np.abs(dy) <= side) & (np.abs(dx) <= side)
    return (dy >= -radius) & (dy <= radius) & (np.abs(dx) <= (dy + radius) / 2)


def render_clip(rng, n_frames=32, size=64, look=STANDARD, discs=False):
    """One clip as uint8 (T, S, S, 3) RGB and the factors that generated it. discs: every
    shape drawn as a disc of its colour, radius and path instead (the same random draws,
    so the same clip but for the shape kinds, which its factors then name 'circle'):
    the quality ladder's test of whether a measure sees shape kinds (metrics/ladder.py)."""
    frames, drift = _background(rng, n_frames, size, look.background)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    shapes = []
    for _ in range(rng.randint(1, look.max_shapes + 1)):
        kind, colour = KINDS[rng.randint(len(KINDS))], list(PALETTE)[rng.randint(len(PALETTE))]
        radius = rng.uniform(*look.radius) * size
        speed, angle = rng.uniform(0.015, 0.05) * size, rng.uniform(0, 2 * np.pi)
        velocity = speed * np.array([np.sin(angle), np.cos(angle)])
        start = rng.uniform(radius, size - radius, 2)
        cy = _bounce(start[0], velocity[0], radius, size - radius, n_frames)
        cx = _bounce(start[1], velocity[1], radius, size - radius, n_frames)
        kind = 'circle' if discs else kind
        frames[_mask(kind, y, x, cy, cx, radius)] = PALETTE[colour]
        shapes.append({'kind': kind, 'colour': colour, 'radius': round(radius, 2),
                       'velocity': np.round(velocity, 3).tolist()})
    factors = {'shapes': shapes, 'drift': np.round(drift, 3).tolist()}
    return np.clip(frames, 0, 255).astype(np.uint8), factors


def numbered_clip(seed, number, look=STANDARD, n_frames=32, size=64, discs=False):
    """Clip `number` of the built-in data made with `seed` in a Look, and its factors:
    render_clip from the clip's own random generator, seeded by (seed, number); with
    discs, the same clip with every shape drawn as a disc."""
    return render_clip(np.random.RandomState([seed, number]), n_frames, size, look, discs)


def stacked_jpeg_bytes(frames, quality=95):
    """(T, H, W, 3) RGB frames encoded as one JPEG, frames stacked vertically."""
    stacked = frames.reshape(-1, frames.shape[2], 3)[..., ::-1]
    ok, encoded = cv2.imencode('.jpg', np.ascontiguousarray(stacked),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OSError('OpenCV could not encode a JPEG')
    return encoded.tobytes()


def write_stacked_jpeg(path, frames, quality=95):
    """Save (T, H, W, 3) RGB frames as one JPEG, frames stacked vertically (atomically)."""
    _write_bytes(path, stacked_jpeg_bytes(frames, quality))


def _write_bytes(path, data):
    with atomic_path(path) as partial:
        with open(partial, 'wb') as out:
            out.write(data)


def _sha1(path):
    with open(path, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()


class _Record:
    """The files a built-in dataset wrote, kept in its marker file as `sha1 path` lines;
    each line is appended before its file is written, so an interrupted build leaves no
    file of its own unrecorded. A marker without the header is from before records
    were kept (`legacy`)."""

    def __init__(self, root_dir):
        self.root, self.path = root_dir, os.path.join(root_dir, MARKER)
        with open(self.path, encoding='utf-8', errors='replace') as f:
            lines = f.read().splitlines()
        self.legacy = lines[:1] != [RECORD_HEADER.strip()]
        self.hashes = {}
        for line in lines[1:] if not self.legacy else ():
            digest, _, relative = line.partition(' ')
            self.hashes.setdefault(relative, set()).add(digest)

    def digest(self, relative):
        """The sha1 of file root/relative, None when it is not a file."""
        path = os.path.join(self.root, relative)
        return _sha1(path) if os.path.isfile(path) else None

    def owns(self, relative):
        """Whether root/relative is a file this record lists with its current content."""
        return self.digest(relative) in self.hashes.get(relative, ())

    def adopt(self, relative, data=None):
        """Take a file as the dataset's own when it holds exactly `data` (given)."""
        digest = self.digest(relative)
        if digest and (data is None or hashlib.sha1(data).hexdigest() == digest):
            self.hashes.setdefault(relative, set()).add(digest)

    def restart(self):
        """Rewrite the record with the files that are still the dataset's own."""
        own = {r: self.digest(r) for r in sorted(self.hashes) if self.owns(r)}
        self.hashes = {r: {digest} for r, digest in own.items()}
        write_text(self.path, RECORD_HEADER + ''.join(f'{d} {r}\n' for r, d in own.items()))
        self.legacy = False

    def write(self, relative, data):
        """Record, then write, file root/relative holding `data`."""
        digest = hashlib.sha1(data).hexdigest()
        with open(self.path, 'a', encoding='utf-8') as out:
            out.write(f'{digest} {relative}\n')
        self.hashes.setdefault(relative, set()).add(digest)
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _write_bytes(path, data)


class _Plan:
    """The files a built-in dataset of these settings holds, as (relative path, bytes)."""

    def __init__(self, n_clips, seed, index_file, n_frames, size, look):
        self.n_clips, self.seed, self.index_file = n_clips, seed, index_file
        self.n_frames, self.size, self.look = n_frames, size, look

    def clip_name(self, number):
        return f'{CLIP_FOLDER}/clip_{number:05d}.jpg'

    def names(self):
        return [LOOK_FILE, *map(self.clip_name, range(self.n_clips)), FACTORS_FILE,
                self.index_file]

    def clip(self, number):
        """(bytes, factors line) of clip `number`."""
        frames, factors = numbered_clip(self.seed, number, LOOKS[self.look], self.n_frames,
                                        self.size)
        line = json.dumps({'clip': self.clip_name(number), **factors}) + '\n'
        return stacked_jpeg_bytes(frames), line

    def files(self):
        """Every (relative path, bytes) in writing order: the index last."""
        yield LOOK_FILE, (json.dumps({'look': self.look, **LOOKS[self.look]._asdict()})
                          + '\n').encode()
        lines = []
        for number in range(self.n_clips):
            data, line = self.clip(number)
            lines.append(line)
            yield self.clip_name(number), data
        yield FACTORS_FILE, ''.join(lines).encode()
        yield self.index_file, INDEX_TEXT.encode()


def _adopt_legacy(record, plan, in_the_way, stale):
    """In a dataset from before records were kept, adopt each file in the way and each
    stale clip whose content is exactly what this generator writes at its name; its
    factors file, when each line is the one written for that clip (the last may be cut)."""
    if in_the_way - {FACTORS_FILE}:
        for relative, data in plan.files():
            if relative in in_the_way and relative != FACTORS_FILE:
                record.adopt(relative, data)
    if FACTORS_FILE in in_the_way and _written_factors(record.root, plan):
        record.adopt(FACTORS_FILE)
    for relative in stale:
        record.adopt(relative, plan.clip(int(relative[-9:-4]))[0])


def _written_factors(root_dir, plan):
    """Whether each line of root_dir's factors file is the line this plan writes there
    (the last one may be cut short, as by an interrupted build)."""
    with open(os.path.join(root_dir, FACTORS_FILE), encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines(keepends=True)
    for number, line in enumerate(lines):
        expected = plan.clip(number)[1]
        if line != expected and (line.endswith('\n') or not expected.startswith(line)):
            return False
    return True


def _stale_clips(root_dir, plan):
    """Clip files named as the generator names them that this plan does not write."""
    folder = os.path.join(root_dir, CLIP_FOLDER)
    names = set(plan.names())
    listed = os.listdir(folder) if os.path.isdir(folder) else []
    return [f'{CLIP_FOLDER}/{n}' for n in sorted(listed)
            if CLIP_NAME.fullmatch(n) and f'{CLIP_FOLDER}/{n}' not in names]


def _prepare(root_dir, plan):
    """The record of root_dir with every file this plan replaces recognised as its own,
    its stale clips removed; OutputError naming a file in the way that is not its own."""
    record = _Record(root_dir)
    in_the_way = [r for r in plan.names()
                  if os.path.lexists(os.path.join(root_dir, r)) and not record.owns(r)]
    stale = _stale_clips(root_dir, plan)
    if record.legacy:
        _adopt_legacy(record, plan, set(in_the_way), stale)
    foreign = [r for r in in_the_way if not record.owns(r)]
    if foreign:
        raise OutputError(f'[DATA] root_dir = {root_dir!r}: {foreign[0]} is not a file the'
                          ' built-in dataset wrote there (yours, changed, or made with other'
                          ' settings), so it is not replaced: move it away, or choose an'
                          ' empty root_dir')
    record.restart()
    for relative in stale:
        if record.owns(relative):
            os.remove(os.path.join(root_dir, relative))
    os.makedirs(os.path.dirname(os.path.join(root_dir, plan.index_file)), exist_ok=True)
    return record


def _index_inside(root_dir, index_file):
    """index_file as a normalised path inside root_dir; OutputError otherwise."""
    relative = os.path.normpath(index_file).replace(os.sep, '/')
    own = (MARKER, LOOK_FILE, FACTORS_FILE, CLIP_FOLDER)
    if os.path.isabs(index_file) or relative.split('/')[0] in ('..', *own) or relative == '.':
        raise OutputError(f'[DATA] index_file = {index_file!r}: builtin = yes writes its index'
                          f' inside root_dir = {root_dir!r}; expected a relative file name'
                          f' there, other than {", ".join(own)}')
    return relative


def build_dataset(root_dir, n_clips, seed=0, index_file='index.txt', n_frames=32, size=64,
                  look='standard'):
    """Write the look's record, n_clips clips under root_dir/clips, factors.jsonl, then the
    index (its folder made). root_dir must be empty, new, or a built-in dataset (it carries
    MARKER). Only the dataset's own files are replaced or removed: those its record lists
    with their content, or, in a dataset from before records were kept, those holding
    exactly what this build writes at their name. Other files are kept (the clips folder
    lists them too); one at a name this build writes stops it with an OutputError."""
    index_file = _index_inside(root_dir, index_file)
    claim_folder(root_dir, MARKER, '[DATA] root_dir')
    plan = _Plan(n_clips, seed, index_file, n_frames, size, look)
    record = _prepare(root_dir, plan)
    for relative, data in plan.files():
        record.write(relative, data)
    return os.path.join(root_dir, index_file)


def recorded_look(root_dir):
    """The look name a built-in dataset was made with ('standard' before looks were kept);
    OutputError when its record is unreadable or differs from that look as defined now."""
    path = os.path.join(root_dir, LOOK_FILE)
    if not os.path.isfile(path):
        return 'standard'
    remake = f'delete the folder {root_dir} to have it made again'
    try:
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
        name = record.pop('look')
        made = Look(**{key: tuple(v) if isinstance(v, list) else v for key, v in record.items()})
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        raise OutputError(f'{path}: not a readable look record ({err!r}); {remake}') from None
    if LOOKS.get(name) != made:
        raise OutputError(f'{path}: look {name!r} was made as {made}, which is not the'
                          f' look of that name now; {remake}')
    return name


def check_look(root_dir, index_file, look):
    """ConfigError for a look that is not one of LOOKS; OutputError when root_dir holds a
    finished built-in dataset of another look."""
    check_look_name(look)
    if os.path.isfile(os.path.join(root_dir, index_file)) and owns(root_dir, MARKER):
        made = recorded_look(root_dir)
        if made != look:
            raise OutputError(f'[DATA] builtin_look = {look!r}, but root_dir = {root_dir!r} holds'
                              f' the built-in clips of look {made!r}: choose another root_dir'
                              f' for this look, or set builtin_look = {made!r}')


def ensure_dataset(root_dir, index_file, n_clips, seed=0, look='standard'):
    """Build the dataset of the named look unless its index exists; True when it was built
    now. Only an empty folder or a built-in one is built in: never a folder of other files;
    a finished built-in one of another look is refused, not rebuilt. A rebuild (an
    unfinished build, or another index name) replaces only the dataset's own files and
    keeps any you added (see build_dataset)."""
    check_look(root_dir, index_file, look)
    if os.path.isfile(os.path.join(root_dir, index_file)):
        return False
    if os.path.isdir(root_dir) and os.listdir(root_dir) and not owns(root_dir, MARKER):
        raise OutputError(f'[DATA] root_dir = {root_dir!r}: builtin = yes, but the folder holds'
                          f' other files and no {index_file!r} ([DATA] index_file); the built-in'
                          ' dataset is only made in an empty folder or its own: fix index_file,'
                          ' set builtin = no, or choose an empty root_dir')
    build_dataset(root_dir, n_clips, seed, index_file, look=look)
    return True


def ensure_builtin(data, seed):
    """ensure_dataset for a [DATA] section (base/config.DataConfig) with builtin = yes,
    saying so when it made the dataset now."""
    if ensure_dataset(data.root_dir, data.index_file, data.builtin_clips, seed, data.builtin_look):
        print(f'made the built-in moving-shapes dataset ({data.builtin_look} look) in'
              f' {data.root_dir}')
