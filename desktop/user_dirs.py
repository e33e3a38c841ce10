"""The user's standard folders for Monocap's logs, settings and caches, with no extra dependencies.

Linux follows the XDG base directories, macOS the ~/Library folders, Windows the AppData folders:

=========  ====================================  ===================================  ================================
           Linux                                 macOS                                Windows
=========  ====================================  ===================================  ================================
logs       $XDG_STATE_HOME/monocap/logs          ~/Library/Logs/Monocap               %LOCALAPPDATA%\\Monocap\\Logs
           (default ~/.local/state/...)
config     $XDG_CONFIG_HOME/monocap              ~/Library/Application Support/Monocap  %APPDATA%\\Monocap
           (default ~/.config/...)
cache      $XDG_CACHE_HOME/monocap               ~/Library/Caches/Monocap             %LOCALAPPDATA%\\Monocap\\Cache
           (default ~/.cache/...)
=========  ====================================  ===================================  ================================

MONOCAP_LOG_DIR overrides the log folder (for a portable install or a test). The GUI keeps its
settings in QSettings, which already uses the platform's standard place
(~/.config/Monocap/Monocap.conf on Linux, the registry on Windows, a plist on macOS).

The functions only compute paths; `ensure` creates one. Nothing here runs at import time.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

APP_NAME = "monocap"  # Linux folder names are lower case by convention
APP_TITLE = "Monocap"  # macOS and Windows folder names
LOG_FILE = "monocap.log"


def _platform(platform: str | None) -> str:
    platform = platform or sys.platform
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def _xdg(env: dict, var: str, default_under_home: str) -> Path:
    value = env.get(var, "")
    # The XDG spec: a relative path in one of these variables is invalid and is ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / default_under_home


def _windows_base(env: dict, var: str, fallback: str) -> Path:
    value = env.get(var, "")
    if value:
        return Path(value)
    return Path(env.get("USERPROFILE") or Path.home()) / fallback


def log_dir(platform: str | None = None, env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get("MONOCAP_LOG_DIR", "")
    if override:
        return Path(override)
    kind = _platform(platform)
    if kind == "windows":
        return _windows_base(env, "LOCALAPPDATA", "AppData/Local") / APP_TITLE / "Logs"
    if kind == "macos":
        return Path(env.get("HOME") or Path.home()) / "Library" / "Logs" / APP_TITLE
    return _xdg(env, "XDG_STATE_HOME", ".local/state") / APP_NAME / "logs"


def config_dir(platform: str | None = None, env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    kind = _platform(platform)
    if kind == "windows":
        return _windows_base(env, "APPDATA", "AppData/Roaming") / APP_TITLE
    if kind == "macos":
        return Path(env.get("HOME") or Path.home()) / "Library" / "Application Support" / APP_TITLE
    return _xdg(env, "XDG_CONFIG_HOME", ".config") / APP_NAME


def cache_dir(platform: str | None = None, env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    kind = _platform(platform)
    if kind == "windows":
        return _windows_base(env, "LOCALAPPDATA", "AppData/Local") / APP_TITLE / "Cache"
    if kind == "macos":
        return Path(env.get("HOME") or Path.home()) / "Library" / "Caches" / APP_TITLE
    return _xdg(env, "XDG_CACHE_HOME", ".cache") / APP_NAME


def ensure(path: Path) -> Path | None:
    """Creates the folder; None when it cannot be created (read-only home, no permission)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def configure_logging(name: str = "monocap", level: int = logging.INFO) -> Path | None:
    """Sends the `monocap` loggers (and the root logger's warnings) to a rotating file in log_dir().

    Returns the log file's path, or None when the folder cannot be written; the program then runs
    without a log file rather than failing. Nothing is printed to the terminal from here.
    """
    folder = ensure(log_dir())
    if folder is None:
        return None
    path = folder / LOG_FILE
    try:
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    logger = logging.getLogger(name)
    logger.setLevel(level)
    return path
