"""The allocator's free memory goes back to the system after a session (engine/core/native_memory.py)."""

import subprocess
import sys
import textwrap

import pytest

from engine.core.native_memory import limit_arenas, release_free_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")

FRAGMENTED = textwrap.dedent("""
    import sys, threading
    import numpy as np
    from engine.core.native_memory import limit_arenas, release_free_memory

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    kept = []

    def work():  # 64 KiB blocks come from the thread's arena, not from mmap
        blocks = [np.ones(8192) for _ in range(3000)]
        kept.extend(blocks[::10])  # every tenth stays: the arena cannot shrink from its top

    if sys.argv[1] == "limit":
        assert limit_arenas()
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    before = rss_mb()
    released = release_free_memory()
    print(before, rss_mb(), released)
""")


def _run(*args: str) -> tuple[float, float, bool]:
    out = subprocess.run([sys.executable, "-c", FRAGMENTED, *args], capture_output=True, text=True, check=True)
    before, after, released = out.stdout.split()
    return float(before), float(after), released == "True"


def test_free_memory_in_a_threads_arena_goes_back_to_the_system():
    before, after, released = _run("plain")
    assert released
    assert before - after > 100, (before, after)  # about 170 MB of the 190 MB were freed


def test_the_arena_cap_applies_and_the_release_still_works():
    before, after, released = _run("limit")
    assert released and before - after > 100, (before, after)


def test_both_are_safe_to_call_again():
    assert limit_arenas() in (True, False)
    release_free_memory()
