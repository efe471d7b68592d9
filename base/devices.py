"""Map the seed's integer `use_gpu` to a Chainer device, with one clear error."""
import chainer
from base.errors import UserError


class DeviceError(UserError):
    """A requested device that this machine cannot provide."""


def device_for(use_gpu, option='[MODEL] use_gpu'):
    """-1 -> the CPU (numpy); N >= 0 -> CUDA device N through CuPy.
    `option` names the setting in errors."""
    if use_gpu < 0:
        return chainer.get_device('@numpy')
    cuda = chainer.backends.cuda
    if not cuda.available:
        raise DeviceError(f'{option} = {use_gpu}: CuPy with a CUDA GPU is not available'
                          ' here; install CuPy (make setup-gpu, or pip install -e ".[gpu]")'
                          ' or set use_gpu = -1')
    try:
        count = cuda.cupy.cuda.runtime.getDeviceCount()
    except cuda.cupy.cuda.runtime.CUDARuntimeError as err:
        raise DeviceError(f'{option} = {use_gpu}: CuPy is installed but finds no usable CUDA'
                          f' driver or GPU ({err}); set use_gpu = -1 for the CPU') from None
    if use_gpu >= count:
        raise DeviceError(f'{option} = {use_gpu}: this machine has {count} CUDA'
                          f' device(s), numbered 0 to {count - 1}')
    return chainer.get_device(f'@cupy:{use_gpu}')
