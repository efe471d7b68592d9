import os
from types import SimpleNamespace

import chainer
import pytest

from computations.rate_schedule import annealed_rates
from computations.run_control import RunLength, resume
from tests.conftest import logged_losses, make_trainer


def fake_trainer(iteration, epoch_detail=0.0):
    return SimpleNamespace(updater=SimpleNamespace(iteration=iteration,
                                                   epoch_detail=epoch_detail))


def adam(alpha):
    optimizer = chainer.optimizers.Adam(alpha=alpha)
    optimizer.setup(chainer.links.Linear(2, 2))
    return optimizer


def test_each_rate_falls_linearly_from_its_own_start_to_zero():
    optimizers = {'gen': adam(2e-4), 'critic': adam(4e-4)}
    anneal = annealed_rates(optimizers, RunLength(100, 1))
    anneal.initialize(fake_trainer(0))
    assert optimizers['gen'].alpha == pytest.approx(2e-4)
    anneal(fake_trainer(25))
    assert optimizers['gen'].alpha == pytest.approx(1.5e-4)
    assert optimizers['critic'].alpha == pytest.approx(3e-4)
    anneal(fake_trainer(100))
    assert optimizers['gen'].alpha == 0 and optimizers['critic'].alpha == 0


def test_an_annealed_run_resumes_on_the_same_schedule(shapes_dir, tmp_path):
    def trainer_for(out_dir, iterations):
        return make_trainer(shapes_dir, out_dir, tmp_path, **{
            'MODEL.iterations': iterations, 'ADAM.anneal': 'yes'})[0]
    whole = str(tmp_path / 'whole')
    trainer_for(whole, 4).run()
    parts = str(tmp_path / 'parts')
    first = trainer_for(parts, 4)
    first.extend(lambda trainer: setattr(trainer.stop_trigger, 'stop_now',
                                         trainer.updater.iteration >= 2), name='stop_at_2')
    first.run()
    second = trainer_for(parts, 4)
    assert resume(second, parts, 'latest') == os.path.join(parts, 'snapshot_iter_2')
    second.run()
    assert logged_losses(parts) == logged_losses(whole)
    assert second.updater.get_optimizer('gen').alpha == 0


def test_anneal_off_keeps_the_configured_rate(shapes_dir, tmp_path):
    trainer, _, _ = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path)
    trainer.run()
    assert trainer.updater.get_optimizer('gen').alpha == pytest.approx(2e-4)
