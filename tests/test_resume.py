"""A run that is killed resumes from the per-photo cache: nothing half-written is left, what was
cached is reused, and the tables come out as those of a run that was never stopped.

A small folder of demo photos is detected (in two worker processes), then its deep
features ("faceid-resnet", the offline backbone) and landmarks are extracted, in a subprocess
with a cache of its own. It is killed (SIGKILL, the whole process group: the workers too) at a
seeded random point during detection, run again and killed during feature extraction, then run
to the end; another subprocess runs the same uninterrupted into another empty cache.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gle_utils import backbones, config, datasets, faces, features

N_PHOTOS = 16
BACKBONE = "faceid-resnet"
# What the subprocess runs: the three stages over the photos given, groups of 2 photos for the
# network, so that feature entries are written one group after the other.
STAGES = f"""
import sys
from gle_utils import backbones, faces, features
paths = sys.argv[1:]
faces.detect_dataset(paths, "sequential", progress=False, n_jobs=2)  # workers, whatever LOKY_MAX_CPU_COUNT says
features.extract_faces(paths, backbones.get_backbone("{BACKBONE}"), batch_photos=2, progress=False)
features.extract_landmarks(paths, progress=False)
"""


def _isolated_cache(folder: Path) -> Path:
    """An empty cache that shares only the read-only downloads and demo set of the real one (links)."""
    folder.mkdir(parents=True)
    for name in ("packages", "demo"):
        if (config.CACHE_DIR / name).exists():
            (folder / name).symlink_to((config.CACHE_DIR / name).resolve(), target_is_directory=True)
    return folder


def _start(cache: Path, photos: list[str]) -> subprocess.Popen:
    environment = {**os.environ, "GLE_CACHE_DIR": str(cache)}
    return subprocess.Popen([sys.executable, "-c", STAGES, *photos], env=environment, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _entries(cache: Path, pattern: str) -> dict[Path, tuple[int, int]]:
    """The cache files matching ``pattern`` -> (inode, mtime in ns): a file written again changes both."""
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in cache.glob(pattern)}


def _kill_when(process: subprocess.Popen, cache: Path, pattern: str, count: int) -> None:
    """SIGKILL the process and its workers as soon as ``count`` files match ``pattern`` in the cache."""
    while len(_entries(cache, pattern)) < count:
        assert process.poll() is None, f"the run ended before {count} files {pattern}: {process.stderr.read()}"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(0.3)  # let nothing still running write after the snapshot below


def _run_to_the_end(cache: Path, photos: list[str]) -> None:
    process = _start(cache, photos)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors


def _nothing_half_written(cache: Path) -> None:
    files = [p for p in cache.rglob("*") if p.is_file() and not p.is_symlink()
             and "packages" not in p.parts and "demo" not in p.parts]
    left = [p.name for p in files if p.suffix in (".tmp", ".part") or p.name.startswith(".")]
    assert not left, f"temporary files left in the cache: {left}"
    for path in files:  # every file reads back whole
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                [data[name] for name in data.files]


def _tables(cache: Path, photos: list[str], monkeypatch) -> tuple:
    """The three stages' results as a later run reads them back from ``cache`` (all cached)."""
    monkeypatch.setattr(config, "CACHE_DIR", cache)
    found = faces.detect_dataset(photos, "sequential", progress=False, n_jobs=1)
    deep = features.extract_faces(photos, backbones.get_backbone(BACKBONE), progress=False)
    marks = features.extract_landmarks(photos, progress=False)
    return found.drop(columns="seconds"), deep, marks  # seconds: measured, different in each run


@pytest.mark.slow
def test_a_killed_run_resumes_from_the_cache_and_ends_as_an_uninterrupted_one(tmp_path, monkeypatch):
    root = datasets.dataset_root("demo")
    photos = [str(root / p) for p in pd.read_csv(root / "photos.csv").path[:N_PHOTOS]]
    cache = _isolated_cache(tmp_path / "killed")
    rng = random.Random(22)  # the number: the same kill points on every run
    detected, extracted = "detections/*/*.json", f"features/*/{backbones.get_backbone(BACKBONE).cache_key}/*.npz"

    _kill_when(_start(cache, photos), cache, detected, rng.randint(2, N_PHOTOS - 4))
    _nothing_half_written(cache)
    before = _entries(cache, detected)
    assert not _entries(cache, extracted)  # killed during detection

    second = _start(cache, photos)
    _kill_when(second, cache, extracted, rng.randint(1, N_PHOTOS // 2 - 2))
    _nothing_half_written(cache)
    after_detection = _entries(cache, detected)
    assert {p: after_detection[p] for p in before} == before  # reused: not one record written again
    assert len(after_detection) > len(before)  # and the rest detected
    extracted_before = _entries(cache, extracted)

    _run_to_the_end(cache, photos)
    _nothing_half_written(cache)
    assert {p: v for p, v in _entries(cache, detected).items() if p in after_detection} == after_detection
    final = _entries(cache, extracted)
    assert {p: final[p] for p in extracted_before} == extracted_before
    assert len(final) == N_PHOTOS  # every photo got its entry (a faceless one too)

    reference = _isolated_cache(tmp_path / "uninterrupted")
    monkeypatch.setattr(config, "CACHE_DIR", reference)  # the same stages, uninterrupted, in this process
    exec(STAGES.replace("paths = sys.argv[1:]", "paths = photos"), {"photos": photos})
    assert sorted(p.relative_to(reference) for p in reference.rglob("*.*") if "demo" not in p.parts
                  and "packages" not in p.parts) == sorted(p.relative_to(cache) for p in cache.rglob("*.*")
                                                           if "demo" not in p.parts and "packages" not in p.parts)
    resumed, uninterrupted = _tables(cache, photos, monkeypatch), _tables(reference, photos, monkeypatch)
    pd.testing.assert_frame_equal(resumed[0], uninterrupted[0])
    for mine, theirs in zip(resumed[1:], uninterrupted[1:]):
        pd.testing.assert_frame_equal(mine.faces, theirs.faces)
        pd.testing.assert_frame_equal(mine.photos, theirs.photos)
        assert mine.sets.keys() == theirs.sets.keys()
        for name in mine.sets:
            np.testing.assert_array_equal(mine.sets[name], theirs.sets[name])
