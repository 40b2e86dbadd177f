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
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 14000, 14000, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    (gaf / "train" / "Positive" / "bomb.png").write_bytes(bomb)
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
