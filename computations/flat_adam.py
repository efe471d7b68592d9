"""Adam over one flat buffer per network: one update (one kernel on a GPU) a step.

Every parameter of the target and its two Adam moments become views into three flat
arrays; a step gathers the gradients into one flat array and applies chainer's own
AdamRule to the flat parameter, so it computes exactly what chainer.optimizers.Adam
computes, element by element. Each parameter keeps its update rule, whose `t` and
moments (views) are what snapshots hold: a snapshot of either optimizer loads into
the other. A step it cannot take flat (a parameter without a gradient, AMSGrad, a
rule with hooks) runs chainer's per-parameter path instead.
"""
import chainer
from chainer import backend


class _FlatBuffers:
    """The flat parameter, its update rule, and the views it lent each parameter."""

    def __init__(self, optimizer, params):
        xp = backend.get_array_module(params[0].array)
        sizes = [p.array.size for p in params]
        data = xp.concatenate([p.array.ravel() for p in params])
        moments = {key: xp.concatenate([_moment(p, key, xp) for p in params])
                   for key in ('m', 'v')}
        self.param = chainer.Parameter(data)
        self.rule = optimizer.create_update_rule()
        self.rule._state = moments
        self.arrays = []
        start = 0
        for param, size in zip(params, sizes):
            shape = param.array.shape
            param.array = data[start:start + size].reshape(shape)
            param.update_rule._state = {key: moment[start:start + size].reshape(shape)
                                        for key, moment in moments.items()}
            self.arrays.append(param.array)
            start += size

    def backs(self, params):
        """Whether these are the parameters whose arrays are still the flat views."""
        return len(params) == len(self.arrays) and all(
            p.array is array for p, array in zip(params, self.arrays))


def _moment(param, key, xp):
    state = param.update_rule.state
    if state is not None and key in state:
        return state[key].ravel()
    return xp.zeros(param.array.size, param.array.dtype)


def _flat_ready(params, hyperparam):
    """Whether this step can be taken on the flat buffer."""
    if not params or hyperparam.amsgrad or hyperparam.adabound:
        return False
    dtype, t = params[0].array.dtype, params[0].update_rule.t
    return all(p.grad is not None and p.array.dtype == dtype and p.update_rule.enabled
               and p.update_rule.t == t and not _has_hooks(p.update_rule) for p in params)


def _has_hooks(rule):
    hooks = rule._hookable
    return bool(hooks._pre_update_hooks or hooks._post_update_hooks)


class FlatAdam(chainer.optimizers.Adam):
    """chainer.optimizers.Adam, stepping all of the target's parameters at once."""

    _flat = None

    def update(self, lossfun=None, *args, **kwds):
        """As GradientMethod.update, with the parameter loop replaced by one flat step."""
        if lossfun is not None:
            loss = lossfun(*args, **kwds)
            self.target.cleargrads()
            loss.backward(loss_scale=self._loss_scale)
            del loss
        self.reallocate_cleared_grads()
        self.check_nan_in_grads()
        self.call_hooks('pre')
        self.t += 1
        if self.is_safe_to_update():
            self._step(list(self.target.params()))
        self.reallocate_cleared_grads()
        self.call_hooks('post')
        self.update_loss_scale()

    def _step(self, params):
        if not _flat_ready(params, self.hyperparam):
            for param in params:
                param.update()
            return
        if self._flat is None or not self._flat.backs(params):
            self._flat = _FlatBuffers(self, params)
        flat = self._flat
        xp = backend.get_array_module(flat.param.array)
        flat.param.grad = xp.concatenate([p.grad.ravel() for p in params])
        flat.rule.t = params[0].update_rule.t + 1
        flat.rule.update_core(flat.param)
        flat.param.grad = None
        for param in params:
            param.update_rule.t = flat.rule.t
