"""The exercises: student versions up to date; every check passes on the solution, fails on the blank."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gle_utils.exercises import blank_solutions, exercise_cells

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECKS = sorted((REPO_ROOT / "tests" / "exercises").glob("check_*.py"))


def test_blank_solutions_keeps_the_signature_and_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\ny = 2\n"
    assert blank_solutions(source) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\ny = 2\n"


def test_student_versions_are_up_to_date():
    result = subprocess.run([sys.executable, "tools/make_student.py", "--check"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_has_exercises_with_a_check(path):
    cells = exercise_cells(path)
    assert cells, "no cell tagged 'exercise'"
    assert all("### BEGIN SOLUTION" in c for c in cells)
    assert (REPO_ROOT / "tests" / "exercises" / f"check_{path.stem}.py").is_file()
    tests = (REPO_ROOT / "tests" / "exercises" / f"check_{path.stem}.py").read_text().count("\ndef test_")
    assert 2 <= tests, "each notebook has 2 to 4 exercises, each with a check"


def run_check(check: Path, notebook: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXERCISE_NOTEBOOK": str(notebook)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(check)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("check", CHECKS, ids=[c.stem for c in CHECKS])
def test_check_passes_on_the_solution_and_fails_on_the_blank(check):
    stem = check.stem.removeprefix("check_")
    solution = run_check(check, REPO_ROOT / "notebooks" / f"{stem}.ipynb")
    assert solution.returncode == 0, solution.stdout[-3000:]
    blank = run_check(check, REPO_ROOT / "notebooks" / "student" / f"{stem}.ipynb")
    assert blank.returncode != 0
    assert " passed" not in blank.stdout.splitlines()[-1], "some checks pass without any answer"
