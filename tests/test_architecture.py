"""The house: wings by stage with imports one way, no circles, one home for every public name,
and a command line whose help imports no geometry library."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import geo

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "geo"
WINGS = ("io", "engine", "planning", "render", "cli", "qgis")
#: The base modules at the top of the package, below every wing.
BASE = {"__init__.py", "_threads.py", "_version.py", "constants.py", "crs.py", "errors.py", "names.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _geo_imports() -> dict[str, set[str]]:
    """Every module of geo and the geo modules it imports, at any depth (inside functions too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            found |= {t for t in targets if t in modules and t != name}
        graph[name] = found
    return graph


def test_the_import_contracts_hold():
    """import-linter's contracts in pyproject.toml: the layers, the verbs' independence, drawing in render.

    Run in its own process: import-linter reconfigures logging and would silence geo's logger here."""
    code = (
        "import sys\nfrom importlinter.cli import lint_imports\n"
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True, no_logo=True))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 kept, 0 broken" in run.stdout


def test_no_import_circle_anywhere_counting_imports_inside_functions():
    graph = _geo_imports()
    # The package's own __init__ names the public API lazily; no module imports it back for a name.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for v in graph:
        if v not in index:
            visit(v)
    assert circles == []


def test_wing_imports_run_one_way_by_our_own_reading():
    """A second reading of the layers, independent of import-linter: no module imports a wing above its own."""
    rank = {"geo.cli": 5, "geo.qgis": 5, "geo.render": 4, "geo.planning": 3, "geo.engine": 2, "geo.io": 1}

    def level(module: str) -> int:
        return next((r for prefix, r in rank.items() if module == prefix or module.startswith(prefix + ".")), 0)

    upward = [
        (a, b)
        for a, targets in _geo_imports().items()
        if a != "geo"
        for b in targets
        if level(b) > level(a) or (b == "geo")
    ]
    assert upward == []


def test_the_package_is_wings_and_a_few_base_modules():
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == BASE
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(WINGS)


def test_every_public_name_has_one_home():
    for name in geo.__all__:
        if name == "__version__":
            continue
        value = getattr(geo, name)
        home = geo._HOMES[name]
        assert getattr(importlib.import_module(home), name) is value
        if hasattr(value, "__module__") and callable(value):
            assert value.__module__ == home, f"geo.{name} is defined in {value.__module__}, listed in {home}"
    # No other module of geo hands the same function or class on as if it were its own (a re-export).
    graph = _geo_imports()
    for module in graph:
        if module == "geo" or module.endswith("__main__") or module in ("geo.qgis", "geo.qgis.provider"):
            continue  # (the provider needs QGIS itself: tests/test_qgis.py imports it inside QGIS)
        mod = importlib.import_module(module)
        for attr in getattr(mod, "__all__", ()):
            value = getattr(mod, attr)
            if callable(value) and getattr(value, "__module__", module).startswith("geo"):
                assert value.__module__ == module, f"{module}.__all__ lists {attr}, whose home is {value.__module__}"


def test_no_private_name_of_another_package_is_imported():
    # A private name (``_res``, ``pkg._module``) is not part of a package's promise: it may change in
    # any release and forces an exact pin. Found once (folium-offline's asset table); kept out since.
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module not in (None, "__future__"):
                if node.module.split(".")[0] == "geo":
                    continue
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] != "geo" and any(p.startswith("_") and not p.startswith("__") for p in parts):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not found, found


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["analyze", "--help"], ["where", "--help"]])
def test_help_and_version_import_no_geometry_library(argv):
    code = (
        "import sys\nfrom geo.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = ('geopandas', 'pandas', 'shapely', 'pyproj', 'numpy', 'offlinefolium')\n"
        "heavy = sorted(m for m in heavy if m in sys.modules)\n"
        "print('HEAVY', ','.join(heavy))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=dict(os.environ), timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "HEAVY", run.stdout[-500:]
