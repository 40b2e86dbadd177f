"""What every check_NN_*.py shares: the checks of gle_utils/checks/nbNN.py, run on your notebook.

``ex`` is what the exercise cells of notebooks/student/NN_*.ipynb define (or of the notebook named
by $EXERCISE_NOTEBOOK); ``exercise_check`` takes each check of notebook NN in turn.
"""

import sys
from pathlib import Path

import pytest

if "gle_utils.checks" not in sys.modules:
    # pytest's detailed assertion messages (the values compared) for checks that live in the package.
    pytest.register_assert_rewrite("gle_utils.checks")

from gle_utils.checks import checks_of  # noqa: E402
from gle_utils.exercises import load_exercises, notebook_key  # noqa: E402


def _stem(module) -> str:
    return Path(module.__file__).stem.removeprefix("check_")


def pytest_generate_tests(metafunc):
    if "exercise_check" in metafunc.fixturenames:
        checks = [one for ones in checks_of(notebook_key(_stem(metafunc.module))).values() for one in ones]
        metafunc.parametrize("exercise_check", checks, ids=[f"{one.exercise}-{one.__name__}" for one in checks])


@pytest.fixture(scope="module")
def ex(request):
    return load_exercises(_stem(request.module))
