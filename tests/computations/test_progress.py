import io

from computations.progress import Progress, clock, progress_line, total_iterations
from computations.run_control import RunLength


class FakeUpdater:
    def __init__(self, iteration=0, epoch_detail=0.0):
        self.iteration, self.epoch_detail = iteration, epoch_detail


class FakeTrainer:
    def __init__(self, iteration=0):
        self.updater = FakeUpdater(iteration)


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.seconds = 100.0

    def __call__(self):
        return self.seconds


def run_iterations(progress, trainer, clock, iterations, seconds_each):
    for _ in range(iterations):
        trainer.updater.iteration += 1
        clock.seconds += seconds_each
        progress(trainer)


def test_clock_is_whole_seconds_as_h_mm_ss():
    assert clock(0) == '0:00:00' and clock(59.6) == '0:01:00'
    assert clock(3 * 3600 + 25 * 60 + 7.2) == '3:25:07' and clock(-3) == '0:00:00'


def test_the_line_names_iteration_total_rate_and_time_left():
    assert progress_line(200, 1600, 2.0) == 'iteration 200/1600 (12%), 2 it/s, 0:11:40 left'
    assert progress_line(1, 1600, None) == 'iteration 1/1600 (0%), -- it/s'
    assert progress_line(30, None, 0.456) == 'iteration 30, 0.456 it/s'


def test_an_epoch_length_in_iterations():
    assert total_iterations(FakeUpdater(10, 10 * 8 / 1024), (15, 'epoch')) == 1920
    assert total_iterations(FakeUpdater(0, 0.0), (15, 'epoch')) is None
    assert total_iterations(FakeUpdater(3), (1600, 'iteration')) == 1600


def test_off_a_terminal_a_line_every_interval_and_at_the_end():
    out, now = io.StringIO(), Clock()
    trainer = FakeTrainer()
    progress = Progress(RunLength(iterations=7, epochs=0), 3, out, now)
    run_iterations(progress, trainer, now, 7, 0.5)
    assert out.getvalue().splitlines() == [
        'iteration 3/7 (42%), 2 it/s, 0:00:02 left',
        'iteration 6/7 (85%), 2 it/s, 0:00:00 left',
        'iteration 7/7 (100%), 2 it/s, 0:00:00 left']
    assert '\r' not in out.getvalue() and 'inf' not in out.getvalue()


def test_a_resumed_session_counts_its_own_iterations_only():
    out, now = io.StringIO(), Clock()
    trainer = FakeTrainer(1000)
    progress = Progress(RunLength(iterations=1600, epochs=0), 100, out, now)
    now.seconds += 30  # the first iteration's warm-up is not counted
    trainer.updater.iteration += 1
    progress(trainer)
    run_iterations(progress, trainer, now, 99, 0.25)
    assert out.getvalue() == 'iteration 1100/1600 (68%), 4 it/s, 0:02:05 left\n'


def test_on_a_terminal_the_line_is_rewritten_in_place():
    out, now = Terminal(), Clock()
    trainer = FakeTrainer()
    progress = Progress(RunLength(iterations=4, epochs=0), 100, out, now)
    run_iterations(progress, trainer, now, 4, 1.0)
    shown = out.getvalue()
    assert shown.count('\r') == 8 and '\n' not in shown
    # each update ends at the start of its line, so the log table's next row replaces it
    assert shown.endswith('\riteration 4/4 (100%), 1 it/s, 0:00:00 left\x1b[K\r')


def test_on_a_terminal_updates_are_at_most_twice_a_second():
    out, now = Terminal(), Clock()
    trainer = FakeTrainer()
    progress = Progress(RunLength(iterations=100, epochs=0), 100, out, now)
    run_iterations(progress, trainer, now, 100, 0.01)  # one second in all
    assert 2 <= out.getvalue().count('\x1b[K') <= 4
