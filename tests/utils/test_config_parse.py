import dataclasses

from tests.conftest import write_ini
from base.config import Config, config_from_text
from utils.config_parse import main


def test_a_valid_file_is_printed_back_with_every_key_and_the_overrides(tmp_path, capsys):
    path = write_ini(tmp_path / 'run.ini', {'MODEL': {'ch': 16, 'iterations': 5}})
    assert main(['--config', path, '--set', 'MODEL.batch_size=4']) == 0
    out = capsys.readouterr().out
    config = config_from_text(out, 'printed')
    assert (config.model.ch, config.model.iterations, config.model.batch_size) == (16, 5, 4)
    defaults = Config()
    for part in ('data', 'adam', 'saving', 'scale'):
        assert getattr(config, part) == getattr(defaults, part)
    keys = [line for line in out.splitlines() if ' = ' in line and not line.startswith('#')]
    assert len(keys) == sum(len(dataclasses.fields(getattr(defaults, part)))
                                   for part in ('data', 'model', 'adam', 'saving', 'scale'))


def test_a_bad_value_is_one_line_naming_the_file_and_key(tmp_path, capsys):
    path = write_ini(tmp_path / 'bad.ini', {'MODEL': {'ch': 60}})
    assert main(['--config', path]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert 'bad.ini' in err and '[MODEL] ch' in err and 'multiple of 8' in err


def test_a_name_another_layer_defines_is_checked_naming_where_it_came_from(tmp_path, capsys):
    """[MODEL] upsample and [DATA] builtin_look are checked by nn/DCGAN.py and
    datastream/moving_shapes.py, with the file or --set that gave the value."""
    path = write_ini(tmp_path / 'bad.ini', {'MODEL': {'upsample': 'bilinear'}})
    assert main(['--config', path]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {path} [MODEL] upsample = 'bilinear': expected one of deconv, resize")
    assert main(['--config', path, '--set', 'MODEL.upsample=resize',
                 '--set', 'DATA.builtin_look=huge']) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --set [DATA] builtin_look = 'huge': expected one of standard, large")
