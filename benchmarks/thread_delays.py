"""What the machine, not the program, delayed: the kernel's per-thread scheduler figures.

/proc/self/task/TID/schedstat holds, per thread, the nanoseconds it ran on a CPU and the nanoseconds it
waited, ready to run, for one. A GUI thread's gap between two heartbeats is its own running time (the
program's work), its wait for a CPU (the machine's load), and time blocked (a sleep, a lock, or the
interpreter lock that another of the program's threads holds; that holder may itself be waiting for a
CPU). `app_ms` keeps what the program is to blame for: its running time, plus the blocked time beyond
what the machine delayed its other threads in the same gap. Blocked time in a gap in which the thread
read from or wrote to the storage device itself (/proc/self/task/TID/io: read_bytes, write_bytes) is
the disk's, which on a shared machine is as busy as the others make it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

TASKS = "/proc/self/task"


@dataclass(frozen=True)
class GapShares:
    gap_ms: float
    running_ms: float  # the GUI thread on a CPU
    waiting_ms: float  # the GUI thread ready to run, held back by the machine
    others_waiting_ms: float  # the program's other threads ready to run, held back by the machine
    disk_bytes: int = 0  # what the thread read from or wrote to the storage device in the gap

    @property
    def blocked_ms(self) -> float:
        return max(self.gap_ms - self.running_ms - self.waiting_ms, 0.0)

    @property
    def app_ms(self) -> float:
        if self.disk_bytes:
            return self.running_ms
        return self.running_ms + max(self.blocked_ms - self.others_waiting_ms, 0.0)


def available() -> bool:
    return os.path.exists(f"{TASKS}/{threading.get_native_id()}/schedstat")


class ThreadDelays:
    """Samples every thread of this process; call `sample()` from the watched thread at each beat."""

    def __init__(self) -> None:
        self.watched = threading.get_native_id()
        self._files: dict[int, int] = {}
        self._last: dict[int, tuple[int, int]] = {}
        self._last_tasks = 0
        self._io = os.open(f"{TASKS}/{self.watched}/io", os.O_RDONLY)

    def close(self) -> None:
        os.close(self._io)
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()

    def _read(self, tid: int) -> tuple[int, int] | None:
        fd = self._files.get(tid)
        try:
            if fd is None:
                fd = self._files[tid] = os.open(f"{TASKS}/{tid}/schedstat", os.O_RDONLY)
            run_ns, wait_ns, _ = os.pread(fd, 128, 0).split()
            return int(run_ns), int(wait_ns)
        except (OSError, ValueError):
            if fd is not None:
                os.close(self._files.pop(tid))
            return None

    def disk_bytes(self) -> int:
        """What the watched thread has read from and written to the storage device so far."""
        fields = dict(line.split(": ") for line in os.pread(self._io, 512, 0).decode().splitlines() if ": " in line)
        return int(fields.get("read_bytes", 0)) + int(fields.get("write_bytes", 0))

    def sample(self) -> dict[int, tuple[int, int]]:
        tids = [int(t) for t in os.listdir(TASKS)]
        for gone in set(self._files) - set(tids):
            os.close(self._files.pop(gone))
        now = {}
        for tid in tids:
            figures = self._read(tid)
            if figures is not None:
                now[tid] = figures
        return now

    def shares(self, before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]],
               gap_s: float, disk_bytes: int = 0) -> GapShares:
        def delta(tid: int, field: int) -> float:
            return (after[tid][field] - before.get(tid, (0, 0))[field]) / 1e6 if tid in after else 0.0

        others = sum(delta(tid, 1) for tid in after if tid != self.watched)
        return GapShares(gap_s * 1e3, delta(self.watched, 0), delta(self.watched, 1), others, disk_bytes)
