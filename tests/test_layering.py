"""engine never imports Qt or app; nothing imports app; engine and app never import training."""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports(package: str) -> set[str]:
    found = set()
    for path in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_engine_imports_neither_qt_nor_app_nor_training():
    assert not _imports("engine") & {"PySide6", "pyqtgraph", "app", "training", "PyQt5", "PyQt6"}


def test_app_does_not_import_training():
    if (REPO / "app").is_dir():
        assert "training" not in _imports("app")


def test_engine_works_with_qt_blocked():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'app'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import engine.cli, engine.session.pipeline, engine.core.take, engine.animation.bvh_reader\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
