"""The whole series runs on a GAF-layout folder (issue 9): photos only, in train/, val/ and
test/ with one folder per class; no photos.csv, no faces.csv, so no person ids, no true boxes.

Both tests go through `make run DATASET=gaf`'s own code, tools/run_notebooks.py's main(), and
write only into a temporary folder. The photos are links to the demo photos: detections and
features are cached by file content, so after the demo notebooks have run they cost nothing.
Smaller parameters (fewer trees, repeats and detectors) keep these tests to a few minutes.
"""

import re

import nbformat
import pandas as pd
import pytest

from gle_utils import datasets, faces

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
    # Two notebooks at a time, each in its own process: the 2-core machine is idle half the time
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
@pytest.mark.xdist_group("series")
def test_the_series_runs_on_the_demo_photos_laid_out_as_gaf(tmp_path, outputs_in_tmp, run_notebooks):
    data_dir = tmp_path / "GAF"
    link_gaf_folder(demo_photos(), data_dir)
    assert not list(data_dir.glob("*.csv"))
    for notebook in run_series(run_notebooks, data_dir, tmp_path / "runs"):
        assert errors(notebook) == []


@pytest.mark.slow
@pytest.mark.xdist_group("series")
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
