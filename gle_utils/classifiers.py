"""The classifier zoo of the paper's Table 2, and an evaluation that reports the spread.

Section 2.5: "we implemented most popular classifiers including Logistic Regression, Support
Vector Regression, Gradient Boosting Trees and Random Forest"; Table 2 adds a Multi-Layered
Perceptron with one hidden layer. Random Forest won and became every member of the final
ensemble. ``make_classifier(name)`` builds each as a scikit-learn Pipeline (standardisation
first where the method cares about feature scales: not for trees), seeds fixed.

The authors' forests (their code, github.com/arassadin/emotiw2017, release.ipynb, section 3,
``In [12]`` and ``In [21]``): ``OneVsRestClassifier(RandomForestClassifier(n))``, one forest per
class, with n = 5000 trees on the landmark distances and 5000 / 1000 / 1000 / 5000 on VGGFace
BGR-avgpool / BGR-fc7 / RGB-avgpool / RGB-fc7, and no random seed. Thousands of trees are slow on a 2-core machine,
so the number is a parameter whose default (``DEFAULT_TREES``) is small.

One validation split gives one number; with a few hundred photos that number moves by several
points from one split to another. ``evaluate`` therefore repeats the split (stratified by
class, or grouped by person so that one person's faces are never on both sides) and returns
every accuracy; ``table2`` lays out mean +- sd beside the paper's own number, where the paper
measured the same thing. The paper's figures live in ``PAPER_TABLE2`` (and ``PAPER_TEST``), the
authors' code's in ``AUTHORS_CODE_VAL``: notebooks read them from there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from tqdm import tqdm

from . import config
from .registry import Registry

__all__ = ["AUTHORS_CODE_COLUMN", "AUTHORS_CODE_VAL", "CLASSIFIERS", "DEFAULT_TREES", "MODEL_LABELS", "MODEL_NAMES",
           "PAPER_COLUMN", "PAPER_TABLE2", "PAPER_TEST", "authors_code_accuracy", "class_indices", "evaluate",
           "make_classifier", "paper_accuracy", "paper_only_rows", "paper_row", "probabilities_in_class_order",
           "random_forest", "repeated_splits", "svm_with_probabilities", "table2"]

DEFAULT_TREES = 300  # per forest; small enough for CI and the 2-core machine


# ---------------------------------------------------------------------------------------------
# Labels and probabilities in one fixed class order
# ---------------------------------------------------------------------------------------------

def class_indices(labels, classes: tuple[str, ...] = config.CLASSES) -> np.ndarray:
    """Class names ("Positive", ...) -> their indices in ``classes``; integer labels pass through."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu":
        if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
            raise ValueError(f"integer labels must be indices 0..{len(classes) - 1} into {classes}")
        return labels.astype(np.int64)
    lookup = {name: index for index, name in enumerate(classes)}
    unknown = sorted({str(label) for label in labels if label not in lookup})
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected one of {classes}")
    return np.array([lookup[label] for label in labels], dtype=np.int64)


def probabilities_in_class_order(model, X, classes: tuple[str, ...] = config.CLASSES) -> np.ndarray:
    """``model.predict_proba(X)`` with its columns put in ``classes`` order: (n, len(classes)).

    scikit-learn orders the columns by ``model.classes_``, which is SORTED (Negative, Neutral,
    Positive for names), not our order. A class the model never saw gets probability 0.
    """
    raw = model.predict_proba(X)
    ordered = np.zeros((raw.shape[0], len(classes)))
    for column, label in enumerate(model.classes_):
        index = int(label) if np.issubdtype(type(label), np.integer) else classes.index(label)
        ordered[:, index] = raw[:, column]
    return ordered


# ---------------------------------------------------------------------------------------------
# The zoo
# ---------------------------------------------------------------------------------------------

# The classifiers of Table 2, by short name, in the order of its columns. Each is registered
# with the name the paper gives it (its label) and built by a function of (seed, n_estimators,
# n_jobs) that returns an unfitted scikit-learn estimator; those without trees or a parallel fit
# ignore the last two. Adding a classifier is one more registered function.
CLASSIFIERS = Registry("classifier")


def svm_with_probabilities(C: float = 1.0) -> CalibratedClassifierCV:
    """An RBF support vector machine whose scores are turned into probabilities (Platt scaling).

    The sigmoid is fitted on 3-fold cross-validated decision values and the SVM itself on all the
    data: what ``SVC(probability=True)`` did, which scikit-learn 1.9 deprecates. Deterministic.
    """
    return CalibratedClassifierCV(SVC(kernel="rbf", C=C), method="sigmoid", cv=3, ensemble=False)


@CLASSIFIERS.register("logistic_regression", label="Logistic Regression",
                      about="standardised features, L2-regularised logistic regression (C=1)")
def _logistic_regression(seed: int, n_estimators: int, n_jobs: int | None) -> Pipeline:
    return Pipeline([("scale", StandardScaler()),
                     ("logistic", LogisticRegression(C=1.0, max_iter=5000, random_state=seed))])


@CLASSIFIERS.register("svm", label="SVM",
                      about="standardised features, an RBF SVM with Platt-scaled probabilities")
def _svm(seed: int, n_estimators: int, n_jobs: int | None) -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("svm", svm_with_probabilities())])


@CLASSIFIERS.register("gradient_boosting", label="Gradient Boosting Trees",
                      about="100 boosted trees, each split choosing among sqrt(d) random features")
def _gradient_boosting(seed: int, n_estimators: int, n_jobs: int | None) -> Pipeline:
    # max_features="sqrt": each split looks at a random sqrt(d) of the features, which makes a
    # fit on the 2278 landmark distances many times faster than one that looks at them all.
    boosting = GradientBoostingClassifier(n_estimators=100, max_features="sqrt", random_state=seed)
    return Pipeline([("boosting", boosting)])


@CLASSIFIERS.register("random_forest", label="Random Forest",
                      about="one Random Forest per class (one-vs-rest), n_estimators trees each",
                      paper="the authors' classifier: every member of their final ensemble")
def random_forest(n_estimators: int = DEFAULT_TREES, seed: int = config.SEED, n_jobs: int | None = None) -> Pipeline:
    """The authors' classifier: one Random Forest per class (one-vs-rest), probabilities renormalised."""
    forest = RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs)
    return Pipeline([("forest", OneVsRestClassifier(forest))])


@CLASSIFIERS.register("mlp", label="Multi-Layered Perceptron (1 hidden layer)",
                      about="standardised features, one hidden layer of 256 ReLU units")
def _mlp(seed: int, n_estimators: int, n_jobs: int | None) -> Pipeline:
    # tol=1e-3: training stops once the loss has not improved by 0.001 for 10 epochs, well before
    # max_iter. scikit-learn's default 1e-4 runs about twice as many epochs for mean accuracies
    # that hardly move.
    return Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, tol=1e-3, max_iter=1000,
                                           random_state=seed))])


# Short names used in code -> the names of the paper's Table 2.
MODEL_LABELS = {entry.name: entry.label for entry in CLASSIFIERS}
MODEL_NAMES = CLASSIFIERS.names()


def make_classifier(name: str, seed: int = config.SEED, n_estimators: int = DEFAULT_TREES,
                    n_jobs: int | None = None) -> Pipeline:
    """One classifier of Table 2 by its short name, unfitted.

    Parameters
    ----------
    name : str
        One of ``MODEL_NAMES`` ("logistic_regression", "svm", "gradient_boosting",
        "random_forest", "mlp").
    seed : int
        The seed of every random choice the classifier makes.
    n_estimators : int
        Trees per forest (Random Forest only).
    n_jobs : int or None
        Trees built at the same time (Random Forest only; -1 = one per core).

    Returns
    -------
    sklearn.pipeline.Pipeline
        The unfitted classifier, standardisation first where the method cares about scales.

    Raises
    ------
    ValueError
        For a name that is not in ``MODEL_NAMES``.
    """
    return CLASSIFIERS[name].part(seed=seed, n_estimators=n_estimators, n_jobs=n_jobs)


# ---------------------------------------------------------------------------------------------
# Evaluation with spread
# ---------------------------------------------------------------------------------------------

def _drop_rows_without_features(X, y, groups=None, feature_set: str = "features", verbose: bool = True):
    """Drop the rows whose features hold NaN (photos where no face was found) and say how many.

    Face features of a faceless photo are NaN by convention; the classifiers cannot use such a
    row, so it is left out of training and of the accuracy. Returns X, y and groups
    (the rows kept) and ``keep``, the boolean mask of the rows kept.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    keep = ~np.isnan(X).any(axis=1)
    n_dropped = int((~keep).sum())
    if n_dropped and verbose:
        print(f"{feature_set}: {n_dropped} of {len(X)} photos have no features (no face found) "
              "and are left out of this evaluation")
    return X[keep], y[keep], (None if groups is None else np.asarray(groups)[keep]), keep


def repeated_splits(y, groups=None, n_repeats: int = 5, test_size: float = 0.25, seed: int = config.SEED):
    """``n_repeats`` (train, test) index pairs: stratified by class; grouped too when ``groups`` is given.

    With groups (e.g. person ids) every group lies wholly on one side of each split
    (StratifiedGroupKFold with a different shuffle per repeat; its first fold is the test part).
    """
    y = np.asarray(y)
    if groups is None:
        splitter = StratifiedShuffleSplit(n_splits=n_repeats, test_size=test_size, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))
    n_groups = len(np.unique(groups))
    n_folds = min(max(2, round(1 / test_size)), n_groups)
    splits = []
    for repeat in range(n_repeats):
        folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed + repeat)
        splits.append(next(folds.split(np.zeros(len(y)), y, groups)))
    return splits


def _fit_and_score(name: str, X, y, train, test, seed: int = config.SEED,
                  n_estimators: int = DEFAULT_TREES) -> float:
    """Fit a fresh ``make_classifier(name)`` on rows ``train`` of X, y; its accuracy on rows ``test``."""
    model = make_classifier(name, seed=seed, n_estimators=n_estimators)
    model.fit(X[train], y[train])
    return accuracy_score(y[test], model.predict(X[test]))


def evaluate(X, y, groups=None, model_names=MODEL_NAMES, n_repeats: int = 5, seed: int = config.SEED,
             feature_set: str = "features", test_size: float = 0.25, n_estimators: int = DEFAULT_TREES,
             n_jobs: int | None = None, verbose: bool = True, train_test=None) -> pd.DataFrame:
    """Accuracy of each classifier over ``n_repeats`` random splits: a tidy table.

    Every fit is seeded, so the accuracies are the same for any ``n_jobs``.

    Parameters
    ----------
    X : array (n_photos, n_features) or dict {feature_set: array}
        One feature matrix (named ``feature_set``), or several with rows in the same photo
        order. Rows with NaN features (photos without a face) are dropped, and counted, per
        feature set.
    y : array of class names or indices, one per row
    groups : array or None
        One group (e.g. person) per row: each split then keeps every group on one side.
    model_names : sequence of str
        Which classifiers of ``MODEL_NAMES`` to fit.
    n_repeats : int
        Random splits (stratified by class); each classifier is fitted once per split.
    seed : int
        Seeds the splits and every classifier.
    feature_set : str
        The name of ``X`` when it is one matrix.
    test_size : float
        The share of the rows in each split's test part.
    n_estimators : int
        Trees per forest (Random Forest only).
    n_jobs : int or None
        How many fits run at the same time, each in its own thread (joblib; -1 = one per core;
        tree building and matrix products release the GIL, so the threads do use the cores).
    verbose : bool
        Say how many rows were dropped, and show a progress bar.
    train_test : (bool array, bool array) or None
        ``(train_mask, test_mask)``, one entry per row of X: that one split replaces the
        random ones, e.g. the paper's train -> val (repeat 0).

    Returns
    -------
    pandas.DataFrame
        One row per (model, feature_set, repeat), columns model, feature_set, repeat,
        accuracy, n_train, n_test; ``table.attrs["dropped"]`` holds the dropped counts per
        feature set.
    """
    feature_sets = X if isinstance(X, dict) else {feature_set: X}
    unknown = [name for name in model_names if name not in CLASSIFIERS]
    if unknown:
        raise ValueError(f"unknown classifiers {unknown}; choose from {MODEL_NAMES}")
    jobs, dropped = [], {}
    for set_name, matrix in feature_sets.items():
        X_set, y_set, groups_set, keep = _drop_rows_without_features(matrix, y, groups, set_name, verbose)
        dropped[set_name] = int((~keep).sum())
        y_set = class_indices(y_set)
        if train_test is None:
            splits = repeated_splits(y_set, groups_set, n_repeats, test_size, seed)
        else:  # the given masks, on the rows kept
            splits = [tuple(np.flatnonzero(np.asarray(mask, dtype=bool)[keep]) for mask in train_test)]
        jobs += [(set_name, repeat, name, X_set, y_set, train, test)
                 for repeat, (train, test) in enumerate(splits) for name in model_names]
    # The widest feature sets (the slowest fits) first, so that quick fits fill the cores at the end.
    order = sorted(range(len(jobs)), key=lambda index: -jobs[index][3].shape[1])
    fits = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
        delayed(_fit_and_score)(name, X_set, y_set, train, test, seed, n_estimators)
        for _, _, name, X_set, y_set, train, test in (jobs[index] for index in order))
    accuracies = dict(zip(order, tqdm(fits, total=len(jobs), desc="evaluate", disable=not verbose, leave=False)))
    rows = [{"model": name, "feature_set": set_name, "repeat": repeat, "accuracy": accuracies[index],
             "n_train": len(train), "n_test": len(test)}
            for index, (set_name, repeat, name, _, _, train, test) in enumerate(jobs)]
    table = pd.DataFrame(rows, columns=["model", "feature_set", "repeat", "accuracy", "n_train", "n_test"])
    table.attrs["dropped"] = dropped
    return table


# ---------------------------------------------------------------------------------------------
# Table 2 of the paper, the authors' code, and our results laid out like them
# ---------------------------------------------------------------------------------------------

# The paper's Table 2: accuracy (%) on the GAF 2.0 validation set. ``model`` / ``features`` tie a
# row to our short names where there is one ("vggface" = the paper does not say which VGGFace
# layer or channel order). The SVM on VGGFace features is listed twice in the paper (64.90% and
# 65.41%). ``unit`` is what the classifier was fitted on: "photo" (one vector per photo: the median
# over its faces for the VGGFace rows, section 2.3; the whole photo for the scene rows) or "face"
# (the end-to-end CNNs, section 3, and the landmark forest, whose face probabilities the authors'
# code sums over a photo's faces: release.ipynb, section 3, ``In [10]`` and ``In [15]``; the
# paper does not say).
PAPER_TABLE2 = pd.DataFrame([
    ("CENTRIST, SVM (baseline)", "svm", "centrist", 52.97, "photo"),
    ("VGG-16 (end-to-end)", None, None, 64.11, "face"),
    ("VGG-19 (end-to-end)", None, None, 27.64, "face"),
    ("VGGFace (end-to-end)", None, None, 65.42, "face"),
    ("VGGFace features, SVM", "svm", "vggface", 64.90, "photo"),
    ("ResNet-50 (end-to-end)", None, None, 62.65, "face"),
    ("XCeption (end-to-end)", None, None, 60.18, "face"),
    ("VGGFace features, Logistic Regression", "logistic_regression", "vggface", 67.24, "photo"),
    ("VGGFace features, SVM", "svm", "vggface", 65.41, "photo"),
    ("VGGFace features, Multi-Layered Perceptron (1 hidden layer)", "mlp", "vggface", 68.09, "photo"),
    ("VGGFace features (BGR, avgpool), Gradient Boosting Tree", "gradient_boosting", "vggface_bgr_avgpool", 69.53,
     "photo"),
    ("VGGFace features (RGB, fc7), Random Forest", "random_forest", "vggface_rgb_fc7", 67.62, "photo"),
    ("VGGFace features (BGR, fc7), Random Forest", "random_forest", "vggface_bgr_fc7", 68.18, "photo"),
    ("VGGFace features (RGB, avgpool), Random Forest", "random_forest", "vggface_rgb_avgpool", 69.78, "photo"),
    ("VGGFace features (BGR, avgpool), Random Forest", "random_forest", "vggface_bgr_avgpool", 70.11, "photo"),
    ("Landmark features, Random Forest", "random_forest", "landmarks", 65.16, "face"),
    ("VGG-16 for the whole image", None, "whole_image", 65.89, "photo"),
    ("Proposed ensemble (except the VGG-16 for the whole image)", None, None, 72.77, "photo"),
    ("Proposed ensemble, Tiny faces", None, None, 66.51, "photo"),
    ("Proposed ensemble, HOG/Viola-Jones faces", None, None, 75.39, "photo"),
], columns=["method", "model", "features", "accuracy", "unit"])

PAPER_COLUMN = "paper: GAF 2.0 val (%)"

# The paper's test accuracies (section 4, the challenge's scoring of GAF 2.0 test): the final
# ensemble, and the organisers' CENTRIST baseline.
PAPER_TEST = {"ensemble": 78.53, "CENTRIST baseline": 53.62}

# What the authors' code printed (github.com/arassadin/emotiw2017, release.ipynb at HEAD, commit
# 592c58a): accuracy (%) on the GAF 2.0 val photos WITH a face (2020 of 2065), by our names.
# Section 3, ``In [15]``: the landmark forest on faces, probabilities summed per photo (5000 trees).
# Section 3, ``In [25]``, in its order: the forests on norm=1 avgpool, norm=1 fc7, norm=3 avgpool,
# norm=3 fc7 (5000, 1000, 1000, 5000 trees, ``In [21]``). ``normalize_vggface_1`` (norm=1) gives
# the network BGR, as VGGFace was trained: the paper's BGR rows; ``normalize_vggface_3`` flips the
# channels back after the mean subtraction, so the network sees RGB: the paper's RGB rows.
# Section 4, ``In [10]``: the ensemble with fixed weights (``ensemble.AUTHORS_WEIGHTS``).
AUTHORS_CODE_VAL = {
    "landmarks": 64.75,
    "vggface_bgr_avgpool": 69.60,
    "vggface_bgr_fc7": 68.32,
    "vggface_rgb_avgpool": 69.85,
    "vggface_rgb_fc7": 67.67,
    "ensemble (photos with a face)": 75.40,
}
AUTHORS_CODE_COLUMN = "authors' code: GAF 2.0 val (%)"
_AUTHORS_CODE_UNIT = {"landmarks": "face"}  # what each forest of the authors' code was fitted on; the rest: photos

# How table2 names a paper row that no measured row matches (by its ``features``, or its unit).
_VGGFACE_UNSPECIFIED = "vggface (layer not given)"
_PER_FACE = "fitted on faces, summed per photo"


def paper_row(method: str) -> float:
    """The accuracy (%) of one row of the paper's Table 2, by its method name (``PAPER_TABLE2.method``)."""
    rows = PAPER_TABLE2[PAPER_TABLE2.method == method]
    if rows.empty:
        raise ValueError(f"no row {method!r} in the paper's Table 2; its rows: {PAPER_TABLE2.method.tolist()}")
    return float(rows.accuracy.iloc[0])


def paper_accuracy(model: str, feature_set: str, unit: str | None = None) -> str:
    """The paper's Table 2 number(s) for this classifier on exactly this feature set, as text ("" if none).

    Only a row of that very feature set counts: the paper's rows on "VGGFace features" of a layer
    it does not name belong to no single VGGFace feature set (``paper_only_rows`` lists them).
    With ``unit`` ("photo" or "face"), only a row whose classifier was fitted on that unit counts.
    """
    rows = PAPER_TABLE2[(PAPER_TABLE2.model == model) & (PAPER_TABLE2.features == feature_set)]
    if unit is not None:
        rows = rows[rows.unit == unit]
    return " / ".join(f"{value:.2f}" for value in rows.accuracy)


def authors_code_accuracy(model: str, feature_set: str, unit: str = "photo") -> str:
    """What the authors' code printed for this classifier on this feature set (``AUTHORS_CODE_VAL``),
    as text, when it fitted that very classifier on ``unit`` ("photo" or "face"); "" otherwise.
    Their code fitted Random Forests only: on photos for the VGGFace sets, on faces for the landmarks."""
    if model != "random_forest" or feature_set not in AUTHORS_CODE_VAL or feature_set.startswith("ensemble"):
        return ""
    return f"{AUTHORS_CODE_VAL[feature_set]:.2f}" if _AUTHORS_CODE_UNIT.get(feature_set, "photo") == unit else ""


def paper_only_rows(feature_sets) -> pd.DataFrame:
    """The Table 2 rows about a classifier of the zoo that match no photo-level row on ``feature_sets``.

    ``evaluate`` fits each classifier on one vector per photo. A paper row sits beside such a
    row only when it names the same classifier, the same feature set and was fitted on photos.
    These rows, about a feature set measured here, are shown once, on their own: the SVM,
    logistic regression and perceptron on VGGFace features of a layer the paper does not name
    (when a "vggface_*" set is among ``feature_sets``), and the landmark forest, fitted on faces
    in the authors' code (when "landmarks" is). Returns one row per (``row``, ``model``):
    ``row`` is their label in ``table2`` ("vggface (layer not given)" or "landmarks (fitted on
    faces, summed per photo)"); ``method``, ``features``, ``unit`` and ``accuracy`` are the
    paper's (the first row, where it gives two); ``paper`` its numbers as text, joined with " / ".
    """
    sets = set(feature_sets)
    zoo = PAPER_TABLE2[PAPER_TABLE2.model.isin(MODEL_NAMES)]
    unspecified = (zoo.features == "vggface") & any(name.startswith("vggface") for name in sets)
    on_faces = zoo.features.isin(sets) & (zoo.unit == "face")
    others = zoo[unspecified | on_faces].copy()
    others["row"] = [_VGGFACE_UNSPECIFIED if features == "vggface" else f"{features} ({_PER_FACE})"
                     for features in others.features]
    others["after"] = others.row != _VGGFACE_UNSPECIFIED        # the VGGFace rows first, as in Table 2
    others["order"] = others.model.map(MODEL_NAMES.index)
    return (others.sort_values(["after", "row", "order"], kind="stable")
            .groupby(["row", "model"], sort=False)
            .agg(method=("method", "first"), features=("features", "first"), unit=("unit", "first"),
                 accuracy=("accuracy", "first"),
                 paper=("accuracy", lambda values: " / ".join(f"{v:.2f}" for v in values)))
            .reset_index())


def table2(results: pd.DataFrame) -> pd.DataFrame:
    """Lay out ``evaluate`` results like the paper's Table 2: one row per method, mean +- sd.

    The paper's number sits in its own, clearly labelled column, beside a row only where the
    paper measured the same classifier on the same feature set (``paper_accuracy`` with
    unit "photo"): it was measured on GAF 2.0 with the authors' features, not on the data these
    results come from. The paper's rows that match no row here (``paper_only_rows``) follow once
    each, labelled "paper only: ...", with the columns measured here left empty. The last column
    holds what the authors' code printed for the same forest (``authors_code_accuracy``).
    """
    rows = []
    for (feature_set, model), group in results.groupby(["feature_set", "model"], sort=False):
        mean, sd = 100 * group.accuracy.mean(), 100 * group.accuracy.std(ddof=1)
        rows.append({"method": f"{feature_set}, {MODEL_LABELS.get(model, model)}",
                     "accuracy here (%), mean ± sd": f"{mean:.1f} ± {sd:.1f}",
                     "mean (%)": round(mean, 2), "sd (%)": round(sd, 2), "repeats": len(group),
                     PAPER_COLUMN: paper_accuracy(model, feature_set, unit="photo"),
                     AUTHORS_CODE_COLUMN: authors_code_accuracy(model, feature_set)})
    for row in paper_only_rows(results.feature_set.unique()).itertuples():
        rows.append({"method": f"paper only: {row.row}, {MODEL_LABELS[row.model]}",
                     "accuracy here (%), mean ± sd": "", "mean (%)": np.nan, "sd (%)": np.nan, "repeats": 0,
                     PAPER_COLUMN: row.paper, AUTHORS_CODE_COLUMN: authors_code_accuracy(row.model, row.features, row.unit)})
    return pd.DataFrame(rows).set_index("method")
