"""The C allocator's share of a long-running process (glibc on Linux; elsewhere these do nothing).

Every thread that allocates gets a malloc arena of its own, and freed memory stays in the arena.
An engine session starts several threads (decoding, tracking, hands, the native libraries' own),
so a process that opens source after source holds on to more and more freed memory. Two arenas
and handing the free pages back after each session keep it flat (docs/GUI.md, Long use).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache

_M_ARENA_MAX = -8
ARENAS = 2


@lru_cache(maxsize=1)
def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Caps the allocator's arenas for the threads started from now on. True where it applied."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, int(arenas)))


def release_free_memory() -> bool:
    """Hands the allocator's free pages back to the system. True where some were released."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
