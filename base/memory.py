"""Refuse work that cannot fit in memory before allocating it (estimates of what the
networks need: nn/sizes.py)."""
import os

from base.errors import UserError


def available_memory():
    """Bytes of physical memory, or None where the system does not say."""
    try:
        return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    except (AttributeError, ValueError, OSError):
        return None


def _size(n_bytes):
    return (f'{n_bytes / 2 ** 30:.1f} GiB' if n_bytes >= 2 ** 30
            else f'{n_bytes / 2 ** 20:.1f} MiB')


def require_memory(needed, what):
    """UserError naming `what` (the settings responsible) when `needed` bytes exceed
    this machine's memory."""
    total = available_memory()
    if total is not None and needed > total:
        raise UserError(f'{what} need about {_size(needed)} of memory; this machine has'
                        f' {_size(total)}: lower them')
