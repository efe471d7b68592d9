"""The C allocator's policy for a training process: freed arrays stay for reuse.

An iteration frees and allocates again the same arrays, megabytes each. glibc hands
blocks that large back to the kernel (mmap'd blocks are unmapped; a freed heap top over
its trim threshold is trimmed), so every iteration faults the same memory in again page
by page, each page zeroed by the kernel. keep_freed_memory has glibc serve blocks of up
to 32 MiB (its largest mmap threshold on 64-bit systems) from its heap and keep up to
1 GiB freed there.
"""
import ctypes
import sys

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory():
    """Set glibc's mmap and trim thresholds as the module says, for this process; True
    when glibc took both, False where the C library is not glibc (nothing changes)."""
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, 'gnu_get_libc_version'):  # musl's mallopt ignores every setting
        return False
    return (libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
