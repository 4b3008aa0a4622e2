"""Handing memory that large temporaries freed back to the operating system."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> None:
    """Return the memory that freed temporaries left with the allocators to the operating system.

    Reading and ranking a million-row catalog frees several hundred megabytes of intermediate rows and
    strings, which Arrow's memory pool and glibc's ``malloc`` otherwise keep for reuse: a long-running
    server would stay at its peak.  Where the C library has no ``malloc_trim`` (not glibc), only Arrow's
    pool is released.  Costs a few milliseconds; meant for after a large build, not for a loop.
    """
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
