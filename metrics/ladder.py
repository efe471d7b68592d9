"""The quality ladder: real built-in clips, changed in the ways a viewer notices,
for checking that a quality measure grows with the damage (docs/quality.md,
tests/metrics/test_ladder.py, research/quality_ladder.py).

Clips are uint8 (N, T, H, W, 3) RGB, as the built-in dataset renders them
(base/video_io.frames_to_float makes them the networks' float clips).
"""
import cv2
import numpy as np

from datastream.moving_shapes import LOOKS, numbered_clip


def real_clips(seed, n, n_frames, size, jpeg_quality=95, discs=False, look='standard'):
    """n built-in clips of a look rendered with seeds (seed, i), through the JPEG round
    trip the dataset's files make; with discs, the same clips with every shape drawn as
    a disc of its colour, size and path."""
    clips = []
    for i in range(n):
        frames = numbered_clip(seed, i, LOOKS[look], n_frames, size, discs)[0]
        ok, data = cv2.imencode('.jpg', frames.reshape(-1, size, 3),
                                [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        clips.append(cv2.imdecode(data, cv2.IMREAD_COLOR).reshape(frames.shape))
    return np.stack(clips)


def blurred(clips, sigma):
    """Every frame Gaussian-blurred by sigma pixels."""
    return np.stack([[cv2.GaussianBlur(frame, (0, 0), sigma) for frame in clip]
                     for clip in clips])


def frozen(clips):
    """The first frame repeated: no motion at all."""
    return np.repeat(clips[:, :1], clips.shape[1], axis=1)


def shuffled(clips, rng):
    """Each clip's frames in a random order."""
    return np.stack([clip[rng.permutation(len(clip))] for clip in clips])


def flickering(clips, step=25):
    """Every other frame brightened by step: a 2-frame flicker."""
    out = clips.astype(np.int16)
    out[:, 1::2] += step
    return np.clip(out, 0, 255).astype(np.uint8)


def noise(clips, rng):
    """Uniform noise of the same shape."""
    return rng.randint(0, 256, clips.shape).astype(np.uint8)


def ladder(clips, seed=0, discs=None):
    """{name: changed clips}, from mild to severe, of real clips (N, T, H, W, 3); with
    discs (real_clips(..., discs=True) of the same clips) also 'discs', the shape kinds
    lost and all else kept."""
    rng = np.random.RandomState(seed)
    rungs = {'blur sigma 1.5': blurred(clips, 1.5), 'no motion': frozen(clips),
             'flicker': flickering(clips), 'blur sigma 3': blurred(clips, 3.0),
             'frames shuffled': shuffled(clips, rng), 'uniform noise': noise(clips, rng)}
    if discs is not None:
        rungs['discs'] = discs
    return rungs
