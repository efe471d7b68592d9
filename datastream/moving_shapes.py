"""The built-in dataset: coloured shapes bouncing over a drifting textured background.

Each clip is rendered from its own random generator seeded by (seed, clip
number), so the dataset is the same on every machine. Clips are written in the
seed's format (one JPEG, frames stacked vertically) with an index file, and the
factors that made each clip (shapes, colours, velocities, drift) beside them.
"""
import json
import os
from typing import NamedTuple

import cv2
import numpy as np

from utils.safe_files import OutputError, atomic_path, claim_folder, owns, write_text

KINDS = ('circle', 'square', 'triangle')
MARKER = '.videogan-builtin'  # marks a folder as a built-in dataset (utils/safe_files.py)
PALETTE = {'red': (230, 40, 40), 'green': (40, 210, 60), 'blue': (40, 80, 240),
           'yellow': (245, 220, 40), 'magenta': (220, 50, 220), 'white': (245, 245, 245)}


class Look(NamedTuple):
    """What the clips show: shape radii as fractions of the frame size (low, high), at
    most this many shapes a clip, and the strength of the background's gratings."""
    radius: tuple = (0.09, 0.18)
    max_shapes: int = 2
    background: float = 1.0


STANDARD = Look()
# The looks [DATA] builtin_look names (utils/config_parse.BUILTIN_LOOKS): 'large' is the
# first run's milder variant, shapes about 1.6x the standard size (docs/first-run.md).
LOOKS = {'standard': STANDARD, 'large': Look(radius=(0.16, 0.26))}
LOOK_FILE = 'look.json'  # beside the index: the look the clips were made with


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


def render_clip(rng, n_frames=32, size=64, look=STANDARD):
    """One clip as uint8 (T, S, S, 3) RGB and the factors that generated it."""
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
        frames[_mask(kind, y, x, cy, cx, radius)] = PALETTE[colour]
        shapes.append({'kind': kind, 'colour': colour, 'radius': round(radius, 2),
                       'velocity': np.round(velocity, 3).tolist()})
    factors = {'shapes': shapes, 'drift': np.round(drift, 3).tolist()}
    return np.clip(frames, 0, 255).astype(np.uint8), factors


def numbered_clip(seed, number, look=STANDARD, n_frames=32, size=64):
    """Clip `number` of the built-in data made with `seed` in a Look, and its factors:
    render_clip from the clip's own random generator, seeded by (seed, number)."""
    return render_clip(np.random.RandomState([seed, number]), n_frames, size, look)


def write_stacked_jpeg(path, frames, quality=95):
    """Save (T, H, W, 3) RGB frames as one JPEG, frames stacked vertically (atomically)."""
    stacked = frames.reshape(-1, frames.shape[2], 3)[..., ::-1]
    with atomic_path(path) as partial:
        if not cv2.imwrite(partial, np.ascontiguousarray(stacked),
                           [cv2.IMWRITE_JPEG_QUALITY, quality]):
            raise OSError(f'could not write {path}')


def build_dataset(root_dir, n_clips, seed=0, index_file='index.txt', n_frames=32, size=64,
                  look='standard'):
    """Write the look's record, n_clips clips under root_dir/clips, factors.jsonl, then the
    index. root_dir must be empty, new, or a built-in dataset (it carries MARKER)."""
    claim_folder(root_dir, MARKER, '[DATA] root_dir')
    write_text(os.path.join(root_dir, LOOK_FILE),
               json.dumps({'look': look, **LOOKS[look]._asdict()}) + '\n')
    clip_dir = os.path.join(root_dir, 'clips')
    os.makedirs(clip_dir, exist_ok=True)
    for stale in os.listdir(clip_dir):
        os.remove(os.path.join(clip_dir, stale))
    with open(os.path.join(root_dir, 'factors.jsonl'), 'w', encoding='utf-8') as factors_out:
        for i in range(n_clips):
            frames, factors = numbered_clip(seed, i, LOOKS[look], n_frames, size)
            name = f'clip_{i:05d}.jpg'
            write_stacked_jpeg(os.path.join(clip_dir, name), frames)
            factors_out.write(json.dumps({'clip': f'clips/{name}', **factors}) + '\n')
    index_path = os.path.join(root_dir, index_file)
    write_text(index_path, '# built-in moving-shapes dataset: one folder of stacked-JPEG clips\n'
                           'clips\n')
    return index_path


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
    """OutputError when root_dir holds a finished built-in dataset of another look."""
    if os.path.isfile(os.path.join(root_dir, index_file)) and owns(root_dir, MARKER):
        made = recorded_look(root_dir)
        if made != look:
            raise OutputError(f'[DATA] builtin_look = {look!r}, but root_dir = {root_dir!r} holds'
                              f' the built-in clips of look {made!r}: choose another root_dir'
                              f' for this look, or set builtin_look = {made!r}')


def ensure_dataset(root_dir, index_file, n_clips, seed=0, look='standard'):
    """Build the dataset of the named look unless its index exists; True when it was built
    now. Only an empty folder or an unfinished built-in one is built in: never a folder of
    other files; a finished built-in one of another look is refused, not rebuilt."""
    check_look(root_dir, index_file, look)
    if os.path.isfile(os.path.join(root_dir, index_file)):
        return False
    if os.path.isdir(root_dir) and os.listdir(root_dir) and not owns(root_dir, MARKER):
        raise OutputError(f'[DATA] root_dir = {root_dir!r}: builtin = yes, but the folder holds'
                          f' other files and no {index_file!r} ([DATA] index_dir); the built-in'
                          ' dataset is only made in an empty folder or its own: fix index_dir,'
                          ' set builtin = no, or choose an empty root_dir')
    build_dataset(root_dir, n_clips, seed, index_file, look=look)
    return True


def ensure_builtin(data, seed):
    """ensure_dataset for a [DATA] section (utils/config_parse.DataConfig) with builtin = yes,
    saying so when it made the dataset now."""
    if ensure_dataset(data.root_dir, data.index_dir, data.builtin_clips, seed, data.builtin_look):
        print(f'made the built-in moving-shapes dataset ({data.builtin_look} look) in'
              f' {data.root_dir}')
