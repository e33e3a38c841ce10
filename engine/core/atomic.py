"""Writes output files so that a failure never leaves a half-written file or a mixed set behind.

`atomic_path(path)` writes one file under a temporary name beside it and renames it into place.
Inside `file_set(folder, stem)`, every `atomic_path` of the block is only staged: the files are
renamed into place together when the whole block has succeeded, under a lock on FOLDER/STEM, so
a folder holds the old complete set or the new one, and two runs on the same stem never
interleave. On an error, Ctrl+C or SIGTERM (the CLI turns it into Ctrl+C) every temporary is
removed and the folders the run created are removed again when they are still empty.

A commit writes a short journal (.STEM.commit) before its renames; if the process is killed in
the middle of them, the next run on that stem finishes them.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import signal
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

from engine.core.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: the O_EXCL lock below
    fcntl = None

LOCK_WAIT_S = 60.0  # how long a run waits for another run on the same stem to finish its commit
STALE_LOCK_S = 30.0  # an O_EXCL lock file older than this is left over from a killed run

_active: contextvars.ContextVar["FileSet | None"] = contextvars.ContextVar("monocap_file_set", default=None)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def ensure_writable_dir(folder: str | Path) -> Path:
    """Creates `folder` if needed; OutputError naming it when it cannot be written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder ({_why(exc)})") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{folder}: the output folder is not writable; choose another with -o")
    return folder


@contextlib.contextmanager
def output_folder(folder: str | Path) -> Iterator[Path]:
    """`ensure_writable_dir` for the length of a run: the folders it had to create are removed
    again if the block fails (error, Ctrl+C) and they are still empty."""
    folder = Path(folder)
    missing = []
    probe = folder.absolute()
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        yield ensure_writable_dir(folder)
    except BaseException:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError):
                created.rmdir()
        raise


def is_read_only(path: Path) -> bool:
    """True for an existing file nobody may write (its write bits cleared, or no access)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def check_replaceable(path: Path) -> None:
    """OutputError when `path` exists and must not be replaced (a folder, or a read-only file)."""
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; choose another output name")
    if path.exists() and is_read_only(path):
        raise OutputError(f"{path}: the existing file is read-only and is not replaced; "
                          "make it writable or choose another output")


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _temporary_beside(path: Path) -> Path:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({_why(exc)})") from None
    return Path(name)


def _sync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl+C and SIGTERM wait until the block is over (the renames of one commit), then act as
    they would have. Python runs signal handlers in the main thread only, so that is where they
    can be held."""
    held = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not None:
                held[signum] = signal.getsignal(signum)
    caught: list[int] = []
    for signum in held:
        signal.signal(signum, lambda s, frame: caught.append(s))
    try:
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path` to write to. It replaces `path` when the block
    succeeds, or, inside `file_set`, when the whole set has succeeded."""
    path = Path(path)
    ensure_writable_dir(path.parent)
    check_replaceable(path)
    files = _active.get()
    staged = False
    tmp: Path | None = None
    try:
        with _signals_held():  # an interrupt between creating the temporary and knowing its name
            tmp = _temporary_beside(path)
        yield tmp
        if files is not None:
            files.stage(path, tmp)
            staged = True
            return
        os.chmod(tmp, _new_file_mode())
        _sync(tmp)
        with _signals_held():
            check_replaceable(path)
            os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({_why(exc)})") from None
    finally:
        if tmp is not None and not staged and tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


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
                with _signals_held():  # never a lock file made and then forgotten
                    if self._try_acquire():
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
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self._fd)
            self._fd = None


def _journal_path(folder: Path, stem: str) -> Path:
    return folder / f".{stem}.commit"


def finish_interrupted_commit(folder: Path, stem: str) -> None:
    """Completes the renames of a commit that was killed half way (call under the stem's lock)."""
    journal = _journal_path(folder, stem)
    try:
        pairs = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        journal.unlink(missing_ok=True)
        return
    for tmp, final in pairs:
        if (folder / tmp).exists():
            os.replace(folder / tmp, folder / final)
    journal.unlink(missing_ok=True)


class FileSet:
    """The files staged by one `file_set` block: (final path, temporary) in writing order."""

    def __init__(self, folder: Path, stem: str):
        self.folder = folder
        self.stem = stem
        self.staged: list[tuple[Path, Path]] = []

    def stage(self, final: Path, tmp: Path) -> None:
        if final.parent.resolve() != self.folder.resolve():
            raise OutputError(f"{final}: not in {self.folder}, the folder of this set of files")
        self.staged = [(f, t) for f, t in self.staged if f != final] + [(final, tmp)]

    def discard(self) -> None:
        for _, tmp in self.staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.staged = []

    def commit(self) -> None:
        mode = _new_file_mode()
        for final, tmp in self.staged:
            os.chmod(tmp, mode)
            _sync(tmp)
        with StemLock(self.folder, self.stem):
            finish_interrupted_commit(self.folder, self.stem)
            for final, _ in self.staged:
                check_replaceable(final)
            journal = _journal_path(self.folder, self.stem)
            with _signals_held():
                try:
                    journal.write_text(json.dumps([[t.name, f.name] for f, t in self.staged]), encoding="utf-8")
                    _sync(journal)
                except OSError:
                    journal.unlink(missing_ok=True)
                    raise
                for final, tmp in self.staged:
                    os.replace(tmp, final)
                journal.unlink()
            self.staged = []


@contextlib.contextmanager
def file_set(folder: str | Path, stem: str) -> Iterator[FileSet]:
    """Every `atomic_path` in the block (in this thread) is staged, and the files are renamed into
    place together when the block succeeds. Nested blocks join the outer one."""
    outer = _active.get()
    if outer is not None:
        yield outer
        return
    folder = Path(folder)
    files = FileSet(folder, stem)
    try:
        with output_folder(folder):
            try:
                token = _active.set(files)
                try:
                    yield files
                finally:
                    _active.reset(token)
                files.commit()
            finally:
                files.discard()  # before output_folder removes the folders it created
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write {stem}'s files ({_why(exc)})") from None
