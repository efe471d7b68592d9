"""Check a training configuration before a run: read it as main_train.py would, every value
and every check across keys, and print it back with each key written out (its default where
the file leaves it out). A bad file gets the one-line error main_train.py would give.

    python utils/config_parse.py [--config setup.ini] [--set SECTION.key=value ...]

The configuration itself (sections, keys, defaults, checks) lives in base/config.py.
"""
import sys

from base import chainer_compat  # noqa: F401
from base import cli
from base.config import format_config
from computations.run_config import load_run_config


def build_parser():
    parser = cli.parser(__doc__.strip().splitlines()[0])
    parser.add_argument('--config', default='setup.ini', help='configuration file')
    parser.add_argument('--set', action='append', default=[], metavar='SECTION.key=value',
                        help='override one config value (repeatable), as main_train.py takes')
    return parser


def _main(argv):
    args = build_parser().parse_args(argv)
    config = load_run_config(args.config, args.set)
    print(f'# {args.config}: valid; every key as main_train.py will use it')
    print(format_config(config), end='')
    return 0


def main(argv=None):
    """Exit code: 0 for a valid file, 2 for a bad one (one line on stderr)."""
    return cli.run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
