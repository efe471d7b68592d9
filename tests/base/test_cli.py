import importlib
import os
import signal
import time
from argparse import SUPPRESS, Namespace
from concurrent.futures import ThreadPoolExecutor

import pytest

from base.cli import check_ranges, interrupts_deferred, results_in_order
from base.errors import UserError

RANGES = (('fps', 0.001, None), ('min_seconds', 0, 600), ('limit', 0, None))


@pytest.mark.parametrize('values, message', [
    ({'fps': float('nan')}, '--fps nan: expected a value >= 0.001'),
    ({'fps': float('inf')}, '--fps inf: expected a finite number'),
    ({'fps': float('-inf')}, '--fps -inf: expected a value >= 0.001'),
    ({'min_seconds': float('inf')}, '--min-seconds inf: expected at most 600'),
    ({'min_seconds': -1.0}, '--min-seconds -1.0: expected a value >= 0')])
def test_a_value_out_of_range_or_not_finite_names_its_option(values, message):
    args = Namespace(**{'fps': 25.0, 'min_seconds': 0.0, 'limit': None, **values})
    with pytest.raises(UserError, match=message) as err:
        check_ranges(args, RANGES)
    assert '\n' not in str(err.value)


def test_a_range_may_say_why_its_bound_is_there():
    with pytest.raises(UserError, match=r'^--n 1: expected a value >= 2 \(a variance needs two'
                                        r' clips\)$'):
        check_ranges(Namespace(n=1), (('n', 2, None, 'a variance needs two clips'),))
    check_ranges(Namespace(n=2), (('n', 2, None, 'a variance needs two clips'),))


def test_values_in_range_and_options_not_given_pass():
    check_ranges(Namespace(fps=1e-3, min_seconds=600, limit=None), RANGES)
    check_ranges(Namespace(fps=1000.0, min_seconds=0, limit=10 ** 400), RANGES)


SCRIPTS = ('utils.generate', 'utils.evaluate', 'utils.preview_data',
           'utils.convert_seed_checkpoint', 'utils.config_parse', 'datastream.download_plain',
           'datastream.split_video')


@pytest.mark.parametrize('module', SCRIPTS)
def test_every_option_of_every_script_has_help_and_shows_its_default(module):
    parser = importlib.import_module(module).build_parser()
    text = parser.format_help()
    for action in parser._actions:
        name = '/'.join(action.option_strings) or action.dest
        assert (action.help or '').strip(), f'{module} {name}: no help text'
        default = action.default
        if action.option_strings and not (default is None or default is False
                                          or default is SUPPRESS or default in ([], '')):
            assert 'default' in parser._get_formatter()._get_help_string(action), \
                f'{module} {name}: --help does not show its default {action.default!r}'
    assert '(default: ' in text


def test_a_stop_signal_is_only_recorded_while_deferred_then_raised_between_waits():
    before = signal.getsignal(signal.SIGTERM)
    with ThreadPoolExecutor(1) as pool, interrupts_deferred() as caught:
        slow = pool.submit(time.sleep, 0.3)
        os.kill(os.getpid(), signal.SIGTERM)
        assert caught == [signal.SIGTERM]
        with pytest.raises(KeyboardInterrupt):
            list(results_in_order([slow], caught))
    assert signal.getsignal(signal.SIGTERM) is before


def test_results_come_in_the_order_of_the_futures():
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(time.sleep, 0.2), pool.submit(lambda: 'quick')]
        assert list(results_in_order(futures, [])) == [None, 'quick']
