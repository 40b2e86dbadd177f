"""The final decision (paper section 2.5, Figure 2): a weighted vote of the members.

Each member gives class probabilities for each photo, (n_photos, 3) in ``CLASSES`` order:

    landmarks            a Random Forest on each FACE's 2278 landmark distances; a photo's score
                         is the SUM of its faces' probabilities (``sum_face_probabilities``; the
                         authors' rule; ``aggregate="mean"`` is the variant that divides by the
                         number of faces)
    vggface_*            four Random Forests on the median over faces of VGGFace features
                         (RGB/BGR x avgpool/fc7)
    whole_image          the whole-image model (``scene.whole_image_model``): every photo
    zero_shot            not in the paper, nothing fitted (``expression.ZeroShotValence``): each face's
                         expression probabilities mapped to the three classes by
                         ``expression.VALENCE``, averaged over a photo's faces

    score(photo) = sum over members m of  weight_m * P_m(photo)      (then argmax)

With the authors' sum, a photo with 10 faces gives the landmark member 10 times its nominal
weight in that score. ``weighted_vote`` divides each row by its total, so the scores read as
probabilities; that does not change the argmax, hence not the accuracy.

The weights: the paper says "weighted based on their accuracy estimated on the validation
data" (``accuracy_weights``); the authors' code used fixed numbers (``AUTHORS_WEIGHTS``:
0.6 landmarks, 0.86 whole image, 0.7 for each VGGFace forest).

Faceless photos. A photo without a detected face has no face-member output: its rows are NaN.
``weighted_vote`` leaves a missing member out of that photo's sum, so a faceless photo is
decided by the whole-image member alone, and ``predicted_labels`` names no class for a photo
no member scored.

This module is the vote and its members: what they are, how they combine, how they are saved
(``Ensemble``: JSON, skops and Keras files, nothing unpickled, and a manifest of their sha256)
and read back, each file checked first (``modelfolder``: a folder someone sends you is untrusted
input). How good the vote is and how far to trust its numbers (accuracy, confusion matrix,
calibration) is ``metrics``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import config, expression, modelfolder, scene
from .classifiers import class_indices, probabilities_in_class_order
from .io import atomic_path, load_skops
from .modelfolder import ModelFolderError, rule

__all__ = ["AGGREGATES", "AUTHORS_WEIGHTS", "MEMBER_KINDS", "Ensemble", "EnsembleFile", "Member", "MemberEntry",
           "PerFace", "accuracy_weights", "predicted_labels", "sum_face_probabilities", "weighted_vote"]

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


# ---------------------------------------------------------------------------------------------
# Faces -> photos
# ---------------------------------------------------------------------------------------------

def sum_face_probabilities(face_probs: np.ndarray, photo_ids, photos=None, aggregate: str = "sum") -> np.ndarray:
    """Per-face class probabilities -> one score per photo: the SUM over the photo's faces.

    ``photo_ids[i]`` names the photo of face i. Rows come out in the order of ``photos`` when
    given (a photo with no face gets a NaN row: it has no output from this member), else in
    the order in which photos first appear in ``photo_ids``.

    ``aggregate="sum"`` is the authors' rule. Their release.ipynb (github.com/arassadin/emotiw2017,
    section "3. Обучение слабых классификаторов и сбор их скорингов", the cell ``In [10]``)
    turns the landmark forest's per-face probabilities into photo scores
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
    """Combine members' probabilities: the sum of weight * probability, per photo.

    A member whose row is NaN for a photo (a face member on a faceless photo) is left out of
    that photo's sum. Each row is then divided by its own total, so the scores sum to 1 (when
    every member's rows sum to 1, that total is the weight of the members present); this does
    not change the argmax. A photo with no member at all gets a NaN row.

    Parameters
    ----------
    probabilities : dict of str to numpy.ndarray
        Each member's (n_photos, n_classes) probabilities, by member name; NaN rows where the
        member has no output.
    weights : dict of str to float
        A weight for every member of ``probabilities`` (more names are allowed).

    Returns
    -------
    numpy.ndarray
        (n_photos, n_classes) scores, each row summing to 1 (NaN for a photo nobody scored).

    Raises
    ------
    ValueError
        When a member has no weight, there is no member, or members disagree on the shape.

    Examples
    --------
    Photo 0: 3 * [0.5, 0.5, 0] + 1 * [0, 1, 0], divided by 4. Photo 1 has no face: the
    whole image alone decides it.

    >>> import numpy as np
    >>> faces = np.array([[0.5, 0.5, 0.0], [np.nan, np.nan, np.nan]])
    >>> whole_image = np.array([[0.0, 1.0, 0.0], [0.2, 0.2, 0.6]])
    >>> weighted_vote({"faces": faces, "whole_image": whole_image}, {"faces": 3.0, "whole_image": 1.0})
    array([[0.375, 0.625, 0.   ],
           [0.2  , 0.2  , 0.6  ]])
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


def _probabilities(model, X) -> np.ndarray:
    """Class probabilities in CLASSES order from a scikit-learn model or an images-in model."""
    if hasattr(model, "classes_"):
        return probabilities_in_class_order(model, X)
    return np.asarray(model.predict_proba(X), dtype=np.float64)


# How each kind of member is saved as a file, then read back: the check of its file before it is
# loaded (``modelfolder``), and its loader (nothing it calls unpickles).
_MEMBER_FILES = {
    "skops": (modelfolder.check_archive, load_skops),
    "whole_image": (modelfolder.check_whole_image, scene.load_whole_image_model),
    "zero_shot": (modelfolder.check_zero_shot, expression.ZeroShotValence.load),
}
MEMBER_KINDS = tuple(_MEMBER_FILES)


@dataclass(frozen=True, kw_only=True)
class MemberEntry:
    """One member in ensemble.json: what ``Ensemble.load`` checks it against (``modelfolder.parse``).
    Weights are accuracies or the authors' fixed numbers: in [0, 1]."""

    name: str
    feature_set: str
    weight: float = rule(within=(0.0, 1.0))
    aggregate: str = rule(choices=AGGREGATES)
    kind: str = rule(choices=MEMBER_KINDS)
    file: str


@dataclass(frozen=True, kw_only=True)
class EnsembleFile:
    """ensemble.json: its format, the classes in order, the members."""

    format: int
    classes: list[str]
    members: list[MemberEntry]


@dataclass
class Ensemble:
    """Fitted members + their weights: ``predict_proba(inputs)`` is their weighted vote.

    ``inputs`` maps each feature-set name to that member's input (see ``Member``).

    Saved as a folder, with nothing that is unpickled on loading::

        ensemble.json            format version, classes, and per member: name, feature_set,
                                 weight, aggregate, kind ("skops", "whole_image" or
                                 "zero_shot") and file (``EnsembleFile``)
        member_NN_<name>.skops   a scikit-learn model in skops format (``skops.io``): loaded with
                                 the types skops trusts plus ``io.TRUSTED_TYPES``, nothing else
        member_NN_<name>/        a whole-image model, written by its own save()
                                 (the Keras VGG16 head as model.keras, the stand-in as skops + JSON)
        member_NN_<name>.json    a zero-shot member (``expression.ZeroShotValence``): kind, backbone,
                                 valence
        manifest.json            the sha256 of every other file (``modelfolder.write_manifest``)
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

    def save(self, folder: str | Path, extra: dict[str, dict] | None = None) -> Path:
        """Write the ensemble to ``folder`` (replacing what was there, only once all is written).

        ``extra`` names more JSON files to write beside ensemble.json, with their contents
        (``GroupEmotionModel.save`` puts pipeline.json there). The last file written is
        manifest.json, the sha256 of all the others, which ``load`` checks.
        """
        import skops.io  # imported here, as in io.load_skops: only saving a model needs it

        folder = Path(folder)
        with atomic_path(folder) as tmp:
            tmp.mkdir()
            described = []
            for number, member in enumerate(self.members):
                stem = f"member_{number:02d}_{re.sub(r'[^A-Za-z0-9_-]+', '_', member.name)}"
                if isinstance(member.model, expression.ZeroShotValence):
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
            for name, content in (extra or {}).items():
                (tmp / name).write_text(json.dumps(content, indent=1))
            modelfolder.write_manifest(tmp)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "Ensemble":
        """Read back what ``save`` wrote, every file checked before any model is loaded: the
        folder against its manifest (``modelfolder.check_files``), ensemble.json against
        ``EnsembleFile`` (at least one member, distinct names and files, one weight at least
        above 0), each member's file as its kind wants; then each loaded model
        (``modelfolder.check_model``). Raises ``modelfolder.ModelFolderError`` (one line: the
        file and the field) for anything wrong."""
        folder = Path(folder).resolve()
        modelfolder.check_files(folder)
        described_in = folder / "ensemble.json"
        described = modelfolder.read(described_in, EnsembleFile)
        if described.format == 1:
            raise ModelFolderError(described_in, "format", "1, the old format (joblib pickles), which is not loaded "
                                   "because unpickling a file can run any code; train and save the model again")
        if described.format != cls.FORMAT:
            raise ModelFolderError(described_in, "format", f"{described.format}: not the format {cls.FORMAT} this "
                                   "version reads")
        if described.classes != list(config.CLASSES):
            raise ModelFolderError(described_in, "classes", f"{described.classes}: not {list(config.CLASSES)}")
        if not described.members:
            raise ModelFolderError(described_in, "members", "empty: an ensemble needs a member")
        for key in ("name", "file"):
            values = [getattr(member, key) for member in described.members]
            if len(set(values)) != len(values):
                raise ModelFolderError(described_in, "members", f"two members with the same {key}")
        if not any(member.weight > 0 for member in described.members):
            raise ModelFolderError(described_in, "members", "every weight is 0: the vote would have no voter")
        ensemble = cls()
        for number, member in enumerate(described.members):
            path = modelfolder.inside(folder, member.file, described_in, f"members[{number}].file")
            check_file, load_file = _MEMBER_FILES[member.kind]
            check_file(path)
            with modelfolder.loading(path):
                model = load_file(path)
                modelfolder.check_model(model, path)
            ensemble.add(member.name, model, member.feature_set, member.weight, member.aggregate)
        return ensemble
