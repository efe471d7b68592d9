"""Where the printed training report goes: stdout, and also [SAVING] log_file if set."""
import contextlib
import os
import sys


class Tee:
    """A text stream that writes to several streams."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for stream in self.streams:
            stream.write(text)

    def flush(self):
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def open_report_stream(out_dir, log_file):
    """stdout alone, or stdout and log_file (relative to out_dir) appended to."""
    if not log_file:
        yield sys.stdout
        return
    with open(os.path.join(out_dir, log_file), 'a', encoding='utf-8') as log:
        yield Tee(sys.stdout, log)
