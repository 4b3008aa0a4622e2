"""marsviz.memory: freed memory goes back to the operating system."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from marsviz import memory

PROBE = textwrap.dedent("""
    from marsviz.memory import release_freed_memory

    def rss_mb():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))

    blocks = [bytes(4000) + bytes([i % 256]) for i in range(60_000)]  # about 240 MB in malloc'd blocks
    kept = blocks[::16]  # every 16th kept alive, so the freed rest is fragmented and not trimmed by itself
    del blocks
    before = rss_mb()
    release_freed_memory()
    print(before - rss_mb())
""")


@pytest.mark.skipif(not Path("/proc/self/status").exists() or memory._libc() is None,
                    reason="needs Linux's /proc and glibc's malloc_trim")
def test_freed_fragmented_memory_leaves_the_process():
    released = float(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                                    check=True).stdout)
    assert released > 100  # of about 225 MB freed

