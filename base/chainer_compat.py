"""Let Chainer 7.8.1 import and run on today's stacks; restores only what is missing.

Chainer 7.8.1 (2020) uses three things newer stacks removed:
- `numpy.sctypes` (removed in numpy 2): rebuilt from numpy's scalar types.
- `numpy.distutils` (absent on Python >= 3.12 and numpy 2; unimportable beside
  setuptools >= 70): chainer imports `numpy.distutils.system_info` only to look
  for Apple's Accelerate BLAS on macOS, so a stub whose get_info finds nothing.
- `pkg_resources` (removed in setuptools >= 82): chainer uses it only to warn
  about optional packages' versions, so a stub backed by importlib.metadata.
Each entry is left alone where the real one imports. Chainer's warning that CuPy lacks cuDNN
is silenced (see _quiet_cudnn_warning). Every package of this
project imports this module before chainer (see each package's __init__.py).
The project's own environment needs it too: it keeps a current setuptools (torch requires
>= 77.0.3), so `import chainer` alone fails there; `import base.chainer_compat` first.
"""
import importlib.metadata
import sys
import types
import warnings

import numpy as np


def _restore_sctypes():
    if 'sctypes' in np.__dict__:
        return
    np.sctypes = {
        'int': [np.int8, np.int16, np.int32, np.int64],
        'uint': [np.uint8, np.uint16, np.uint32, np.uint64],
        'float': [np.float16, np.float32, np.float64, np.longdouble],
        'complex': [np.complex64, np.complex128, np.clongdouble],
        'others': [bool, object, bytes, str, np.void],
    }


def _restore_numpy_distutils():
    try:
        with warnings.catch_warnings():  # numpy < 2 announces numpy.distutils' deprecation
            warnings.simplefilter('ignore', DeprecationWarning)
            import numpy.distutils.system_info  # noqa: F401
        return
    except Exception:  # ImportError, or setuptools' distutils shim failing inside it
        pass
    system_info = types.ModuleType('numpy.distutils.system_info')
    system_info.get_info = lambda name, notfound_action=0: {}
    distutils = sys.modules.get('numpy.distutils') or types.ModuleType('numpy.distutils')
    distutils.system_info = system_info
    sys.modules['numpy.distutils'] = distutils
    sys.modules['numpy.distutils.system_info'] = system_info
    np.distutils = distutils


def _pkg_resources_stub():
    module = types.ModuleType('pkg_resources')

    class ResolutionError(Exception):
        pass

    class DistributionNotFound(ResolutionError):
        pass

    class VersionConflict(ResolutionError):
        pass

    def get_distribution(name):
        try:
            return types.SimpleNamespace(version=importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            raise DistributionNotFound(name) from None

    def require(requirement):
        name = requirement
        for mark in '<>=!~; ':
            name = name.split(mark)[0]
        get_distribution(name)
        return []

    # pytest's monkeypatch.syspath_prepend calls this whenever pkg_resources is
    # imported; with no pkg_resources-style namespace packages there is nothing to fix.
    module.fixup_namespace_packages = lambda path_item, parent=None: None
    module.ResolutionError = ResolutionError
    module.DistributionNotFound = DistributionNotFound
    module.VersionConflict = VersionConflict
    module.get_distribution = get_distribution
    module.require = require
    return module


def _restore_pkg_resources():
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        sys.modules['pkg_resources'] = _pkg_resources_stub()


def _quiet_cudnn_warning():
    """Chainer warns 'cuDNN is not enabled. Please reinstall CuPy' whenever CuPy has no
    cuDNN, which CuPy 14 never has; the convolutions then run on PyTorch's cuDNN kernels
    or Chainer's own (the header of a run says which), so there is nothing to reinstall.
    Its other warnings, and pkg_resources' deprecation notice, are left as they are."""
    warnings.filterwarnings('ignore', message='cuDNN is not enabled', category=UserWarning)


def restore():
    """Idempotent: put back whatever of the three is missing."""
    _restore_sctypes()
    _restore_numpy_distutils()
    _restore_pkg_resources()
    _quiet_cudnn_warning()


restore()
