"""nn/network_files.py: network files carry their settings and read back checked."""
import chainer
import numpy as np
import pytest

from nn.DCGAN import build_generator
from nn.network_files import (SETTINGS_ENTRY, ModelError, config_for, load_generator,
                              load_weights, resolve_generator, settings_text,
                              write_network)
from base.config import ConfigError, Config, format_config, load_config
from tests.conftest import TINY, write_ini


@pytest.fixture
def tiny_config(tmp_path):
    return load_config(write_ini(tmp_path / 'tiny.ini', TINY))


def test_a_written_generator_rebuilds_from_its_own_settings(tmp_path, tiny_config):
    gen = build_generator(tiny_config.model)
    (tmp_path / 'alone').mkdir()
    path = str(tmp_path / 'alone' / 'gen_iter_3.npz')
    write_network(path, gen, format_config(tiny_config))
    config = config_for(path)  # no setup.ini anywhere near it
    assert config.model == tiny_config.model
    loaded = load_generator(path, config.model)
    z = gen.make_hidden(2, np.random.RandomState(0))
    with chainer.using_config('train', False):
        np.testing.assert_array_equal(loaded(z).array, gen(z).array)


def test_a_given_config_wins_over_the_files_settings(tmp_path, tiny_config):
    path = str(tmp_path / 'gen.npz')
    write_network(path, build_generator(tiny_config.model), format_config(Config()))
    assert config_for(path, write_ini(tmp_path / 'run.ini', TINY)).model == tiny_config.model
    assert config_for(path).model == Config().model


def test_an_older_file_uses_the_setup_ini_beside_it_or_says_what_to_pass(tmp_path, tiny_config):
    path = tmp_path / 'gen_iter_3.npz'
    chainer.serializers.save_npz(str(path), build_generator(tiny_config.model))
    assert settings_text(str(path)) is None
    with pytest.raises(ConfigError, match=r"gen_iter_3.npz: carries no settings and there is no"
                                          r" setup.ini beside it; pass the run's setup.ini"):
        config_for(str(path))
    write_ini(tmp_path / 'setup.ini', TINY)
    assert config_for(str(path)).model == tiny_config.model


def test_a_file_of_another_network_is_named(tmp_path, tiny_config):
    path = str(tmp_path / 'gen.npz')
    write_network(path, build_generator(tiny_config.model), format_config(tiny_config))
    wider = config_for(path, write_ini(tmp_path / 'wide.ini', {
        **TINY, 'MODEL': {**TINY['MODEL'], 'ch': 16}}))
    with pytest.raises(ModelError, match=r"gen.npz: parameter '[a-z0-9/]+' has shape .*"
                                         r" the configured network expects"):
        load_generator(path, wider.model)
    assert SETTINGS_ENTRY in np.load(path).files


def test_a_missing_file_is_named_before_its_settings_are_looked_for(tmp_path):
    with pytest.raises(ModelError, match=r'nope.npz: generator file not found$'):
        config_for(str(tmp_path / 'nope.npz'), what='generator')
    with pytest.raises(ModelError, match=r'nope.npz: network file not found'):
        config_for(str(tmp_path / 'nope.npz'), write_ini(tmp_path / 'run.ini', TINY))
    with pytest.raises(ModelError, match=r': is a folder; expected a network .npz file'):
        config_for(str(tmp_path))


@pytest.mark.parametrize('key,value,message', [
    ('l0/W', lambda w: w.astype(np.int32), "'l0/W' holds int32 values; expected floating"),
    ('l0/W', lambda w: (w > 0), "'l0/W' holds bool values; expected floating"),
    ('l0/W', lambda w: np.where(w > 0, np.nan, w), "'l0/W' holds NaN or infinite values"),
    ('bn1/avg_mean', lambda w: w - np.inf, "'bn1/avg_mean' holds NaN or infinite values")])
def test_weights_that_are_not_finite_floats_are_refused(tmp_path, tiny_config, key, value,
                                                        message):
    path = str(tmp_path / 'gen.npz')
    write_network(path, build_generator(tiny_config.model), format_config(tiny_config))
    entries = dict(np.load(path))
    entries[key] = value(entries[key])
    np.savez(path, **entries)
    with pytest.raises(ModelError, match=f'gen.npz: parameter {message}'):
        load_generator(path, tiny_config.model)


def test_float16_weights_and_integer_counts_load(tmp_path, tiny_config):
    gen = build_generator(tiny_config.model)
    path = str(tmp_path / 'gen.npz')
    chainer.serializers.save_npz(path, gen)
    entries = dict(np.load(path))
    entries['l0/W'] = entries['l0/W'].astype(np.float16)
    np.savez(path, **entries)
    assert entries['bn0/N'].dtype.kind == 'i'
    load_weights(build_generator(tiny_config.model), path)


def test_a_run_folder_names_its_newest_average_then_generator_then_generator_npz(tmp_path):
    def touch(*names):
        for name in names:
            (tmp_path / name).write_bytes(b'')
    touch('generator.npz', 'gen_iter_x.npz', '.partial.1.gen_iter_99.npz')
    assert resolve_generator(str(tmp_path)) == str(tmp_path / 'generator.npz')
    touch('gen_iter_95.npz', 'gen_iter_100.npz', 'critic_iter_200.npz')
    assert resolve_generator(str(tmp_path)) == str(tmp_path / 'gen_iter_100.npz')
    touch('gen_avg_iter_50.npz')
    (tmp_path / 'gen_avg_iter_60.npz').mkdir()
    assert resolve_generator(str(tmp_path)) == str(tmp_path / 'gen_avg_iter_50.npz')
    assert resolve_generator(str(tmp_path / 'missing.npz')) == str(tmp_path / 'missing.npz')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ModelError, match=r'^--model .*empty: the folder holds no gen_avg_iter_N'):
        resolve_generator(str(tmp_path / 'empty'))
