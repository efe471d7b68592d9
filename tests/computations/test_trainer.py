"""The trainer's wiring: which extensions build_trainer adds for a config, and when each
fires, read off the trainer without training it."""
from tests.conftest import make_trainer

ALWAYS = {'latch', 'run_identity', 'LogReport', 'PrintReport', 'progress', 'PlotReport',
          'PlotReport_1', 'check_weights', '_Snapshot', 'gen_file', 'critic_file',
          'write_samples', 'run_page'}


def fired_at(trainer, name, iterations):
    """The iterations among `iterations` at which the extension's trigger fires."""
    entry, updater = trainer._extensions[name], trainer.updater
    fired = []
    for iteration in iterations:
        updater.iteration = iteration
        if entry.trigger(trainer):
            fired.append(iteration)
    updater.iteration = 0
    return fired


def test_the_plain_config_has_the_outputs_and_no_optional_extension(shapes_dir, tmp_path):
    trainer = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path)[0]
    assert set(trainer._extensions) == ALWAYS


def test_each_option_adds_its_extension(shapes_dir, tmp_path):
    trainer = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path, with_dataset=True, **{
        'ADAM.anneal': 'yes', 'MODEL.average_decay': 0.9, 'SAVING.quality_interval': 2,
        'SAVING.quality_clips': 4})[0]
    assert set(trainer._extensions) == ALWAYS | {'anneal', 'generator_average', 'gen_avg_file',
                                                 'quality', 'PlotReport_2'}


def test_files_and_pictures_come_on_their_intervals_and_at_the_last_iteration(shapes_dir,
                                                                              tmp_path):
    trainer = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path, **{
        'MODEL.iterations': 7, 'SAVING.snap_interval': 3, 'SAVING.plot_interval': 2})[0]
    for name in ('_Snapshot', 'gen_file', 'critic_file', 'check_weights'):
        assert fired_at(trainer, name, range(1, 8)) == [3, 6, 7], name
    for name in ('write_samples', 'run_page'):
        assert fired_at(trainer, name, range(1, 8)) == [2, 4, 6, 7], name


def test_the_weights_are_checked_before_the_snapshot_that_would_keep_them(shapes_dir,
                                                                          tmp_path):
    """Chainer runs higher priorities first within an iteration: the finiteness check
    must precede the snapshot and the network files, the interrupt latch everything."""
    extensions = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path)[0]._extensions
    priority = {name: entry.priority for name, entry in extensions.items()}
    assert priority['check_weights'] > max(priority['_Snapshot'], priority['gen_file'],
                                           priority['critic_file'])
    assert priority['latch'] == max(priority.values())
