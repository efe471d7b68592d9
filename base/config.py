"""Load setup.ini into one typed, validated, frozen config object.

Values are parsed by their declared type and never evaluated. The seed's own
file style loads unchanged: quoted strings, inline `#` comments, `.0002`.
Every problem stops the program before any work with one line that names the
file, section, key, value and what was expected.

Two values name what a layer above defines: [MODEL] upsample (the generator's layers,
nn/DCGAN.py) and [DATA] builtin_look (the built-in data's looks, datastream/moving_shapes.py).
Here they are checked as text; their owners check the name (nn.DCGAN.check_upsample,
datastream.moving_shapes.check_look_name), called before any work by main_train.py and
utils/config_parse.py and wherever the name is used.
"""
import configparser
import dataclasses
import difflib
import math
import os
from dataclasses import dataclass, field

from base.cli import MAX_SEED
from base.errors import UserError
from base.safe_files import write_text


class ConfigError(UserError):
    """A bad configuration file, section, key or value."""


# --- value checks: each returns None when fine, else what was expected ------

def at_least(low):
    return lambda v: None if v >= low else f'a value >= {low}'


def in_range(low, high):
    return lambda v: None if low <= v < high else f'a value in [{low}, {high})'


def between(low, high):
    return lambda v: None if low <= v <= high else f'a value from {low} to {high}'


def multiple_of(n, low):
    def check(v):
        return None if v >= low and v % n == 0 else f'a multiple of {n} (>= {low})'
    return check


def zero_or(check):
    return lambda v: None if v == 0 or check(v) is None else f'0 or {check(v)}'


def one_of(choices):
    return lambda v: None if v in choices else f"one of {', '.join(choices)}"


def non_empty(v):
    return None if v else 'a non-empty string'


def opt(default, check=None, doc=''):
    """A config key: its default, an optional check and a one-line doc."""
    return field(default=default, metadata={'check': check, 'doc': doc})


# --- the schema ---------------------------------------------------------------

KERNELS = ('auto', 'torch', 'chainer')  # the accelerator switch (nn/torch_kernels.select)


@dataclass(frozen=True)
class DataConfig:
    root_dir: str = opt('data/moving_shapes', non_empty, 'folder holding the clips')
    index_file: str = opt('index.txt', non_empty, 'index file, relative to root_dir')
    workers: int = opt(2, at_least(0), 'loader processes (0 = load in the main process)')
    builtin: bool = opt(False, None,
                        'make the built-in moving-shapes dataset at root_dir if missing')
    builtin_clips: int = opt(1024, at_least(1), 'clips in the built-in dataset')
    builtin_look: str = opt('standard', non_empty,  # a name of moving_shapes.LOOKS (checked there)
                            "the built-in clips' look: 'standard', or 'large' (larger shapes)")
    cache: bool = opt(False, None, 'decode every clip once into a uint8 cache in root_dir')


@dataclass(frozen=True)
class ModelConfig:
    ch: int = opt(512, multiple_of(8, 8), "channels of the generator's widest layer")
    critic_ch: int = opt(0, zero_or(multiple_of(8, 8)),
                         "channels of the critic's widest layer (0 = ch)")
    batch_size: int = opt(16, at_least(1), 'clips per batch')
    frame_size: int = opt(64, multiple_of(16, 16), 'frame height and width in pixels')
    n_frames: int = opt(32, multiple_of(16, 16), 'frames per clip')
    epochs: int = opt(15, at_least(0), 'training length in epochs (used when iterations = 0)')
    iterations: int = opt(0, at_least(0), 'training length in generator updates (0 = use epochs)')
    use_gpu: int = opt(-1, at_least(-1), 'CUDA device number, -1 for the CPU')
    latent_dim: int = opt(100, at_least(1), 'size of the latent vector z')
    weight_scale: float = opt(1.0, lambda v: None if v > 0 else 'a value > 0',
                              'scale of the critic HeNormal init')
    seed: int = opt(0, between(0, MAX_SEED), 'random seed of weights, data order, latents')
    average_decay: float = opt(0.0, in_range(0.0, 1.0), "decay of the generator's moving"
                               ' average, gen_avg_iter_N.npz (0 = off; 0.999 ~ last 1,000 updates)')
    kernels: str = opt('auto', one_of(KERNELS), "the convolutions' kernels: 'auto' (PyTorch's"
                       " where torch is installed and serves the device, else Chainer's),"
                       " 'torch' (PyTorch's; an error without it) or 'chainer' (Chainer's own)")
    critic_edge_gain: float = opt(0.0, at_least(0.0), "the critic sees each frame minus this"
                                  " times its Laplacian (edges count more; 0 = plain pixels)")
    upsample: str = opt('deconv', non_empty,  # a name of nn/DCGAN.UPSAMPLING (checked there)
                        "generator upsampling: 'deconv' (the seed's"
                        " stride-2 transposed conv) or 'resize' (nearest x2, then 3x3x3 conv)")


@dataclass(frozen=True)
class AdamConfig:
    learning_rate: float = opt(0.0002, lambda v: None if v > 0 else 'a value > 0', 'Adam alpha')
    beta1: float = opt(0.5, in_range(0.0, 1.0), 'Adam beta1')
    beta2: float = opt(0.999, in_range(0.0, 1.0), 'Adam beta2')
    critic_iter: int = opt(5, at_least(1), 'critic updates per generator update')
    penalty_coeff: float = opt(10.0, at_least(0.0), 'gradient penalty coefficient lambda')
    penalty_every: int = opt(1, at_least(1), 'compute the penalty on every n-th critic step'
                             ' only, weighted by n (1 = every step)')
    anneal: bool = opt(False, None, 'lower both rates linearly to 0 at the end of the run')


@dataclass(frozen=True)
class SavingConfig:
    snap_interval: int = opt(10000, at_least(1), 'iterations between snapshots')
    disp_interval: int = opt(100, at_least(1), 'iterations between printed log lines')
    plot_interval: int = opt(1000, at_least(1), 'iterations between sample gifs and plots')
    out_dir: str = opt('result', non_empty, 'run folder')
    log_file: str = opt('', None, "also write the printed log here ('' = stdout only)")
    resume: str = opt('latest', non_empty, "'latest', 'none' or a snapshot path")
    n_samples: int = opt(16, between(1, 256), 'videos in each sample grid gif')
    quality_interval: int = opt(0, at_least(0), 'iterations between quality scores'
                                ' (metrics/quality.py; 0 = off; needs feature_net)')
    quality_clips: int = opt(128, at_least(2), 'clips of each kind for that score')
    feature_net: str = opt('models/feature_net.npz', non_empty,
                           'feature network for the quality metric')


CPU_COMMUNICATORS = ('naive', 'flat')  # ChainerMN's communicators that run without GPUs
COMMUNICATORS = CPU_COMMUNICATORS + ('hierarchical', 'two_dimensional', 'single_node',
                                     'non_cuda_aware', 'pure_nccl')


def one_of_or_empty(choices):
    return lambda v: None if v == '' or v in choices else f"'' or one of {', '.join(choices)}"


@dataclass(frozen=True)
class ScaleConfig:
    communicator: str = opt('', one_of_or_empty(COMMUNICATORS),
                            "ChainerMN communicator under mpiexec ('' = one process)")


@dataclass(frozen=True)
class Config:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    adam: AdamConfig = AdamConfig()
    saving: SavingConfig = SavingConfig()
    scale: ScaleConfig = ScaleConfig()


SECTIONS = {'DATA': 'data', 'MODEL': 'model', 'ADAM': 'adam', 'SAVING': 'saving',
            'SCALE': 'scale'}


# --- parsing -------------------------------------------------------------------

def _unquote(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in '\'"':
        return text[1:-1]
    return text


_BOOLS = {'true': True, 'yes': True, 'on': True, '1': True,
          'false': False, 'no': False, 'off': False, '0': False}


def _parse_value(kind, text):
    """Parse text as kind; raise ValueError with what was expected."""
    text = _unquote(text)
    if kind is str:
        return text
    if kind is bool:
        if text.lower() not in _BOOLS:
            raise ValueError('a boolean (yes/no, true/false, on/off, 1/0)')
        return _BOOLS[text.lower()]
    try:
        value = kind(text)
    except ValueError:
        raise ValueError('an integer' if kind is int else 'a number') from None
    if kind is float and not math.isfinite(value):
        raise ValueError('a finite number')
    return value


def _nearest(name, choices):
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ''


# Keys that older setup.ini files (run folders, models/) hold: (section, key) -> (the value
# that means what the program now always does, why and when the key went).
RETIRED = {
    ('MODEL', 'frame_critic_every'): (0, 'retired on 2026-11-26 with the 2D frame critic it'
                                      ' switched (no gain at equal time); critic_frame_ch,'
                                      ' which brought one back, was retired on 2026-12-02'),
    ('MODEL', 'critic_frame_ch'): (0, 'retired on 2026-12-02 with the per-frame 2D critic it'
                                   ' added: off by default, and no better at equal time on'
                                   ' two seeds'),
    ('ADAM', 'critic_learning_rate'): (0.0, 'retired on 2026-12-02: the critic uses'
                                       ' learning_rate; a rate of its own was off everywhere'
                                       ' and no trial with one did better'),
}

# Keys renamed: (section, old name) -> the name. The old name still loads with the same
# meaning; a file that gives both is refused.
RENAMED = {('DATA', 'index_dir'): 'index_file'}


RETIRED_KEY = object()  # what _convert returns for a retired key: nothing to set

# The accelerator's two older switches, replaced by [MODEL] kernels: `no` for the run's own
# device (fast_gpu on a GPU, fast_cpu on the CPU) still means kernels = chainer.
LEGACY_KERNEL_KEYS = {('MODEL', 'fast_cpu'): False, ('MODEL', 'fast_gpu'): True}


class _LegacyKernels:
    """What _convert returns for fast_cpu / fast_gpu: the flag and the device it was for."""

    def __init__(self, on_gpu, value):
        self.on_gpu, self.value = on_gpu, value


def _retired(where, section, key, text):
    """RETIRED_KEY for a retired key holding the value the program now always uses; else
    ConfigError saying why the key went."""
    value, reason = RETIRED[(section, key)]
    try:
        same = _parse_value(type(value), text) == value
    except ValueError:
        same = False
    if not same:
        raise ConfigError(f'{where}: {reason}; set it to {value} or delete the line')
    return RETIRED_KEY


def _section_fields(section):
    cls = type(getattr(Config(), SECTIONS[section]))
    return {f.name: f for f in dataclasses.fields(cls)}


def _convert(source, section, key, text):
    """Parse and check one value, or raise ConfigError naming everything."""
    where = f'{source} [{section}] {key} = {text!r}'
    if section not in SECTIONS:
        raise ConfigError(f'{source}: unknown section [{section}]{_nearest(section, SECTIONS)};'
                          f' expected one of {", ".join(SECTIONS)}')
    fields = _section_fields(section)
    if (section, key) in RETIRED:
        return _retired(where, section, key, text)
    if (section, key) in LEGACY_KERNEL_KEYS:
        try:
            return _LegacyKernels(LEGACY_KERNEL_KEYS[(section, key)], _parse_value(bool, text))
        except ValueError as err:
            raise ConfigError(f'{where}: expected {err}') from None
    name = RENAMED.get((section, key), key)
    if name not in fields:
        raise ConfigError(f'{source} [{section}]: unknown key {key!r}{_nearest(key, fields)}')
    spec = fields[name]
    try:
        value = _parse_value(spec.type, text)
    except ValueError as err:
        raise ConfigError(f'{where}: expected {err}') from None
    if spec.type is str and not _round_trips(value):
        raise ConfigError(f"{where}: expected a value the run's setup.ini can record: one line,"
                          " without ' #' or ' ;' (they start a comment there)")
    check = spec.metadata['check']
    problem = check(value) if check else None
    if problem:
        raise ConfigError(f'{where}: expected {problem}')
    return value


# No section is special: a [DEFAULT] section is reported as unknown, not silently merged.
_NO_DEFAULT_SECTION = '\0'


def _new_parser():
    return configparser.ConfigParser(interpolation=None, inline_comment_prefixes=('#', ';'),
                                     default_section=_NO_DEFAULT_SECTION)


def _read_ini(path):
    parser = _new_parser()
    if not os.path.isfile(path):
        raise ConfigError(f'{path}: config file not found')
    try:
        with open(path, encoding='utf-8-sig') as text:
            parser.read_file(text)
    except UnicodeDecodeError as err:
        raise ConfigError(f'{path}: not UTF-8 text (byte {err.start}); save it as UTF-8') from None
    except configparser.Error as err:
        raise ConfigError(f'{path}: {" ".join(str(err).split())}') from None
    except OSError as err:
        raise ConfigError(f'{path}: cannot read it ({err.strerror})') from None
    return parser


def _split_override(item):
    """'SECTION.key=value' -> (section, key, value)."""
    name, sep, value = item.partition('=')
    section, dot, key = name.strip().partition('.')
    if not sep or not dot or not key:
        raise ConfigError(f'--set {item!r}: expected SECTION.key=value, e.g. MODEL.batch_size=8')
    return section.strip(), key.strip().lower(), value


def _check_whole(config, source):
    if config.model.iterations == 0 and config.model.epochs == 0:
        raise ConfigError(f'{source} [MODEL] iterations = 0 and epochs = 0:'
                          ' expected a training length (iterations or epochs > 0)')
    saving = config.saving
    if saving.quality_interval and not os.path.isfile(saving.feature_net):
        raise ConfigError(f'{source} [SAVING] feature_net = {saving.feature_net!r}: file not'
                          ' found; quality_interval > 0 needs it (metrics/train_feature_net.py)')
    communicator = config.scale.communicator
    if config.model.use_gpu < 0 and communicator not in ('',) + CPU_COMMUNICATORS:
        raise ConfigError(f'{source} [SCALE] communicator = {communicator!r}: expected'
                          f' {" or ".join(CPU_COMMUNICATORS)} on the CPU (use_gpu = -1); the'
                          ' others need GPUs')


def load_config(path, overrides=()):
    """Read path, apply 'SECTION.key=value' overrides, validate; return a Config."""
    return _config_from(_read_ini(path), path, overrides)


def value_source(path, overrides, section, key):
    """Where the value of [section] key that load_config(path, overrides) read came from,
    as its errors name it: '--set' when an override sets it, else path."""
    overridden = {_split_override(item)[:2] for item in overrides}
    return '--set' if (section, key) in overridden else path


def check_choice(value, choices, source, section, key):
    """ConfigError, worded as load_config's own, unless value is one of choices: for the
    names a layer above defines, whose owner calls it (source '' leaves the file out)."""
    problem = one_of(choices)(value)
    if problem:
        where = f'{source} ' if source else ''
        raise ConfigError(f'{where}[{section}] {key} = {value!r}: expected {problem}')


def config_from_text(text, source):
    """The Config of setup.ini text (as format_config writes it), each value checked but
    not the checks across keys that concern training; source names it in errors."""
    parser = _new_parser()
    try:
        parser.read_string(text, source)
    except configparser.Error as err:
        raise ConfigError(f'{source}: {" ".join(str(err).split())}') from None
    return _config_from(parser, source, (), check_whole=False)


def _config_from(parser, path, overrides, check_whole=True):
    values = {name: {} for name in SECTIONS.values()}
    legacy, given = [], {}
    items = [(path, section, key, text) for section in parser.sections()
             for key, text in parser.items(section)]
    items += [('--set',) + _split_override(item) for item in overrides]
    for source, section, key, text in items:
        value = _convert(source, section, key, text)
        if isinstance(value, _LegacyKernels):
            legacy.append(value)
        elif value is not RETIRED_KEY:
            values[SECTIONS[section]][_schema_name(source, section, key, given)] = value
    _apply_legacy_kernels(values['model'], legacy)
    sections = {name: type(getattr(Config(), name))(**values[name]) for name in SECTIONS.values()}
    config = Config(**sections)
    if check_whole:
        _check_whole(config, path)
    return config


def _schema_name(source, section, key, given):
    """key's name in the schema (a RENAMED key's new name); ConfigError when one source
    gives a key under both names. given: {(source, section, name): the key as given}."""
    name = RENAMED.get((section, key), key)
    first = given.setdefault((source, section, name), key)
    if first != key:
        old = first if key == name else key
        raise ConfigError(f'{source} [{section}]: both {old} and {name} are given; {old} is the'
                          f' old name of {name}: keep one of them')
    return name


def _apply_legacy_kernels(model, legacy):
    """kernels = chainer where an older file turned the run's own device's kernels off
    (and kernels itself is not set)."""
    on_gpu = model.get('use_gpu', ModelConfig.use_gpu) >= 0
    if 'kernels' not in model and any(f.on_gpu == on_gpu and not f.value for f in legacy):
        model['kernels'] = 'chainer'


def _ini_value(value):
    """A value as setup.ini writes it."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    return str(value)


def _round_trips(value):
    """Whether a string value reads back unchanged from the line format_config writes."""
    if value.splitlines() not in ([], [value]):  # any line break a text file reads as one
        return False
    parser = _new_parser()
    try:
        parser.read_string(f'[S]\nkey = {_ini_value(value)}\n')
        return _unquote(parser.get('S', 'key')) == value
    except configparser.Error:
        return False


def format_config(config):
    """The config as setup.ini text, every key written out."""
    lines = []
    for section, name in SECTIONS.items():
        lines.append(f'[{section}]')
        part = getattr(config, name)
        for f in dataclasses.fields(part):
            lines.append(f'# {f.metadata["doc"]}')
            lines.append(f'{f.name} = {_ini_value(getattr(part, f.name))}')
        lines.append('')
    return '\n'.join(lines)


def config_table():
    """Every key of the schema as a Markdown table: section, key, default, meaning
    (docs/configuration.md holds it; a test keeps the two equal)."""
    rows = ['| section | key | default | meaning |', '|---|---|---|---|']
    for section, name in SECTIONS.items():
        for f in dataclasses.fields(type(getattr(Config(), name))):
            doc = f.metadata['doc'].replace('|', '\\|')
            rows.append(f'| {section} | {f.name} | `{_ini_value(f.default)}` | {doc} |')
    return '\n'.join(rows)


def write_config(config, path):
    write_text(path, format_config(config))
