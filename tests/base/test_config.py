import dataclasses
import os

import pytest

from tests.conftest import ROOT, write_ini
from base.config import (SECTIONS, Config, ConfigError, config_from_text, config_table,
                         format_config, load_config, value_source, write_config)

SEED_STYLE = """[DATA]

root_dir = '/scratch/yt-database'
index_dir = "job-list.txt"   # the downloader's list


[MODEL]
ch = 512
# Number of samples within one batch (default: 64)
batch_size = 16
frame_size = 64
n_frames = 32
epochs = 15
use_gpu = 0
latent_dim = 100
weight_scale = .01

[ADAM]
learning_rate = .0002
beta1 = .5
beta2 = .999
critic_iter = 5
penalty_coeff = 10

[SAVING]
snap_interval = 10000
disp_interval = 300
plot_interval = 1000
out_dir = Run_1
log_file = ''
"""


def test_seed_style_file_loads_unchanged(tmp_path):
    path = tmp_path / 'setup.ini'
    path.write_text(SEED_STYLE)
    config = load_config(str(path))
    assert config.data.root_dir == '/scratch/yt-database'
    assert config.data.index_file == 'job-list.txt', 'index_dir, the older name, loads'
    assert config.model.weight_scale == pytest.approx(0.01)
    assert config.adam.learning_rate == pytest.approx(0.0002)
    assert config.adam.penalty_coeff == 10.0
    assert config.saving.out_dir == 'Run_1'
    assert config.saving.log_file == ''
    assert config.model.use_gpu == 0


def test_missing_keys_take_defaults(tmp_path):
    config = load_config(write_ini(tmp_path / 'a.ini', {'MODEL': {'ch': 16}}))
    assert config.model.ch == 16
    assert config.model.seed == 0 and config.saving.resume == 'latest'
    assert config.data.workers == 2


@pytest.mark.parametrize('section,key,value,expected', [
    ('MODEL', 'ch', '60', 'a multiple of 8'),
    ('MODEL', 'ch', 'abc', 'an integer'),
    ('MODEL', 'critic_ch', '12', '0 or a multiple of 8 (>= 8)'),
    ('MODEL', 'frame_size', '40', 'a multiple of 16'),
    ('MODEL', 'n_frames', '8', 'a multiple of 16'),
    ('MODEL', 'batch_size', '0', '>= 1'),
    ('MODEL', 'use_gpu', '-2', '>= -1'),
    ('MODEL', 'weight_scale', '0', '> 0'),
    ('ADAM', 'beta1', '1.5', '[0.0, 1.0)'),
    ('ADAM', 'learning_rate', 'fast', 'a number'),
    ('DATA', 'builtin', 'maybe', 'a boolean'),
    ('DATA', 'workers', '-1', '>= 0'),
    ('SAVING', 'out_dir', "''", 'a non-empty string'),
    ('MODEL', 'upsample', "''", 'a non-empty string'),
    ('DATA', 'builtin_look', "''", 'a non-empty string'),
    ('MODEL', 'frame_critic_every', '2', 'retired on 2026-11-26 with the 2D frame critic'),
    ('MODEL', 'critic_frame_ch', '64', 'retired on 2026-12-02 with the per-frame 2D critic'),
    ('ADAM', 'critic_learning_rate', '0.0004', 'retired on 2026-12-02: the critic uses'
                                               ' learning_rate'),
    ('ADAM', 'learning_rate', 'inf', 'a finite number'),
    ('ADAM', 'penalty_coeff', 'nan', 'a finite number'),
    ('ADAM', 'penalty_every', '0', '>= 1'),
    ('MODEL', 'weight_scale', '-inf', 'a finite number'),
    ('SAVING', 'n_samples', '100000', 'a value from 1 to 256'),
])
def test_bad_value_names_file_section_key_value(tmp_path, section, key, value, expected):
    path = write_ini(tmp_path / 'bad.ini', {section: {key: value}})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert path in message and f'[{section}]' in message and key in message
    assert value.strip("'") in message and expected in message
    assert '\n' not in message


def test_unknown_key_suggests_nearest(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'batchsize' \(did you mean 'batch_size'"):
        load_config(write_ini(tmp_path / 'a.ini', {'MODEL': {'batchsize': 8}}))


def test_unknown_section_suggests_nearest(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown section \[MODLE\] \(did you mean 'MODEL'"):
        load_config(write_ini(tmp_path / 'a.ini', {'MODLE': {'ch': 8}}))


def test_no_training_length_is_an_error(tmp_path):
    path = write_ini(tmp_path / 'a.ini', {'MODEL': {'epochs': 0, 'iterations': 0}})
    with pytest.raises(ConfigError, match='iterations = 0 and epochs = 0'):
        load_config(path)


def test_missing_file_and_syntax_error(tmp_path):
    with pytest.raises(ConfigError, match='config file not found'):
        load_config(str(tmp_path / 'nope.ini'))
    broken = tmp_path / 'broken.ini'
    broken.write_text('ch = 8\n')
    with pytest.raises(ConfigError, match='broken.ini'):
        load_config(str(broken))


def test_overrides_apply_and_are_checked(tmp_path):
    path = write_ini(tmp_path / 'a.ini', {'MODEL': {'batch_size': 4}})
    config = load_config(path, ['MODEL.batch_size=8', 'SAVING.out_dir=runs/x'])
    assert config.model.batch_size == 8 and config.saving.out_dir == 'runs/x'
    with pytest.raises(ConfigError, match=r"--set \[MODEL\] ch = '12'"):
        load_config(path, ['MODEL.ch=12'])
    with pytest.raises(ConfigError, match='expected SECTION.key=value'):
        load_config(path, ['batch_size=8'])


def test_values_are_data_never_code(tmp_path):
    path = write_ini(tmp_path / 'a.ini', {'SAVING': {'out_dir': "__import__('os').getcwd()"}})
    assert load_config(path).saving.out_dir == "__import__('os').getcwd()"
    with pytest.raises(ConfigError, match='an integer'):
        load_config(path, ['MODEL.ch=8*8'])


def test_written_config_loads_back_equal(tmp_path):
    config = load_config(write_ini(tmp_path / 'a.ini', {'SAVING': {'log_file': "'train.log'"}}),
                         ['DATA.builtin=yes'])
    write_config(config, str(tmp_path / 'out.ini'))
    assert load_config(str(tmp_path / 'out.ini')) == config


def test_utf8_bom_is_read(tmp_path):
    path = tmp_path / 'bom.ini'
    path.write_bytes(b'\xef\xbb\xbf[MODEL]\nch = 16\n')
    assert load_config(str(path)).model.ch == 16


def test_non_utf8_file_is_one_line(tmp_path):
    path = tmp_path / 'latin1.ini'
    path.write_bytes('[DATA]\nroot_dir = caf\xe9\n'.encode('latin-1'))
    with pytest.raises(ConfigError, match=r'latin1.ini: not UTF-8 text'):
        load_config(str(path))


def test_default_section_is_not_silently_ignored(tmp_path):
    path = write_ini(tmp_path / 'a.ini', {'DEFAULT': {'batch_size': 4}, 'MODEL': {'ch': 16}})
    with pytest.raises(ConfigError, match=r'unknown section \[DEFAULT\]'):
        load_config(path)


def test_the_documented_table_is_the_schemas():
    with open(os.path.join(ROOT, 'docs', 'configuration.md'), encoding='utf-8') as doc:
        assert config_table() in doc.read(), 'regenerate the table in docs/configuration.md'


def _changed(value):
    """A value of value's type other than the default, valid for most keys."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 16 if value >= 16 else value + 8
    if isinstance(value, float):
        return value / 3 if value else 0.125
    return 'x'


def test_every_key_reads_back_from_the_recorded_settings():
    config = Config()
    for name in SECTIONS.values():
        part = getattr(config, name)
        changes = {f.name: _changed(getattr(part, f.name)) for f in dataclasses.fields(part)
                   if f.type is not str}
        config = dataclasses.replace(config, **{name: dataclasses.replace(part, **changes)})
    awkward = {'root_dir': "d/it's \"q\"#1;2", 'index_file': 'sub dir/i.txt'}
    config = dataclasses.replace(config, data=dataclasses.replace(config.data, **awkward))
    assert config_from_text(format_config(config), 'recorded') == config


@pytest.mark.parametrize('value', ['data/a #1', 'data/a ;1', 'line\nbreak', 'a\rb', 'a\u2028b'])
def test_a_value_the_recorded_settings_would_change_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="DATA\\] root_dir = .*setup.ini can record"):
        load_config(write_ini(tmp_path / 'a.ini', {'MODEL': {'ch': 8}}),
                    [f'DATA.root_dir={value}'])


def test_a_seed_numpy_cannot_take_is_refused(tmp_path):
    with pytest.raises(ConfigError, match='seed = .4294967296.: expected a value from 0 to'):
        load_config(write_ini(tmp_path / 'a.ini', {'MODEL': {'seed': 4294967296}}))


@pytest.mark.parametrize('model,expected', [
    ({'fast_cpu': 'no'}, 'chainer'),                           # off for the run's CPU
    ({'fast_cpu': 'yes', 'fast_gpu': 'no'}, 'auto'),           # off only for a GPU it lacks
    ({'use_gpu': 0, 'fast_gpu': 'no'}, 'chainer'),
    ({'use_gpu': 0, 'fast_cpu': 'no', 'fast_gpu': 'yes'}, 'auto'),
    ({'fast_cpu': 'no', 'kernels': 'torch'}, 'torch'),         # the new key wins
])
def test_the_older_accelerator_switches_load_as_kernels(tmp_path, model, expected):
    path = write_ini(tmp_path / 'old.ini', {'MODEL': dict(model, iterations=1)})
    assert load_config(path).model.kernels == expected


def test_an_older_switch_with_a_bad_value_is_named(tmp_path):
    path = write_ini(tmp_path / 'old.ini', {'MODEL': {'fast_cpu': 'maybe'}})
    with pytest.raises(ConfigError, match=r"\[MODEL\] fast_cpu = 'maybe': expected"):
        load_config(path)


def test_a_retired_key_at_its_off_value_loads_as_if_absent(tmp_path):
    retired = {'MODEL': {'critic_frame_ch': 0, 'frame_critic_every': 0, 'ch': 16},
               'ADAM': {'critic_learning_rate': '0.0'}}
    config = load_config(write_ini(tmp_path / 'old.ini', retired))
    assert config == load_config(write_ini(tmp_path / 'new.ini', {'MODEL': {'ch': 16}}))
    assert load_config(write_ini(tmp_path / 'o.ini', {'ADAM': {'critic_learning_rate': 0}}))


def test_a_retired_key_turned_on_is_one_line_saying_why_and_what_to_do(tmp_path):
    path = write_ini(tmp_path / 'on.ini', {'MODEL': {'critic_frame_ch': 64}})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (
        f"{path} [MODEL] critic_frame_ch = '64': retired on 2026-12-02 with the per-frame 2D"
        " critic it added: off by default, and no better at equal time on two seeds; set it"
        " to 0 or delete the line")
    with pytest.raises(ConfigError, match=r"^--set \[ADAM\] critic_learning_rate = '1e-4': .*;"
                                          r" set it to 0.0 or delete the line$"):
        load_config(write_ini(tmp_path / 'a.ini', {}), ['ADAM.critic_learning_rate=1e-4'])


def test_the_older_name_of_index_file_loads_and_both_names_are_refused(tmp_path):
    older = load_config(write_ini(tmp_path / 'a.ini', {'DATA': {'index_dir': 'list.txt'}}))
    assert older == load_config(write_ini(tmp_path / 'b.ini', {'DATA': {'index_file': 'list.txt'}}))
    assert 'index_file = ' in format_config(older) and 'index_dir' not in format_config(older)
    both = write_ini(tmp_path / 'both.ini', {'DATA': {'index_dir': 'a.txt', 'index_file': 'b.txt'}})
    with pytest.raises(ConfigError) as err:
        load_config(both)
    assert str(err.value) == (f'{both} [DATA]: both index_dir and index_file are given; index_dir'
                              ' is the old name of index_file: keep one of them')
    overridden = load_config(write_ini(tmp_path / 'c.ini', {'DATA': {'index_dir': 'a.txt'}}),
                             ['DATA.index_file=b.txt'])
    assert overridden.data.index_file == 'b.txt', '--set overrides the file under either name'


def test_the_long_runs_recorded_settings_load_under_both_names():
    """models/small/setup.ini, written by the long run before the retirements (index_dir,
    critic_frame_ch = 0, critic_learning_rate = 0.0), loads as the run's config, and equals
    research/small_long.ini's (index_dir, neither retired key) in every key they share."""
    with open(os.path.join(ROOT, 'models', 'small', 'setup.ini'), encoding='utf-8') as ini:
        recorded_text = ini.read()
    recorded = config_from_text(recorded_text, 'models/small/setup.ini')
    with open(os.path.join(ROOT, 'research', 'small_long.ini'), encoding='utf-8') as ini:
        recipe = config_from_text(ini.read(), 'research/small_long.ini')
    assert recorded == recipe
    assert config_from_text(format_config(recorded), 'rewritten') == recorded


def test_a_value_set_on_the_command_line_is_named_as_from_there():
    assert value_source('a.ini', ['MODEL.upsample=x'], 'MODEL', 'upsample') == '--set'
    assert value_source('a.ini', ['MODEL.ch=8'], 'MODEL', 'upsample') == 'a.ini'
