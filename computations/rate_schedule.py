"""Learning-rate annealing: both Adam rates fall linearly from their configured values to 0
at the run's last iteration, the schedule of the WGAN-GP paper's reference code.

The rate is a function of the iteration alone, set before every update, so a resumed run
continues the same schedule; a run whose length is changed on resume follows the new one.
"""
from chainer import training


def progress(trainer, run_length):
    """The share of the run done, 0 to 1: iterations or epochs against the run's length."""
    count, unit = run_length.length
    updater = trainer.updater
    done = updater.iteration if unit == 'iteration' else updater.epoch_detail
    return min(done / count, 1.0)


def annealed_rates(optimizers, run_length):
    """Extension setting each optimizer's alpha to its starting alpha x (1 - progress),
    at the start and after every iteration (so each update uses its own iteration's rate)."""
    start = {name: opt.alpha for name, opt in optimizers.items()}

    def set_rates(trainer):
        share = progress(trainer, run_length)
        for name, opt in optimizers.items():
            opt.alpha = start[name] * (1.0 - share)

    @training.make_extension(trigger=(1, 'iteration'), priority=training.PRIORITY_WRITER + 3,
                             initializer=set_rates)
    def anneal(trainer):
        set_rates(trainer)
    return anneal
