"""The shape of the package: no import cycle between its modules, a public API in each one, and
no heavy import that a notebook's first cell does not need."""

import ast
import importlib
import subprocess
import sys

import pytest

from gle_utils.config import REPO_ROOT

PACKAGE = REPO_ROOT / "gle_utils"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def module_name(path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path) -> set[str]:
    """The gle_utils modules a file imports, at its top or inside a function (both count: an import
    inside a function hides a cycle, it does not remove it)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {target} | {f"{target}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def import_graph() -> dict[str, set[str]]:
    names = {module_name(p) for p in MODULES}
    return {module_name(p): (imported_modules(p) & names) - {module_name(p), "gle_utils"} for p in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every module that can reach itself through imports, with the path that does."""
    found = []
    for start in graph:
        stack = [(start, [start])]
        seen = set()
        while stack:
            module, path = stack.pop()
            for target in graph[module]:
                if target == start:
                    found.append(path + [start])
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, path + [target]))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})[0] == ["a", "b", "c", "a"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_gle_utils_imports_itself_through_others():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_every_module_says_what_its_public_names_are(path):
    module = importlib.import_module(module_name(path))
    assert hasattr(module, "__all__"), f"{module.__name__} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module.__name__}.__all__ names what it does not define: {missing}"
    defined_here = [name for name, value in vars(module).items() if not name.startswith("_")
                    and getattr(value, "__module__", None) == module.__name__ and callable(value)]
    unlisted = sorted(set(defined_here) - set(module.__all__))
    assert not unlisted, f"{module.__name__} defines public functions or classes not in __all__: {unlisted}"


def test_the_pipeline_imports_neither_tensorflow_nor_skops_until_it_needs_them():
    """Importing what a notebook imports costs neither TensorFlow (about 4 s of CPU) nor skops
    (about half a second): they are imported by the functions that run a network or save a model."""
    code = ("import sys; from gle_utils import ensemble, faces, features, pipeline, predict, scene; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'skops') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
