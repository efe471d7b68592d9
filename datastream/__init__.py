"""datastream package; chainer_compat first, so chainer imports on new stacks too."""
from base import chainer_compat  # noqa: F401
