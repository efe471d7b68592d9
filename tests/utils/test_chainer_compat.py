import sys

import numpy as np
import pytest

from utils import chainer_compat


def test_sctypes_are_rebuilt_when_numpy_lacks_them(monkeypatch):
    if 'sctypes' in np.__dict__:
        monkeypatch.delattr(np, 'sctypes')
    chainer_compat._restore_sctypes()
    assert np.float32 in np.sctypes['float'] and np.int64 in np.sctypes['int']
    monkeypatch.undo()


def test_numpy_distutils_stub_when_it_cannot_import(monkeypatch):
    monkeypatch.setitem(sys.modules, 'numpy.distutils.system_info', None)
    monkeypatch.setitem(sys.modules, 'numpy.distutils', sys.modules.get('numpy.distutils'))
    monkeypatch.setattr(np, 'distutils', getattr(np, 'distutils', None), raising=False)
    chainer_compat._restore_numpy_distutils()
    assert sys.modules['numpy.distutils.system_info'].get_info('blas_opt') == {}


def test_pkg_resources_stub_answers_like_chainer_expects():
    stub = chainer_compat._pkg_resources_stub()
    assert stub.require('numpy>=1.9') == []
    assert stub.get_distribution('numpy').version == np.__version__
    with pytest.raises(stub.DistributionNotFound):
        stub.require('surely-not-installed-package>=1')
    assert stub.fixup_namespace_packages('/tmp') is None  # pytest's syspath_prepend calls it


def test_chainer_imports_and_runs_after_restore():
    import chainer
    import chainer.functions as F
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert F.as_strided(x, (2, 2), (3, 1)).array.tolist() == [[0, 1], [3, 4]]  # uses sctypes
    assert chainer.__version__ == '7.8.1'


@pytest.mark.skipif(int(np.__version__.split('.')[0]) >= 2 or sys.version_info >= (3, 12),
                    reason='Python 3.12 / numpy 2 need utils/chainer_compat by design')
def test_chainer_imports_as_it_is_in_the_projects_environment():
    """A user's own script in the project's environment (make setup or setup-fast)
    imports chainer without this project's compatibility module."""
    import subprocess
    result = subprocess.run([sys.executable, '-c', 'import chainer, sys;'
                             ' assert "utils.chainer_compat" not in sys.modules'],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1]


def test_chainers_cudnn_warning_is_quiet_and_others_are_not():
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        chainer_compat._quiet_cudnn_warning()
        warnings.warn('cuDNN is not enabled.\nPlease reinstall CuPy after you install cudnn',
                      UserWarning)
        warnings.warn('another warning', UserWarning)
    assert [str(w.message) for w in caught] == ['another warning']
