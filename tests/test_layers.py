"""Imports follow the data flow: data <- core <- {api, dashboard}; one composition root mounts both."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORT_RE = re.compile(r"^\s*(?:from|import)\s+(api|core|dashboard|data)(?:\.|\s|$)", re.MULTILINE)
FORBIDDEN = {"data": {"core", "api", "dashboard"}, "core": {"api", "dashboard"}, "dashboard": {"api"}}
COMPOSITION_ROOT = ROOT / "api" / "server.py"


def _imports(layer: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for m in IMPORT_RE.finditer(path.read_text(encoding="utf-8")):
            found.append((path, m.group(1)))
    return found


def test_no_layer_imports_upward():
    bad = [(str(p.relative_to(ROOT)), target) for layer, targets in FORBIDDEN.items()
           for p, target in _imports(layer) if target in targets]
    assert bad == []


def test_only_the_composition_root_imports_the_dashboard_from_api():
    importers = {p for p, target in _imports("api") if target == "dashboard"}
    assert importers <= {COMPOSITION_ROOT}


def test_no_layer_but_the_cli_imports_the_benchmarks():
    bench_re = re.compile(r"^\s*(?:from|import)\s+bench(?:\.|\s|$)", re.MULTILINE)
    importers = {str(p.relative_to(ROOT)) for layer in ("data", "core", "api", "dashboard")
                 for p in sorted((ROOT / layer).rglob("*.py")) if bench_re.search(p.read_text(encoding="utf-8"))}
    assert importers <= {"api/cli.py"}
