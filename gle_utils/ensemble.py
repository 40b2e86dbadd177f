"""The final decision (paper section 2.5, Figure 2, Figure 3): a weighted vote of the members.

Each member gives class probabilities for each photo, (n_photos, 3) in ``CLASSES`` order:

    landmarks            a Random Forest on each FACE's 2278 landmark distances; a photo's score
                         is the SUM of its faces' probabilities (``sum_face_probabilities``; the
                         authors' rule; ``aggregate="mean"`` is the variant that divides by the
                         number of faces)
    vggface_*            four Random Forests on the median over faces of VGGFace features
                         (RGB/BGR x avgpool/fc7)
    whole_image          the whole-image model (``scene.whole_image_model``): every photo
    zero_shot            not in the paper, nothing fitted (``ZeroShotValence``): each face's
                         expression probabilities mapped to the three classes by
                         ``expression.VALENCE``, averaged over a photo's faces

    score(photo) = sum over members m of  weight_m * P_m(photo)      (then argmax)

With the authors' sum, a photo with 10 faces gives the landmark member 10 times its nominal
weight in that score. ``weighted_vote`` divides each row by its total, so the scores read as
probabilities; that does not change the argmax, hence not the accuracy.

Calibration. The vote's numbers are not probabilities anyone has checked: a forest's vote
shares are not frequencies, and summing faces inflates one member. ``fit_temperature`` finds the
one number T that makes ``calibrate(scores, T)`` (scores ** (1/T), renormalised) best predict
the validation labels (lowest log loss); the argmax never changes.

The weights: the paper says "weighted based on their accuracy estimated on the validation
data" (``accuracy_weights``); the authors' code used fixed numbers (``AUTHORS_WEIGHTS``:
0.6 landmarks, 0.86 whole image, 0.7 for each VGGFace forest).

Faceless photos. A photo without a detected face has no face-member output: its rows are NaN.
``weighted_vote`` leaves a missing member out of that photo's sum, so a faceless photo is
decided by the whole-image member alone. The authors' 75.4% was measured on the 2020 of 2065
validation photos WITH a face (the 45 faceless ones were left out): ``accuracy_report`` gives
the accuracy over all photos and over photos with a face, side by side.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io
from scipy.optimize import minimize_scalar

from . import config
from .classifiers import class_indices, probabilities_in_class_order
from .io import atomic_path

# The types a saved member may hold beyond what skops trusts by default: the only ones
# Ensemble.load accepts (a file that needs any other type is refused, not loaded).
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]

# How a face member turns per-face probabilities into a photo's score.
AGGREGATES = ("sum", "mean")

# The authors' fixed weights (release.ipynb), by member name.
AUTHORS_WEIGHTS = {
    "landmarks": 0.6,
    "whole_image": 0.86,
    "vggface_rgb_avgpool": 0.7,
    "vggface_rgb_fc7": 0.7,
    "vggface_bgr_avgpool": 0.7,
    "vggface_bgr_fc7": 0.7,
}

# The diagonal of the paper's Figure 3 (row-normalised confusion matrix, GAF 2.0 val).
PAPER_CONFUSION_DIAGONAL = {"Positive": 0.80, "Neutral": 0.66, "Negative": 0.80}


# ---------------------------------------------------------------------------------------------
# Faces -> photos
# ---------------------------------------------------------------------------------------------

def sum_face_probabilities(face_probs: np.ndarray, photo_ids, photos=None, aggregate: str = "sum") -> np.ndarray:
    """Per-face class probabilities -> one score per photo: the SUM over the photo's faces.

    ``photo_ids[i]`` names the photo of face i. Rows come out in the order of ``photos`` when
    given (a photo with no face gets a NaN row: it has no output from this member), else in
    the order in which photos first appear in ``photo_ids``.

    ``aggregate="sum"`` is the authors' rule. Their release.ipynb (github.com/arassadin/emotiw2017,
    section "3. Обучение слабых классификаторов и сбор их скорингов", the cell ``In [9]``,
    25th of the notebook) turns the landmark forest's per-face probabilities into photo scores
    with::

        def probs_deflate(probs_pred, d):
            ...
            for fname in log_progress(d.keys()):
                q = len(d[fname])
                score = np.sum(probs_pred[cur_position : cur_position + q], axis=0)
                probs_deflated[fname] = score

    and votes with those raw sums, so a photo with 10 faces gives the landmarks 10 times their
    weight. ``aggregate="mean"`` divides each sum by the number of faces (rows sum to 1 like
    the other members'); a member's own argmax, hence its own accuracy, is the same either way.
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"unknown aggregate={aggregate!r}; choose one of {AGGREGATES}")
    face_probs = np.asarray(face_probs, dtype=np.float64)
    photo_ids = np.asarray(photo_ids)
    if face_probs.ndim != 2 or len(face_probs) != len(photo_ids):
        raise ValueError(f"need one photo id per face: {face_probs.shape} probabilities, {photo_ids.shape} ids")
    if photos is None:
        photos = list(dict.fromkeys(photo_ids.tolist()))
    row_of = {photo: row for row, photo in enumerate(photos)}
    unknown = {photo for photo in photo_ids.tolist() if photo not in row_of}
    if unknown:
        raise ValueError(f"faces belong to photos that are not in `photos`: {sorted(map(str, unknown))[:5]}")

    sums = np.zeros((len(photos), face_probs.shape[1]))
    counts = np.zeros(len(photos))
    rows = np.array([row_of[photo] for photo in photo_ids.tolist()], dtype=np.int64)
    np.add.at(sums, rows, face_probs)
    np.add.at(counts, rows, 1)
    if aggregate == "mean":
        sums[counts > 0] /= counts[counts > 0, None]
    sums[counts == 0] = np.nan
    return sums


# ---------------------------------------------------------------------------------------------
# The weighted vote
# ---------------------------------------------------------------------------------------------

def weighted_vote(probabilities: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Combine members' (n_photos, 3) probabilities: sum of weight * probability, per photo.

    A member whose row is NaN for a photo (a face member on a faceless photo) is left out of
    that photo's sum. Each row is then divided by its own total, so the scores sum to 1 (when
    every member's rows sum to 1, that total is the weight of the members present); this does
    not change the argmax. A photo with no member at all gets a NaN row.
    """
    missing = [name for name in probabilities if name not in weights]
    if missing:
        raise ValueError(f"no weight for member(s) {missing}")
    if not probabilities:
        raise ValueError("no members to vote")
    shapes = {np.shape(p) for p in probabilities.values()}
    if len(shapes) != 1:
        raise ValueError(f"members disagree on the number of photos or classes: {shapes}")

    n_photos, n_classes = shapes.pop()
    total = np.zeros((n_photos, n_classes))
    voted = np.zeros(n_photos, dtype=bool)
    for name, member_probs in probabilities.items():
        member_probs = np.asarray(member_probs, dtype=np.float64)
        present = ~np.isnan(member_probs).any(axis=1)
        total[present] += weights[name] * member_probs[present]
        voted |= present
    total[~voted] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / total.sum(axis=1, keepdims=True)


def calibrate(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling of probability-like scores: scores ** (1 / T), rows renormalised.

    T > 1 softens (less confident), T < 1 sharpens; the argmax never changes. NaN rows stay NaN.
    """
    scores = np.asarray(scores, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logits = np.log(np.clip(scores, 1e-12, None)) / temperature
        logits -= np.fmax.reduce(logits, axis=1, keepdims=True)  # NaN rows stay NaN, silently
        powered = np.exp(logits)
        return powered / powered.sum(axis=1, keepdims=True)


def cap_confidence(probabilities: np.ndarray, accuracy: float) -> np.ndarray:
    """Shrink each row towards 1/n_classes each, just enough that no class exceeds ``accuracy``
    (a member's validation accuracy): rows already below it and NaN rows are unchanged, the
    argmax never changes."""
    p = np.asarray(probabilities, dtype=np.float64).copy()
    uniform = 1 / p.shape[1]
    cap = max(float(accuracy), uniform)
    top = p.max(axis=1)
    over = top > cap
    shrink = (cap - uniform) / (top[over] - uniform)
    p[over] = uniform + shrink[:, None] * (p[over] - uniform)
    return p


def fit_temperature(scores: np.ndarray, y_true, bounds: tuple[float, float] = (0.25, 20.0)) -> float:
    """The temperature (within ``bounds``) whose ``calibrate`` gives the lowest log loss on
    labelled photos: fit it on VALIDATION scores. Rows that are NaN are left out; with no row
    left, 1.0 (no change)."""
    scores = np.asarray(scores, dtype=np.float64)
    y = class_indices(y_true)
    present = ~np.isnan(scores).any(axis=1)
    if not present.any():
        return 1.0
    scores, y = scores[present], y[present]

    def log_loss(log_t):
        p = calibrate(scores, float(np.exp(log_t)))[np.arange(len(y)), y]
        return -np.mean(np.log(np.clip(p, 1e-12, None)))

    best = minimize_scalar(log_loss, bounds=np.log(bounds), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(best.x))


def accuracy_weights(probabilities: dict[str, np.ndarray], y_true) -> dict[str, float]:
    """The paper's weights: each member's accuracy on the photos where it has an output.

    Compute them on VALIDATION photos (not the photos the members were trained on).
    """
    y = class_indices(y_true)
    weights = {}
    for name, member_probs in probabilities.items():
        member_probs = np.asarray(member_probs, dtype=np.float64)
        present = ~np.isnan(member_probs).any(axis=1)
        if not present.any():
            raise ValueError(f"member {name!r} has no output on any photo: its accuracy is undefined")
        weights[name] = float(np.mean(member_probs[present].argmax(axis=1) == y[present]))
    return weights


def predicted_labels(scores: np.ndarray, classes: tuple[str, ...] = config.CLASSES) -> np.ndarray:
    """The class name with the highest score in each row; None where a row is all NaN."""
    scores = np.asarray(scores, dtype=np.float64)
    decided = ~np.isnan(scores).any(axis=1)
    labels = np.full(len(scores), None, dtype=object)
    labels[decided] = np.asarray(classes, dtype=object)[scores[decided].argmax(axis=1)]
    return labels


def class_names(labels, classes: tuple[str, ...] = config.CLASSES) -> np.ndarray:
    """Labels as class names (integer labels are indices into ``classes``)."""
    return np.asarray(classes, dtype=object)[class_indices(labels, classes)]


def accuracy_report(scores: np.ndarray, y_true, has_face) -> pd.DataFrame:
    """Accuracy over all photos, over photos with a face (how the authors counted), and faceless ones."""
    correct = predicted_labels(scores) == class_names(y_true)
    has_face = np.asarray(has_face, dtype=bool)
    rows = {}
    for subset, mask in (("all photos", np.ones_like(has_face)), ("photos with a face", has_face),
                         ("photos without a face", ~has_face)):
        n = int(mask.sum())
        rows[subset] = {"photos": n, "accuracy": float(correct[mask].mean()) if n else float("nan")}
    return pd.DataFrame.from_dict(rows, orient="index")


def confusion_matrix(y_true, y_pred, classes: tuple[str, ...] = config.CLASSES) -> pd.DataFrame:
    """Row-normalised confusion matrix (rows = true class, columns = predicted), as in Figure 3.

    Each row sums to 1: the diagonal is the recall of each class. Photos without a
    prediction (None) are left out.
    """
    y_pred = np.asarray(y_pred, dtype=object)
    decided = np.array([label is not None for label in y_pred], dtype=bool)
    true = class_indices(list(np.asarray(y_true, dtype=object)[decided]), classes)
    predicted = class_indices(list(y_pred[decided]), classes)
    counts = np.zeros((len(classes), len(classes)))
    np.add.at(counts, (true, predicted), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = counts / counts.sum(axis=1, keepdims=True)
    return pd.DataFrame(matrix, index=pd.Index(classes, name="true"), columns=pd.Index(classes, name="predicted"))


def plot_confusion_matrix(matrix: pd.DataFrame, ax=None, title: str = "Confusion matrix (rows: true class)"):
    """Draw a row-normalised confusion matrix as an annotated heat map (the paper's Figure 3)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    ax = ax if ax is not None else plt.subplots(figsize=(4.5, 3.8))[1]
    sns.heatmap(matrix, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="Blues", cbar=False, square=True, ax=ax)
    ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# An ensemble of fitted members that predicts, saves and reloads
# ---------------------------------------------------------------------------------------------

@dataclass
class PerFace:
    """The per-face input of a member like the landmark forest: row i of ``X`` is a face of
    photo ``photo_index[i]`` (an integer 0..n_photos-1)."""

    X: np.ndarray
    photo_index: np.ndarray
    n_photos: int


@dataclass
class Member:
    """One voter: a fitted model, the feature set it reads, its weight.

    ``model.predict_proba`` takes the inputs named ``feature_set``: a photo-level matrix
    (n_photos, d) whose NaN rows are faceless photos; a ``PerFace`` (then the per-face
    probabilities are combined per photo by ``aggregate``: "sum", the authors' rule, or
    "mean"); or a list of images (the whole-image member).
    """

    name: str
    model: object
    feature_set: str
    weight: float
    aggregate: str = "sum"

    def predict_proba(self, inputs) -> np.ndarray:
        if isinstance(inputs, PerFace):
            X = np.asarray(inputs.X)
            # No face at all (e.g. one photo in which none was found): every photo gets NaN.
            face_probs = _probabilities(self.model, X) if len(X) else np.zeros((0, len(config.CLASSES)))
            return sum_face_probabilities(face_probs, inputs.photo_index, photos=range(inputs.n_photos),
                                          aggregate=self.aggregate)
        if isinstance(inputs, np.ndarray) and inputs.ndim == 2 and inputs.dtype.kind == "f":
            out = np.full((len(inputs), len(config.CLASSES)), np.nan)
            present = ~np.isnan(inputs).any(axis=1)
            if present.any():
                out[present] = _probabilities(self.model, inputs[present])
            return out
        return _probabilities(self.model, inputs)  # images: the whole-image member


class ZeroShotValence:
    """A member with nothing fitted: a face's 7 expression probabilities (from the expression
    network ``backbone``) mapped to Positive/Neutral/Negative by ``expression.VALENCE``
    (``expression.valence_probabilities``). It reads the same per-face input as an expression
    forest, so with ``aggregate="mean"`` a photo's score is the mean over its faces."""

    VALENCE_SOURCE = "gle_utils.expression.VALENCE"

    def __init__(self, backbone: str):
        from . import expression  # TensorFlow: loaded only when a zero-shot member exists

        labels = {"fer2013-xception": expression.FER_LABELS, "faceapi-expression": expression.FACEAPI_LABELS}
        if backbone not in labels:
            raise ValueError(f"no expression network called {backbone!r}; choose one of {sorted(labels)}")
        self.backbone, self.labels = backbone, labels[backbone]

    def predict_proba(self, X) -> np.ndarray:
        from .expression import valence_probabilities

        return valence_probabilities(X, self.labels)

    def save(self, path: str | Path) -> None:
        """A JSON file: nothing is fitted, so the backbone's name and where the mapping lives say it all."""
        description = {"kind": "zero_shot", "backbone": self.backbone, "valence": self.VALENCE_SOURCE}
        with atomic_path(Path(path)) as tmp:
            tmp.write_text(json.dumps(description, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "ZeroShotValence":
        description = json.loads(Path(path).read_text())
        if description.get("kind") != "zero_shot" or description.get("valence") != cls.VALENCE_SOURCE:
            raise ValueError(f"{path}: not a zero-shot member with the valence of {cls.VALENCE_SOURCE}")
        return cls(description["backbone"])


def _probabilities(model, X) -> np.ndarray:
    """Class probabilities in CLASSES order from a scikit-learn model or an images-in model."""
    if hasattr(model, "classes_"):
        return probabilities_in_class_order(model, X)
    return np.asarray(model.predict_proba(X), dtype=np.float64)


@dataclass
class Ensemble:
    """Fitted members + their weights: ``predict_proba(inputs)`` is their weighted vote.

    ``inputs`` maps each feature-set name to that member's input (see ``Member``).

    Saved as a folder, with nothing that is unpickled on loading::

        ensemble.json            format version, classes, and per member: name, feature_set,
                                 weight, aggregate, kind ("skops", "whole_image" or
                                 "zero_shot") and file
        member_NN_<name>.skops   a scikit-learn model in skops format (``skops.io``): loaded with
                                 the types skops trusts plus ``TRUSTED_TYPES``, nothing else
        member_NN_<name>/        a whole-image model, written by its own save()
                                 (the Keras VGG16 head as model.keras, the stand-in as skops + JSON)
        member_NN_<name>.json    a zero-shot member (``ZeroShotValence``): kind, backbone, valence
    """

    members: list[Member] = field(default_factory=list)
    FORMAT = 2  # 1 was joblib pickles: refused on loading, retrain instead

    def add(self, name: str, model, feature_set: str, weight: float, aggregate: str = "sum") -> "Ensemble":
        if any(member.name == name for member in self.members):
            raise ValueError(f"a member called {name!r} is already in the ensemble")
        if aggregate not in AGGREGATES:
            raise ValueError(f"unknown aggregate={aggregate!r}; choose one of {AGGREGATES}")
        self.members.append(Member(name, model, feature_set, float(weight), aggregate))
        return self

    @property
    def weights(self) -> dict[str, float]:
        return {member.name: member.weight for member in self.members}

    def member_probabilities(self, inputs: dict) -> dict[str, np.ndarray]:
        missing = sorted({m.feature_set for m in self.members} - set(inputs))
        if missing:
            raise KeyError(f"inputs lack the feature set(s) {missing}")
        return {member.name: member.predict_proba(inputs[member.feature_set]) for member in self.members}

    def predict_proba(self, inputs: dict) -> np.ndarray:
        return weighted_vote(self.member_probabilities(inputs), self.weights)

    def predict(self, inputs: dict) -> np.ndarray:
        return predicted_labels(self.predict_proba(inputs))

    def save(self, folder: str | Path) -> Path:
        """Write the ensemble to ``folder`` (replacing what was there, only once all is written)."""
        folder = Path(folder)
        with atomic_path(folder) as tmp:
            tmp.mkdir()
            described = []
            for number, member in enumerate(self.members):
                stem = f"member_{number:02d}_{re.sub(r'[^A-Za-z0-9_-]+', '_', member.name)}"
                if isinstance(member.model, ZeroShotValence):
                    member.model.save(tmp / f"{stem}.json")
                    kind, file = "zero_shot", f"{stem}.json"
                elif hasattr(member.model, "save") and hasattr(member.model, "name"):
                    member.model.save(tmp / stem)
                    kind, file = "whole_image", stem
                else:
                    skops.io.dump(member.model, tmp / f"{stem}.skops")
                    kind, file = "skops", f"{stem}.skops"
                described.append({"name": member.name, "feature_set": member.feature_set, "weight": member.weight,
                                  "aggregate": member.aggregate, "kind": kind, "file": file})
            info = {"format": self.FORMAT, "classes": list(config.CLASSES), "members": described}
            (tmp / "ensemble.json").write_text(json.dumps(info, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "Ensemble":
        from .scene import load_whole_image_model

        folder = Path(folder)
        info = json.loads((folder / "ensemble.json").read_text())
        if info.get("format") == 1:
            raise ValueError(f"{folder}: saved in the old format (joblib pickles), which is not loaded because "
                             "unpickling a file can run any code; train and save the model again (notebook 07)")
        if info.get("format") != cls.FORMAT or tuple(info["classes"]) != tuple(config.CLASSES):
            raise ValueError(f"{folder}: an ensemble of another format or class order ({info.get('format')}, "
                             f"{info.get('classes')})")
        ensemble = cls()
        for member in info["members"]:
            path = folder / member["file"]
            if member["kind"] == "whole_image":
                model = load_whole_image_model(path)
            elif member["kind"] == "skops":
                model = load_skops(path)
            elif member["kind"] == "zero_shot":
                model = ZeroShotValence.load(path)
            else:
                raise ValueError(f"{folder}: member {member['name']!r} of unknown kind {member['kind']!r}")
            ensemble.add(member["name"], model, member["feature_set"], member["weight"], member.get("aggregate", "sum"))
        return ensemble


def load_skops(path: str | Path):
    """A scikit-learn model saved with ``skops.io.dump``, trusting only skops's defaults and
    ``TRUSTED_TYPES``; a file that needs anything else is refused with the types it asked for."""
    untrusted = [t for t in skops.io.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise ValueError(f"{path}: refused, it holds types that are not trusted: {untrusted}")
    return skops.io.load(path, trusted=TRUSTED_TYPES)
