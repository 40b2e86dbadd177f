"""Every notebook runs once, end to end, on the demo data, the way `make run` runs it (two at a
time, each in its own process), into a temporary folder. Each executed copy is then checked: no
error, every figure it names written, and the cells marked `# NBVAL_CHECK_OUTPUT` print what the
committed notebook shows.

`make test` runs pytest in two processes (pytest-xdist, ``--dist loadgroup``): the tests marked
``xdist_group("series")`` (these, then the series on a GAF layout, which reuses their cache) stay
together in one process and, the largest group, start first; the other process takes the unit
tests meanwhile.

The comparison is nbval-lax's, done on the one execution: text/plain results and stream text,
each stream seen as a terminal shows it (progress bars dropped, as `make run` saves them).
"""

import os
import re
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The whole series: the numbered notebooks, then the appendices (A1, ...).
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted((REPO_ROOT / "notebooks").glob("A[0-9]_*.ipynb"))
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_a_parameters_cell(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged 'parameters' for papermill"
    assert re.search(r"^dataset\s*=", tagged[0].source, re.M) and re.search(r"^data_dir\s*=", tagged[0].source, re.M)


def checked_outputs(cell, without_progress_bars) -> dict:
    """What nbval-lax compares in a cell: the text of each stream, and the text/plain results."""
    streams, results = {}, []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            streams[output.name] = streams.get(output.name, "") + output.text
        elif "text/plain" in output.get("data", {}):
            results.append(output.data["text/plain"])
    return {"results": results, **{name: without_progress_bars(text) for name, text in streams.items()}}


def code_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]


@pytest.fixture(scope="session")
def executed_series(request, tmp_path_factory, run_notebooks):
    """The folder holding every notebook whose test was selected (all of them in `make test`),
    each executed once as `make run` runs them: two at a time, in the series' order (a later
    notebook finds the detections and features of the earlier ones in the cache). Figures go to
    <folder>/figures and trained models to a temporary folder."""
    selected = [str(item.callspec.params["path"]) for item in request.session.items
                if item.originalname == "test_notebook_runs_and_matches_its_committed_outputs"]
    folder = tmp_path_factory.mktemp("executed")
    models_before = os.environ.get("GLE_MODELS_DIR")
    os.environ["GLE_MODELS_DIR"] = str(folder / "models")
    try:
        run_notebooks.main(selected + ["--output-dir", str(folder), "--jobs", "2"])  # a failure shows in its test
    finally:
        if models_before is None:
            del os.environ["GLE_MODELS_DIR"]
        else:
            os.environ["GLE_MODELS_DIR"] = models_before
        os.environ.pop("GLE_FIGURES_DIR", None)  # set by main() for --output-dir
    return folder


@pytest.mark.slow
@pytest.mark.xdist_group("series")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_matches_its_committed_outputs(path, executed_series, run_notebooks):
    executed_path = executed_series / path.name
    assert executed_path.is_file(), f"{path.name} did not run (see the captured output above)"
    executed, committed = nbformat.read(executed_path, as_version=4), nbformat.read(path, as_version=4)

    errors = [o for c in code_cells(executed) for o in c.outputs if o.output_type == "error"]
    assert errors == []

    named = set(re.findall(r"save_fig\(\s*[\"']([\w-]+)[\"']", path.read_text()))
    written = {p.stem for p in (executed_series / "figures").rglob("*.png")}
    assert named <= written, f"figures named but not written: {sorted(named - written)}"

    differences = []
    for number, (old, new) in enumerate(zip(code_cells(committed), code_cells(executed)), start=1):
        if CHECK_MARK in old.source:
            before, after = (checked_outputs(c, run_notebooks.without_progress_bars) for c in (old, new))
            if before != after:
                differences.append(f"code cell {number}:\n--- committed\n{before}\n+++ this run\n{after}")
    assert not differences, "marked cells print something else than the committed notebook:\n" + "\n".join(differences)


def test_navigation_links_and_readme_index_are_up_to_date():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "tools/navigation.py", "--check"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
