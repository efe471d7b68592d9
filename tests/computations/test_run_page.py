import json
import os

import pytest

from computations.run_control import RunLength
from computations.run_page import QUALITY_FILE, RunPage, close_page, render, write_quality
from base.config import Config

STARTED = 1_800_000_000.0  # a fixed wall-clock second


class FakeUpdater:
    iteration = 0


class FakeTrainer:
    """What RunPage reads: the updater's iteration, the training time, the extensions."""

    def __init__(self, page=None, elapsed=3725.4):
        self.updater = FakeUpdater()
        self._elapsed, self.page = elapsed, page

    @property
    def elapsed_time(self):
        if self._elapsed is None:
            raise RuntimeError('training has not been started yet')
        return self._elapsed

    def get_extension(self, name):
        if name == 'run_page' and self.page is not None:
            return self.page
        raise ValueError(f'extension {name} not found')


def page_of(tmp_path, iteration, clock):
    page = RunPage(str(tmp_path), Config(), RunLength(iterations=1600, epochs=0), clock)
    trainer = FakeTrainer(page)
    page.initialize(trainer)
    trainer.updater.iteration = iteration
    return page, trainer


def test_a_running_page_reloads_and_names_its_state_and_times(tmp_path):
    page, trainer = page_of(tmp_path, 200, lambda: STARTED)
    page(trainer)
    text = (tmp_path / 'index.html').read_text()
    assert '<meta http-equiv="refresh" content="30">' in text
    assert 'class="state running">running</span>' in text
    assert '200 of a run of 1600 iterations' in text and 'at iteration 0' in text
    assert '1:02:05 (h:mm:ss, all sessions)' in text
    assert '<th>session ended</th><td>-</td>' in text


@pytest.mark.parametrize('state', ['finished', 'interrupted', 'failed'])
def test_a_stopped_page_does_not_reload_and_says_how_it_stopped(tmp_path, state):
    times = iter([STARTED, STARTED, STARTED + 90])
    page, trainer = page_of(tmp_path, 1600, lambda: next(times))
    assert close_page(trainer, state) == str(tmp_path / 'index.html')
    text = (tmp_path / 'index.html').read_text()
    assert 'http-equiv="refresh"' not in text
    assert f'class="state {state}">{state}</span>' in text
    assert '<th>session ended</th><td>-</td>' not in text


def test_a_trainer_without_a_page_or_a_start_is_no_error(tmp_path):
    assert close_page(FakeTrainer(), 'finished') is None
    page = RunPage(str(tmp_path), Config(), RunLength(iterations=5, epochs=0))
    trainer = FakeTrainer(page, elapsed=None)
    page.close(trainer, 'failed')
    assert '0:00:00 (h:mm:ss' in (tmp_path / 'index.html').read_text()


def test_the_final_quality_is_written_as_json_and_shown(tmp_path):
    scores = {'quality': 171.04, 'semantic': 120.0, 'texture': 11.0, 'motion': 40.04,
              'fd': float('nan')}
    floor = {'quality': 20.0, 'semantic': 15.0, 'texture': 2.0, 'motion': 3.0, 'fd': 9.0}
    path = write_quality(str(tmp_path), {'iteration': 1600, 'generator': 'gen_iter_1600.npz',
                                         'clips': 256, **scores, 'real_against_real': floor})
    assert path == str(tmp_path / QUALITY_FILE)
    stored = json.loads((tmp_path / QUALITY_FILE).read_text())
    assert stored['quality'] == 171.04 and stored['fd'] is None, 'strict JSON'
    assert stored['real_against_real']['quality'] == 20.0 and stored['clips'] == 256
    text = render(str(tmp_path), Config(), [])
    assert ('<b>171.0</b> (semantic 120.0, texture 11.0, motion 40.0) at iteration 1600 on 256'
            ' clips of each kind; real clips against real: 20.0.') in text
    assert f'<a href="{QUALITY_FILE}">' in text


def test_no_or_a_damaged_quality_file_shows_no_quality(tmp_path):
    assert 'Final quality' not in render(str(tmp_path), Config(), [])
    (tmp_path / QUALITY_FILE).write_text('{"iteration": "x"')
    assert 'Final quality' not in render(str(tmp_path), Config(), [])


def test_plots_are_shown_at_their_own_size(tmp_path):
    (tmp_path / 'loss.png').write_bytes(b'')
    text = render(str(tmp_path), Config(), [])
    assert '<div class="plots"><img src="loss.png" alt="loss.png"><br></div>' in text
    assert 'width="480"' not in text and os.path.isfile(tmp_path / 'loss.png')
