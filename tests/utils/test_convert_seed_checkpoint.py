"""The converter against a small generator written in the seed's layout here, with
random weights, biases and BatchNorm statistics: same z, same video, transposed."""
import os

import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
import pytest

from nn.DCGAN import Generator
from utils.convert_seed_checkpoint import CONVERTED_MARKER, main

CH, LATENT, FRAMES, SIZE = 8, 6, 16, 32  # base (W, H, T) = (2, 2, 1)


class SeedLayoutGenerator(chainer.Chain):
    """The seed's generator: layers l1, bn1, dc1-dc4, bn2-bn4; tensors (C, W, H, T);
    latents (N, latent, 1, 1); biases everywhere."""

    def __init__(self):
        super().__init__()
        self.base = (SIZE // 16, SIZE // 16, FRAMES // 16)
        units = CH * int(np.prod(self.base))
        with self.init_scope():
            self.l1 = L.Linear(LATENT, units)
            self.bn1 = L.BatchNormalization(units)
            for k, (i, o) in enumerate([(CH, CH // 2), (CH // 2, CH // 4), (CH // 4, CH // 8),
                                        (CH // 8, 3)], start=1):
                setattr(self, f'dc{k}', L.DeconvolutionND(3, i, o, 4, 2, 1))
                if k < 4:
                    setattr(self, f'bn{k + 1}', L.BatchNormalization(o))

    def forward(self, z):
        h = F.leaky_relu(self.bn1(self.l1(z)))
        h = F.reshape(h, (len(z), CH) + self.base)
        for k in (1, 2, 3):
            h = F.leaky_relu(getattr(self, f'bn{k + 1}')(getattr(self, f'dc{k}')(h)))
        return F.tanh(self.dc4(h))


def randomised_seed_model():
    rng = np.random.RandomState(7)
    model = SeedLayoutGenerator()
    for name, param in model.namedparams():
        param.array[...] = rng.normal(0, 0.3 if name.endswith('W') else 0.5, param.shape)
    for link in model.links():
        if isinstance(link, L.BatchNormalization):
            link.avg_mean[...] = rng.normal(0, 0.5, link.avg_mean.shape)
            link.avg_var[...] = rng.uniform(0.5, 2.0, link.avg_var.shape)
    return model


def test_converted_generator_makes_the_same_video_transposed(tmp_path, capsys):
    seed_model = randomised_seed_model()
    chainer.serializers.save_npz(str(tmp_path / 'seed.npz'), seed_model)
    assert main([str(tmp_path / 'seed.npz'), '--out', str(tmp_path / 'out'),
                 '--frame-size', str(SIZE), '--n-frames', str(FRAMES)]) == 0
    assert 'ch 8, latent 6, 16x32x32' in capsys.readouterr().out
    ours = Generator(CH, LATENT, FRAMES, SIZE)
    chainer.serializers.load_npz(str(tmp_path / 'out' / 'generator.npz'), ours)
    z = np.random.RandomState(3).normal(size=(2, LATENT)).astype(np.float32)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        expected = seed_model(z.reshape(2, LATENT, 1, 1)).array.transpose(0, 1, 4, 3, 2)
        got = ours(z).array
    assert got.shape == (2, 3, FRAMES, SIZE, SIZE)
    assert np.abs(expected).std() > 0.1, 'the reference makes a non-trivial video'
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert (tmp_path / 'out' / 'setup.ini').is_file()


def test_wrong_sizes_and_files_are_clear_errors(tmp_path, capsys):
    chainer.serializers.save_npz(str(tmp_path / 'seed.npz'), randomised_seed_model())
    assert main([str(tmp_path / 'seed.npz'), '--out', str(tmp_path / 'o'),
                 '--frame-size', '64', '--n-frames', str(FRAMES)]) == 2
    assert 'check --frame-size and --n-frames' in capsys.readouterr().err
    np.savez(tmp_path / 'other.npz', w=np.zeros(3))
    assert main([str(tmp_path / 'other.npz'), '--out', str(tmp_path / 'o')]) == 2
    assert 'no l1/W parameter' in capsys.readouterr().err


@pytest.mark.parametrize('prefix', ['', 'updater/model:gen/'])
def test_prefixed_trainer_snapshots_are_found(tmp_path, prefix):
    seed_model = randomised_seed_model()
    chainer.serializers.save_npz(str(tmp_path / 'plain.npz'), seed_model)
    with np.load(tmp_path / 'plain.npz') as stored:
        np.savez(tmp_path / 'snap.npz', **{prefix + k: stored[k] for k in stored.files})
    assert main([str(tmp_path / 'snap.npz'), '--out', str(tmp_path / 'o'),
                 '--frame-size', str(SIZE), '--n-frames', str(FRAMES)]) == 0


def test_a_damaged_checkpoint_is_one_line(tmp_path, capsys):
    chainer.serializers.save_npz(str(tmp_path / 'seed.npz'), randomised_seed_model())
    data = (tmp_path / 'seed.npz').read_bytes()
    (tmp_path / 'seed.npz').write_bytes(data[:len(data) - 100])
    assert main([str(tmp_path / 'seed.npz'), '--out', str(tmp_path / 'o')]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {tmp_path / "seed.npz"}: not a readable .npz (')
    assert err.count('\n') == 1 and not (tmp_path / 'o').exists()


def test_an_out_that_is_a_file_is_refused_and_kept(tmp_path, capsys):
    chainer.serializers.save_npz(str(tmp_path / 'seed.npz'), randomised_seed_model())
    (tmp_path / 'out').write_text('notes')
    for out in (tmp_path / 'out', tmp_path / 'out' / 'deeper'):
        assert main([str(tmp_path / 'seed.npz'), '--out', str(out), '--frame-size', str(SIZE),
                     '--n-frames', str(FRAMES)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f'error: --out {out}: ') and err.count('\n') == 1
    assert (tmp_path / 'out').read_text() == 'notes'
    assert main([str(tmp_path / 'seed.npz'), '--out', str(tmp_path / 'o'),
                 '--frame-size', '24']) == 2
    assert '--frame-size 24: expected a multiple of 16' in capsys.readouterr().err
    assert main([str(tmp_path / 'seed.npz'), '--out', str(tmp_path / 'o'),
                 '--frame-size', str(SIZE), '--n-frames', str(FRAMES)]) == 0
    assert sorted(os.listdir(tmp_path / 'o')) == [CONVERTED_MARKER, 'generator.npz', 'setup.ini']


def test_an_out_holding_files_it_did_not_make_is_refused_and_kept(tmp_path, capsys):
    chainer.serializers.save_npz(str(tmp_path / 'seed.npz'), randomised_seed_model())
    args = [str(tmp_path / 'seed.npz'), '--out', str(tmp_path / 'o'), '--frame-size', str(SIZE),
            '--n-frames', str(FRAMES)]
    (tmp_path / 'o').mkdir()
    (tmp_path / 'o' / 'setup.ini').write_text('[MODEL]\nch = 8\n')
    assert main(args) == 2 and 'holds other files' in capsys.readouterr().err
    assert (tmp_path / 'o' / 'setup.ini').read_text() == '[MODEL]\nch = 8\n'
    os.remove(tmp_path / 'o' / 'setup.ini')
    assert main(args) == 0 and main(args) == 0, 'its own earlier output is replaced'

