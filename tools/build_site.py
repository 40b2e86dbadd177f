"""Build the course website: a Jupyter Book of the committed, executed notebooks (none is run).

    python tools/build_site.py                  # make site: writes _build/html/ (open _build/html/index.html)
    python tools/build_site.py --output DIR     # writes DIR/html/ (and its source in DIR/source/)

Then it follows every link of the site (gle_utils.site.check_site) and exits 1 on a broken one,
an image without an alt text or a page that shows a traceback. What goes into the book, and how,
is gle_utils.site's; tests/test_site.py opens the pages in headless Chromium.
"""

import argparse
import sys
import time
from pathlib import Path

from gle_utils.config import shown_path
from gle_utils.site import BUILD_DIR, build_site, check_site


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=BUILD_DIR, help="where to write (default: _build/)")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        html = build_site(args.output)
    except (ValueError, RuntimeError) as error:
        print(f"make site: {error}", file=sys.stderr)
        return 1
    problems = check_site(html)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{'FAILED: ' if problems else ''}site in {shown_path(html)}/index.html "
          f"({len(problems)} problem(s), {time.perf_counter() - start:.0f} s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
