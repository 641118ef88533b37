"""Allocator settings that keep an in-process ingest's peak RSS low (glibc arenas, Arrow's pool)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa

# mallopt parameter number of M_ARENA_MAX in glibc's malloc.h.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name)
        lib.mallopt, lib.malloc_trim  # noqa: B018 - glibc only; musl and macOS lack them
    except (OSError, AttributeError, TypeError):
        return None
    return lib


def lean_allocators() -> None:
    """Few malloc arenas, and Arrow on the system allocator, for the rest of this process.

    Each thread that allocates gets its own glibc arena, and freed memory stays in it: the
    parser's threads and Polars' pool doubled the peak RSS of an ingest. Arrow's default
    jemalloc pool keeps freed pages for a while too. Set once, before the work starts.
    """
    lib = _libc()
    if lib is not None:
        lib.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
    pa.set_memory_pool(pa.system_memory_pool())


def release_free_memory() -> None:
    """Hand freed heap memory back to the system (between units: the next one starts lower)."""
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)
