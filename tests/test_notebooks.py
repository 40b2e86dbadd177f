"""Every notebook runs once, end to end, on the demo data, the way `make run` runs it (two at a
time, each in its own kernel), into a temporary folder. Each executed copy is then checked: no
error, every figure it names written, and the cells marked `# NBVAL_CHECK_OUTPUT` print what the
committed notebook shows.

Then the whole series runs on GAF-layout folders (the last two tests, below).

`make test` runs pytest in two processes (pytest-xdist, ``--dist loadfile``: each test file stays
in one process), and this file, the longest, goes first (tests/conftest.py): the notebook runs,
then the series on a GAF layout, which reuses their cache; the other process takes the unit tests
meanwhile.

The comparison is nbval-lax's, done on the one execution: text/plain results and stream text,
each stream seen as a terminal shows it (progress bars dropped, as `make run` saves them).
"""

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from gle_utils import datasets, faces

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
    with pytest.MonkeyPatch.context() as env:  # both variables as they were afterwards
        env.setenv("GLE_MODELS_DIR", str(folder / "models"))
        env.setenv("GLE_FIGURES_DIR", str(folder / "figures"))  # main() sets it too, for --output-dir
        run_notebooks.main(selected + ["--output-dir", str(folder), "--jobs", "2"])  # a failure shows in its test
    return folder


@pytest.mark.slow
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


# ---------------------------------------------------------------------------------------------
# The whole series runs on a GAF-layout folder (issue 9): photos only, in train/, val/ and
# test/ with one folder per class; no photos.csv, no faces.csv, so no person ids, no true boxes.
#
# Both tests go through `make run DATASET=gaf`'s own code, tools/run_notebooks.py's main(), and
# write only into a temporary folder. The photos are links to the demo photos: detections and
# features are cached by file content, so after the demo notebooks have run they cost nothing.
# Smaller parameters (fewer trees, repeats and detectors) keep these tests to a few minutes.
# ---------------------------------------------------------------------------------------------

# Every notebook's knobs that cost time, smaller; a notebook ignores the ones it does not have.
SMALL = {"n_trees": 20, "n_repeats": 2, "probe_folds": 2, "timing_photos": 8, "measure_vggface_memory": False,
         "detectors": ["hog", "haar", "sequential"], "n_photos": 4, "cnn_detector": None}


def demo_photos() -> pd.DataFrame:
    """The demo set's photos table, with absolute paths."""
    root = datasets.dataset_root("demo")
    photos = pd.read_csv(root / "photos.csv")
    return photos.assign(path=[root / path for path in photos.path])


def link_gaf_folder(photos: pd.DataFrame, root) -> None:
    """Lay ``photos`` out as <root>/<split>/<label>/<file name>, as links: photos only."""
    for row in photos.itertuples():
        target = root / row.split / row.label / row.path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(row.path)


def run_series(run_notebooks, data_dir, output_dir) -> list:
    """Every notebook on ``data_dir`` as `make run DATASET=gaf` runs it; the executed notebooks."""
    known = set().union(*(run_notebooks.parameter_names(p) for p in run_notebooks.series()))
    parameters = [f"{name}={value!r}" for name, value in SMALL.items() if name in known]
    # Two notebooks at a time, each in its own kernel: the 2-core machine is idle half the time
    # while one kernel starts or one notebook waits on a single-threaded step.
    argv = ["--dataset", "gaf", "--data-dir", str(data_dir), "--output-dir", str(output_dir), "--jobs", "2"]
    assert run_notebooks.main(argv + [arg for p in parameters for arg in ("-p", p)]) == 0
    executed = [nbformat.read(output_dir / path.name, as_version=4) for path in run_notebooks.series()]
    return executed


def errors(notebook) -> list:
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]


def printed_lines(notebook) -> list[str]:
    return [line for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.output_type == "stream" and o.name == "stdout" for line in o.text.splitlines()]


@pytest.mark.slow
def test_the_series_runs_on_the_demo_photos_laid_out_as_gaf(tmp_path, outputs_in_tmp, run_notebooks):
    # A third of the demo photos, from every split and class: what is tested is the layout, and
    # every notebook's work grows with the number of photos.
    photos = demo_photos().sort_values("path")
    third = photos.groupby(["split", "label"]).nth(slice(None, None, 3))
    data_dir = tmp_path / "GAF"
    link_gaf_folder(third, data_dir)
    assert not list(data_dir.glob("*.csv"))
    for notebook in run_series(run_notebooks, data_dir, tmp_path / "runs"):
        assert errors(notebook) == []


@pytest.mark.slow
def test_a_class_without_faces_gets_a_plain_message_and_no_traceback(tmp_path, outputs_in_tmp, run_notebooks):
    """About 30 photos, no test/ folder, and in one class (Negative) no photo has a face the
    paper's detector finds: every notebook must end without an error and say so in words."""
    photos = demo_photos()
    with_faces = photos[photos.faceless.isna()]
    candidates = photos[photos.faceless.notna()].sort_values("path")
    found = faces.detect_dataset(candidates.path, detector="sequential", progress=False)
    faceless = candidates[candidates.path.astype(str).isin(found.path[found.n_faces == 0].astype(str))]
    assert len(faceless) >= 10, "the demo set should hold at least 10 photos without a detectable face"
    chosen = [faceless.head(10).assign(split=["train"] * 6 + ["val"] * 4, label="Negative")]
    for label in ("Positive", "Neutral"):
        for split, count in (("train", 6), ("val", 4)):
            chosen.append(with_faces[(with_faces.split == split) & (with_faces.label == label)].head(count))
    data_dir = tmp_path / "small"
    link_gaf_folder(pd.concat(chosen), data_dir)
    assert sorted(p.name for p in data_dir.iterdir()) == ["train", "val"]

    executed = run_series(run_notebooks, data_dir, tmp_path / "runs")
    assert [errors(notebook) for notebook in executed] == [[]] * len(executed)
    said = [line for notebook in executed for line in printed_lines(notebook)
            if "Negative" in line and re.search(r"\bfaces?\b", line, re.I)]
    assert said, "no notebook says in words that the class Negative has no photo with a detected face"
