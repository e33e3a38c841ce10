"""Writes output files so that a failure never leaves a half-written file or a mixed set behind.

`atomic_path(path)` writes one file under a temporary name beside it and renames it into place.
Inside `file_set(folder, stem)`, every `atomic_path` of the block is only staged: the files are
renamed into place together when the whole block has succeeded, under a lock on FOLDER/STEM, so
a folder holds the old complete set or the new one, and two runs on the same stem never
interleave. On an error, Ctrl+C or SIGTERM every temporary is removed and the folders the run
created are removed again when they are still empty.

While files are written, Ctrl+C and SIGTERM are only recorded (`interrupts_recorded`): raised in the
middle of library code, a KeyboardInterrupt can be swallowed (Python only prints one raised in a
weakref callback) or end the process (C++ code that cannot pass it on aborts). The record acts at
safe points (`check_interrupt`): after each file, before the renames, and when the set is done,
so one that comes during the renames acts when they are over.

A commit writes a short journal (.STEM.commit) before its renames; if the process is killed in
the middle of them, the next run on that stem, or a reader of one of its files
(`settle_interrupted_commits`), finishes them. Temporaries carry their writer's host and process
id, so the next run in a folder removes those whose writer is gone (`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import socket
import stat
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

from engine.core.errors import OutputError
from engine.core.interrupts import check_interrupt, interrupts_held, interrupts_recorded
from engine.core.stem_lock import StemLock, held_locks, registry

UNNAMED_TEMPORARY_STALE_S = 3600.0  # a temporary that does not name its writer (older versions) is abandoned

_active: contextvars.ContextVar["FileSet | None"] = contextvars.ContextVar("monocap_file_set", default=None)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


# ---- folders and files ------------------------------------------------------------------------


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
        with interrupts_held():
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


def _sync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---- temporaries ------------------------------------------------------------------------------
#
# .NAME.HOST~PID.XXXXXXXX.part: the writer's host and process id let a later run tell a temporary
# of a writer that is gone from one being written.

_OWNED_TEMPORARY = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9-]+)~(?P<pid>\d+)\.[a-z0-9_]{8}\.part$")
_UNNAMED_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")

_temporaries: set[Path] = set()  # this process's temporaries not yet renamed or removed (guarded by `registry`)
_stopping = False  # set by abandon_writes: no temporary and no commit after it
_renaming = threading.Lock()  # held by the renames of a commit, so that abandon_writes waits for them
SWEEP_EVERY_S = 600.0  # a long-lived process looks for stale temporaries in a folder again after this
_swept: dict[tuple[int, str], float] = {}  # (process, folder) -> when it was last cleared of stale temporaries


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _temporary_beside(path: Path) -> Path:
    with interrupts_held(), registry:  # never a temporary made and then forgotten
        if _stopping:
            raise OutputError(f"{path}: not written; the run is stopping")
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.{_host()}~{os.getpid()}.", suffix=".part",
                                        dir=path.parent)
            os.close(fd)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({_why(exc)})") from None
        _temporaries.add(Path(name))
        return Path(name)


def _forget(tmp: Path) -> None:
    with registry:
        _temporaries.discard(tmp)


def _remove_temporary(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()
    _forget(tmp)


def _process_runs(pid: int) -> bool:
    if pid == os.getpid() or sys.platform == "win32":  # Windows: os.kill(pid, 0) would send Ctrl+C
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def _writer_gone(entry: os.DirEntry, host: str) -> bool:
    owned = _OWNED_TEMPORARY.match(entry.name)
    if owned:
        return owned["host"] == host and not _process_runs(int(owned["pid"]))
    if _UNNAMED_TEMPORARY.match(entry.name):
        with contextlib.suppress(OSError):
            return time.time() - entry.stat().st_mtime > UNNAMED_TEMPORARY_STALE_S
    return False


def remove_stale_temporaries(folder: str | Path) -> list[str]:
    """Removes the temporaries in `folder` whose writer is gone: a process of this machine that no
    longer runs (killed with -9, a power cut), or, for one that does not name its writer, one
    older than an hour. Temporaries of other machines sharing the folder are left to them.
    Returns the names removed."""
    host = _host()
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(".part") and _writer_gone(entry, host):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(entry.name)
    return removed


def _sweep_now_and_then(folder: Path) -> None:
    key = (os.getpid(), str(folder.resolve()))
    if time.monotonic() - _swept.get(key, -SWEEP_EVERY_S) >= SWEEP_EVERY_S:
        _swept[key] = time.monotonic()
        remove_stale_temporaries(folder)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path` to write to. It replaces `path` when the block
    succeeds, or, inside `file_set`, when the whole set has succeeded."""
    path = Path(path)
    ensure_writable_dir(path.parent)
    check_replaceable(path)
    files = _active.get()
    with interrupts_recorded(at_once=False):
        tmp = _temporary_beside(path)
        handed_on = False
        try:
            yield tmp
            if files is not None:
                files.stage(path, tmp)
                handed_on = True
                check_interrupt()
            else:
                _replace_one(path, tmp)
                handed_on = True
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({_why(exc)})") from None
        finally:
            if not handed_on:
                with interrupts_held():
                    _remove_temporary(tmp)


def _replace_one(path: Path, tmp: Path) -> None:
    os.chmod(tmp, _new_file_mode())
    _sync(tmp)
    with interrupts_held(), _renames():
        check_interrupt()
        check_replaceable(path)
        os.replace(tmp, path)
        _forget(tmp)


@contextlib.contextmanager
def _renames() -> Iterator[None]:
    with _renaming:
        if _stopping:
            raise OutputError("not written; the run is stopping")
        yield


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# ---- the journal of a commit ------------------------------------------------------------------


def _journal_path(folder: Path, stem: str) -> Path:
    return folder / f".{stem}.commit"


def _in_set(name: str, stem: str) -> bool:
    """STEM.EXT, and STEM_... (a person's files STEM_pN.EXT, STEM_people.json)."""
    return name.startswith(stem + ".") or name.startswith(stem + "_")


def _stems_holding(name: str) -> list[str]:
    """The stems whose set may hold a file of this name."""
    return [name[:i] for i in range(1, len(name)) if name[i] in "._"]


def _read_journal(journal: Path, stem: str) -> list[tuple[str, str]]:
    pairs = json.loads(journal.read_text(encoding="utf-8"))
    if not isinstance(pairs, list):
        raise ValueError("not a list")
    checked = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str) for n in pair)):
            raise ValueError("not a pair of names")
        tmp, final = pair
        if not (_OWNED_TEMPORARY.match(tmp) or _UNNAMED_TEMPORARY.match(tmp)) or not _in_set(final, stem) \
                or "/" in final or os.sep in final:
            raise ValueError("not a file of the set")
        checked.append((tmp, final))
    return checked


def finish_interrupted_commit(folder: Path, stem: str) -> None:
    """Completes the renames of a commit that was killed half way (call under the stem's lock).
    A journal cut short was written before any rename: there is nothing to finish then."""
    journal = _journal_path(folder, stem)
    try:
        pairs = _read_journal(journal, stem)
    except (OSError, ValueError):
        pairs = []
    with interrupts_held():
        for tmp, final in pairs:
            if (folder / tmp).exists():
                os.replace(folder / tmp, folder / final)
        journal.unlink(missing_ok=True)


def _settle(folder: Path, stem: str) -> None:
    if _journal_path(folder, stem).exists():
        with StemLock(folder, stem):
            finish_interrupted_commit(folder, stem)


def settle_interrupted_commits(path: str | Path) -> None:
    """Finishes a commit that was killed half way through renaming the set `path` belongs to, so
    that whoever reads `path` next never sees a mix of old and new files. A few stat calls when
    there is none."""
    path = Path(path)
    for stem in _stems_holding(path.name):
        _settle(path.parent, stem)


def settle_folder(folder: str | Path) -> None:
    """Finishes every commit in `folder` that was killed half way."""
    folder = Path(folder)
    with contextlib.suppress(OSError):
        for journal in sorted(folder.glob(".*.commit")):
            _settle(folder, journal.name[1:-len(".commit")])


# ---- sets of files ----------------------------------------------------------------------------


class FileSet:
    """The files staged by one `file_set` block: (final path, temporary) in writing order."""

    def __init__(self, folder: Path, stem: str):
        self.folder = folder
        self.stem = stem
        self.staged: list[tuple[Path, Path]] = []

    def stage(self, final: Path, tmp: Path) -> None:
        if final.parent.resolve() != self.folder.resolve():
            raise OutputError(f"{final}: not in {self.folder}, the folder of this set of files")
        if not _in_set(final.name, self.stem):
            raise OutputError(f"{final}: not a file of {self.stem}'s set")
        self.staged = [(f, t) for f, t in self.staged if f != final] + [(final, tmp)]

    def discard(self) -> None:
        with interrupts_held():
            for _, tmp in self.staged:
                _remove_temporary(tmp)
            self.staged = []

    def commit(self) -> None:
        mode = _new_file_mode()
        for final, tmp in self.staged:
            os.chmod(tmp, mode)
            _sync(tmp)
        self._settle_other_sets()
        check_interrupt()
        with StemLock(self.folder, self.stem):
            finish_interrupted_commit(self.folder, self.stem)
            for final, _ in self.staged:
                check_replaceable(final)
            with interrupts_held(), _renames():
                check_interrupt()  # the last moment at which an interrupt keeps the old set
                self._rename_all()

    def _settle_other_sets(self) -> None:
        """A commit of another stem killed half way through these files is finished first, so that
        it can never later put its older files over these."""
        stems = {s for final, _ in self.staged for s in _stems_holding(final.name)} - {self.stem}
        for stem in sorted(stems):
            _settle(self.folder, stem)

    def _rename_all(self) -> None:
        journal = _journal_path(self.folder, self.stem)
        try:
            journal.write_text(json.dumps([[t.name, f.name] for f, t in self.staged]), encoding="utf-8")
            _sync(journal)
        except OSError:
            journal.unlink(missing_ok=True)
            raise
        for final, tmp in self.staged:
            os.replace(tmp, final)
            _forget(tmp)
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
        with interrupts_recorded(at_once=False), output_folder(folder):
            _sweep_now_and_then(folder)
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


def abandon_writes() -> None:
    """For a process about to end itself (a batch worker whose batch stopped): lets renames in
    progress finish, keeps any later commit from starting, and removes this process's temporaries
    and locks."""
    global _stopping
    _renaming.acquire()  # kept: nothing is renamed after this
    with registry:
        _stopping = True
        temporaries, locks = list(_temporaries), list(held_locks)
    for tmp in temporaries:
        _remove_temporary(tmp)
    for lock in locks:
        lock.__exit__()
