"""The quality curve tool plots a run log's scores against wall time and refuses
bad inputs with one line and exit code 2, writing nothing."""
import json

from research.quality_curve import main, quality_points, x_of


def _log(path, entries):
    path.write_text(json.dumps(entries))
    return str(path)


ENTRIES = [{'iteration': 50, 'elapsed_time': 30.0, 'critic/loss': -1.0},
           {'iteration': 100, 'elapsed_time': 60.0, 'quality/score': 400.0},
           {'iteration': 150, 'elapsed_time': 150.0},
           {'iteration': 200, 'elapsed_time': 240.0, 'quality/score': 120.5}]


def test_points_are_the_scored_entries_and_the_plot_is_written(tmp_path, capsys):
    log = _log(tmp_path / 'log', ENTRIES)
    points, entries = quality_points(log)
    assert points == [(100, 60.0, 400.0), (200, 240.0, 120.5)]
    assert len(entries) == 4
    out = tmp_path / 'curve.png'
    assert main([log, '--out', str(out), '--real', '5.7', '--mark', '150=GPU']) == 0
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    printed = capsys.readouterr().out
    assert '200\t4.0 min\t120.5' in printed and '100\t1.0 min\t400.0' in printed


def test_a_log_without_scores_or_a_bad_mark_is_refused(tmp_path, capsys):
    out = tmp_path / 'curve.png'
    unscored = _log(tmp_path / 'log', ENTRIES[:1])
    assert main([unscored, '--out', str(out)]) == 2
    assert 'no quality/score entries' in capsys.readouterr().err
    scored = _log(tmp_path / 'log2', ENTRIES)
    assert main([scored, '--out', str(out), '--mark', 'GPU']) == 2
    assert '--mark GPU: expected ITERATION=LABEL' in capsys.readouterr().err
    (tmp_path / 'bad').write_text('{not json')
    assert main([str(tmp_path / 'bad'), '--out', str(out)]) == 2
    assert 'not a run log' in capsys.readouterr().err
    assert not out.exists()


def test_by_iteration_puts_the_iterations_on_the_x_axis(tmp_path):
    log = _log(tmp_path / 'log', ENTRIES)
    points, _ = quality_points(log)
    assert x_of(points, 'time') == [1.0, 4.0]
    assert x_of(points, 'iteration') == [100, 200]
    out = tmp_path / 'curve.png'
    assert main([log, '--out', str(out), '--by', 'iteration', '--mark', '150=GPU']) == 0
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
