"""The lock on a stem: one run at a time commits a set of files of one name in a folder (across
processes, and on the same machine across hosts' shares where fcntl locks work)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from engine.core.errors import OutputError
from engine.core.interrupts import interrupts_held

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None

LOCK_WAIT_S = 60.0  # how long a run waits for another run on the same stem to finish its commit
STALE_LOCK_S = 30.0  # an O_EXCL lock file older than this is left over from a killed run

registry = threading.Lock()  # guards `held_locks` here and engine/core/atomic.py's temporaries
held_locks: set["StemLock"] = set()  # this process's locks, for abandon_writes


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


# ---- the lock on a stem -----------------------------------------------------------------------


class StemLock:
    """An exclusive lock on FOLDER/STEM across processes (fcntl.flock on .STEM.lock; an O_EXCL
    lock file where there is no flock). A lock whose holder died is taken over."""

    def __init__(self, folder: Path, stem: str, wait_s: float = LOCK_WAIT_S):
        self.path = folder / f".{stem}.lock"
        self.wait_s = wait_s
        self._fd: int | None = None

    def __enter__(self) -> "StemLock":
        deadline = time.monotonic() + self.wait_s
        try:
            while True:
                with interrupts_held(), registry:  # never a lock file made and then forgotten
                    if self._try_acquire():
                        held_locks.add(self)
                        return self
                if time.monotonic() > deadline:
                    raise OutputError(f"{self.path.parent}: another run is writing {self.path.name[1:-5]}'s files "
                                      f"there (lock {self.path.name}); try again when it is done")
                time.sleep(0.02)
        except BaseException:
            self.__exit__()
            raise

    def _try_acquire(self) -> bool:
        try:
            if fcntl is None:
                return self._try_exclusive_create()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot lock the output ({_why(exc)})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        try:  # the holder before us may have removed the file we locked: lock the one in place
            same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            same = False
        if not same:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _try_exclusive_create(self) -> bool:
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(self._fd, str(os.getpid()).encode())
            return True
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - self.path.stat().st_mtime > STALE_LOCK_S:
                    self.path.unlink()
            return False

    def __exit__(self, *exc) -> None:
        with registry:  # abandon_writes may release it from another thread
            fd, self._fd = self._fd, None
            held_locks.discard(self)
        if fd is not None:
            with interrupts_held():
                with contextlib.suppress(OSError):
                    self.path.unlink()
                os.close(fd)


def remove_stale_locks(folder: str | Path) -> list[str]:
    """Removes the lock files in `folder` that no process holds (a run killed while it held one).
    Only where locks are flock's: an O_EXCL lock file is taken over when it is old. Returns the
    names removed."""
    if fcntl is None:
        return []
    folder = Path(folder)
    removed, names = [], []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.startswith(".") and e.name.endswith(".lock")]
    for name in names:
        try:
            with StemLock(folder, name[1:-len(".lock")], wait_s=0.0):
                pass
        except OutputError:  # held by a run that is alive
            continue
        removed.append(name)
    return removed
