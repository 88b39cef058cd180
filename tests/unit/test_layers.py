"""The web layer's seams (issue 18): the widget gateway (bot/gateway) and the staff console (bot/console)
share bot/web, and neither imports the other's modules, but for the composition root that builds and
mounts both (bot/gateway/app.py). The shared package imports neither. Imports are read from the source
(ast), so an import inside a function or under TYPE_CHECKING counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOTS = {"bot/gateway/app.py"}
# Each package, and the packages it must not import from.
FORBIDDEN = {
    "bot.gateway": ("bot.console",),
    "bot.console": ("bot.gateway",),
    "bot.web": ("bot.gateway", "bot.console"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file; `from a import b` counts as a.b as well as a."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ""
    if path.is_relative_to(ROOT):
        package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def crossings() -> list[str]:
    wrong = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
            if str(path.relative_to(ROOT)) in COMPOSITION_ROOTS:
                continue
            for line, module in imported_modules(path):
                if any(within(module, other) for other in forbidden):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return sorted(set(wrong))


def test_no_web_part_imports_the_others_internals() -> None:
    assert crossings() == []


def test_the_composition_root_exists_and_is_the_only_place_both_meet() -> None:
    root = ROOT / "bot/gateway/app.py"
    imported = {module for _, module in imported_modules(root)}
    assert any(within(module, "bot.console") for module in imported)
    assert any(within(module, "bot.web") for module in imported)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from bot.console.hub import ConsoleHub\n", True),
        ("import bot.console.desk\n", True),
        ("from bot import console\n", True),
        ("def f():\n    from bot.console import keys\n", True),
        ("from bot.web.relay import Relay\n", False),
        ("from bot.consoles import x\n", False),
    ],
)
def test_the_walk_sees_every_form_of_import(tmp_path: Path, source: str, expected: bool) -> None:
    path = tmp_path / "module.py"
    path.write_text(source, encoding="utf-8")
    modules = [module for _, module in imported_modules(path)]
    assert any(within(module, "bot.console") for module in modules) is expected


def test_a_relative_import_is_resolved() -> None:
    modules = {module for _, module in imported_modules(ROOT / "bot/console/__init__.py")}
    assert all(not module.startswith(".") for module in modules)


# Issue 18: no module over about 300 lines without a reason written at its top.
LONG_MODULE_LINES = 320
REASON = ("on purpose", "long because")


def test_a_long_module_says_why_at_its_top() -> None:
    unexplained = []
    for path in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "actions").rglob("*.py")]):
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines <= LONG_MODULE_LINES:
            continue
        docstring = (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").lower()
        if not any(reason in docstring for reason in REASON):
            unexplained.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert not unexplained, f"split these modules, or say at the top why they are long: {unexplained}"
