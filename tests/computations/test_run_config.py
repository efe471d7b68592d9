import os

import pytest

from base.config import ConfigError
from computations.run_config import load_run_config
from tests.conftest import ROOT, write_ini


@pytest.mark.parametrize('key, value, expected', [
    ('MODEL.upsample', 'bilinear', "[MODEL] upsample = 'bilinear': expected one of deconv, resize"),
    ('DATA.builtin_look', 'huge', "[DATA] builtin_look = 'huge': expected one of standard, large")])
def test_a_name_the_layers_above_define_is_checked_where_it_was_given(tmp_path, key, value,
                                                                      expected):
    section, name = key.split('.')
    path = write_ini(tmp_path / 'run.ini', {section: {name: value}})
    with pytest.raises(ConfigError) as in_file:
        load_run_config(path)
    assert str(in_file.value) == f'{path} {expected}'
    with pytest.raises(ConfigError) as on_line:
        load_run_config(write_ini(tmp_path / 'plain.ini', {}), [f'{key}={value}'])
    assert str(on_line.value) == f'--set {expected}'


def test_known_names_load():
    config = load_run_config(os.path.join(ROOT, 'setup.ini'), ['MODEL.upsample=deconv', 'DATA.builtin_look=standard'])
    assert (config.model.upsample, config.data.builtin_look) == ('deconv', 'standard')
