"""The user's commands (generate, evaluate, preview_data, convert_seed_checkpoint,
config_parse); chainer_compat first, so chainer imports on new stacks too."""
from base import chainer_compat  # noqa: F401
