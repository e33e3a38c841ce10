"""The bundle's launcher: GUI with no arguments, the engine's command line with a subcommand."""

import sys

import pytest

from desktop import launcher


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("MONOCAP_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))


def test_version_and_log_file(tmp_path, capsys):
    from engine import __version__

    assert launcher.main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    log = (tmp_path / "logs" / "monocap.log").read_text()
    assert "argv ['--version']" in log and "exit 0" in log


def test_subcommands_go_to_the_engine_cli(monkeypatch):
    seen = []
    import engine.cli

    monkeypatch.setattr(engine.cli, "main", lambda argv: seen.append(argv) or 7)
    assert launcher.main(["batch", "a.mp4", "-o", "out"]) == 7
    assert seen == [["batch", "a.mp4", "-o", "out"]]


def test_usage_errors_give_an_exit_code_not_an_exception(capsys):
    assert launcher.main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_no_arguments_without_the_app_package_explains(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "app", None)  # as if app/ were not there
    monkeypatch.setitem(sys.modules, "app.main", None)
    assert launcher.main([]) == launcher.EXIT_NO_GUI
    err = capsys.readouterr().err
    assert "no GUI" in err and "monocap process" in err
