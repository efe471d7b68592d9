"""Network weight files (.npz): written with the settings they were built with, read back
(never unpickling) with checks that name what does not fit: a missing file, a missing
parameter, another shape, weights that are not finite floating-point numbers.

A file written by training (gen_iter_N.npz, gen_avg_iter_N.npz, critic_iter_N.npz) holds
chainer's save_npz entries plus SETTINGS_ENTRY, the run's setup.ini text, so a generator
file alone says how to build its network. Files written before that carry no settings;
their run's setup.ini (beside them, or named) says it instead.

--model of utils/generate.py and utils/evaluate.py names a generator file or a run folder;
resolve_generator picks the folder's generator, in this one place for both.
"""
import os
import re

import chainer
import numpy as np

from nn.DCGAN import build_critic, build_generator, check_upsample
from base.config import ConfigError, config_from_text, load_config
from base.errors import UserError
from base.npz_entries import read_entries, write_entries

SETTINGS_ENTRY = 'videogan_setup_ini'
GENERATOR_HINT = ('; train one with `python main_train.py` and pass'
                  ' --model RUN/gen_iter_N.npz')


class ModelError(UserError):
    """A network file that is missing or does not fit the configured network."""


def write_network(path, link, settings_text):
    """link's parameters and persistent values as chainer's save_npz writes them, plus
    settings_text (setup.ini text); the file at path is complete or not there at all."""
    serializer = chainer.serializers.DictionarySerializer()
    serializer.save(link)
    entries = dict(serializer.target)
    entries[SETTINGS_ENTRY] = np.array(settings_text)
    write_entries(path, entries)


def settings_text(path):
    """The setup.ini text a network file carries, or None (older files)."""
    entries = read_entries(path)  # never unpickles
    return str(entries[SETTINGS_ENTRY]) if SETTINGS_ENTRY in entries else None


def require_file(path, what, hint=''):
    """ModelError unless path is a file: '{path}: {what} file not found{hint}'."""
    if os.path.isdir(path):
        raise ModelError(f'{path}: is a folder; expected a {what} .npz file')
    if not os.path.isfile(path):
        raise ModelError(f'{path}: {what} file not found{hint}')


# A run folder's generator files, best first: the moving average, then the plain generator
# (each the newest, N compared as a number); then the shipped and converted models' name.
RUN_GENERATORS = (re.compile(r'gen_avg_iter_([0-9]+)\.npz'),
                  re.compile(r'gen_iter_([0-9]+)\.npz'))
MODEL_FILE = 'generator.npz'


def newest_generator(folder):
    """The generator of a run folder: its newest gen_avg_iter_N.npz, else its newest
    gen_iter_N.npz, else its generator.npz (models/, a converted seed model); None when
    it holds none of them."""
    names = [name for name in os.listdir(folder) if os.path.isfile(os.path.join(folder, name))]
    for pattern in RUN_GENERATORS:
        numbered = [(int(match.group(1)), name) for match, name in
                    ((pattern.fullmatch(name), name) for name in names) if match]
        if numbered:
            return os.path.join(folder, max(numbered)[1])
    return os.path.join(folder, MODEL_FILE) if MODEL_FILE in names else None


def resolve_generator(path, option='--model'):
    """The generator file that `option path` names: path itself when it is not a folder
    (a missing file is then reported 'not found' by require_file), else the folder's
    newest_generator; ModelError naming the folder when it holds none."""
    if not os.path.isdir(path):
        return path
    found = newest_generator(path)
    if found is None:
        raise ModelError(f'{option} {path}: the folder holds no gen_avg_iter_N.npz,'
                         f' gen_iter_N.npz or {MODEL_FILE}; expected a generator .npz or a'
                         ' run folder with one')
    return found


def config_for(path, config_path=None, what='network', hint=''):
    """The Config a network file was trained with: config_path (a setup.ini) when given,
    else the settings the file carries, else the setup.ini beside it (older files), with
    its [MODEL] upsample checked. ModelError first when the file itself is missing."""
    require_file(path, what, hint)
    source, config = _read_config_for(path, config_path)
    check_upsample(config.model.upsample, source)
    return config


def _read_config_for(path, config_path):
    """(source, Config) of config_for's three places, source as errors name it."""
    if config_path:
        return config_path, load_config(config_path)
    text = settings_text(path)
    if text is not None:
        source = f'{path} (its settings)'
        return source, config_from_text(text, source)
    beside = os.path.join(os.path.dirname(path) or '.', 'setup.ini')
    if not os.path.isfile(beside):
        raise ConfigError(f'{path}: carries no settings and there is no setup.ini beside it;'
                          " pass the run's setup.ini with --config")
    return beside, load_config(beside)


# The [MODEL] keys that set each network's shapes.
CHECK_KEYS = {'generator': 'ch, latent_dim, frame_size, n_frames, upsample',
              'critic': 'critic_ch, ch, frame_size, n_frames'}


def check_shapes(link, path, stored=None, what='generator'):
    """The entries of the .npz at path (read unless given), after checking that each of
    link's parameters is there with its shape, and each of its float arrays (parameters,
    statistics) is stored as finite floats; ModelError naming the first that is not."""
    stored = read_entries(path) if stored is None else stored  # never unpickles
    for name, param in link.namedparams():
        key = name.lstrip('/')
        if key not in stored:
            raise ModelError(f'{path}: no parameter {key!r} (not a {what} file?)')
        shape = getattr(stored[key], 'shape', None)
        if shape != param.shape:
            raise ModelError(f'{path}: parameter {key!r} has shape {shape},'
                             f' the configured network expects {param.shape}'
                             + (f' (check {CHECK_KEYS[what]})' if what in CHECK_KEYS else ''))
    check_values(link, path, stored)
    return stored


def check_values(link, path, stored):
    """ModelError naming the first of link's float arrays whose stored value is not
    floating point or not finite (NaN or infinite weights make black videos)."""
    serializer = chainer.serializers.DictionarySerializer()
    serializer.save(link)
    for key, mine in sorted(serializer.target.items()):
        value = stored.get(key)
        if value is None or not np.issubdtype(np.asarray(mine).dtype, np.floating):
            continue
        dtype = getattr(value, 'dtype', None)
        if dtype is None or not np.issubdtype(dtype, np.floating):
            raise ModelError(f'{path}: parameter {key!r} holds {dtype or type(value).__name__}'
                             ' values; expected floating-point weights')
        if not np.isfinite(value).all():
            raise ModelError(f'{path}: parameter {key!r} holds NaN or infinite values;'
                             ' expected finite weights (a diverged run? use an earlier file)')


def load_weights(link, path, what='generator'):
    """Load link's parameters and statistics from the .npz at path, read once through
    the checked reader; ModelError when the file does not fit the network."""
    stored = check_shapes(link, path, what=what)
    try:
        chainer.serializers.NpzDeserializer(stored).load(link)
    except KeyError as err:
        raise ModelError(f'{path}: no entry {err.args[0]!r} (not a {what} file?)') from None
    except (ValueError, TypeError) as err:
        raise ModelError(f'{path}: does not fit the configured {what}'
                         f' ({" ".join(str(err).split())})') from None
    return link


def load_generator(path, model):
    """A Generator built from ModelConfig model with the weights in the file at path."""
    require_file(path, 'generator', GENERATOR_HINT)
    return load_weights(build_generator(model), path, 'generator')


def load_critic(path, model):
    """A Critic built from ModelConfig model with the weights in the file at path."""
    require_file(path, 'critic', '; pass --critic RUN/critic_iter_N.npz')
    return load_weights(build_critic(model), path, 'critic')
