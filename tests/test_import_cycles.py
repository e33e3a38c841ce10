"""No import circles anywhere in engine/: every import statement counts, those inside functions
too, and a package's __init__ is a module like any other (import-linter's contracts look at
siblings; this looks at every module against every other)."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _modules(root: Path, package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(name: str, modules: dict[str, Path]) -> str | None:
    """The module an imported name lives in (a name inside a module is the module)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """{module imported: line of its first import} for every import statement in the file."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            names = [n for n in (f"{base}.{alias.name}" for alias in node.names) if n in modules] or [base]
        else:
            continue
        for name in names:
            target = _imported(name, modules)
            if target is not None and target != module:
                found.setdefault(target, node.lineno)
    return found


def _circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph[target])))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def _described_circles(root: Path, package: str) -> list[str]:
    modules = _modules(root, package)
    graph = {module: _imports(module, path, modules) for module, path in modules.items()}
    return [" ; ".join(f"{a}:{graph[a][b]} -> {b}" for a in circle for b in graph[a] if b in circle)
            for circle in _circles(graph)]


def test_the_engine_has_no_import_circles():
    assert len(_modules(REPO, "engine")) > 50  # the scan sees the engine
    circles = _described_circles(REPO, "engine")
    assert not circles, "import circles: " + " | ".join(circles)


def test_a_circle_through_a_function_level_import_or_a_package_init_is_found(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import a\n    return a\n")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub.c import g\n")
    (pkg / "sub" / "c.py").write_text("from .. import sub\ng = sub\n")
    (pkg / "d.py").write_text("import pkg.a\n")
    assert sorted(_described_circles(tmp_path, "pkg")) == [
        "pkg.a:1 -> pkg.b ; pkg.b:2 -> pkg.a", "pkg.sub:1 -> pkg.sub.c ; pkg.sub.c:1 -> pkg.sub"]
