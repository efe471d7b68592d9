"""The run page: out_dir/index.html, kept up to date while training, readable offline.

It shows the run's status (running, finished, interrupted, failed), when this session
started and ended, the training time, the final quality (QUALITY_FILE, written when a
run finishes), the latest reported values, the plots and the sample gifs over time
(newest first), all by relative links into the run folder. While the run is going the
page reloads itself every REFRESH_S seconds; once it has stopped it does not.
"""
import glob
import html
import json
import math
import os
import time

from chainer import training

from computations.progress import clock
from computations.quality import REPORTED as QUALITY_REPORTED
from metrics.quality import COMPONENTS
from base.config import format_config
from base.safe_files import write_text

STYLE = ('body{font-family:sans-serif;margin:2em;max-width:80em}'
         'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;'
         'text-align:left}th{font-weight:normal;color:#444}'
         '.plots img{image-rendering:auto;max-width:100%}'
         'img{image-rendering:pixelated;margin:.3em}figure{display:inline-block;margin:.5em}'
         'pre{background:#f6f6f6;padding:1em}.state{font-weight:bold}'
         '.running{color:#06c}.finished{color:#080}.interrupted{color:#b60}.failed{color:#c00}')
REFRESH_S = 30
QUALITY_FILE = 'quality.json'
STATES = ('running', 'finished', 'interrupted', 'failed')
# Every value the log reports, in the order the printed log and this page show them.
REPORT_KEYS = (('epoch', 'iteration', 'gen/loss', 'critic/loss', 'critic/wdist', 'critic/gp')
               + QUALITY_REPORTED + ('data/skipped', 'elapsed_time'))


def _latest_table(log):
    if not log:
        return '<p>No values reported yet.</p>'
    latest = log[-1]
    rows = ''.join(f'<tr><th>{html.escape(k)}</th><td>{latest[k]:.6g}</td></tr>'
                   for k in REPORT_KEYS if k in latest)
    return f'<table>{rows}</table>'


def _plots(out_dir):
    names = [n for n in ('loss.png', 'wdist.png', 'quality.png')
             if os.path.isfile(os.path.join(out_dir, n))]
    images = ''.join(f'<img src="{n}" alt="{n}"><br>' for n in names)
    return f'<div class="plots">{images}</div>' if images else \
        '<p>Plots appear after the first plot interval.</p>'


def _samples(out_dir):
    gifs = sorted(glob.glob(os.path.join(out_dir, 'samples', 'iter_*.gif')), reverse=True)
    figures = []
    for path in gifs:
        name = os.path.basename(path)
        iteration = int(name[5:-4])
        figures.append(f'<figure><img src="samples/{name}" alt="{name}" width="256">'
                       f'<figcaption>iteration {iteration}</figcaption></figure>')
    return ''.join(figures) or '<p>Sample gifs appear after the first plot interval.</p>'


def _when(seconds):
    return time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(seconds)) if seconds else '-'


def _status_table(status):
    """The status rows: state, session start and end, training time, iteration."""
    if status is None:
        return ''
    state = status['state']
    refresh = f' (this page reloads every {REFRESH_S} s)' if state == 'running' else ''
    count, unit = status['length']
    rows = [('status', f'<span class="state {state}">{state}</span>{refresh}'),
            ('iteration', f'{status["iteration"]} of a run of {count} {unit}s'),
            ('session started', f'{_when(status["started"])} at iteration'
                                f' {status["first_iteration"]}'),
            ('session ended', _when(status.get('ended'))),
            ('training time', f'{clock(status["elapsed"])} (h:mm:ss, all sessions)')]
    return '<table>' + ''.join(f'<tr><th>{name}</th><td>{value}</td></tr>'
                               for name, value in rows) + '</table>'


def write_quality(out_dir, record):
    """record (iteration, generator, clips, the scores, real_against_real) as QUALITY_FILE,
    strict JSON (a non-finite score as null); returns its path."""
    def finite(value):
        if isinstance(value, dict):
            return {key: finite(item) for key, item in value.items()}
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    path = os.path.join(out_dir, QUALITY_FILE)
    write_text(path, json.dumps(finite(record), indent=1, allow_nan=False) + '\n')
    return path


def _score(value):
    return '-' if value is None else f'{value:.1f}'


def _final_quality(out_dir):
    """QUALITY_FILE in words (numbers only, nothing to escape), or '' when there is none."""
    try:
        with open(os.path.join(out_dir, QUALITY_FILE), encoding='utf-8') as text:
            found = json.load(text)
        real = found.get('real_against_real') or {}
        parts = ', '.join(f'{name} {_score(found[name])}' for name in COMPONENTS
                          if name in found)
        line = (f'<b>{_score(found.get("quality"))}</b> ({parts}) at iteration'
                f' {int(found["iteration"])} on {int(found["clips"])} clips of each kind;'
                f' real clips against real: {_score(real.get("quality"))}.')
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ''
    return (f'<h2>Final quality</h2><p>{line} Lower is better (docs/quality.md):'
            f' <a href="{QUALITY_FILE}">{QUALITY_FILE}</a></p>')


def render(out_dir, config, log, status=None):
    """The page as a string; status (see RunPage.status) adds the run's state and times."""
    title = f'videogan run: {html.escape(os.path.abspath(out_dir))}'
    refresh = (f'<meta http-equiv="refresh" content="{REFRESH_S}">'
               if status is not None and status['state'] == 'running' else '')
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8">{refresh}<title>{title}</title>'
            f'<style>{STYLE}</style></head><body><h1>{title}</h1>'
            f'{_status_table(status)}{_final_quality(out_dir)}'
            f'<h2>Latest values</h2>{_latest_table(log)}'
            f'<h2>Plots</h2>{_plots(out_dir)}'
            f'<h2>Samples (same latents every time, newest first)</h2>{_samples(out_dir)}'
            f'<h2>Configuration</h2><pre>{html.escape(format_config(config))}</pre>'
            '</body></html>\n')


def write(out_dir, config, log, status=None):
    path = os.path.join(out_dir, 'index.html')
    write_text(path, render(out_dir, config, log, status))
    return path


class RunPage(training.Extension):
    """Extension rewriting index.html from the LogReport's log (run it after the gifs),
    marked running; close() writes it once more with the state the run stopped in."""
    name = 'run_page'
    priority = training.PRIORITY_READER - 1

    def __init__(self, out_dir, config, run_length, now=time.time):
        self.out_dir, self.config, self.run_length, self.now = out_dir, config, run_length, now
        self.started, self.first_iteration = now(), 0

    def initialize(self, trainer):
        self.started, self.first_iteration = self.now(), trainer.updater.iteration

    def status(self, trainer, state, ended=None):
        """{'state', 'iteration', 'length', 'started', 'first_iteration', 'ended', 'elapsed'}."""
        try:
            elapsed = trainer.elapsed_time
        except RuntimeError:  # training never started
            elapsed = 0.0
        return {'state': state, 'iteration': trainer.updater.iteration,
                'length': self.run_length.length, 'started': self.started,
                'first_iteration': self.first_iteration, 'ended': ended, 'elapsed': elapsed}

    def _log(self, trainer):
        try:
            return trainer.get_extension('LogReport').log
        except ValueError:
            return []

    def __call__(self, trainer):
        write(self.out_dir, self.config, self._log(trainer), self.status(trainer, 'running'))

    def close(self, trainer, state):
        """The page of a run that has stopped: state is one of STATES but running."""
        if state not in STATES[1:]:
            raise ValueError(f'a stopped run is one of {STATES[1:]}, not {state!r}')
        write(self.out_dir, self.config, self._log(trainer),
              self.status(trainer, state, ended=self.now()))


def close_page(trainer, state):
    """RunPage.close of the trainer's run page; nothing where it has none (other ranks)."""
    try:
        page = trainer.get_extension(RunPage.name)
    except ValueError:
        return None
    page.close(trainer, state)
    return os.path.join(page.out_dir, 'index.html')
