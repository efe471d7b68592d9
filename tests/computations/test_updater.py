import json
import os

import numpy as np
import pytest
import chainer

from computations.run_control import resume
from tests.conftest import LOSS_KEYS, logged_losses, make_trainer

def test_one_iteration_updates_both_networks_and_reports(shapes_dir, tmp_path):
    trainer, gen, critic = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path)
    before = {name: p.array.copy() for name, p in list(gen.namedparams()) + [
        ('critic' + n, p) for n, p in critic.namedparams()]}
    observation = {}
    with trainer.reporter.scope(observation):
        trainer.updater.update()
    for key in LOSS_KEYS:
        assert np.isfinite(float(chainer.as_array(observation[key]))), key
    assert 'data/skipped' not in observation and trainer.updater.skipped_clips == 0
    changed_gen = [n for n, p in gen.namedparams() if not np.array_equal(p.array, before[n])]
    changed_critic = [n for n, p in critic.namedparams()
                      if not np.array_equal(p.array, before['critic' + n])]
    assert '/l0/W' in changed_gen and '/dc4/W' in changed_gen
    assert '/c1/W' in changed_critic and '/l6/W' in changed_critic


def test_fixed_seed_repeats_exactly(shapes_dir, tmp_path):
    runs = []
    for name in ('a', 'b'):
        out_dir = str(tmp_path / name)
        trainer, _, _ = make_trainer(shapes_dir, out_dir, tmp_path)
        trainer.run()
        runs.append(logged_losses(out_dir))
    assert len(runs[0]) == 3 and runs[0] == runs[1]


def whole_and_resumed(shapes_dir, tmp_path, **changes):
    """Logged losses of 5 iterations in one go, and of 2 then resumed to 5."""
    def trainer_for(out_dir, iterations):
        return make_trainer(shapes_dir, out_dir, tmp_path,
                            **{'MODEL.iterations': iterations, **changes})[0]
    whole = str(tmp_path / 'whole')
    trainer_for(whole, 5).run()
    parts = str(tmp_path / 'parts')
    trainer_for(parts, 2).run()
    second = trainer_for(parts, 5)
    assert resume(second, parts, 'latest') == os.path.join(parts, 'snapshot_iter_2')
    second.run()
    return logged_losses(whole), logged_losses(parts)


@pytest.mark.parametrize('workers', [0, 1])
def test_resume_continues_the_same_run(shapes_dir, tmp_path, workers):
    """12 clips, batch 2, 2 critic steps: 5 iterations cross an epoch boundary."""
    whole, resumed = whole_and_resumed(shapes_dir, tmp_path, **{'DATA.workers': workers})
    assert resumed == whole


def test_both_networks_step_at_the_configured_rate_and_betas(shapes_dir, tmp_path):
    trainer, _, _ = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path,
                                 **{'ADAM.learning_rate': 0.0001, 'ADAM.beta2': 0.9})
    for name, optimizer in trainer.updater.get_all_optimizers().items():
        assert optimizer.alpha == pytest.approx(0.0001), name
        assert (optimizer.beta1, optimizer.beta2) == pytest.approx((0.5, 0.9)), name


def test_the_log_counts_skipped_clips(shapes_dir, tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    (root / 'bad.jpg').write_bytes(b'not an image')
    clips = sorted(os.listdir(os.path.join(shapes_dir, 'clips')))
    (root / 'index.txt').write_text('bad.jpg\n' + ''.join(
        f'{os.path.join(shapes_dir, "clips", name)}\n' for name in clips))
    out_dir = str(tmp_path / 'r')
    make_trainer(str(root), out_dir, tmp_path)[0].run()
    with open(os.path.join(out_dir, 'log')) as log:
        counts = [entry['data/skipped'] for entry in json.load(log)]
    assert all(isinstance(count, int) for count in counts) and counts == sorted(counts)
    assert counts[-1] >= 1, 'the unreadable clip was reached and counted'


def test_a_lazy_penalty_is_computed_on_every_nth_critic_step_of_the_run(shapes_dir, tmp_path):
    """2 critic steps an iteration, penalty_every 3: steps 0 and 3 of the run's 0..5."""
    trainer, _, _ = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path,
                                 **{'ADAM.penalty_every': 3})
    updater = trainer.updater
    computed = []
    eps = updater._eps
    updater._eps = lambda real: computed.append(updater.iteration) or eps(real)
    for _ in range(3):
        updater.update()
    assert updater.critic_iter == 2 and computed == [0, 1]


def lazy_critic_losses(shapes_dir, tmp_path):
    """(penalised, loss, reported observation) of one critic loss with and without the
    penalty, on one real batch of a run with penalty_every = 4."""
    trainer, _, _ = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path,
                                 **{'ADAM.penalty_every': 4})
    updater = trainer.updater
    real = updater._real_batch(updater.get_iterator('main'))
    for penalised in (True, False):
        observation = {}
        with trainer.reporter.scope(observation):
            loss = updater.critic_loss(real, penalised)
        yield penalised, loss, observation


def test_a_lazy_penalty_weighs_n_times_as_much(shapes_dir, tmp_path):
    for penalised, loss, observation in lazy_critic_losses(shapes_dir, tmp_path):
        loss = float(loss.array)
        wdist = float(chainer.as_array(observation['critic/wdist']))
        if penalised:
            gp = float(chainer.as_array(observation['critic/gp']))
            assert gp > 0 and loss == pytest.approx(-wdist + 4 * 10.0 * gp, rel=1e-5)
        else:
            assert 'critic/gp' not in observation and loss == pytest.approx(-wdist)


def test_a_resumed_run_keeps_the_lazy_penalty_schedule(shapes_dir, tmp_path):
    """Penalised critic steps 0, 3, 6, 9 of 0..9: none in iteration 2 (steps 4 and 5)."""
    whole, resumed = whole_and_resumed(shapes_dir, tmp_path, **{'ADAM.penalty_every': 3})
    assert resumed == whole
    assert [gp is not None for _, _, gp, _ in resumed] == [True, True, False, True, True]


def test_the_reported_critic_loss_is_the_wgan_gp_loss_not_minus_wdist(shapes_dir, tmp_path):
    """critic/loss is -wdist + lambda * gp of the step that computed the penalty (at lambda,
    however lazily weighted), and absent from a step without it: it never repeats -wdist."""
    for penalised, _, observation in lazy_critic_losses(shapes_dir, tmp_path):
        wdist = float(chainer.as_array(observation['critic/wdist']))
        if penalised:
            gp = float(chainer.as_array(observation['critic/gp']))
            reported = float(chainer.as_array(observation['critic/loss']))
            assert gp > 0 and reported == pytest.approx(-wdist + 10.0 * gp, rel=1e-5)
        else:
            assert 'critic/loss' not in observation


def test_a_non_finite_loss_is_named_with_its_iteration_after_one_check(shapes_dir, tmp_path):
    """The losses are checked as one flag at the end of the iteration (no read per loss);
    the message names the iteration and the first non-finite loss."""
    trainer, _, _ = make_trainer(shapes_dir, tmp_path / 'run', tmp_path)
    updater = trainer.updater
    updater.update()
    plain = updater.critic_loss
    calls = []

    def last_is_nan(real, penalised=True, fake=None):
        loss = plain(real, penalised, fake)
        calls.append(1)
        return loss * np.float32('nan') if len(calls) == updater.critic_iter else loss
    updater.critic_loss = last_is_nan
    checks = []
    kept_check = updater._check_finite
    updater._check_finite = lambda: checks.append(len(calls)) or kept_check()
    with pytest.raises(Exception, match=r'diverged at iteration 2: the critic loss is nan'):
        updater.update()
    assert checks == [updater.critic_iter]  # one check, after every step of the iteration


def test_fakes_made_together_equal_fakes_made_one_by_one(shapes_dir, tmp_path):
    """Two runs of one seed: three batches of fakes at once, and one by one; the clips
    and the generator's running statistics after them."""
    together, gen_a, _ = make_trainer(shapes_dir, str(tmp_path / 'a'), tmp_path)
    alone, gen_b, _ = make_trainer(shapes_dir, str(tmp_path / 'b'), tmp_path)
    fakes = together.updater._fakes(2, 3)
    for fake in fakes:
        np.testing.assert_allclose(fake, alone.updater._fake(2), atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(gen_a.bn3.avg_mean, gen_b.bn3.avg_mean, atol=1e-6, rtol=1e-5)
    assert not np.allclose(gen_a.bn3.avg_mean, 0)


@pytest.mark.parametrize('fake_bytes,calls', [(64 << 20, [2]), (1, [1, 1])])
def test_an_iterations_fakes_are_made_at_once_where_they_fit(shapes_dir, tmp_path,
                                                             monkeypatch, fake_bytes, calls):
    trainer, _, _ = make_trainer(shapes_dir, str(tmp_path / 'r'), tmp_path)
    updater = trainer.updater
    monkeypatch.setattr('computations.updater.FAKE_BYTES', fake_bytes)
    made = []
    plain = updater._fakes
    updater._fakes = lambda batch, count: made.append(count) or plain(batch, count)
    updater.update()
    assert updater.critic_iter == 2 and made == calls
