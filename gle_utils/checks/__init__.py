"""The checks of the exercises, written once and run three ways.

``nbNN.py`` holds the checks of notebook NN. A check is a function of the notebook's namespace
(what its exercise cells defined), marked with the exercise function it tests::

    @exercise("majority_baseline")
    def majority_baseline_on_gaf_table_1(ex):
        assert ex["majority_baseline"](train, val) == pytest.approx(773 / 2065)

and listed in the module's ``__all__`` (a test checks that every marked function is).

The same checks run in ``make check NB=NN`` (pytest, ``tests/exercises/check_exercises.py``, on
your notebook in ``notebooks/student/``), in ``tests/test_exercises.py`` (on the solution and on
the blank), and in the autograded test cell that follows each exercise in the nbgrader course:
``check("NN", "majority_baseline", globals())``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Callable

__all__ = ["Check", "check", "checks_of", "exercise"]

Check = Callable[[dict], None]  # a check: a function of the namespace of a notebook's exercise cells


def exercise(function: str) -> Callable[[Check], Check]:
    """Mark a check as one of those of the exercise that asks for ``function``."""
    def mark(check: Check) -> Check:
        check.exercise = function
        return check
    return mark


def checks_of(notebook: str) -> dict[str, list[Check]]:
    """{exercise function: its checks}, in the order nbNN.py defines them."""
    try:
        module = importlib.import_module(f"{__name__}.nb{notebook}")
    except ModuleNotFoundError as error:
        raise ValueError(f"no checks for notebook {notebook!r} (expected gle_utils/checks/nb{notebook}.py)") from error
    found: dict[str, list[Check]] = {}
    for value in vars(module).values():
        if callable(value) and hasattr(value, "exercise"):
            found.setdefault(value.exercise, []).append(value)
    return found


def check(notebook: str, function: str, namespace: dict) -> None:
    """Run every check of one exercise on a notebook's namespace; the first that fails raises.

    In a notebook: ``check("05", "selected_distances", globals())``.
    """
    every = checks_of(notebook)
    if function not in every:
        raise ValueError(f"notebook {notebook} has no exercise {function!r}; it has {sorted(every)}")
    if function not in namespace:
        raise NameError(f"{function} is not defined: run the exercise cell above first")
    for one in every[function]:
        try:
            # nbgrader gives 0 points to a test cell that writes to stderr, warnings included.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                one(namespace)
        except Exception as error:
            # Says which check failed and what it tests, under the assertion's own traceback.
            error.add_note(f"Failed check: {one.__name__.replace('_', ' ')} (gle_utils/checks/nb{notebook}.py)")
            raise
    print(f"{function}: all {len(every[function])} checks passed")
