"""Execute notebooks with papermill: the "run" command of the README uses this.

    python tools/run_notebooks.py                        # every notebook, demo data, in place
    python tools/run_notebooks.py notebooks/02_*.ipynb   # some notebooks
    python tools/run_notebooks.py --dataset gaf --data-dir /path/to/GAF --output-dir runs/gaf

In place (the default on the demo data) the committed notebooks get fresh outputs and every
figure in figures/ is rewritten. Outputs of cells tagged "shows-photos" are replaced by a
short note before saving: the demo faces include CK+ frames, which may not be redistributed,
so such images never enter the repository (the same figures are saved in figures/photos/,
which git ignores). With --output-dir (the default for GAF: runs/gaf) the executed copies go there instead,
and their figures to <output-dir>/figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
import papermill

REPO_ROOT = Path(__file__).resolve().parent.parent
PHOTO_NOTE = ("[Photos not stored in the repository: the demo faces include CK+ frames whose terms "
              "forbid redistribution. Run the notebook to see them; the figure is also saved in "
              "figures/photos/.]\n")


def tidy(path: Path) -> None:
    """Prepare an executed notebook for the repository.

    Outputs of cells tagged "shows-photos" are replaced by a note; papermill's timings and
    timestamps are dropped, so running a notebook again changes only what its results change.
    """
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code" and "shows-photos" in cell.metadata.get("tags", []):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PHOTO_NOTE)]
    nbformat.write(notebook, path)


def run_notebook(source: Path, target: Path, parameters: dict) -> float:
    """Execute one notebook with papermill; return the seconds it took."""
    start = time.perf_counter()
    papermill.execute_notebook(str(source), str(target), parameters=parameters,
                               cwd=str(source.parent), kernel_name="python3", progress_bar=False)
    tidy(target)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--dataset", default="demo", choices=["demo", "gaf"])
    parser.add_argument("--data-dir", default=None, help="the GAF folder (train/, val/, test/)")
    parser.add_argument("--backbone", default=None, help='"vggface", "faceid-resnet" or "auto"')
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="write executed copies here instead of in place (default for --dataset gaf: runs/gaf)")
    args = parser.parse_args(argv)
    if args.dataset == "gaf" and not args.data_dir:
        parser.error("--dataset gaf needs --data-dir: the folder with train/, val/ and test/")

    notebooks = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    output_dir = args.output_dir or (REPO_ROOT / "runs" / "gaf" if args.dataset == "gaf" else None)
    if output_dir is not None:  # keep the committed demo figures; write these beside the notebooks
        os.environ["GLE_FIGURES_DIR"] = str(output_dir.resolve() / "figures")
    # Only what differs from the notebooks' own parameters cells: nothing on the demo data,
    # so no "injected-parameters" cell enters the committed notebooks.
    parameters = {"dataset": "gaf", "data_dir": args.data_dir} if args.dataset == "gaf" else {}
    if args.backbone:
        parameters["backbone"] = args.backbone
    for source in notebooks:
        source = source.resolve()
        target = source if output_dir is None else output_dir.resolve() / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        print(f"running {source.name} ...", flush=True)
        seconds = run_notebook(source, target, parameters)
        print(f"  done in {seconds:.0f} s -> {target.relative_to(REPO_ROOT) if target.is_relative_to(REPO_ROOT) else target}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
