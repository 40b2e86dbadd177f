"""Write the nbgrader course and the student versions from the notebooks, in one step.

    python tools/make_course.py                      # course/ and notebooks/student/
    python tools/make_course.py --course-dir DIR 01 04   # only notebooks 01 and 04, into DIR

course/ (git-ignored) is an nbgrader course folder:
    nbgrader_config.py
    source/NN_name/NN_name.ipynb   the teacher's notebook with nbgrader's cell metadata: solution
                                   cells, an autograded test cell after each exercise function,
                                   a manually graded answer cell after each written question
Then, in course/: nbgrader generate_assignment NN_name (see the README, "Exercises, student
versions and checks").
"""

import argparse
import sys
from pathlib import Path

from gle_utils.config import REPO_ROOT
from gle_utils.exercises import course_notebooks, notebook_key, write_course, write_students

COURSE_DIR = REPO_ROOT / "course"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="notebook numbers (default: all, and the student versions)")
    parser.add_argument("--course-dir", type=Path, default=COURSE_DIR, help="default: course/")
    args = parser.parse_args()
    courses = course_notebooks()
    if args.only:
        courses = {stem: nb for stem, nb in courses.items() if notebook_key(stem) in args.only}
        if not courses:
            parser.error(f"no notebook numbered {' or '.join(args.only)}")
    write_course(args.course_dir, courses)
    print(f"{len(courses)} assignments in {args.course_dir / 'source'}")
    # The student versions are the release of the full course: a partial run leaves them alone.
    return 0 if args.only else write_students(courses)


if __name__ == "__main__":
    sys.exit(main())
