"""load_gaf(): the GAF folder layout -> (path, split, label), with clear messages for problems,
and every entry it does not read listed with the reason (folder_entries, entry_problem)."""

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import png_header_only
from PIL import Image

from gle_utils import config, datasets, downloads
from gle_utils.io import file_digest
from gle_utils.config import CLASSES
from gle_utils.datasets import DatasetLayoutError, entry_problem, folder_entries, load_dataset, load_gaf


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
    unreadable = dict(table.attrs["unreadable"])
    assert set(map(lambda p: p.split("/")[-1], unreadable)) == {"bomb.png", "truncated.jpg", "empty.jpg"}
    reasons = " ".join(unreadable.values())
    assert "decompression bomb" in reasons and "truncated" in reasons and "empty" in reasons
    assert table.attrs["skipped"] == []  # each of them is an image file that does not decode


def every_entry(root: Path) -> set[str]:
    """Every file and link below ``root``, and every folder with nothing in it."""
    found = set()
    for folder, folders, files in os.walk(root):
        found |= {os.path.join(folder, name) for name in files}
        found |= {os.path.join(folder, name) for name in folders if os.path.islink(os.path.join(folder, name))}
        if not folders and not files:
            found.add(folder)
    return found


def test_no_entry_of_a_gaf_folder_vanishes(gaf, tmp_path_factory):
    """The cases of issue 24 and more: each entry that is not a photo of the table is listed with why."""
    outside = tmp_path_factory.mktemp("outside")
    (outside / "real").mkdir()
    write_jpeg(outside / "real" / "elsewhere.jpg")
    positive = gaf / "train" / "Positive"
    write_jpeg(gaf / "train" / "happy" / "smile.jpg")                       # an unknown class folder
    write_jpeg(positive / "Positive" / "nested.jpg")                        # a class folder inside one
    write_jpeg(gaf / "train" / "positive" / "second.jpg")                   # a second Positive folder
    write_jpeg(gaf / "extras" / "more.jpg")                                 # an unknown split folder
    (gaf / "train" / "notes.txt").write_text("beside the class folders")
    (gaf / "README.txt").write_text("the dataset's own file")
    (positive / "notes.txt").write_text("not an image")
    (positive / ".DS_Store").write_bytes(b"\0")
    os.mkfifo(positive / "pipe.jpg")
    (positive / "zero.jpg").symlink_to("/dev/zero")
    (positive / "gone.jpg").symlink_to(positive / "never_there.jpg")
    (positive / "dirlink.jpg").symlink_to(outside / "real")
    write_jpeg(positive / "photo.avif")
    write_jpeg(positive / "photo.ico")
    (positive / "broken.jpg").write_text("not a JPEG")
    (gaf / "val" / "Neutral" / "empty_folder").mkdir()
    for label in ("Positive", "Neutral", "Negative"):                       # test/: all its class folders empty
        (gaf / "test" / label).mkdir()
    for path in (gaf / "test").glob("*.jpg"):
        path.unlink()

    table = load_gaf(gaf, verbose=False)
    skipped, unreadable = dict(table.attrs["skipped"]), dict(table.attrs["unreadable"])
    listed = set(table.path) | set(skipped) | set(unreadable)
    assert len(table) + len(skipped) + len(unreadable) == len(listed)  # each entry once
    assert listed == every_entry(gaf)
    assert {Path(p).name for p in table.path} >= {"photo.avif", "photo.ico"}  # read as the reader reads them
    assert set(unreadable) == {str(positive / "broken.jpg")}
    expected = {"train/happy/smile.jpg": "in train/happy/, not a class folder",
                "train/Positive/Positive/nested.jpg": "in train/Positive/Positive/, a folder nested in Positive/",
                "train/positive/second.jpg": "a second Positive folder of train/",
                "extras/more.jpg": "in extras/, not a split folder",
                "train/notes.txt": "beside the class folders of train/",
                "README.txt": "beside the split folders",
                "train/Positive/notes.txt": "not an image file name (.txt",
                "train/Positive/.DS_Store": "a hidden file",
                "train/Positive/pipe.jpg": "not a regular file (a FIFO",
                "train/Positive/zero.jpg": "not a regular file",
                "train/Positive/gone.jpg": "a dangling symbolic link",
                "train/Positive/dirlink.jpg": "a symbolic link to a folder",
                "val/Neutral/empty_folder": "in val/Neutral/empty_folder/, a folder nested in Neutral/",
                "test/Positive": "an empty folder"}
    for entry, reason in expected.items():
        assert reason in skipped[str(gaf / entry)], entry
    problems = " ".join(table.attrs["problems"])
    assert "test/: no photo in this split" in problems and "train/happy: unknown folder" in problems
    assert "README.txt" not in problems and ".DS_Store" not in problems  # listed, but no problem


def test_an_empty_split_is_listed_and_said(tmp_path):
    for label in ("Positive", "Neutral", "Negative"):
        write_jpeg(tmp_path / "train" / label / "a.jpg")
    (tmp_path / "val").mkdir()
    table = load_gaf(tmp_path, verbose=False)
    assert table.attrs["skipped"] == [(str(tmp_path / "val"), "an empty split folder")]
    assert "val: an empty split folder" in table.attrs["problems"]


def test_a_folder_in_no_layout_lists_every_entry(tmp_path):
    write_jpeg(tmp_path / "a" / "b" / "deep.png")
    (tmp_path / "empty").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "a")
    (tmp_path / "text.md").write_text("hello")
    entries = folder_entries(tmp_path)
    assert set(map(str, entries)) == every_entry(tmp_path) | {str(tmp_path / ".hidden")}
    reasons = {path.name: entry_problem(path) for path in entries}
    assert reasons == {"deep.png": None, "empty": "an empty folder",
                       ".hidden": "a hidden file or folder (its name starts with '.')",
                       "link": "a symbolic link to a folder (not followed)",
                       "text.md": reasons["text.md"]} and "not an image file name (.md" in reasons["text.md"]
    (tmp_path / "nothing").mkdir()
    assert folder_entries(tmp_path / "nothing") == [tmp_path / "nothing"]  # an empty folder is its own entry


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


def test_a_check_set_archive_fetched_by_its_address_is_checked_and_a_bad_one_skipped_with_its_name(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    folder = tmp_path / "meta"
    folder.mkdir()
    good = Path(fake_package(tmp_path, {"pkg/a.jpg": (40, 30)}))
    bad = good.with_name("changed-1.0-py3-none-any.whl")
    bad.write_bytes(good.read_bytes() + b"not the pinned file")
    pin = file_digest(good, "sha256")
    entry = {"member": "pkg/a.jpg", "width": 40, "height": 30, "licence": "MIT", "label": "Neutral", "boxes": [[1, 2, 11, 12]]}
    photos = [dict(entry, name="good", source="good (by address)"), dict(entry, name="bad", source="bad (by address)")]
    archives = {"good (by address)": {"url": good.as_uri(), "sha256": pin},
                "bad (by address)": {"url": bad.as_uri(), "sha256": pin}}
    (folder / "check_set.json").write_text(json.dumps({"archives": archives, "photos": photos}))
    table = datasets.load_check_set(folder / "check_set.json", tmp_path / "photos", verbose=False)
    assert table.name.tolist() == ["good"]  # the other photo still runs
    [(name, reason)] = table.attrs["skipped"]
    assert name == "bad" and bad.name in reason and "checksum mismatch" in reason
    assert not list((tmp_path / "cache").rglob(bad.name))  # nothing unchecked left in the cache


def test_the_check_set_metadata_is_complete():
    listed = json.loads(datasets.CHECK_SET_JSON.read_text())
    meta, archives = listed["photos"], listed["archives"]
    checked = json.loads((datasets.CHECK_SET_JSON.parent / "boxes.json").read_text())["photos"]
    boxes = {p["name"]: p["boxes"] for p in checked}
    assert len({p["name"] for p in meta}) == len(meta) >= 8
    for photo in meta:
        assert photo["label"] in CLASSES and photo["licence"]
        pinned = archives.get(photo["source"], {})
        assert photo["source"] in downloads.PINNED_SHA256 or (pinned.get("url") and len(pinned.get("sha256", "")) == 64), \
            "every archive is pinned by its sha256"
        found = photo.get("boxes", boxes.get(photo["name"]))
        assert found and all(0 <= x0 < x1 <= photo["width"] and 0 <= y0 < y1 <= photo["height"]
                             for x0, y0, x1, y1 in found)
