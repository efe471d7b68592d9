"""base/allocator.py: arrays freed and allocated again are not faulted in again."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Ten 4 MiB blocks made, zeroed and freed, five times after a first round; the page
# faults of those five rounds per round, beside the pages each round touches.
PROBE = '''
import resource, sys
from base.allocator import keep_freed_memory
if sys.argv[1] == 'keep':
    assert keep_freed_memory()
def one_round():
    blocks = [bytearray(4 << 20) for _ in range(10)]
    del blocks
one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    one_round()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5, 10 * (4 << 20) // 4096)
'''


def faults_per_round(mode):
    """(page faults per round, pages a round touches) in a fresh interpreter."""
    result = subprocess.run([sys.executable, '-c', PROBE, mode], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]
    faults, pages = result.stdout.split()
    return float(faults), int(pages)


@pytest.mark.subprocess
@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc policy')
def test_kept_memory_is_reused_without_page_faults():
    faults, pages = faults_per_round('keep')
    assert faults < 0.05 * pages
