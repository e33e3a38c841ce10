"""Every problem the window shows is one line a user understands; the detail (a library's own
paragraph, a traceback) goes to the log ("monocap.app", the launcher's log file, docs/BUNDLE.md)."""

from __future__ import annotations

import logging
import re

log = logging.getLogger("monocap.app")

MAX_CHARS = 220  # longer than this, a line is cut (the strip elides it further, its tooltip shows it)
_INTERNAL = re.compile(r"^(?P<head>.*?)internal error: (?P<kind>[A-Za-z_][\w.]*): ?(?P<rest>.*)$", re.DOTALL)


def one_line(text: str) -> str:
    """`text` as one line for the user; a longer text, or a library's internal error, is logged whole."""
    text = str(text).strip()
    m = _INTERNAL.match(text)
    if m is not None:
        log.warning("%s", text)
        return f"{m['head']}Monocap hit an internal problem ({m['kind']}); the details are in the log."
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first != text or len(first) > MAX_CHARS:
        log.warning("%s", text)
        if len(first) > MAX_CHARS:
            first = first[: MAX_CHARS - 1].rstrip() + "…"
        if not first.endswith("…") and first != text:
            first = first.rstrip(".:;, ") + " (more in the log)"
    return first
