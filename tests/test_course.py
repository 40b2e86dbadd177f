"""The nbgrader course: cell metadata as nbgrader wants it, and nbgrader itself run on two notebooks.

The nbgrader run (marked slow) does what a teacher does, in a temporary course folder:
generate_assignment, autograde a blank submission (the release) and the teacher's solution, then
generate_feedback. To keep it cheap, each submission holds only the cells grading needs (the
exercise, test and answer cells): the lesson's code cells are what costs, and the notebook tests
run them already. nbgrader grades a submission with deleted cells as it would a student's.
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gle_utils.config import NOTEBOOKS_DIR
from gle_utils.exercises import TEXT_STUB, course_version, exercise_functions, student_version, write_course

QUESTION = nbformat.v4.new_markdown_cell("**Questions.**\n\n1. Why a median?\n2. Why not a mean?")
QUESTION.metadata.tags = ["question"]
MODEL_ANSWER = nbformat.v4.new_markdown_cell("A median ignores one odd face.")
MODEL_ANSWER.metadata.tags = ["answer"]


def _notebook(stem, *extra_cells):
    notebook = nbformat.read(NOTEBOOKS_DIR / f"{stem}.ipynb", as_version=4)
    notebook.cells[-1:-1] = [nbformat.from_dict(cell) for cell in extra_cells]  # before the last navigation
    return notebook


def test_course_cells_carry_nbgrader_metadata():
    course = course_version(_notebook("01_data_overview", QUESTION), "01")
    cells = course.cells
    grading = [c.metadata.get("nbgrader") for c in cells]
    exercise = next(i for i, m in enumerate(grading) if m and m["grade_id"] == "ex01_1")
    assert grading[exercise] == {"grade": False, "grade_id": "ex01_1", "locked": False, "schema_version": 3,
                                 "solution": True, "task": False}
    # After the exercise cell, one locked, autograded test cell per function, calling the shared checks.
    functions = exercise_functions(cells[exercise].source)
    for offset, function in enumerate(functions, start=1):
        assert grading[exercise + offset] == {"grade": True, "grade_id": f"test01_{function}", "locked": True,
                                              "points": 1, "schema_version": 3, "solution": False, "task": False}
        assert cells[exercise + offset].source.endswith(f'check("01", "{function}", globals())')
    # After every question, an answer cell graded by hand: one point per numbered question in it.
    questions = [i for i, c in enumerate(cells) if "question" in c.metadata.get("tags", [])]
    assert questions, "the question added above"
    for number, i in enumerate(questions, start=1):
        assert grading[i + 1] == {"grade": True, "grade_id": f"answer01_{number}", "locked": False,
                                  "points": 2 if cells[i] is cells[questions[-1]] else 1,
                                  "schema_version": 3, "solution": True, "task": False}
    ids = [c.id for c in cells]
    assert len(set(ids)) == len(ids)
    # Prose that names the markers would make nbgrader refuse the notebook: it no longer matches them.
    assert not any("BEGIN SOLUTION" in c.source for c in cells if c.cell_type == "markdown")
    assert course_version(_notebook("01_data_overview", QUESTION), "01") == course, "not deterministic"


def test_a_model_answer_becomes_the_answer_cell_and_the_student_version_leaves_it_out():
    course = course_version(_notebook("02_face_detection", QUESTION, MODEL_ANSWER), "02")
    answer = [c for c in course.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("answer")][-1]
    assert answer.source == MODEL_ANSWER.source and answer.metadata.nbgrader["points"] == 2
    student = student_version(course)
    answers = [c for c in course.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("answer")]
    assert [c.source for c in student.cells].count(TEXT_STUB) == len(answers)
    assert not any(MODEL_ANSWER.source in c.source for c in student.cells)
    assert all(not c.outputs for c in student.cells if c.cell_type == "code")


def test_misplaced_markers_and_answers_are_refused():
    stray = nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION")
    with pytest.raises(ValueError, match="not tagged 'exercise'"):
        course_version(_notebook("01_data_overview", stray), "01")
    with pytest.raises(ValueError, match="does not follow a cell tagged 'question'"):
        course_version(_notebook("01_data_overview", MODEL_ANSWER), "01")


def _only_what_grading_runs(notebook):
    notebook = nbformat.from_dict(notebook)
    notebook.cells = [c for c in notebook.cells if c.cell_type == "markdown" or "nbgrader" in c.metadata]
    return notebook


def _nbgrader(course_dir, *args):
    env = {**os.environ,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # nbgrader runs alembic
           "GLE_FIGURES_DIR": str(course_dir / "figures")}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.slow
def test_nbgrader_generates_grades_and_gives_feedback(tmp_path):
    from nbgrader.api import Gradebook

    courses = {"01_data_overview": course_version(_notebook("01_data_overview", QUESTION), "01"),
               "02_face_detection": course_version(_notebook("02_face_detection", QUESTION, MODEL_ANSWER), "02")}
    write_course(tmp_path, courses)
    _nbgrader(tmp_path, "generate_assignment", "*")
    for stem, course in courses.items():
        release = nbformat.read(tmp_path / "release" / stem / f"{stem}.ipynb", as_version=4)
        # nbgrader's release is our student version, cell for cell.
        ours = student_version(course)
        assert [(c.cell_type, c.source) for c in release.cells] == [(c.cell_type, c.source) for c in ours.cells]
        for student, notebook in [("blank", release), ("teacher", course)]:
            folder = tmp_path / "submitted" / student / stem
            folder.mkdir(parents=True)
            nbformat.write(_only_what_grading_runs(notebook), folder / f"{stem}.ipynb")
    _nbgrader(tmp_path, "autograde", "*")
    _nbgrader(tmp_path, "generate_feedback", "01_data_overview", "--student", "teacher")

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        for stem, course in courses.items():
            graded = {student: {g.name: g for g in gradebook.find_submission_notebook(stem, stem, student).grades}
                      for student in ("blank", "teacher")}
            tests = [name for name in graded["blank"] if name.startswith("test")]
            assert len(tests) == 3
            for name in tests:
                assert graded["blank"][name].auto_score == 0, f"{stem} {name}: the blank scores"
                assert graded["teacher"][name].auto_score == graded["teacher"][name].max_score == 1, f"{stem} {name}"
            answers = {c.metadata.nbgrader["grade_id"]: c.source for c in course.cells
                       if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("answer")}
            assert answers, "the question added above"
            for name, source in answers.items():
                assert graded["blank"][name].auto_score == 0  # left as released: nothing to grade
                if source == TEXT_STUB:  # no model answer in the teacher's version: nothing to grade either
                    assert graded["teacher"][name].auto_score == 0
                else:  # a written answer waits for the grader
                    assert graded["teacher"][name].needs_manual_grade
        max_score = gradebook.find_submission_notebook("01_data_overview", "01_data_overview", "teacher").max_score
    feedback = (tmp_path / "feedback" / "teacher" / "01_data_overview" / "01_data_overview.html").read_text()
    assert f"Score: 3.0 / {max_score}" in feedback  # the three exercises; the written answers await a grader
