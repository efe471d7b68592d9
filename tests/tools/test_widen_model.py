"""Widening keeps what the networks compute (noise 0), in training and test mode,
and a widened trainer snapshot resumes at the new ch."""
import chainer
import numpy as np
import pytest

from nn.DCGAN import Critic, Generator, build_generator
from nn.network_files import config_for, load_generator, write_network
from tests.test_main_train import run
from tools.widen_model import main, tile, widen_file, widen_network, widening_plan
from base.config import format_config, load_config

CH, LATENT, FRAMES, SIZE = 16, 6, 16, 32


def _stored(link):
    """{'l0/W': array, 'bn0/avg_mean': array, ...}: what save_npz writes."""
    serializer = chainer.serializers.DictionarySerializer()
    serializer.save(link)
    return serializer.target


def _load(link, params):
    chainer.serializers.NpzDeserializer(params).load(link)


def _randomise(link, rng):
    for _, p in link.namedparams():
        p.array[...] = rng.standard_normal(p.shape) * 0.2 + (1 if p.name == 'gamma' else 0)
    for _, child in link.namedlinks(skipself=True):
        if hasattr(child, 'avg_mean'):
            child.avg_mean[...] = rng.standard_normal(child.avg_mean.shape) * 0.1
            child.avg_var[...] = rng.uniform(0.5, 2, child.avg_var.shape)


def test_tile_repeats_channel_blocks():
    units = np.arange(6).reshape(6, 1)  # 3 channels of 2 units
    assert tile(units, 0, 2, block=2).ravel().tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]
    assert tile(np.arange(4).reshape(2, 2), 1, 2).tolist() == [[0, 1, 0, 1], [2, 3, 2, 3]]


@pytest.mark.parametrize('upsample', ['deconv', 'resize'])
@pytest.mark.parametrize('train', [True, False])
def test_wider_generator_makes_the_same_videos(train, upsample):
    rng = np.random.RandomState(0)
    narrow, wide = (Generator(c, LATENT, FRAMES, SIZE, upsample=upsample) for c in (CH, 2 * CH))
    _randomise(narrow, rng)
    params = widen_network(_stored(narrow), 'generator', 2, 0.0, rng)
    _load(wide, params)
    z = narrow.make_hidden(4, rng)
    with chainer.using_config('train', train), chainer.no_backprop_mode():
        np.testing.assert_allclose(wide(z).array, narrow(z).array, atol=1e-5)


def test_wider_critic_gives_the_same_scores():
    rng = np.random.RandomState(1)
    narrow, wide = (Critic(c, FRAMES, SIZE) for c in (CH, 2 * CH))
    _randomise(narrow, rng)
    _load(wide, widen_network(_stored(narrow), 'critic', 2, 0.0, rng))
    x = rng.uniform(-1, 1, (3, 3, FRAMES, SIZE, SIZE)).astype(np.float32)
    with chainer.no_backprop_mode():
        np.testing.assert_allclose(wide(x).array, narrow(x).array, rtol=1e-4, atol=1e-4)


def _gradients(link, x, weights):
    link.cleargrads()
    with chainer.using_config('train', True):
        chainer.functions.sum(link(x) * weights).backward()
    return {name.lstrip('/'): p.grad for name, p in link.namedparams()}


@pytest.mark.parametrize('kind', ['generator', 'critic'])
def test_gradients_of_the_copies_scale_as_the_plan_says(kind):
    """What the Adam moments are rescaled by: the wide network's gradients are the
    narrow one's, tiled and times grad_scale."""
    rng = np.random.RandomState(3)
    if kind == 'generator':
        narrow, wide = (Generator(c, LATENT, FRAMES, SIZE) for c in (CH, 2 * CH))
        x, out_shape = narrow.make_hidden(4, rng), (4, 3, FRAMES, SIZE, SIZE)
    else:
        narrow, wide = (Critic(c, FRAMES, SIZE) for c in (CH, 2 * CH))
        x, out_shape = rng.uniform(-1, 1, (3, 3, FRAMES, SIZE, SIZE)).astype(np.float32), (3, 1)
    _randomise(narrow, rng)
    params = _stored(narrow)
    _load(wide, widen_network(params, kind, 2, 0.0, rng))
    weights = rng.standard_normal(out_shape).astype(np.float32)
    narrow_grads, wide_grads = _gradients(narrow, x, weights), _gradients(wide, x, weights)
    plan = widening_plan(params, kind, 2)
    assert {'l0/W', 'dc4/W', 'bn3/gamma'} <= set(plan) or {'c1/b', 'c5/W', 'ln4/beta'} <= set(plan)
    for name, grad in narrow_grads.items():
        expected = plan[name].tile(grad) * plan[name].grad_scale if name in plan else grad
        scale = np.abs(expected).max()
        np.testing.assert_allclose(wide_grads[name], expected, atol=2e-4 * scale, err_msg=name)


def test_noise_sets_the_copies_apart_a_little():
    rng = np.random.RandomState(2)
    narrow = Critic(CH, FRAMES, SIZE)
    wide = widen_network(_stored(narrow), 'critic', 2, 0.05, rng)['c2/W']
    first, second = wide[:CH // 4], wide[CH // 4:]
    assert not np.allclose(first, second)
    np.testing.assert_allclose(first, second, atol=0.5 * np.abs(first).max())


def _average_videos(snapshot, ch, z):
    """Test-mode videos of the moving average stored in a trainer snapshot."""
    gen = Generator(ch, 8, 16, 16)
    chainer.serializers.load_npz(snapshot, gen, path='extensions/generator_average/average/')
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return gen(z).array


def test_widened_snapshot_resumes_the_run_at_twice_the_width(tmp_path, tiny_ini):
    average = ('--set', 'MODEL.average_decay=0.5')
    assert run('main_train.py', '--config', tiny_ini, *average).returncode == 0
    narrow_snapshot = tmp_path / 'run' / 'snapshot_iter_3'
    wide_dir = tmp_path / 'wide'
    assert main([str(narrow_snapshot), '--out', str(wide_dir / 'snapshot_iter_3')]) == 0
    z = np.random.RandomState(0).standard_normal((2, 8)).astype(np.float32)
    np.testing.assert_allclose(_average_videos(wide_dir / 'snapshot_iter_3', 16, z),
                               _average_videos(narrow_snapshot, 8, z), atol=1e-5)
    result = run('main_train.py', '--config', tiny_ini, '--set', 'MODEL.ch=16', *average,
                 '--set', f'SAVING.out_dir={wide_dir}', '--set', 'MODEL.iterations=4')
    assert result.returncode == 0, result.stderr
    assert 'resumed from' in result.stdout and 'iteration 3' in result.stdout
    gen = Generator(16, 8, 16, 16)
    chainer.serializers.load_npz(wide_dir / 'gen_avg_iter_4.npz', gen)
    assert np.isfinite(gen.dc4.W.array).all()


def test_file_errors_name_the_file(tmp_path, capsys):
    assert main([str(tmp_path / 'none.npz'), '--out', str(tmp_path / 'w.npz')]) == 2
    assert capsys.readouterr().err == f'error: {tmp_path / "none.npz"}: file not found\n'
    other = tmp_path / 'other.npz'
    np.savez(other, x=np.zeros(3))
    assert main([str(other), '--out', str(tmp_path / 'w.npz')]) == 2
    assert 'neither our generator' in capsys.readouterr().err
    assert main([str(other), '--out', str(tmp_path / 'w.npz'), '--factor', '1']) == 2
    assert capsys.readouterr().err == 'error: --factor 1: expected an integer of at least 2\n'
    assert not (tmp_path / 'w.npz').exists()


@pytest.mark.parametrize('cut', [0.5, 0.9])
def test_a_damaged_snapshot_is_one_line_and_nothing_is_written(tmp_path, capsys, cut):
    source = tmp_path / 'snapshot_iter_3'
    chainer.serializers.save_npz(str(source), Critic(CH, FRAMES, SIZE))
    source.write_bytes(source.read_bytes()[:int(cut * source.stat().st_size)])
    assert main([str(source), '--out', str(tmp_path / 'wide' / 'snapshot_iter_3')]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {source}: not a readable .npz (') and err.count('\n') == 1
    assert not (tmp_path / 'wide' / 'snapshot_iter_3').exists()


def test_an_out_under_a_file_is_refused_before_reading(tmp_path, capsys):
    chainer.serializers.save_npz(str(tmp_path / 'g.npz'), Generator(CH, LATENT, FRAMES, SIZE))
    (tmp_path / 'file').write_text('x')
    assert main([str(tmp_path / 'g.npz'), '--out', str(tmp_path / 'file' / 'w.npz')]) == 2
    assert capsys.readouterr().err == (f'error: --out {tmp_path / "file"}: is a file;'
                                       ' expected a folder\n')
    assert (tmp_path / 'file').read_text() == 'x'


def test_generator_file_loads_into_the_wider_network(tmp_path):
    narrow = Generator(CH, LATENT, FRAMES, SIZE)
    chainer.serializers.save_npz(tmp_path / 'g.npz', narrow)
    widen_file(str(tmp_path / 'g.npz'), str(tmp_path / 'wide.npz'), noise=0.0)
    wide = Generator(2 * CH, LATENT, FRAMES, SIZE)
    chainer.serializers.load_npz(tmp_path / 'wide.npz', wide)
    assert wide.dc3.W.shape == (CH // 2, CH // 4, 4, 4, 4)


def test_a_generator_file_with_settings_says_its_new_width(tmp_path, tiny_ini):
    """A network file that carries its settings (nn/network_files.py) is widened with them,
    so it still builds its own network without a setup.ini."""
    model = load_config(tiny_ini).model
    write_network(str(tmp_path / 'g.npz'), build_generator(model),
                  format_config(load_config(tiny_ini)))
    widen_file(str(tmp_path / 'g.npz'), str(tmp_path / 'wide.npz'), noise=0.0)
    wide = config_for(str(tmp_path / 'wide.npz')).model
    assert wide.ch == 2 * model.ch
    assert load_generator(str(tmp_path / 'wide.npz'), wide).dc1.W.shape[0] == 2 * model.ch


def test_a_critic_width_of_its_own_is_widened_too(tmp_path, tiny_ini):
    """critic_ch (when set) grows with ch, so the widened files still build their networks."""
    config = load_config(tiny_ini, ['MODEL.critic_ch=16'])
    write_network(str(tmp_path / 'g.npz'), build_generator(config.model), format_config(config))
    widen_file(str(tmp_path / 'g.npz'), str(tmp_path / 'wide.npz'), noise=0.0)
    wide = config_for(str(tmp_path / 'wide.npz')).model
    assert (wide.ch, wide.critic_ch) == (2 * config.model.ch, 32)
