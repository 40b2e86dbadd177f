"""load_gaf(): the GAF folder layout -> (path, split, label), with clear messages for problems."""

import numpy as np
import pytest
from PIL import Image

from gle_utils.datasets import DatasetLayoutError, load_dataset, load_gaf


def write_jpeg(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), 120, np.uint8)).save(path)


@pytest.fixture
def gaf(tmp_path):
    """A tiny folder in the GAF layout: 2 photos per class in train and val, 3 unlabelled test photos."""
    for split in ("train", "val"):
        for label in ("Positive", "Neutral", "Negative"):
            for i in range(2):
                write_jpeg(tmp_path / split / label / f"{label}_{i}.jpg")
    for i in range(3):
        write_jpeg(tmp_path / "test" / f"test_{i}.jpg")
    return tmp_path


def test_a_good_folder_loads_without_problems(gaf):
    table = load_gaf(gaf)
    assert list(table.columns) == ["path", "split", "label"]
    assert table.groupby("split").size().to_dict() == {"test": 3, "train": 6, "val": 6}
    assert table.query("split == 'train'").label.value_counts().to_dict() == {"Positive": 2, "Neutral": 2, "Negative": 2}
    assert table.query("split == 'test'").label.isna().all()
    assert table.attrs["problems"] == []


def test_missing_class_folder_is_reported_and_the_rest_still_loads(gaf, capsys):
    for path in (gaf / "val" / "Negative").iterdir():
        path.unlink()
    (gaf / "val" / "Negative").rmdir()
    table = load_gaf(gaf)
    assert len(table) == 13
    assert any("val/Negative" in p and "class folder missing" in p for p in table.attrs["problems"])
    assert "class folder missing" in capsys.readouterr().out


def test_unknown_folders_are_reported(gaf):
    (gaf / "extras").mkdir()
    (gaf / "train" / "Happy").mkdir()
    table = load_gaf(gaf)
    problems = " ".join(table.attrs["problems"])
    assert "extras" in problems and "train/Happy" in problems
    assert len(table) == 15


def test_non_image_files_are_reported_and_skipped(gaf):
    (gaf / "train" / "Positive" / "notes.txt").write_text("hello")
    (gaf / "train" / "Positive" / "fake.jpg").write_text("not a jpeg")
    table = load_gaf(gaf)
    problems = " ".join(table.attrs["problems"])
    assert "notes.txt" in problems and "fake.jpg" in problems
    assert len(table) == 15 and not table.path.str.contains("fake|notes").any()


def test_a_folder_not_in_gaf_layout_is_an_error(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(DatasetLayoutError, match="not in the GAF layout"):
        load_gaf(tmp_path)
    with pytest.raises(DatasetLayoutError, match="no such folder"):
        load_gaf(tmp_path / "nowhere")


def test_load_dataset_needs_a_folder_for_gaf_and_knows_its_names(gaf):
    with pytest.raises(ValueError, match="data_dir"):
        load_dataset("gaf")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("imagenet")
    assert len(load_dataset("gaf", gaf)) == 15
