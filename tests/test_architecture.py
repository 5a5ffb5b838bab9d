"""The arrows point one way: bot -> knowledge, bot -> detector; the cores know no platform."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_LIBS = {"discord", "pydiscourse", "aiohttp", "requests"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["detector", "knowledge", "bot/core"])
def test_core_packages_import_no_platform_code(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    for f in files:
        bad = _imports(f) & (PLATFORM_LIBS | ({"bot"} if package != "bot/core" else set()))
        assert not bad, f"{f.relative_to(ROOT)} imports {sorted(bad)}"
