"""Datasets: the GAF folder layout -> one table of (path, split, label).

The Group Affect Database 2.0 (EmotiW 2017) comes as::

    train/Positive/*.jpg  train/Neutral/*.jpg  train/Negative/*.jpg
    val/Positive/*.jpg    val/Neutral/*.jpg    val/Negative/*.jpg
    test/*.jpg                                  (unlabelled)

``load_gaf`` turns such a folder into a pandas table. Problems (a missing class folder, a
folder it does not know, a file that is not an image) are collected and printed as clear
messages; they never stop the load, and the table still holds every good image.
The offline demo set (``gle_utils.demo``) is written in the same layout (with a labelled
``test/``), so everything downstream runs on either unchanged: ``load_dataset``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from PIL import Image, UnidentifiedImageError

from .config import CLASSES, SPLITS
from .io import is_image_name

LABELLED_SPLITS = ("train", "val")

# What GAF 2.0 holds (the paper's Table 1; test labels were never released).
GAF2_COUNTS = pd.DataFrame(
    {"Positive": [1272, 773, None], "Neutral": [1199, 728, None], "Negative": [1159, 564, None],
     "total": [3630, 2065, 772]},
    index=pd.Index(SPLITS, name="split"),
).astype("Int64")


class DatasetLayoutError(Exception):
    """The folder is not in the GAF layout at all (e.g. it holds none of train/, val/, test/)."""


def _looks_like_image(path: Path) -> str | None:
    """None when ``path`` opens as an image (header only, no decoding); else the reason."""
    if not is_image_name(path):
        return f"not an image file name ({path.suffix or 'no suffix'})"
    try:
        with Image.open(path):
            return None
    except (UnidentifiedImageError, OSError) as error:
        return f"not a readable image ({type(error).__name__})"


def _scan_files(folder: Path, split: str, label: str | None, rows: list, problems: list) -> None:
    for path in sorted(p for p in folder.iterdir()):
        if path.is_dir():
            problems.append(f"{path}: unexpected folder inside {folder.name}/, ignored")
        elif path.name.startswith("."):
            continue
        elif (reason := _looks_like_image(path)) is not None:
            problems.append(f"{path}: {reason}, skipped")
        else:
            rows.append({"path": str(path), "split": split, "label": label})


def load_gaf(data_dir: str | Path, verbose: bool = True) -> pd.DataFrame:
    """Read a folder in the GAF layout into a table with columns path, split, label.

    ``label`` is one of ``CLASSES`` for train/ and val/, and for test/ when test/ has class
    subfolders (the demo set); it is None for an unlabelled test/. The messages about
    anything skipped are printed and kept in ``table.attrs["problems"]``.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetLayoutError(f"{root}: no such folder")
    present = [s for s in SPLITS if (root / s).is_dir()]
    if not present:
        raise DatasetLayoutError(
            f"{root} has none of the folders train/, val/, test/: it is not in the GAF layout "
            "(train/ and val/ with Positive/, Neutral/, Negative/ subfolders; test/ unlabelled)")

    rows: list[dict] = []
    problems: list[str] = []
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and entry.name not in SPLITS and not entry.name.startswith("."):
            problems.append(f"{entry}: unknown folder (expected train/, val/, test/), ignored")
    for split in SPLITS:
        folder = root / split
        if not folder.is_dir():
            problems.append(f"{folder}: the {split}/ folder is missing")
            continue
        has_class_folders = any((folder / c).is_dir() for c in CLASSES)
        if split == "test" and not has_class_folders:
            _scan_files(folder, split, None, rows, problems)
            continue
        for label in CLASSES:
            if not (folder / label).is_dir():
                problems.append(f"{folder / label}: class folder missing, so {split} has no {label} photos")
            else:
                _scan_files(folder / label, split, label, rows, problems)
        for entry in sorted(folder.iterdir()):
            if entry.name in CLASSES or entry.name.startswith("."):
                continue
            kind = "folder" if entry.is_dir() else "file"
            problems.append(f"{entry}: unknown {kind} in {split}/ (expected {', '.join(CLASSES)}), ignored")

    table = pd.DataFrame(rows, columns=["path", "split", "label"])
    table.attrs["problems"] = problems
    if verbose and problems:
        print(f"{len(problems)} problem(s) in {root}:")
        for message in problems:
            print("  -", message)
    return table


def load_dataset(dataset: str = "demo", data_dir: str | Path | None = None, verbose: bool = True) -> pd.DataFrame:
    """The table of a dataset by name: "demo" (built offline on first use) or "gaf" (your copy).

    For "gaf", ``data_dir`` is the folder holding train/, val/ and test/. For "demo",
    ``data_dir`` may name where the demo set lives; by default it is built into the cache.
    """
    table = load_gaf(dataset_root(dataset, data_dir), verbose=verbose)
    table.attrs["dataset"] = dataset
    return table


def dataset_root(dataset: str = "demo", data_dir: str | Path | None = None) -> Path:
    """The folder holding train/, val/ and test/ of a dataset (for "demo": built on first use)."""
    if dataset == "gaf":
        if data_dir is None:
            raise ValueError('dataset="gaf" needs data_dir: the folder with train/, val/ and test/')
        return Path(data_dir)
    if dataset == "demo":
        from .demo import ensure_demo  # imported here: building the demo set is optional work

        return ensure_demo(data_dir)
    raise ValueError(f'unknown dataset {dataset!r}: use "demo" or "gaf"')
