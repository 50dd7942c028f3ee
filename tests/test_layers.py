"""The layering of docs/architecture.md, enforced: hub -> connectors -> graph -> authz."""

from __future__ import annotations

import ast

import pytest

from tests.support import ROOT

# What each top-level package may import from the project (besides itself).
ALLOWED = {
    "hub": {"connectors", "graph", "authz"},
    "connectors": {"graph", "authz"},
    "graph": {"authz"},
    "authz": set(),
}
PROJECT_PACKAGES = {"hub", "connectors", "graph", "authz", "sandbox", "tests", "benchmarks"}
# The hub reaches the sandbox only over HTTP; only the commands that start it import it.
SANDBOX_STARTERS = {"hub/cli.py", "hub/sandbox_setup.py", "hub/demo.py"}


def project_imports(package: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in PROJECT_PACKAGES and top != package:
                    found.add((str(path.relative_to(ROOT)), top))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_below(package: str) -> None:
    violations = {
        (f, top)
        for f, top in project_imports(package)
        if top not in ALLOWED[package] and not (top == "sandbox" and f in SANDBOX_STARTERS)
    }
    assert violations == set()


def test_sandbox_imports_none_of_the_hub() -> None:
    assert {top for _, top in project_imports("sandbox")} == set()


def test_the_check_sees_imports() -> None:
    """Guard against a walker that finds nothing: hub does import graph."""
    assert any(top == "graph" for _, top in project_imports("hub"))
