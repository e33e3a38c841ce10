"""Where the bundle writes its logs and settings, on each platform, with no extra dependency."""

from pathlib import Path, PurePath

from desktop import user_dirs


def test_linux_follows_xdg_and_ignores_relative_values():
    env = {"HOME": "/home/ana"}
    assert user_dirs.log_dir("linux", env) == Path("/home/ana/.local/state/monocap/logs")
    assert user_dirs.config_dir("linux", env) == Path("/home/ana/.config/monocap")
    assert user_dirs.cache_dir("linux", env) == Path("/home/ana/.cache/monocap")
    env = {"HOME": "/home/ana", "XDG_STATE_HOME": "/data/state", "XDG_CONFIG_HOME": "relative/ignored"}
    assert user_dirs.log_dir("linux", env) == Path("/data/state/monocap/logs")
    assert user_dirs.config_dir("linux", env) == Path("/home/ana/.config/monocap")


def test_macos_and_windows_use_their_standard_folders():
    assert user_dirs.log_dir("darwin", {"HOME": "/Users/ana"}) == Path("/Users/ana/Library/Logs/Monocap")
    assert user_dirs.cache_dir("darwin", {"HOME": "/Users/ana"}) == Path("/Users/ana/Library/Caches/Monocap")
    env = {"LOCALAPPDATA": "C:/Users/ana/AppData/Local", "APPDATA": "C:/Users/ana/AppData/Roaming"}
    assert PurePath(user_dirs.log_dir("win32", env)).parts[-3:] == ("Local", "Monocap", "Logs")
    assert PurePath(user_dirs.config_dir("win32", env)).parts[-2:] == ("Roaming", "Monocap")


def test_override_and_an_unwritable_folder_do_not_fail(tmp_path, monkeypatch):
    monkeypatch.setenv("MONOCAP_LOG_DIR", str(tmp_path / "logs"))
    assert user_dirs.log_dir() == tmp_path / "logs"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert user_dirs.ensure(blocker / "sub") is None
