"""Where things live on disk, and the one seed every notebook starts from."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["CACHE_DIR", "CLASSES", "FIGURES_DIR", "MODELS_DIR", "NOTEBOOKS_DIR", "REPO_ROOT", "SEED", "SPLITS",
           "REPOSITORY", "cache_path", "empty_cache", "keras_cache_dir", "launch_links", "notebook_paths", "notice", "shown_path"]

# The repository root (this file is gle_utils/config.py).
REPO_ROOT = Path(__file__).resolve().parent.parent

# The course's notebooks (the teacher's versions; student/ and answers/ are derived from them).
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

# Everything built at run time (demo photos, package downloads, feature caches, weights)
# goes under one git-ignored folder. Override it with the GLE_CACHE_DIR environment variable.
CACHE_DIR = Path(os.environ.get("GLE_CACHE_DIR", REPO_ROOT / "data" / "cache"))

# Trained ensembles: notebook 07 saves them here and predict.py looks here. GLE_MODELS_DIR
# overrides it (the tests use a temporary folder, so they never replace a model you trained).
MODELS_DIR = Path(os.environ.get("GLE_MODELS_DIR", CACHE_DIR / "models"))

# Every figure is written here, by plots.save_fig, under a stable name.
FIGURES_DIR = Path(os.environ.get("GLE_FIGURES_DIR", REPO_ROOT / "figures"))

# This repository on GitHub, as owner/name: every Binder and Colab link is made from it
# (``launch_links``; tools/navigation.py writes them into the README and every notebook).
REPOSITORY = "OWNER/REPO"

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


_NOTICES_GIVEN: set[str] = set()


@contextmanager
def empty_cache(prefix: str = "gle-cache-"):
    """Point ``CACHE_DIR`` at an empty temporary folder while the block runs, then back (for
    timing a stage from nothing: benchmarks); the folder is removed afterwards."""
    global CACHE_DIR
    real = CACHE_DIR
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        CACHE_DIR = Path(folder)
        try:
            yield CACHE_DIR
        finally:
            CACHE_DIR = real


def notice(text: str) -> None:
    """Print ``text`` the first time this process asks, and never again: a fallback that every
    call takes (no VGGFace weights, say) is said once per notebook, not once per call."""
    if text not in _NOTICES_GIVEN:
        _NOTICES_GIVEN.add(text)
        print(text)


def shown_path(path: str | Path) -> str:
    """``path`` as a message prints it: relative to the repository, else to the cache or the
    home folder, so that no saved notebook output holds one machine's absolute paths."""
    path = Path(path).absolute()
    for root, name in ((REPO_ROOT, None), (CACHE_DIR.absolute(), "$GLE_CACHE_DIR"), (Path.home(), "~")):
        if path.is_relative_to(root):
            relative = path.relative_to(root).as_posix()
            return relative if name is None else f"{name}/{relative}"
    return str(path)


def notebook_paths(folder: Path = NOTEBOOKS_DIR, appendices: bool = True) -> list[Path]:
    """The course's notebooks in order: the numbered ones (01_..., 02_...), then the appendices
    (A1_..., A2_...) unless ``appendices=False``."""
    numbered = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    return numbered + (sorted(Path(folder).glob("A[0-9]_*.ipynb")) if appendices else [])


def launch_links(path: str, repository: str = REPOSITORY) -> str:
    """Markdown badges that open ``path`` (a notebook, relative to the repository root) on Colab
    and on Binder.

    >>> launch_links("notebooks/01_a.ipynb", "me/course")  # doctest: +NORMALIZE_WHITESPACE
    '[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/me/course/blob/main/notebooks/01_a.ipynb)
    [![Launch on Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/me/course/HEAD?urlpath=lab/tree/notebooks/01_a.ipynb)'
    """
    colab = f"https://colab.research.google.com/github/{repository}/blob/main/{path}"
    binder = f"https://mybinder.org/v2/gh/{repository}/HEAD?urlpath=lab/tree/{path}"
    return (f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
            f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({binder})")


def keras_cache_dir() -> Path:
    """Where Keras keeps downloads: $KERAS_HOME, else ~/.keras (/tmp/.keras when home is read-only).

    The one place the project looks for Keras's files: the ImageNet VGG16 weights are in its
    ``models`` folder, keras-vggface's weights in ``models/vggface``."""
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"])
    home = os.path.expanduser("~")
    return Path(home if os.access(home, os.W_OK) else "/tmp") / ".keras"
