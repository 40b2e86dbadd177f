"""Every notebook runs end to end with papermill on the demo data and writes the figures it names.

(The same notebooks are then re-executed by nbval, `pytest notebooks --nbval-lax`, which compares
the outputs of cells marked `# NBVAL_CHECK_OUTPUT` with the committed ones.)
"""

import re
from pathlib import Path

import nbformat
import papermill
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_a_parameters_cell(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged 'parameters' for papermill"
    assert re.search(r"^dataset\s*=", tagged[0].source, re.M) and re.search(r"^data_dir\s*=", tagged[0].source, re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_papermill_and_writes_its_figures(path, tmp_path, monkeypatch):
    figures = tmp_path / "figures"
    monkeypatch.setenv("GLE_FIGURES_DIR", str(figures))
    output = tmp_path / path.name
    papermill.execute_notebook(str(path), str(output), parameters={"dataset": "demo"},
                               cwd=str(path.parent), kernel_name="python3", progress_bar=False)
    executed = nbformat.read(output, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    named = set(re.findall(r"save_fig\(\s*[\"']([\w-]+)[\"']", path.read_text()))
    written = {p.stem for p in figures.rglob("*.png")}
    assert named <= written, f"figures named but not written: {sorted(named - written)}"


def test_navigation_links_and_readme_index_are_up_to_date():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "tools/navigation.py", "--check"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
