"""The notebooks as a series: their parameters cells, their navigation, and the whole series on
GAF-layout folders.

The demo series itself is executed by nbval, not here: `make test` passes the notebooks to pytest
with ``--nbval-lax``, so every cell runs (an error fails it) and the cells marked
``# NBVAL_CHECK_OUTPUT`` must print what the committed notebook shows. tests/conftest.py adds one
more test after each notebook's cells: every figure it names was written.
"""

import re
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from gle_utils import datasets, faces, runner
from gle_utils.config import REPO_ROOT, notebook_paths

NOTEBOOKS = notebook_paths()


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_a_parameters_cell(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged 'parameters' for papermill"
    assert re.search(r"^dataset\s*=", tagged[0].source, re.M) and re.search(r"^data_dir\s*=", tagged[0].source, re.M)


def test_navigation_links_and_readme_index_are_up_to_date():
    result = subprocess.run([sys.executable, "tools/navigation.py", "--check"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# ---------------------------------------------------------------------------------------------
# The whole series runs on a GAF-layout folder (issue 9): photos only, in train/ and val/ with one
# folder per class, and an UNLABELLED test/ (photos directly inside it, as GAF 2.0 ships: its test
# labels were never released); no photos.csv, no faces.csv, so no person ids, no true boxes.
#
# The test goes through `make run DATASET=gaf`'s own code, ``runner.run``, and writes only into a
# temporary folder. The photos are links to the demo photos: detections and features are cached
# by file content, so after the demo notebooks have run they cost little. Smaller parameters
# (fewer trees, repeats and detectors) keep it to about a minute. The loader's other layouts (a
# labelled test/, no test/, only val/, GroupEmoW's names) are tests/test_datasets.py's; the
# notebooks' code on a labelled test split is what nbval runs on the demo set.
# ---------------------------------------------------------------------------------------------

# Every notebook's knobs that cost time, smaller; a notebook ignores the ones it does not have.
SMALL = {"n_trees": 20, "n_repeats": 2, "probe_folds": 2, "timing_photos": 8, "measure_vggface_memory": False,
         "detectors": ["hog", "haar", "sequential"], "n_photos": 4, "cnn_detector": None,
         "real_photos": False}  # the check set is the demo run's (nbval); here its skip is what runs


def demo_photos() -> pd.DataFrame:
    """The demo set's photos table, with absolute paths."""
    root = datasets.dataset_root("demo")
    photos = pd.read_csv(root / "photos.csv")
    return photos.assign(path=[root / path for path in photos.path])


def link_gaf_folder(photos: pd.DataFrame, root) -> None:
    """Lay ``photos`` out as <root>/<split>/<label>/<file name>, as links: photos only; a photo
    whose label is None goes straight into <root>/<split>/ (an unlabelled test split)."""
    for row in photos.itertuples():
        folder = root / row.split if pd.isna(row.label) else root / row.split / row.label
        target = folder / row.path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(row.path)


def run_series(data_dir, output_dir) -> list:
    """Every notebook on ``data_dir`` as `make run DATASET=gaf` runs it; the executed notebooks."""
    known = set().union(*(runner.parameter_names(p) for p in NOTEBOOKS))
    # Two notebooks at a time, each in its own kernel: the 2-core machine is idle half the time
    # while one kernel starts or one notebook waits on a single-threaded step.
    failed = runner.run(dataset="gaf", data_dir=data_dir, output_dir=output_dir, jobs=2,
                        parameters={name: value for name, value in SMALL.items() if name in known})
    assert failed == []
    return [nbformat.read(output_dir / path.name, as_version=4) for path in NOTEBOOKS]


def errors(notebook) -> list:
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]


def printed_lines(notebook) -> list[str]:
    return [line for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.output_type == "stream" and o.name == "stdout" for line in o.text.splitlines()]


@pytest.mark.slow
def test_the_series_runs_on_a_gaf_folder_with_a_faceless_class_and_an_unlabelled_test_split(tmp_path, outputs_in_tmp):
    """About 40 photos in GAF 2.0's layout: train/ and val/ with class folders, where no photo of
    one class (Negative) has a face the paper's detector finds, and an unlabelled test/. Every
    notebook must end without an error, and say in words that Negative has no face and that the
    test split is not scored."""
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
    # test/: two photos with faces of each class, without their labels.
    chosen.append(with_faces[with_faces.split == "test"].groupby("label").head(2).assign(label=None))
    data_dir = tmp_path / "GAF"
    link_gaf_folder(pd.concat(chosen), data_dir)
    assert sorted(p.name for p in data_dir.iterdir()) == ["test", "train", "val"]
    assert not list(data_dir.glob("*.csv")) and not [p for p in (data_dir / "test").iterdir() if p.is_dir()]

    executed = run_series(data_dir, tmp_path / "runs")
    assert [errors(notebook) for notebook in executed] == [[]] * len(executed)
    printed = [line for notebook in executed for line in printed_lines(notebook)]
    assert any("test split is missing or" in line for line in printed), "no notebook says the test split is not scored"
    said = [line for line in printed
            if "Negative" in line and re.search(r"\bfaces?\b", line, re.I)]
    assert said, "no notebook says in words that the class Negative has no photo with a detected face"
