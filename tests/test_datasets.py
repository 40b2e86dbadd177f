"""load_gaf(): the GAF folder layout -> (path, split, label), with clear messages for problems."""

import json
import zipfile

import numpy as np
import pytest
from helpers import png_header_only
from PIL import Image

from gle_utils import datasets, downloads
from gle_utils.config import CLASSES
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


def test_groupemow_layout_any_case_and_a_labelled_test_split(tmp_path):
    for split, label in [("GroupEmoW_Train", "positive"), ("GroupEmoW_Train", "NEUTRAL"), ("GroupEmoW_Train", "Negative"),
                         ("GroupEmoW_Val", "Positive"), ("GroupEmoW_Val", "neutral"), ("GroupEmoW_Val", "negative"),
                         ("GroupEmoW_Test", "positive"), ("GroupEmoW_Test", "neutral"), ("GroupEmoW_Test", "negative")]:
        write_jpeg(tmp_path / split / label / "a.jpg")
    table = load_gaf(tmp_path)
    assert table.attrs["problems"] == []
    assert table.groupby("split").size().to_dict() == {"test": 3, "train": 3, "val": 3}
    assert table.label.notna().all() and set(table.label) == {"Positive", "Neutral", "Negative"}


def test_a_folder_with_only_val_loads(tmp_path):
    for label in ("Positive", "Neutral", "Negative"):
        write_jpeg(tmp_path / "Val" / label / "a.jpg")
    table = load_gaf(tmp_path, verbose=False)
    assert table.split.tolist() == ["val"] * 3
    assert any("no train/ folder" in p for p in table.attrs["problems"])


def test_broken_files_are_listed_and_the_load_goes_on(gaf):
    (gaf / "train" / "Positive" / "bomb.png").write_bytes(png_header_only(14000, 14000))
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)).save(gaf / "big.jpg")
    data = (gaf / "big.jpg").read_bytes()
    (gaf / "big.jpg").unlink()
    (gaf / "val" / "Neutral" / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (gaf / "val" / "Neutral" / "empty.jpg").write_bytes(b"")
    table = load_gaf(gaf, verbose=False)
    assert len(table) == 15
    skipped = dict(table.attrs["skipped"])
    assert set(map(lambda p: p.split("/")[-1], skipped)) == {"bomb.png", "truncated.jpg", "empty.jpg"}
    reasons = " ".join(skipped.values())
    assert "decompression bomb" in reasons and "truncated" in reasons and "empty" in reasons


# ------------------------------------------------------------------ the real-photo check set

def fake_package(folder, members: dict) -> str:
    """A wheel-like zip holding JPEGs at the given member paths (member -> (width, height))."""
    archive = folder / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(archive, "w") as zf:
        for member, (width, height) in members.items():
            image = folder / "photo.jpg"
            Image.fromarray(np.full((height, width, 3), 120, np.uint8)).save(image)
            zf.write(image, member)
    return str(archive)


def test_the_check_set_loads_from_a_package_archive_without_network(tmp_path):
    folder = tmp_path / "meta"
    folder.mkdir()
    archive = fake_package(tmp_path, {"pkg/a.jpg": (40, 30), "pkg/b.jpg": (20, 20), "pkg/c.jpg": (10, 10)})
    entry = {"source": "fake==1.0", "licence": "MIT", "label": "Positive"}
    photos = [dict(entry, name="a", member="pkg/a.jpg", width=40, height=30, boxes=[[1, 2, 11, 12]]),
              dict(entry, name="b", member="pkg/b.jpg", width=20, height=20, label="Negative"),  # boxes.json
              dict(entry, name="c", member="pkg/c.jpg", width=99, height=99, boxes=[])]  # not the labelled photo
    (folder / "check_set.json").write_text(json.dumps({"photos": photos}))
    (folder / "boxes.json").write_text(json.dumps({"photos": [{"name": "b", "boxes": [[0, 0, 5, 5]]}]}))
    table = datasets.load_check_set(folder / "check_set.json", tmp_path / "photos", {"fake==1.0": archive},
                                    verbose=False)
    assert table.name.tolist() == ["a", "b"] and table.label.tolist() == ["Positive", "Negative"]
    assert (table.split == "check").all() and table.attrs["dataset"] == "real-photo check set"
    assert table.boxes.tolist() == [[(1, 2, 11, 12)], [(0, 0, 5, 5)]]
    assert Image.open(table.path[0]).size == (40, 30)
    [(name, reason)] = table.attrs["skipped"]
    assert name == "c" and "expected 99x99" in reason and not (tmp_path / "photos" / "c.jpg").exists()
    # A second load reads the cached copies (no archive needed).
    again = datasets.load_check_set(folder / "check_set.json", tmp_path / "photos", {}, verbose=False)
    assert again.path.tolist() == table.path.tolist()


def test_the_check_set_metadata_is_complete():
    meta = json.loads(datasets.CHECK_SET_JSON.read_text())["photos"]
    checked = json.loads((datasets.CHECK_SET_JSON.parent / "boxes.json").read_text())["photos"]
    boxes = {p["name"]: p["boxes"] for p in checked}
    assert len({p["name"] for p in meta}) == len(meta) >= 8
    for photo in meta:
        assert photo["label"] in CLASSES and photo["licence"]
        assert photo["source"] in downloads.PINNED_SHA256, "every archive is pinned by its sha256"
        found = photo.get("boxes", boxes.get(photo["name"]))
        assert found and all(0 <= x0 < x1 <= photo["width"] and 0 <= y0 < y1 <= photo["height"]
                             for x0, y0, x1, y1 in found)
