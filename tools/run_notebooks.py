"""Execute notebooks with papermill: the "run" command of the README uses this.

    python tools/run_notebooks.py                        # every notebook, demo data, in place
    python tools/run_notebooks.py notebooks/02_*.ipynb   # some notebooks
    python tools/run_notebooks.py --dataset gaf --data-dir /path/to/GAF --output-dir runs/gaf
    python tools/run_notebooks.py -p n_trees=20 -p n_repeats=2 ...    # change a parameters cell's value
    python tools/run_notebooks.py --jobs 2 ...           # two notebooks at a time, each in its own kernel

In place (the default on the demo data) the committed notebooks get fresh outputs and every
figure in figures/ is rewritten. Outputs of cells tagged "shows-photos" are replaced by a
short note before saving: the demo faces include CK+ frames, which may not be redistributed,
so such images never enter the repository (the same figures are saved in figures/photos/,
which git ignores). With --output-dir (the default for GAF: runs/gaf) the executed copies go there instead,
and their figures to <output-dir>/figures.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import papermill

from gle_utils.config import shown_path

REPO_ROOT = Path(__file__).resolve().parent.parent
PHOTO_NOTE = ("[Photos not stored in the repository: the demo faces include CK+ frames whose terms "
              "forbid redistribution. Run the notebook to see them; the figure is also saved in "
              "figures/photos/.]\n")
# A progress bar as tqdm draws it ("desc:  40%|████      | 4/10 [00:01<00:02, ...]") or Keras
# ("3/3 ━━━━━━━━ 0s 12ms/step").
PROGRESS_BAR = re.compile(r"\d+%\|.*\|\s*\S+/\S+ \[|^\s*\d+/\d+ [━=.>]+")


def without_progress_bars(text: str) -> str:
    """``text`` as a terminal would show it (each line after its last \\r), progress bars removed.

    Bars help the person who runs a notebook; in the saved notebook they are noise that also
    changes on every run, so they are not saved.
    """
    kept = []
    for line in text.split("\n"):
        shown = [part for part in line.split("\r") if part and not PROGRESS_BAR.search(part)]
        if shown:
            kept.append(shown[-1])
        elif not line:  # an empty line stays; a line of bars goes
            kept.append(line)
    return "\n".join(kept)


def tidy(path: Path) -> None:
    """Prepare an executed notebook for the repository.

    Outputs of cells tagged "shows-photos" are replaced by a note; progress bars are dropped;
    papermill's timings and timestamps are dropped, so running a notebook again changes only
    what its results change.
    """
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        # One stream output per run of prints, as a notebook shows it: the kernel splits printed
        # text into messages by timing, so an output may otherwise end in a "\n" or not, run by run.
        merged = []
        for output in cell.outputs:
            if (output.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == output.name):
                merged[-1].text += output.text
            else:
                merged.append(output)
        cell.outputs = merged
        if "shows-photos" in cell.metadata.get("tags", []):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PHOTO_NOTE)]
        for output in cell.outputs:
            if output.output_type == "stream":
                output.text = without_progress_bars(output.text)
        cell.outputs = [o for o in cell.outputs if o.output_type != "stream" or o.text.strip()]
    nbformat.write(notebook, path)


def run_notebook(source: Path, target: Path, parameters: dict) -> float:
    """Execute one notebook with papermill; return the seconds it took.

    Its kernel starts in the notebook's folder (nbclient's resources path, not papermill's
    ``cwd``, which changes this process's folder and so is not safe for two notebooks at once).
    """
    start = time.perf_counter()
    papermill.execute_notebook(str(source), str(target), parameters=parameters, kernel_name="python3",
                               progress_bar=False, resources={"metadata": {"path": str(source.parent)}})
    tidy(target)
    return time.perf_counter() - start


def run_one(source: Path, output_dir: Path | None, parameters: dict) -> bool:
    """Execute one notebook in place or into ``output_dir``, with only the parameters its own
    cell has (a -p for 04 means nothing to 01). False, the error printed, if it failed."""
    target = source if output_dir is None else output_dir / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    own = parameter_names(source)
    print(f"running {source.name} ...\n", end="", flush=True)  # one write: two threads may print at once
    try:
        seconds = run_notebook(source, target, {k: v for k, v in parameters.items() if k in own})
    except Exception as error:  # an error in a cell, or a kernel that died: the other notebooks still run
        print(f"FAILED {source.name}: {error}", file=sys.stderr, flush=True)
        return False
    print(f"  done in {seconds:.0f} s -> {shown_path(target)}\n", end="", flush=True)
    return True


def series() -> list[Path]:
    """Every notebook of the course, in order: the numbered ones, then the appendices (A1, ...)."""
    folder = REPO_ROOT / "notebooks"
    return sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted(folder.glob("A[0-9]_*.ipynb"))


def parameter_names(path: Path) -> set[str]:
    """The variables that a notebook's cell tagged "parameters" sets."""
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    return {name for cell in cells for name in re.findall(r"^(\w+)\s*=", cell.source, re.M)}


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
    parser.add_argument("--backbone", default=None, help='"vggface", "faceid-resnet" or "auto"')
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="write executed copies here instead of in place (default for --dataset gaf: runs/gaf)")
    parser.add_argument("-p", "--parameter", type=parameter, action="append", default=[], metavar="NAME=VALUE",
                        help="set a variable of the notebooks' parameters cells, e.g. -p n_trees=20 (repeatable)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks run at the same time, each in its own kernel (default 1: one after another)")
    args = parser.parse_args(argv)
    if args.dataset == "gaf" and not args.data_dir:
        parser.error("--dataset gaf needs --data-dir: the folder with train/, val/ and test/")

    notebooks = args.notebooks or series()
    output_dir = args.output_dir or (REPO_ROOT / "runs" / "gaf" if args.dataset == "gaf" else None)
    if output_dir is not None:  # keep the committed demo figures; write these beside the notebooks
        output_dir = output_dir.resolve()
        os.environ["GLE_FIGURES_DIR"] = str(output_dir / "figures")
    # Only what differs from the notebooks' own parameters cells: nothing on the demo data,
    # so no "injected-parameters" cell enters the committed notebooks.
    # (the data folder as an absolute path: the kernels start in notebooks/, not where you are)
    parameters = {"dataset": "gaf", "data_dir": str(Path(args.data_dir).resolve())} if args.dataset == "gaf" else {}
    if args.backbone:
        parameters["backbone"] = args.backbone
    parameters.update(args.parameter)
    unknown = set(dict(args.parameter)) - set().union(*(parameter_names(path) for path in notebooks))
    if unknown:
        parser.error(f"no notebook has the parameter(s) {sorted(unknown)}; see each notebook's parameters cell")
    # --jobs notebooks at a time, each in its own kernel, started in the series' order: a later
    # notebook finds in the cache the detections and features of the earlier ones.
    with ThreadPoolExecutor(args.jobs) as pool:
        ok = list(pool.map(lambda source: run_one(source.resolve(), output_dir, parameters),
                           notebooks))
    failed = [source.name for source, fine in zip(notebooks, ok) if not fine]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
