"""Every notebook runs once, end to end, on the demo data, the way `make run` runs it, into a
temporary folder. Its executed copy is then checked: no error, every figure it names written,
and the cells marked `# NBVAL_CHECK_OUTPUT` print what the committed notebook shows.

The comparison is nbval-lax's, done on the one execution: text/plain results and stream text,
each stream seen as a terminal shows it (progress bars dropped, as `make run` saves them).
"""

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


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_matches_its_committed_outputs(path, outputs_in_tmp, run_notebooks):
    executed_path = outputs_in_tmp / path.name
    run_notebooks.run_notebook(path, executed_path, parameters={})  # raises on a cell's error
    executed, committed = nbformat.read(executed_path, as_version=4), nbformat.read(path, as_version=4)

    errors = [o for c in code_cells(executed) for o in c.outputs if o.output_type == "error"]
    assert errors == []

    named = set(re.findall(r"save_fig\(\s*[\"']([\w-]+)[\"']", path.read_text()))
    written = {p.stem for p in (outputs_in_tmp / "figures").rglob("*.png")}
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
