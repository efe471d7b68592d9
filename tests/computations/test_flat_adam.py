import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
import pytest

from computations.flat_adam import FlatAdam


class Net(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l0 = L.Linear(5, 7)
            self.bn0 = L.BatchNormalization(7)
            self.l1 = L.Linear(7, 1)

    def forward(self, x):
        return self.l1(F.leaky_relu(self.bn0(self.l0(x))))


def trained(optimizer_class, steps=6, alpha_at=None):
    np.random.seed(0)
    net = Net()
    optimizer = optimizer_class(alpha=1e-2, beta1=0.5, beta2=0.9)
    optimizer.setup(net)
    rng = np.random.RandomState(1)
    for step in range(steps):
        if alpha_at == step:
            optimizer.alpha = 3e-3
        x = rng.randn(4, 5).astype(np.float32)
        optimizer.update(lambda: F.mean(net(x) ** 2))
    return net, optimizer


def state(optimizer):
    serializer = chainer.serializers.DictionarySerializer()
    optimizer.serialize(serializer)
    return serializer.target


@pytest.mark.parametrize('alpha_at', [None, 3])
def test_a_flat_step_computes_exactly_what_chainers_adam_computes(alpha_at):
    (net, adam), (flat_net, flat) = trained(chainer.optimizers.Adam, alpha_at=alpha_at), \
        trained(FlatAdam, alpha_at=alpha_at)
    for (name, param), (_, flat_param) in zip(net.namedparams(), flat_net.namedparams()):
        np.testing.assert_array_equal(param.array, flat_param.array, err_msg=name)
    saved, flat_saved = state(adam), state(flat)
    assert sorted(saved) == sorted(flat_saved)
    for key in saved:
        np.testing.assert_array_equal(saved[key], flat_saved[key], err_msg=key)
    assert flat._flat is not None, 'the steps were taken on the flat buffer'


def test_a_snapshot_of_either_continues_in_the_other():
    net, adam = trained(chainer.optimizers.Adam, steps=3)
    flat_net, flat = trained(FlatAdam, steps=3)
    saved = state(adam)
    chainer.serializers.NpzDeserializer(saved).load(flat)
    rng = np.random.RandomState(5)
    for _ in range(2):
        x = rng.randn(4, 5).astype(np.float32)
        adam.update(lambda: F.mean(net(x) ** 2))
        flat.update(lambda: F.mean(flat_net(x) ** 2))
    for (name, param), (_, flat_param) in zip(net.namedparams(), flat_net.namedparams()):
        np.testing.assert_array_equal(param.array, flat_param.array, err_msg=name)


def test_parameters_outside_the_loss_move_as_with_chainers_adam():
    (net, adam), (flat_net, flat) = trained(chainer.optimizers.Adam, 2), trained(FlatAdam, 2)
    x = np.ones((4, 5), np.float32)
    adam.update(lambda: F.mean(net.l0(x)))  # l1 and bn0 get zero gradients: momentum only
    flat.update(lambda: F.mean(flat_net.l0(x)))
    for (name, param), (_, flat_param) in zip(net.namedparams(), flat_net.namedparams()):
        np.testing.assert_array_equal(param.array, flat_param.array, err_msg=name)
    assert flat_net.l1.W.update_rule.t == 3


def test_amsgrad_takes_chainers_own_path():
    net, flat = trained(lambda **hp: FlatAdam(amsgrad=True, **hp), steps=2)
    reference, _ = trained(lambda **hp: chainer.optimizers.Adam(amsgrad=True, **hp), steps=2)
    assert flat._flat is None
    np.testing.assert_array_equal(net.l1.W.array, reference.l1.W.array)
