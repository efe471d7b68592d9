"""Learning-rate annealing: both Adam rates fall linearly from their configured values to 0
at the run's last iteration, the schedule of the WGAN-GP paper's reference code.

The rate is a function of the iteration alone, set before every update, so a resumed run
continues the same schedule; a run whose length is changed on resume follows the new one.
"""
from chainer import training


def annealed_rates(optimizers, run_length):
    """Extension setting each optimizer's alpha to its starting alpha x (1 - the share of
    the run done, RunLength.share_done), at the start and after every iteration (so each
    update uses its own iteration's rate)."""
    start = {name: opt.alpha for name, opt in optimizers.items()}

    def set_rates(trainer):
        share = run_length.share_done(trainer)
        for name, opt in optimizers.items():
            opt.alpha = start[name] * (1.0 - share)

    @training.make_extension(trigger=(1, 'iteration'), priority=training.PRIORITY_WRITER + 3,
                             initializer=set_rates)
    def anneal(trainer):
        set_rates(trainer)
    return anneal
