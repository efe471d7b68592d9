"""The run page: out_dir/index.html, kept up to date while training, readable offline.

It shows the configuration, the latest reported values, the loss plots and the
sample gifs over time (newest first), all by relative links into the run folder.
"""
import glob
import html
import os

from chainer import training

from computations.quality import REPORTED as QUALITY_REPORTED
from utils.config_parse import format_config
from utils.safe_files import write_text

STYLE = ('body{font-family:sans-serif;margin:2em;max-width:70em}'
         'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}'
         'img{image-rendering:pixelated;margin:.3em}figure{display:inline-block;margin:.5em}'
         'pre{background:#f6f6f6;padding:1em}')
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
    return ''.join(f'<img src="{n}" alt="{n}" width="480">' for n in names) or \
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


def render(out_dir, config, log):
    """The page as a string."""
    title = f'videogan run: {html.escape(os.path.abspath(out_dir))}'
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
            f'<style>{STYLE}</style></head><body><h1>{title}</h1>'
            f'<h2>Latest values</h2>{_latest_table(log)}'
            f'<h2>Losses</h2>{_plots(out_dir)}'
            f'<h2>Samples (same latents every time, newest first)</h2>{_samples(out_dir)}'
            f'<h2>Configuration</h2><pre>{html.escape(format_config(config))}</pre>'
            '</body></html>\n')


def write(out_dir, config, log):
    path = os.path.join(out_dir, 'index.html')
    write_text(path, render(out_dir, config, log))
    return path


def run_page(out_dir, config):
    """Extension rewriting index.html from the LogReport's log (run it after the gifs)."""
    @training.make_extension(priority=training.PRIORITY_READER - 1)
    def write_page(trainer):
        log_report = trainer.get_extension('LogReport')
        write(out_dir, config, log_report.log if log_report else [])
    return write_page
