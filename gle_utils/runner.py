"""Executing the notebooks with papermill, and preparing what they saved for the repository.

``tools/run_notebooks.py`` (the README's ``make run``) is a thin command line over ``run``; the
tests that run the series on GAF-layout folders call ``run`` too, so both go through one path.

In place (the default on the demo data) the committed notebooks get fresh outputs and every
figure in figures/ is rewritten. The images a cell tagged "shows-photos" draws are replaced by
a short note before saving (its printed text stays): the photos come, at run time, from packages
and from CK+ frames, which are not the repository's to redistribute, so they never enter it (the
same figures are saved in figures/photos/, which git ignores). With an output folder (the default for GAF: runs/gaf) the executed copies go there
instead, and their figures to <output folder>/figures.
"""

from __future__ import annotations

import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import papermill

from .config import REPO_ROOT, notebook_paths, shown_path
from .progress import PROJECTION

__all__ = ["PHOTO_NOTE", "READS_OUTPUTS", "parameter_names", "run", "run_notebook", "tidied_outputs", "tidy",
           "without_progress_bars"]

PHOTO_NOTE = ("[Photos not stored in the repository: they are taken at run time from packages and "
              "datasets that are not the repository's to redistribute. Run the notebook to see them; "
              "the figure is also saved in figures/photos/.]\n")
# The parameter of a notebook that reads the series' executed notebooks (09): the folder they are in.
READS_OUTPUTS = "notebooks_dir"
# A progress bar as tqdm draws it ("desc:  40%|████      | 4/10 [00:01<00:02, ...]") or Keras
# ("3/3 ━━━━━━━━ 0s 12ms/step").
_PROGRESS_BAR = re.compile(r"\d+%\|.*\|\s*\S+/\S+ \[|^\s*\d+/\d+ [━=.>]+")


def without_progress_bars(text: str) -> str:
    """``text`` as a terminal would show it (each line after its last \\r), progress bars removed.

    Bars help the person who runs a notebook; in the saved notebook they are noise that also
    changes on every run, so they are not saved. Nor is the line that says how long a stage
    will take (``progress.PROJECTION``), for the same reason.

    >>> without_progress_bars("photos:  50%|#####     | 1/2 [00:01<00:01]\\r3 faces\\n")
    '3 faces\\n'
    >>> without_progress_bars("landmarks: 600 photos to do, about 2 min in all (rate of the first 64: 5.0 photos/s)\\n")
    ''
    """
    kept = []
    for line in text.split("\n"):
        shown = [part for part in line.split("\r")
                 if part and not _PROGRESS_BAR.search(part) and not PROJECTION.search(part)]
        if shown:
            kept.append(shown[-1])
        elif not line:  # an empty line stays; a line of bars goes
            kept.append(line)
    return "\n".join(kept)


def tidied_outputs(outputs: list) -> list:
    """A cell's outputs as the repository keeps them: one stream output per run of prints (the
    kernel splits printed text into messages by timing, so an output may otherwise end in a
    "\\n" or not, run by run), progress bars removed, and streams left empty dropped.

    ``tidy`` saves these; ``make test`` compares these with the committed outputs (nbval, see
    tests/conftest.py), so a progress bar in a checked cell is not a difference.
    """
    merged = []  # copies: the outputs given are left as they are
    for output in outputs:
        if (output.output_type == "stream" and merged and merged[-1].output_type == "stream"
                and merged[-1].name == output.name):
            merged[-1].text += output.text
        else:
            merged.append(nbformat.from_dict(dict(output)))
    for output in merged:
        if output.output_type == "stream":
            output.text = without_progress_bars(output.text)
    return [o for o in merged if o.output_type != "stream" or o.text.strip()]


def _photos_replaced(outputs: list) -> list:
    """``outputs`` with every image left out and one PHOTO_NOTE where the first one was."""
    kept, noted = [], False
    for output in outputs:
        if any(kind.startswith("image/") for kind in output.get("data", {})):
            if not noted:
                kept.append(nbformat.v4.new_output("stream", name="stdout", text=PHOTO_NOTE))
                noted = True
        else:
            kept.append(output)
    return kept


def tidy(path: Path) -> None:
    """Prepare an executed notebook for the repository.

    The images of cells tagged "shows-photos" are replaced by a note; progress bars are dropped;
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
        if "shows-photos" in cell.metadata.get("tags", []):
            cell.outputs = _photos_replaced(cell.outputs)
        cell.outputs = tidied_outputs(cell.outputs)
    nbformat.write(notebook, path)


def run_notebook(source: Path, target: Path, parameters: dict) -> float:
    """Execute one notebook with papermill, tidy what it saved; return the seconds it took.

    Its kernel starts in the notebook's folder (nbclient's resources path, not papermill's
    ``cwd``, which changes this process's folder and so is not safe for two notebooks at once).
    """
    start = time.perf_counter()
    papermill.execute_notebook(str(source), str(target), parameters=parameters, kernel_name="python3",
                               progress_bar=False, resources={"metadata": {"path": str(source.parent)}})
    tidy(target)
    return time.perf_counter() - start


def _run_one(source: Path, output_dir: Path | None, parameters: dict) -> bool:
    """Execute one notebook in place or into ``output_dir``, with only the parameters its own
    cell has (a parameter of 04 means nothing to 01). False, the error printed, if it failed."""
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


def parameter_names(path: Path) -> set[str]:
    """The variables that a notebook's cell tagged "parameters" sets."""
    notebook = nbformat.read(path, as_version=4)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    return {name for cell in cells for name in re.findall(r"^(\w+)\s*=", cell.source, re.M)}


def run(notebooks: list[Path] | None = None, dataset: str = "demo", data_dir: str | Path | None = None,
        output_dir: Path | None = None, parameters: dict | None = None, jobs: int = 1) -> list[str]:
    """Execute notebooks as ``make run`` does; return the names of those that failed.

    Parameters
    ----------
    notebooks : the notebooks to run, in order (default: the whole series, ``config.notebook_paths()``).
    dataset : "demo", or "gaf" with ``data_dir`` the GAF folder (train/, val/, test/).
    output_dir : write the executed copies (and their figures) there instead of in place;
        the default is in place for the demo data and runs/gaf for "gaf".
    parameters : values for the notebooks' parameters cells; each notebook gets only its own.
    jobs : notebooks run at the same time, each in its own kernel, started in the series'
        order: a later notebook finds in the cache the detections and features of earlier ones.
        A notebook with a ``READS_OUTPUTS`` parameter starts only when all the others are done,
        and is given ``output_dir`` (where their copies are) for it.

    Returns
    -------
    The file names of the notebooks that failed (each error is printed); empty if all ran.
    """
    notebooks = [Path(p).resolve() for p in (notebooks or notebook_paths())]
    if dataset == "gaf" and not data_dir:
        raise ValueError("dataset 'gaf' needs data_dir: the folder with train/, val/ and test/")
    output_dir = output_dir or (REPO_ROOT / "runs" / "gaf" if dataset == "gaf" else None)
    if output_dir is not None:  # keep the committed demo figures; write these beside the notebooks
        output_dir = Path(output_dir).resolve()
        os.environ["GLE_FIGURES_DIR"] = str(output_dir / "figures")
    # Only what differs from the notebooks' own parameters cells: nothing on the demo data, so no
    # "injected-parameters" cell enters the committed notebooks. The data folder is made absolute:
    # the kernels start in notebooks/, not where you are.
    given = dict(parameters or {})
    unknown = set(given) - set().union(*(parameter_names(path) for path in notebooks))
    if unknown:
        raise ValueError(f"no notebook has the parameter(s) {sorted(unknown)}; see each notebook's parameters cell")
    if dataset == "gaf":
        given = {"dataset": "gaf", "data_dir": str(Path(data_dir).resolve()), **given}
    # A notebook that reads the others' saved outputs (one with a READS_OUTPUTS parameter: 09) runs
    # after all of them have finished (papermill empties a notebook's outputs while it runs), and
    # reads the copies this run writes.
    readers = [source for source in notebooks if READS_OUTPUTS in parameter_names(source)]
    others = [source for source in notebooks if source not in readers]
    for_readers = given if output_dir is None else {READS_OUTPUTS: str(output_dir), **given}
    with ThreadPoolExecutor(jobs) as pool:
        ok = dict(zip(others, pool.map(lambda source: _run_one(source, output_dir, given), others)))
        ok.update(zip(readers, pool.map(lambda source: _run_one(source, output_dir, for_readers), readers)))
    failed = [source.name for source in notebooks if not ok[source]]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return failed
