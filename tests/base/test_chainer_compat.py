import sys

import numpy as np
import pytest

from base import chainer_compat


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


@pytest.mark.subprocess
def test_chainer_imports_quietly_through_it_in_a_fresh_interpreter():
    """A user's own script: `import base.chainer_compat` before chainer, beside the current
    setuptools the project's environment keeps (no pkg_resources; numpy.distutils, where
    numpy < 2 has it, unimportable), prints nothing, warnings shown as Python shows them."""
    import subprocess
    from tests.conftest import ROOT
    result = subprocess.run([sys.executable, '-c', 'import base.chainer_compat, chainer;'
                             ' print(chainer.__version__)'],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]
    assert (result.stdout, result.stderr) == ('7.8.1\n', '')


def test_numpy_distutils_deprecation_is_not_shown_by_the_attempt(monkeypatch):
    """numpy < 2 warns that numpy.distutils is deprecated on import; the attempt to import the
    real one must not pass that on (pytest and -W default would show it)."""
    import warnings
    for name in [n for n in sys.modules if n.split('.')[:2] == ['numpy', 'distutils']]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(np, 'distutils', raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        chainer_compat._restore_numpy_distutils()
    assert [str(w.message) for w in caught if 'distutils' in str(w.message)] == []
    assert hasattr(sys.modules['numpy.distutils.system_info'], 'get_info')


def test_chainers_cudnn_warning_is_quiet_and_others_are_not():
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        chainer_compat._quiet_cudnn_warning()
        warnings.warn('cuDNN is not enabled.\nPlease reinstall CuPy after you install cudnn',
                      UserWarning)
        warnings.warn('another warning', UserWarning)
    assert [str(w.message) for w in caught] == ['another warning']
