"""Checks that an exercise's function does the work itself, rather than call the library function
that does it (the exercise says which library it may not use)."""

from __future__ import annotations

import contextlib
import importlib
import types
from typing import Callable, Iterable, Iterator

__all__ = ["refusing"]


class _Refused:
    """Stands in for a library object while a check runs: calling it, or anything on it, fails."""

    def __init__(self, name: str, function: str):
        self._name, self._function = name, function

    def __call__(self, *args, **kwargs):
        raise AssertionError(f"{self._function} calls {self._name}: the exercise asks you to write it yourself")

    def __getattr__(self, attribute: str) -> _Refused:
        return _Refused(f"{self._name}.{attribute}", self._function)


def _from_packages(value, packages: tuple[str, ...]) -> bool:
    name = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None) or ""
    return isinstance(name, str) and name.split(".")[0] in packages


@contextlib.contextmanager
def refusing(function: Callable, packages: Iterable[str], patched: Iterable[str] = ()) -> Iterator[None]:
    """While inside, ``function`` cannot use the ``packages`` (top-level names, e.g. "sklearn"):
    whatever of theirs its globals hold (``from sklearn.metrics import recall_score``, ``import
    scipy.stats as stats``) and each of ``patched`` ("module.name", for what it would import
    inside its body) fail when called, with an AssertionError that names them.

    >>> import math
    >>> def root(x):
    ...     return math.sqrt(x)
    >>> with refusing(root, ["math"]):
    ...     root(4.0)
    Traceback (most recent call last):
    AssertionError: root calls math.sqrt: the exercise asks you to write it yourself
    >>> root(4.0)
    2.0
    """
    packages = tuple(packages)
    own = function.__globals__
    saved_own = {name: value for name, value in own.items() if not name.startswith("__") and _from_packages(value, packages)}
    saved_patched = []
    for target in patched:
        module_name, name = target.rsplit(".", 1)
        module = importlib.import_module(module_name)
        saved_patched.append((module, name, getattr(module, name)))
    try:
        for name, value in saved_own.items():
            shown = value.__name__ if isinstance(value, types.ModuleType) else f"{value.__module__.split('.')[0]}'s {name}"
            own[name] = _Refused(shown, function.__name__)
        for module, name, _ in saved_patched:
            setattr(module, name, _Refused(f"{module.__name__}.{name}", function.__name__))
        yield
    finally:
        own.update(saved_own)
        for module, name, value in saved_patched:
            setattr(module, name, value)
