"""Exercises at the end of every notebook, the nbgrader way, and their checks.

In a notebook, each exercise is a code cell tagged ``exercise`` whose solution sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers, so a course can hand the
notebooks to ``nbgrader generate_assignment`` as they are). ``student_version`` replaces each
solution by ``raise NotImplementedError()`` and clears every output: ``tools/make_student.py``
writes those versions to ``notebooks/student/``.

A student checks their work with ``make check NB=05`` (or ``pytest tests/exercises/check_05_*.py``):
the check file loads the exercise cells of ``notebooks/student/NN_*.ipynb`` (or of the notebook
named by the ``EXERCISE_NOTEBOOK`` environment variable) and tests the functions they define.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat

from .config import REPO_ROOT

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUDENT_DIR = REPO_ROOT / "notebooks" / "student"
_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*\n?", re.M | re.S)


def blank_solutions(source: str) -> str:
    """Replace every marked solution by a line that fails until the student writes their own."""
    return _SOLUTION.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()\n", source)


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with its solutions blanked and every output cleared."""
    student = nbformat.from_dict(notebook)
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.source = blank_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
    student.metadata.pop("papermill", None)
    return student


def exercise_cells(notebook_path: str | Path) -> list[str]:
    """The sources of the cells tagged ``exercise`` in a notebook."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return [c.source for c in notebook.cells if c.cell_type == "code" and "exercise" in c.metadata.get("tags", [])]


def load_exercises(notebook_stem: str) -> dict:
    """Run the exercise cells of a notebook and return what they define (functions, constants).

    The notebook is ``$EXERCISE_NOTEBOOK`` when set, else ``notebooks/student/<stem>.ipynb``.
    Exercise cells must be self-contained: their own imports, no use of earlier cells.
    """
    path = Path(os.environ.get("EXERCISE_NOTEBOOK") or STUDENT_DIR / f"{notebook_stem}.ipynb")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such notebook (make the student versions: python tools/make_student.py)")
    namespace: dict = {"__name__": f"exercises_{notebook_stem}"}
    for source in exercise_cells(path):
        exec(compile(source, f"{path.name} (exercise cell)", "exec"), namespace)
    return namespace
