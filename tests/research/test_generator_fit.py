import os

import numpy as np

from research.generator_fit import fit, main, redraw, strip
from metrics import ladder
from nn.DCGAN import Generator
from base.video_io import frames_to_float, to_uint8_frames


def test_fitting_lowers_the_error_and_redraws_every_clip():
    np.random.seed(0)
    gen = Generator(ch=16, latent_dim=8, n_frames=16, frame_size=16, upsample='resize')
    clips = frames_to_float(ladder.real_clips(0, 4, 16, 16))
    latents, losses = fit(gen, clips, steps=60)
    assert len(losses) == 60
    assert np.mean(losses[-5:]) < 0.7 * losses[0]
    fitted = redraw(gen, latents, 4)
    assert fitted.shape == clips.shape
    # In test mode the fit is as close as the last training steps were.
    assert np.abs(fitted - clips).mean() < 0.7 * losses[0]


def test_the_strip_puts_each_real_clip_above_its_fit():
    real = ladder.real_clips(0, 2, 16, 16)
    fitted = to_uint8_frames(frames_to_float(real[::-1]))
    image = strip(real, fitted, n=2)
    row = 17  # 16 pixels and a white line
    assert image.shape == (4 * row, 8 * row, 3)
    assert np.array_equal(image[:16, :16], real[0, 0])
    assert np.array_equal(image[row:row + 16, :16], real[1, 0])
    assert np.array_equal(image[2 * row:2 * row + 16, 16 + 1:2 * 16 + 1], real[1, 2])


def test_main_prints_a_row_per_width_and_writes_its_strip(tiny_ini, tmp_path, capsys):
    out = str(tmp_path / 'fits')
    assert main(['--config', tiny_ini, '--ch', '8', '16', '--steps', '2', '--clips', '3',
                 '--out', out]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith('| ')]
    assert [row.split('|')[1].strip() for row in rows[1:]] == ['8', '16']
    for ch in (8, 16):
        assert os.path.isfile(os.path.join(out, f'fit_ch{ch}.png'))
