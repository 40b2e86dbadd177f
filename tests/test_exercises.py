"""The exercises: every check passes on the solution and fails on the blank; student versions up to date.

The checks run in this process, on the namespace the exercise cells leave behind, as nbgrader's
test cells and `make check` run them.
"""

import importlib.util
from functools import cache
from pathlib import Path

import nbformat
import pytest

from gle_utils.checks import check, checks_of
from gle_utils.exercises import (blank_solutions, course_version, exercise_functions, is_exercise, notebook_key,
                                 run_exercise_cells, student_version)

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = [(path, function) for path in NOTEBOOKS
             for cell in nbformat.read(path, as_version=4).cells if is_exercise(cell)
             for function in exercise_functions(cell.source)]


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def namespaces(path: Path) -> tuple[dict, dict]:
    """What the exercise cells define: in the teacher's notebook, and in its student version."""
    course = course_version(nbformat.read(path, as_version=4), notebook_key(path))
    solution = run_exercise_cells([c.source for c in course.cells if is_exercise(c)], path.name)
    blank = run_exercise_cells([c.source for c in student_version(course).cells if is_exercise(c)], path.name)
    return solution, blank


def test_blank_solutions_keeps_the_signature_and_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\ny = 2\n"
    assert blank_solutions(source) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\ny = 2\n"


def test_student_versions_are_up_to_date(capsys):
    make_student = _load_tool("make_student")
    out_of_date = make_student.write_students(make_student.course_notebooks(), check=True)
    assert not out_of_date, capsys.readouterr().out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_exercise_has_checks_and_every_check_an_exercise(path):
    functions = [function for p, function in EXERCISES if p == path]
    assert 2 <= len(functions) <= 4, "each notebook has 2 to 4 exercises"
    assert sorted(checks_of(notebook_key(path))) == sorted(functions)


@pytest.mark.parametrize("path, function", EXERCISES, ids=[f"{p.stem[:2]}-{f}" for p, f in EXERCISES])
def test_checks_pass_on_the_solution_and_each_fails_on_the_blank(path, function, capsys):
    solution, blank = namespaces(path)
    check(notebook_key(path), function, solution)
    assert "checks passed" in capsys.readouterr().out
    for one in checks_of(notebook_key(path))[function]:
        with pytest.raises(Exception):  # noqa: B017 (NotImplementedError, or an assertion on what it returns)
            one(blank)


def test_a_failed_check_says_which():
    wrong = {"majority_baseline": lambda train, val: 0.5}
    with pytest.raises(AssertionError) as failure:
        check("01", "majority_baseline", wrong)
    assert "Failed check: majority baseline on gaf table 1" in "\n".join(failure.value.__notes__)
    with pytest.raises(NameError, match="run the exercise cell"):
        check("01", "faceless_share", wrong)
    with pytest.raises(ValueError, match="no exercise"):
        check("01", "no_such_function", wrong)
