"""Execute notebooks with papermill: the "run" command of the README uses this.

    python tools/run_notebooks.py                        # every notebook, demo data, in place
    python tools/run_notebooks.py notebooks/02_*.ipynb   # some notebooks
    python tools/run_notebooks.py --dataset gaf --data-dir /path/to/GAF --output-dir runs/gaf
    python tools/run_notebooks.py -p n_trees=20 -p n_repeats=2 ...    # change a parameters cell's value
    python tools/run_notebooks.py --jobs 2 ...           # two notebooks at a time, each in its own kernel

In place (the default on the demo data) the committed notebooks get fresh outputs and every
figure in figures/ is rewritten; with --output-dir (the default for GAF: runs/gaf) the executed
copies and their figures go there instead. The work is done by ``gle_utils.runner.run``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from gle_utils import backbones, runner


def parameter(text: str) -> tuple[str, object]:
    """"name=value" -> (name, value); the value is read as a Python literal (20, None, ["hog"]), else kept as text."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook, NN_*.ipynb then A*_*.ipynb")
    parser.add_argument("--dataset", default="demo", choices=["demo", "gaf"])
    parser.add_argument("--data-dir", default=None, help="the GAF folder (train/, val/, test/)")
    parser.add_argument("--backbone", default=None, help=backbones.choices_help())
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="write executed copies here instead of in place (default for --dataset gaf: runs/gaf)")
    parser.add_argument("-p", "--parameter", type=parameter, action="append", default=[], metavar="NAME=VALUE",
                        help="set a variable of the notebooks' parameters cells, e.g. -p n_trees=20 (repeatable)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks run at the same time, each in its own kernel (default 1: one after another)")
    args = parser.parse_args(argv)
    if args.dataset == "gaf" and not args.data_dir:
        parser.error("--dataset gaf needs --data-dir: the folder with train/, val/ and test/")
    parameters = ({"backbone": args.backbone} if args.backbone else {}) | dict(args.parameter)
    try:
        failed = runner.run(args.notebooks, args.dataset, args.data_dir, args.output_dir, parameters, args.jobs)
    except ValueError as error:
        parser.error(str(error))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
