"""The configuration of a training run, checked whole: base/config.py's checks, then the two
values that name what a layer above it defines ([MODEL] upsample: nn/DCGAN.py; [DATA]
builtin_look: datastream/moving_shapes.py), each error worded as base/config.py words its own."""
from base.config import load_config, value_source
from datastream.moving_shapes import check_look_name
from nn.DCGAN import check_upsample


def load_run_config(path, overrides=()):
    """load_config(path, overrides) with upsample and builtin_look checked by their owners."""
    config = load_config(path, overrides)
    check_upsample(config.model.upsample, value_source(path, overrides, 'MODEL', 'upsample'))
    check_look_name(config.data.builtin_look,
                    value_source(path, overrides, 'DATA', 'builtin_look'))
    return config
