"""What every command-line entry point shares: one error boundary, one --help layout.

`run(main)` runs a script's main: a UserError or an OSError (file missing,
unwritable, disk full) or running out of memory becomes one line `error: ...`
on stderr and exit code 2;
Ctrl-C or SIGTERM becomes the line `interrupted` and exit code 130. Anything
else is a bug and keeps its traceback. `parser(description)` is the ArgumentParser
whose --help shows each option's default.
"""
import argparse
import contextlib
import math
import signal
import sys

from base.errors import UserError
from base.safe_files import describe_os_error

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
MAX_SEED = 2 ** 32 - 1  # numpy's RandomState takes seeds 0 .. 2**32 - 1


def check_ranges(args, ranges):
    """UserError naming the first --option whose value (when given) is below low, NaN,
    above high, or infinite; ranges: (name, low, high or None), or (name, low, high, why)
    whose why is added to the error in brackets."""
    for name, low, high, *why in ranges:
        value, option = getattr(args, name), '--' + name.replace('_', '-')
        if value is None:
            continue
        because = ''.join(f' ({reason})' for reason in why)
        if not value >= low:
            raise UserError(f'{option} {value}: expected a value >= {low}{because}')
        if high is not None and value > high:
            raise UserError(f'{option} {value}: expected at most {high}{because}')
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f'{option} {value}: expected a finite number{because}')


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help with '(default: X)' after each option's help, except where there is no
    default to show (None, False, an empty list or text) or the help already says it."""

    def _get_help_string(self, action):
        default, text = action.default, action.help or ''
        if (default is None or default is False or default is argparse.SUPPRESS
                or (isinstance(default, (str, list)) and not default) or 'default' in text):
            return text
        return super()._get_help_string(action)


def parser(description):
    """The ArgumentParser of a script: --help lists every option with its default."""
    return argparse.ArgumentParser(description=description,
                                   formatter_class=DefaultsHelpFormatter)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def stop_on_sigterm():
    """Make SIGTERM stop the program as Ctrl-C does; returns the handler it replaced."""
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def report(err):
    """The one line printed for an error the user can act on."""
    if isinstance(err, OSError):
        return f'error: {describe_os_error(err)}'
    return f'error: {err}'


@contextlib.contextmanager
def interrupts_deferred():
    """Within: SIGINT and SIGTERM are only appended to the list yielded, for
    results_in_order to raise between waits. Raised from a handler, an interrupt could land
    inside a lock of concurrent.futures and break it (a traceback in place of one line)."""
    caught = []
    previous = {number: signal.signal(number, lambda number, frame: caught.append(number))
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def results_in_order(futures, caught, poll_s=0.1):
    """Each future's result in order; KeyboardInterrupt, raised here between waits, as
    soon as interrupts_deferred has caught a signal."""
    for future in futures:
        while True:
            if caught:
                raise KeyboardInterrupt
            try:
                result = future.result(timeout=poll_s)
                break
            except TimeoutError:
                continue
        yield result


def run(main, argv=None):
    """Exit code of main(argv), with errors and interrupts reported as one line."""
    previous = stop_on_sigterm()
    try:
        return main(argv)
    except KeyboardInterrupt:
        print('\ninterrupted', file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UserError, OSError) as err:
        print(report(err), file=sys.stderr)
        return EXIT_USER_ERROR
    except MemoryError:
        print('error: out of memory; lower the batch size, frame size, frame count or'
              ' number of videos', file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        signal.signal(signal.SIGTERM, previous)


KERNELS_HELP = ("the convolutions' kernels: auto (PyTorch's where torch is installed and serves"
                " the device), torch (PyTorch's, an error without it) or chainer (Chainer's own)")
