"""The app's modules stay small enough to read in one sitting: none over 450 lines. (Its import
circles are kept out by import-linter's contract "no import circles in the app".)"""

from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
MAX_LINES = 450


def test_no_app_module_is_over_450_lines():
    lines = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in APP.glob("*.py")}
    assert lines, "no app modules found"
    assert not {name: n for name, n in lines.items() if n > MAX_LINES}
