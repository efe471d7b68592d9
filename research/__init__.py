"""Research tools: recipe searches and lab instruments the product never imports (README.md)."""
from base import chainer_compat  # noqa: F401  (before chainer)
