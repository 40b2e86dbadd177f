"""Exercises and written questions, the nbgrader way: the course version, the student version, the checks.

In a notebook (the teacher's version, ``notebooks/NN_*.ipynb``):

- an exercise is a code cell tagged ``exercise``; each function it asks for has its solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and its checks in ``gle_utils/checks/nbNN.py``;
- a written question is a markdown cell tagged ``question``. Its model answer is the ``## Qn``
  section of the teacher's file ``notebooks/answers/<notebook>.md`` (or a markdown cell tagged
  ``answer`` right after the question); without either, an empty answer cell is added.

``course_version`` adds what nbgrader needs: solution cells, one autograded test cell after each
exercise function (it calls ``check``, the same checks as ``make check``) and a manually graded
answer cell for each question. ``student_version`` then blanks the solutions as nbgrader's
``generate_assignment`` does and clears the outputs. ``write_course`` writes the nbgrader course
(``course/``: ``make course``), ``write_students`` the student versions (``notebooks/student/``),
whose relative links ``relinked`` rewrites so that they work from that folder.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat

from .checks import check  # the course's test cells import it from here
from .config import NOTEBOOKS_DIR, REPO_ROOT, notebook_paths, shown_path

__all__ = ["TEXT_STUB", "blank_solutions", "check", "course_notebooks", "course_version", "exercise_functions",
           "is_exercise", "load_exercises", "notebook_key", "relinked", "run_exercise_cells", "student_version",
           "write_course", "write_students"]

_BEGIN, _END = "BEGIN SOLUTION", "END SOLUTION"
_CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's stubs, so a release is the same
TEXT_STUB = "YOUR ANSWER HERE"
_EXERCISE_POINTS = 1  # per exercise function: its test cell passes every check or scores 0
_STUDENT_DIR = NOTEBOOKS_DIR / "student"   # the student versions (written by write_students)
_ANSWERS_DIR = NOTEBOOKS_DIR / "answers"   # the teacher's model answers to the written questions


def blank_solutions(source: str, stub: str = _CODE_STUB) -> str:
    """Replace every marked solution by the stub, indented like its marker (nbgrader's ClearSolutions)."""
    lines, in_solution = [], False
    for line in source.split("\n"):
        if _BEGIN in line:
            indent = re.match(r"\s*", line).group(0)
            lines += [indent + stub_line for stub_line in stub.split("\n")]
            in_solution = True
        elif _END in line:
            in_solution = False
        elif not in_solution:
            lines.append(line)
    return "\n".join(lines)


def notebook_key(path: str | Path) -> str:
    """The notebook's number, as the checks name it: "05" for 05_landmark_distances.ipynb."""
    return Path(path).stem.split("_")[0]


def is_exercise(cell) -> bool:
    return cell.cell_type == "code" and "exercise" in cell.metadata.get("tags", [])


def exercise_functions(source: str) -> list[str]:
    """The functions of an exercise cell whose body holds a solution to write, in order."""
    lines = source.split("\n")
    return [node.name for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and any(_BEGIN in line for line in lines[node.lineno - 1:node.end_lineno])]


def _exercise_cells(notebook_path: str | Path) -> list[str]:
    """The sources of the cells tagged ``exercise`` in a notebook."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return [cell.source for cell in notebook.cells if is_exercise(cell)]


def _grading(grade_id: str, *, solution: bool = False, points: int | None = None, locked: bool = False) -> dict:
    """nbgrader's cell metadata (schema 3)."""
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _new_cell(kind: str, source: str, grade_id: str, **grading):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.id = grade_id  # a stable id, so that regenerating changes nothing
    cell.metadata = {"nbgrader": _grading(grade_id, **grading)}
    return cell


def _question_points(source: str) -> int:
    """One point per numbered question in the cell (a questionnaire may be one list), at least one."""
    return max(1, len(re.findall(r"^\s*\d+[.)]\s", source, re.M)))


def _model_answers(path: str | Path) -> dict[int, str]:
    """{n: text} of the ``## Qn`` sections of a teacher's answer file (empty when there is none)."""
    path = Path(path)
    if not path.is_file():
        return {}
    parts = re.split(r"^## Q(\d+)\b.*$", path.read_text(), flags=re.M)
    return {int(number): text.strip() for number, text in zip(parts[1::2], parts[2::2])}


def course_version(notebook: nbformat.NotebookNode, key: str,
                   answers: dict[int, str] | None = None) -> nbformat.NotebookNode:
    """The notebook as an nbgrader source: solution cells, autograded test cells, answer cells
    (holding the model answers of ``answers``, {question number: text}, where given)."""
    answers = answers or {}
    course = nbformat.from_dict(notebook)
    course.metadata.pop("papermill", None)
    cells, n_exercise_cells, n_questions = [], 0, 0
    source_cells = list(course.cells)
    for index, cell in enumerate(source_cells):
        tags = cell.metadata.get("tags", [])
        if is_exercise(cell):
            n_exercise_cells += 1
            cell.metadata["nbgrader"] = _grading(f"ex{key}_{n_exercise_cells}", solution=True)
            cells.append(cell)
            for function in exercise_functions(cell.source):
                cells.append(_new_cell(
                    "code", f"# Checks your {function} (autograded, {_EXERCISE_POINTS} point): gle_utils/checks/nb{key}.py\n"
                    f'from gle_utils.exercises import check\n\ncheck("{key}", "{function}", globals())',
                    f"test{key}_{function}", points=_EXERCISE_POINTS, locked=True))
        elif cell.cell_type == "markdown" and "answer" in tags:
            if not (index and "question" in source_cells[index - 1].metadata.get("tags", [])):
                raise ValueError(f"cell {index} is tagged 'answer' but does not follow a cell tagged 'question'")
            cells.append(cell)  # the model answer: nbgrader's release replaces it whole
        elif _BEGIN in cell.source or _END in cell.source:
            # nbgrader takes any line holding the marker for a solution, even in prose about it.
            raise ValueError(f"cell {index} holds a solution marker but is not tagged 'exercise' "
                             "(in prose, say 'the solution markers' instead)")
        else:
            cells.append(cell)
        if cell.cell_type == "markdown" and "question" in tags:
            n_questions += 1
            answer = _new_cell("markdown", answers.get(n_questions, TEXT_STUB), f"answer{key}_{n_questions}")
            following = source_cells[index + 1] if index + 1 < len(source_cells) else None
            if following is not None and following.cell_type == "markdown" and "answer" in following.metadata.get("tags", []):
                answer = following
            answer.metadata["nbgrader"] = _grading(f"answer{key}_{n_questions}", solution=True,
                                                   points=_question_points(cell.source))
            if answer is not following:
                cells.append(answer)
    course.cells = cells
    return course


def student_version(course: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The course notebook as nbgrader releases it: solutions blanked, every output cleared."""
    student = nbformat.from_dict(course)
    for cell in student.cells:
        is_solution = cell.metadata.get("nbgrader", {}).get("solution", False)
        stub = _CODE_STUB if cell.cell_type == "code" else TEXT_STUB
        blanked = blank_solutions(cell.source, stub)
        # A solution cell without markers is replaced whole (nbgrader does the same).
        cell.source = stub if is_solution and blanked == cell.source else blanked
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return student


_LINK = re.compile(r"(\]\()([^)\s]+)")  # a markdown link's or image's target: [text](target ...)


def relinked(notebook: nbformat.NotebookNode, copies: set[str], folder: Path,
             source: Path = NOTEBOOKS_DIR) -> nbformat.NotebookNode:
    """The notebook with the relative links of its markdown cells rewritten for a copy in ``folder``.

    A link from ``source`` to a notebook that has a copy in ``folder`` (its stem is in ``copies``)
    stays as it is and leads to that copy; every other relative link (the README, the glossary, an
    appendix without a copy) is made relative to ``folder``. Anchors (``#...``) are kept.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
    ...     "[Index](../README.md#the-notebooks) | [02](02_b.ipynb) | [A1](A1_c.ipynb) | [x](https://x.org/a.md)")])
    >>> relinked(nb, {"02_b"}, NOTEBOOKS_DIR / "student").cells[0].source
    '[Index](../../README.md#the-notebooks) | [02](02_b.ipynb) | [A1](../A1_c.ipynb) | [x](https://x.org/a.md)'
    >>> nb.cells[0].source = "[Colab](https://colab.research.google.com/github/me/c/blob/main/notebooks/02_b.ipynb)"
    >>> relinked(nb, {"02_b"}, NOTEBOOKS_DIR / "student").cells[0].source
    '[Colab](https://colab.research.google.com/github/me/c/blob/main/notebooks/student/02_b.ipynb)'
    """
    copy = nbformat.from_dict(notebook)

    def moved(found: re.Match) -> str:
        target = found.group(2)
        path, hash_, anchor = target.partition("#")
        if not path or re.match(r"^[a-z][a-z0-9+.-]*:", path, re.I) or path.startswith("/"):
            return found.group(0)  # an anchor in the same notebook, a URL, an absolute path
        if "/" not in path and path.endswith(".ipynb") and Path(path).stem in copies:
            return found.group(0)  # the copy of that notebook sits beside this one
        new = Path(os.path.relpath(os.path.normpath(source / path), folder)).as_posix()
        return f"{found.group(1)}{new}{hash_}{anchor}"

    # A launch badge (config.launch_links) of a notebook that has a copy opens that copy.
    here, there = (Path(os.path.relpath(f, REPO_ROOT)).as_posix() for f in (source, folder))
    for cell in copy.cells:
        if cell.cell_type == "markdown":
            cell.source = _LINK.sub(moved, cell.source)
            for stem in copies:
                cell.source = cell.source.replace(f"/{here}/{stem}.ipynb)", f"/{there}/{stem}.ipynb)")
    return copy


def course_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR) -> dict[str, nbformat.NotebookNode]:
    """{stem: course version} of every numbered notebook (the appendices have no exercises)."""
    return {path.stem: course_version(nbformat.read(path, as_version=4), notebook_key(path),
                                      _model_answers(_ANSWERS_DIR / f"{path.stem}.md"))
            for path in notebook_paths(notebooks_dir, appendices=False)}


def write_students(courses: dict[str, nbformat.NotebookNode], check_only: bool = False,
                   folder: Path = _STUDENT_DIR) -> int:
    """Write the student version of each course notebook into ``folder`` (its links made to work
    from there: ``relinked``) and remove any other notebook there; with ``check_only=True`` only
    say what is out of date. Returns 1 when something was out of date and only checked, else 0."""
    versions = {folder / f"{stem}.ipynb": nbformat.writes(relinked(student_version(course), set(courses), folder)) + "\n"
                for stem, course in courses.items()}
    stale = [p for p, text in versions.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in folder.glob("*.ipynb") if p not in versions]
    if check_only:
        for path in stale + extra:
            print(f"out of date: {shown_path(path)}")
        if stale or extra:
            print("run: python tools/make_course.py")
        return 1 if stale or extra else 0
    folder.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(versions[path])
    for path in extra:
        path.unlink()
    print(f"{len(versions)} student notebooks in {shown_path(folder)} ({len(stale)} rewritten)")
    return 0


_COURSE_ID = "group-emotion-recognition"
_NBGRADER_CONFIG = f'''"""nbgrader's settings for this course (written by tools/make_course.py). Run nbgrader in this folder."""
import os
from pathlib import Path

c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "{_COURSE_ID}"
# Autograding runs every cell of a notebook; some take minutes on a CPU (nbgrader's default is 30 s).
c.Execute.timeout = 900
# The notebooks save their figures; when nbgrader runs them, the figures land here, not in the repository.
os.environ.setdefault("GLE_FIGURES_DIR", str(Path(__file__).resolve().parent / "figures"))
'''


def write_course(course_dir: Path, courses: dict[str, nbformat.NotebookNode]) -> None:
    """An nbgrader course folder: nbgrader_config.py, and source/NN_name/NN_name.ipynb for each
    course notebook (nothing else in ``course_dir`` is touched)."""
    course_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(_NBGRADER_CONFIG)
    for stem, course in courses.items():
        folder = course_dir / "source" / stem
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.ipynb").write_text(nbformat.writes(course) + "\n")


def load_exercises(notebook_stem: str) -> dict:
    """Run the exercise cells of a notebook and return what they define (functions, constants).

    The notebook is ``$EXERCISE_NOTEBOOK`` when set, else ``notebooks/student/<stem>.ipynb``.
    Exercise cells must be self-contained: their own imports, no use of earlier cells.
    """
    path = Path(os.environ.get("EXERCISE_NOTEBOOK") or _STUDENT_DIR / f"{notebook_stem}.ipynb")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such notebook (make the student versions: make course)")
    return run_exercise_cells(_exercise_cells(path), f"{path.name} (exercise cell)")


def run_exercise_cells(sources: list[str], filename: str = "<exercise cell>") -> dict:
    """The namespace the exercise cells leave behind, as a notebook's globals() after running them."""
    namespace: dict = {"__name__": "__main__"}
    for source in sources:
        exec(compile(source, filename, "exec"), namespace)
    return namespace
