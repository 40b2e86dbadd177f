"""The exercises: every check passes on the solution and fails on the blank; student versions up to date.

The checks run in this process, on the namespace the exercise cells leave behind, as nbgrader's
test cells run them; one test runs `make check`'s file as a student would.
"""

import importlib
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import nbformat
import pytest

from gle_utils.checks import check, checks_of
from gle_utils.config import REPO_ROOT, notebook_paths
from gle_utils.exercises import (blank_solutions, course_notebooks, course_version, exercise_functions, is_exercise,
                                 notebook_key, relinked, run_exercise_cells, student_version, write_students)

NOTEBOOKS = notebook_paths(appendices=False)
EXERCISES = [(path, function) for path in NOTEBOOKS
             for cell in nbformat.read(path, as_version=4).cells if is_exercise(cell)
             for function in exercise_functions(cell.source)]


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
    out_of_date = write_students(course_notebooks(), check_only=True)
    assert not out_of_date, capsys.readouterr().out


def test_write_students_rewrites_what_is_stale_and_removes_what_is_not_a_notebook_of_the_course(tmp_path, capsys):
    path = NOTEBOOKS[0]
    courses = {path.stem: course_version(nbformat.read(path, as_version=4), notebook_key(path))}
    (tmp_path / "99_gone.ipynb").write_text("{}")
    assert write_students(courses, check_only=True, folder=tmp_path) == 1
    out = capsys.readouterr().out
    assert f"{path.stem}.ipynb" in out and "99_gone.ipynb" in out and "run: python tools/make_course.py" in out
    assert (tmp_path / "99_gone.ipynb").exists(), "check_only wrote nothing"
    assert write_students(courses, folder=tmp_path) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{path.stem}.ipynb"]
    student = nbformat.read(tmp_path / f"{path.stem}.ipynb", as_version=4)
    assert student == relinked(student_version(courses[path.stem]), set(courses), tmp_path)
    assert write_students(courses, check_only=True, folder=tmp_path) == 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_exercise_has_checks_and_every_check_an_exercise(path):
    functions = [function for p, function in EXERCISES if p == path]
    assert 2 <= len(functions) <= 4, "each notebook has 2 to 4 exercises"
    assert sorted(checks_of(notebook_key(path))) == sorted(functions)
    module = importlib.import_module(f"gle_utils.checks.nb{notebook_key(path)}")
    marked = [one.__name__ for ones in checks_of(notebook_key(path)).values() for one in ones]
    assert sorted(module.__all__) == sorted(marked), "__all__ lists every check, and only the checks"


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
        check("01", "faceless_share_by_class", wrong)
    with pytest.raises(ValueError, match="no exercise"):
        check("01", "no_such_function", wrong)


def test_make_check_runs_the_checks_of_one_notebook_on_the_notebook_given():
    """`make check NB=01`, on the teacher's notebook (EXERCISE_NOTEBOOK): its checks pass, no other runs."""
    n_checks = sum(len(ones) for ones in checks_of("01").values())
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/exercises/check_exercises.py", "-k", "nb01"], cwd=REPO_ROOT,
                            env={**os.environ, "EXERCISE_NOTEBOOK": str(NOTEBOOKS[0])},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]
    assert f"{n_checks} passed" in result.stdout and "failed" not in result.stdout
