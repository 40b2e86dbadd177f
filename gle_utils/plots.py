"""save_fig() and the few plot settings every notebook shares."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from . import config

__all__ = ["CLASS_COLOURS", "save_fig", "use_style"]

# Figures that show photos or faces go to a git-ignored subfolder: the demo faces come from
# packages whose terms forbid redistribution (CK+ frames), so such images are never committed.
_PHOTO_SUBFOLDER = "photos"

# One colour per class, the same in every figure.
CLASS_COLOURS = {"Positive": "#4c9f70", "Neutral": "#8c8c8c", "Negative": "#c8553d"}


def use_style() -> None:
    """One look for every notebook's figures, and seeded jitter.

    seaborn's strip plots jitter their points with NumPy's global generator: seeding it here
    makes a re-run draw the same figure, byte for byte, so a diff of figures/ shows only what
    the numbers changed. (Bootstrapped error bars use their own generator: pass ``seed=`` to
    ``sns.barplot`` / ``sns.pointplot``, or ``errorbar="sd"``.)
    """
    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "savefig.bbox": "tight"})
    np.random.seed(config.SEED)


def save_fig(name: str, fig=None, shows_photos: bool = False) -> None:
    """Write a figure as ``figures/<name>.png`` (the folder is ``config.FIGURES_DIR``).

    Names are stable (``02_detector_recall`` ...), so re-running a notebook overwrites the same
    file and a diff of the figures folder shows what changed. The PNG holds no timestamp or
    version: the same plot gives the same bytes.

    Parameters
    ----------
    name : str
        The file name without ``.png``, by convention the notebook's number first.
    fig : matplotlib.figure.Figure or None
        The figure to write; None: the current figure.
    shows_photos : bool
        True for a figure of photos or faces: it goes to ``figures/photos/``, which git ignores.

    Returns
    -------
    None
        Nothing, so that a notebook cell ending with it shows the figure and no file path.
    """
    fig = fig if fig is not None else plt.gcf()
    folder = config.FIGURES_DIR / _PHOTO_SUBFOLDER if shows_photos else config.FIGURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, metadata={"Software": None})  # no timestamp or version: same plot, same bytes
