"""Ctrl+C and SIGTERM while files are written: recorded, and acted on between files and after the
renames of a set, never inside library code (engine/core/atomic.py writes with these guards)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Iterator

# ---- Ctrl+C and SIGTERM -----------------------------------------------------------------------


class _SignalExit(BaseException):
    """A signal whose action is the default one (end the process): the clean-ups run first."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _Interrupts:
    """What the guards of the main thread know (Python runs signal handlers there only)."""

    def __init__(self):
        self.pending: list[int] = []  # signals received and not yet acted on
        self.previous: dict[int, object] = {}  # the handlers the outermost guard replaced
        self.previous_unraisable_hook = sys.unraisablehook
        self.at_once: list[bool] = []  # each open guard's choice, outermost first
        self.holds = 0


_interrupts = _Interrupts()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _record(signum: int, frame) -> None:
    _interrupts.pending.append(signum)
    if _interrupts.holds == 0 and _interrupts.at_once and _interrupts.at_once[-1]:
        _act(signum)


def _act(signum: int) -> None:
    """Does what the signal would have done without the guard. A handler that raises
    (KeyboardInterrupt) leaves the record, so that it raises again if its exception is swallowed."""
    handler = _interrupts.previous.get(signum, signal.default_int_handler)
    if not callable(handler):  # SIG_DFL: end the process, after the clean-ups
        raise _SignalExit(signum)
    handler(signum, None)
    with contextlib.suppress(ValueError):
        _interrupts.pending.remove(signum)


def _install_recorder() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler not in (None, signal.SIG_IGN):
            _interrupts.previous[signum] = handler
            signal.signal(signum, _record)
    _interrupts.previous_unraisable_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_about_swallowed_interrupts


def _restore_handlers() -> None:
    for signum, handler in _interrupts.previous.items():
        signal.signal(signum, handler)
    _interrupts.previous = {}
    sys.unraisablehook = _interrupts.previous_unraisable_hook


def _quiet_about_swallowed_interrupts(unraisable) -> None:
    """A KeyboardInterrupt swallowed where exceptions cannot propagate is not a traceback for the
    user: its record makes it act at the next safe point."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and _interrupts.pending:
        return
    _interrupts.previous_unraisable_hook(unraisable)


@contextlib.contextmanager
def interrupts_recorded(at_once: bool = True) -> Iterator[None]:
    """Records Ctrl+C and SIGTERM for the length of the block (in the main thread; elsewhere a no-op).

    at_once: the signal also acts at once, as without the guard, except inside `interrupts_held`;
    otherwise the block looks at `interrupt_pending()` itself. A signal recorded and not acted on
    acts when the outermost block ends; one that ends the process by default does so after the
    block's clean-ups."""
    if not _in_main_thread():
        yield
        return
    outermost = not _interrupts.at_once
    if outermost:
        _enter_outermost_guard(at_once)
    else:
        _interrupts.at_once.append(at_once)
    try:
        yield
    except BaseException as exc:
        _leave_guard(outermost, exc)
        raise
    _leave_guard(outermost, None)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """No Ctrl+C or SIGTERM reaches the process during the block; one that comes is delivered
    after it, to the handler in place then. A handler switch in the block is never half done."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _enter_outermost_guard(at_once: bool) -> None:
    with _signals_blocked():
        _interrupts.pending = []
        try:
            _install_recorder()
        except BaseException:  # a signal taken by the handler being replaced
            _restore_handlers()
            raise
        _interrupts.at_once.append(at_once)


def _leave_guard(outermost: bool, unwinding: BaseException | None) -> None:
    _interrupts.at_once.pop()
    if not outermost:
        return
    with _signals_blocked():
        previous = dict(_interrupts.previous)
        _restore_handlers()
        pending, _interrupts.pending = _interrupts.pending, []
    if isinstance(unwinding, _SignalExit):
        signal.raise_signal(unwinding.signum)
    elif pending and not isinstance(unwinding, KeyboardInterrupt):
        handler = previous.get(pending[0], signal.default_int_handler)
        if callable(handler):
            handler(pending[0], None)
        else:
            signal.raise_signal(pending[0])


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl+C and SIGTERM are only recorded during the block (the renames of a commit, clean-ups);
    they act at the next `check_interrupt` or when the outermost `interrupts_recorded` ends."""
    if not _in_main_thread():
        yield
        return
    _interrupts.holds += 1
    try:
        yield
    finally:
        _interrupts.holds -= 1


def interrupt_pending() -> bool:
    """True once Ctrl+C or SIGTERM came during an `interrupts_recorded` block."""
    return bool(_interrupts.pending)


def check_interrupt() -> None:
    """A safe point: a recorded Ctrl+C or SIGTERM acts now (KeyboardInterrupt)."""
    if _interrupts.pending and _in_main_thread():
        _act(_interrupts.pending[0])
