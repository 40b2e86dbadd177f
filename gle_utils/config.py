"""Where things live on disk, and the one seed every notebook starts from."""

import os
from pathlib import Path

# The repository root (this file is gle_utils/config.py).
REPO_ROOT = Path(__file__).resolve().parent.parent

# Everything built at run time (demo photos, package downloads, feature caches, weights)
# goes under one git-ignored folder. Override it with the GLE_CACHE_DIR environment variable.
CACHE_DIR = Path(os.environ.get("GLE_CACHE_DIR", REPO_ROOT / "data" / "cache"))

# Every figure is written here, by plots.save_fig, under a stable name.
FIGURES_DIR = Path(os.environ.get("GLE_FIGURES_DIR", REPO_ROOT / "figures"))

# The default seed of every random choice in the project.
SEED = 2017

# The three group-level classes of EmotiW 2017, in the order used everywhere.
CLASSES = ("Positive", "Neutral", "Negative")

# The splits of a GAF-layout folder, in order (test is unlabelled in GAF 2.0 and 3.0).
SPLITS = ("train", "val", "test")


def cache_path(*parts: str) -> Path:
    """A folder (or file) under the cache, with its parent folders created."""
    path = CACHE_DIR.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
