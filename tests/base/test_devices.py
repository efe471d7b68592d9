"""base/devices.py: use_gpu -> a Chainer device, or one DeviceError line."""
import types

import chainer
import numpy
import pytest

from base import devices
from base.devices import DeviceError, device_for


class FakeRuntimeError(Exception):
    """Stands in for cupy.cuda.runtime.CUDARuntimeError."""


def fake_cupy(count=None):
    """A cupy module whose runtime reports `count` devices, or has no usable driver."""
    def get_device_count():
        if count is None:
            raise FakeRuntimeError('cudaErrorInsufficientDriver: CUDA driver version is'
                                   ' insufficient for CUDA runtime version')
        return count
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count,
                                    CUDARuntimeError=FakeRuntimeError)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))


@pytest.fixture
def cupy_installed(monkeypatch):
    def install(count=None):
        monkeypatch.setattr(chainer.backends.cuda, 'available', True)
        monkeypatch.setattr(chainer.backends.cuda, 'cupy', fake_cupy(count))
    return install


def test_cpu():
    assert device_for(-1).xp is numpy


def test_no_cupy(monkeypatch):
    monkeypatch.setattr(chainer.backends.cuda, 'available', False)
    with pytest.raises(DeviceError, match=r'use_gpu = 0: CuPy with a CUDA GPU is not available'):
        device_for(0)


def test_cupy_without_a_driver_is_one_line(cupy_installed):
    cupy_installed(None)
    with pytest.raises(DeviceError) as raised:
        device_for(0)
    message = str(raised.value)
    assert 'use_gpu = 0: CuPy is installed but finds no usable CUDA driver' in message
    assert 'insufficient' in message and '\n' not in message


def test_missing_device_number(cupy_installed):
    cupy_installed(2)
    with pytest.raises(DeviceError, match=r'use_gpu = 2: this machine has 2 CUDA device\(s\),'
                                          r' numbered 0 to 1'):
        device_for(2)


def test_option_name_in_errors(cupy_installed):
    cupy_installed(1)
    with pytest.raises(DeviceError, match=r'^--gpu = 3:'):
        devices.device_for(3, '--gpu')
