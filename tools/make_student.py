"""Write the student versions of the notebooks: solutions blanked, outputs cleared, test cells added.

    python tools/make_student.py            # write notebooks/student/NN_*.ipynb
    python tools/make_student.py --check    # exit 1 if notebooks/student/ is out of date (tests use it)

They are nbgrader's release of the course that tools/make_course.py writes (the same step:
gle_utils.exercises.course_version, then student_version); `make course` writes both.
"""

import argparse
import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from gle_utils.exercises import STUDENT_DIR, course_notebooks, student_version  # noqa: E402


def expected(courses: dict[str, nbformat.NotebookNode]) -> dict[Path, str]:
    """Every student notebook as it should be, as text."""
    return {STUDENT_DIR / f"{stem}.ipynb": nbformat.writes(student_version(course)) + "\n"
            for stem, course in courses.items()}


def write_students(courses: dict[str, nbformat.NotebookNode], check: bool = False) -> int:
    """Write (or with check=True, only compare) notebooks/student/; 1 if it was out of date."""
    versions = expected(courses)
    stale = [p for p, text in versions.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in STUDENT_DIR.glob("*.ipynb") if p not in versions]
    if check:
        for path in stale + extra:
            print(f"out of date: {path.relative_to(REPO_ROOT)}")
        if stale or extra:
            print("run: python tools/make_course.py")
        return 1 if stale or extra else 0
    STUDENT_DIR.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(versions[path])
    for path in extra:
        path.unlink()
    print(f"{len(versions)} student notebooks in {STUDENT_DIR.relative_to(REPO_ROOT)} ({len(stale)} rewritten)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that notebooks/student/ is up to date")
    return write_students(course_notebooks(), check=parser.parse_args().check)


if __name__ == "__main__":
    sys.exit(main())
