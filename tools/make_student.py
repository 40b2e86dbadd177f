"""Derive the student versions of the notebooks: solutions removed, outputs cleared.

    python tools/make_student.py            # write notebooks/student/NN_*.ipynb
    python tools/make_student.py --check    # exit 1 if notebooks/student/ is out of date (tests use it)
"""

import argparse
import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from gle_utils.exercises import STUDENT_DIR, student_version  # noqa: E402


def expected() -> dict[Path, str]:
    """Every student notebook as it should be, as text."""
    versions = {}
    for path in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        versions[STUDENT_DIR / path.name] = nbformat.writes(student_version(nbformat.read(path, as_version=4))) + "\n"
    return versions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that notebooks/student/ is up to date")
    args = parser.parse_args()
    versions = expected()
    stale = [p for p, text in versions.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in STUDENT_DIR.glob("*.ipynb") if p not in versions]
    if args.check:
        for path in stale + extra:
            print(f"out of date: {path.relative_to(REPO_ROOT)}")
        if stale or extra:
            print("run: python tools/make_student.py")
        return 1 if stale or extra else 0
    STUDENT_DIR.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(versions[path])
    for path in extra:
        path.unlink()
    print(f"{len(versions)} student notebooks in {STUDENT_DIR.relative_to(REPO_ROOT)} ({len(stale)} rewritten)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
