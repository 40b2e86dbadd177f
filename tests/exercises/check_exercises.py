"""Check your answers to the exercises: ``make check NB=05`` (one notebook), ``make check`` (all).

Each test runs one check of gle_utils/checks/nbNN.py on what the exercise cells of your
notebooks/student/NN_*.ipynb define (or of the notebook named by $EXERCISE_NOTEBOOK). A test's
name starts with its notebook: ``nb05-selected_distances-...``, so ``pytest -k nb05`` selects
notebook 05 (what ``make check NB=05`` runs).

`make test` does not collect this file (its name does not start with ``test_``): on the blank
student versions every check fails. tests/test_exercises.py runs the same checks on the solutions.
"""

import sys
from functools import cache

import pytest

if "gle_utils.checks" not in sys.modules:
    # pytest's detailed assertion messages (the values compared) for checks that live in the package.
    pytest.register_assert_rewrite("gle_utils.checks")

from gle_utils.checks import checks_of  # noqa: E402
from gle_utils.config import notebook_paths  # noqa: E402
from gle_utils.exercises import load_exercises, notebook_key  # noqa: E402

# (notebook stem, check) for every check of every numbered notebook, in order.
CHECKS = [(path.stem, one) for path in notebook_paths(appendices=False)
          for ones in checks_of(notebook_key(path)).values() for one in ones]


@cache
def exercises_of(stem: str) -> dict:
    """What the exercise cells of the notebook define, run once for all its checks."""
    return load_exercises(stem)


@pytest.mark.parametrize("stem, one", CHECKS,
                         ids=[f"nb{notebook_key(stem)}-{one.exercise}-{one.__name__}" for stem, one in CHECKS])
def test_exercise(stem, one):
    one(exercises_of(stem))
