"""Write the student versions of the notebooks: solutions blanked, outputs cleared, test cells added.

    python tools/make_student.py            # write notebooks/student/NN_*.ipynb
    python tools/make_student.py --check    # exit 1 if notebooks/student/ is out of date

They are nbgrader's release of the course that tools/make_course.py writes (the same step:
gle_utils.exercises.course_version, then student_version); `make course` writes both.
"""

import argparse
import sys

from gle_utils.exercises import course_notebooks, write_students


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that notebooks/student/ is up to date")
    return write_students(course_notebooks(), check_only=parser.parse_args().check)


if __name__ == "__main__":
    sys.exit(main())
