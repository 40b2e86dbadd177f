"""The paper's final pipeline (Figure 2) in one place: photos in, a trained and weighted ensemble out.

Notebook 07 and ``predict.py`` both build the ensemble through this module, so its recipe is
written once::

    model, val = train(table, backbone="auto", detector="sequential", n_trees=300)

    1. photo_inputs   the faces the detector finds in each photo; per face its 2278 landmark
                      distances and the backbone's four "paper" feature sets (RGB/BGR x
                      avgpool/fc7, or their counterparts); per photo the MEDIAN over its faces
    2. fit_members    on the TRAIN photos: one one-vs-rest Random Forest per face feature set
                      (the landmark forest per FACE, its probabilities summed over a photo's
                      faces; the four deep forests on the per-photo medians) and the whole-image
                      model (``scene.whole_image_model``) on the photos themselves
    3. weights        each member's accuracy on the VAL photos (the paper's rule,
                      ``ensemble.accuracy_weights``); a photo without a face is decided by the
                      whole-image member alone (``ensemble.weighted_vote`` skips absent members)

``model.predict_proba(model.inputs(paths))`` scores new photos, ``model.face_scores(inputs)``
scores each face on its own (the face members only), ``model.save(folder)`` /
``GroupEmotionModel.load(folder)`` keep it on disk.

Names. The members keep the paper's names (``landmarks``, ``vggface_rgb_avgpool``, ...,
``whole_image``) whatever network produced them: ``backbone_label`` says which one did (offline:
the face-ID ResNet standing in for VGGFace) and the whole-image model's ``.name`` says whether it
is the authors' VGG16 head or the offline stand-in. Every output of the notebooks names both.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import backbones, classifiers, config, ensemble, features, scene

# The members of the paper's ensemble, by the names the authors' code used.
DEEP_MEMBERS = ("vggface_rgb_avgpool", "vggface_rgb_fc7", "vggface_bgr_avgpool", "vggface_bgr_fc7")
FACE_MEMBERS = ("landmarks",) + DEEP_MEMBERS
MEMBERS = FACE_MEMBERS + ("whole_image",)

LANDMARKS = "landmarks"  # the per-face set: 2278 distances divided by the largest (the paper)
IMAGES = "images"        # the whole-image member's input: the photos themselves

DEFAULT_TREES = 300      # per forest (the authors: 1000 to 5000; see classifiers.AUTHORS_TREES)

# When the ImageNet VGG16 weights are on this machine, whole_image_model("auto") builds the authors'
# whole-image CNN. They fine-tuned all of it for 20-30 epochs; on a CPU that takes hours, so by
# default only its new head is trained, for 5 epochs. Pass whole_image_settings={} for theirs.
WHOLE_IMAGE_SETTINGS = {"epochs": 5, "train_base": False}

BACKBONE_LABELS = {
    "vggface": "VGGFace (VGG16, keras-vggface weights)",
    "faceid-resnet": "face-ID ResNet (offline stand-in for VGGFace)",
}


def backbone_label(name: str) -> str:
    """What produced the "VGGFace" members, in words for tables and figures."""
    return BACKBONE_LABELS.get(name, name)


def default_model_dir(dataset: str = "demo") -> Path:
    """Where notebook 07 saves the trained ensemble of a dataset, and where predict.py looks."""
    return config.cache_path("models", f"ensemble_{dataset}")


# ---------------------------------------------------------------------------------------------
# 1. The members' inputs for a list of photos
# ---------------------------------------------------------------------------------------------

@dataclass
class PhotoInputs:
    """Everything the members read, for a list of photos.

    ``faces``: one row per detected face (path, face, x0, y0, x1, y1); ``face_photo[i]`` is the
    index in ``paths`` of face i's photo; ``face_sets``: set name -> (n_faces, D), row i = face i
    ("landmarks" and the backbone's sets); ``n_faces`` per photo (0: no face found);
    ``skipped``: the paths that could not be read (no faces, and no whole-image input either).
    """

    paths: list[str]
    faces: pd.DataFrame
    face_photo: np.ndarray
    face_sets: dict[str, np.ndarray]
    n_faces: np.ndarray
    skipped: list[str] = field(default_factory=list)

    @property
    def has_face(self) -> np.ndarray:
        return self.n_faces > 0

    def member_inputs(self) -> dict:
        """The input of every member, by feature-set name (see ``ensemble.Member``):
        landmarks per face (``PerFace``), the deep sets as one median row per photo (NaN for a
        photo without a face), and the photos for the whole-image member."""
        inputs = {LANDMARKS: ensemble.PerFace(self.face_sets[LANDMARKS], self.face_photo, len(self.paths))}
        for name, rows in self.face_sets.items():
            if name != LANDMARKS:
                inputs[name] = features.pool_faces(rows, self.faces.path, self.paths, "median")
        inputs[IMAGES] = list(self.paths)
        return inputs

    def faces_as_photos(self) -> dict:
        """The face members' inputs with every face standing alone, as if it were a photo of one
        face: row i of every member's output is then face i's own score."""
        inputs = {name: np.asarray(values, dtype=np.float64) for name, values in self.face_sets.items()}
        n = len(self.faces)
        inputs[LANDMARKS] = ensemble.PerFace(self.face_sets[LANDMARKS], np.arange(n), n)
        return inputs


def photo_inputs(paths, backbone, detector: str = "sequential", progress: bool = True) -> PhotoInputs:
    """Detect faces (cached), and compute the landmark distances and deep features of every face
    (cached per photo: ``features.extract_landmarks`` / ``features.extract_faces``)."""
    paths = [str(p) for p in paths]
    landmarks = features.extract_landmarks(paths, detector=detector, progress=progress)
    deep = features.extract_faces(paths, backbone, detector=detector, progress=progress)
    box_columns = ["path", "x0", "y0", "x1", "y1"]
    if not landmarks.faces[box_columns].equals(deep.faces[box_columns]):
        raise RuntimeError("landmarks and deep features disagree on the faces: clear data/cache/features")
    row_of = {path: i for i, path in enumerate(paths)}
    face_sets = {LANDMARKS: landmarks.sets[LANDMARKS]}
    face_sets.update({name: deep.sets[name] for name in backbone.paper_feature_sets.values()})
    return PhotoInputs(paths=paths, faces=deep.faces.reset_index(drop=True),
                       face_photo=np.array([row_of[p] for p in deep.faces.path], dtype=np.int64),
                       face_sets=face_sets, n_faces=deep.photos.n_faces.to_numpy(),
                       skipped=deep.photos.path[deep.photos.skipped].tolist())


# ---------------------------------------------------------------------------------------------
# 2. The members, fitted on the training photos
# ---------------------------------------------------------------------------------------------

def fit_members(inputs: PhotoInputs, labels, paper_sets: dict[str, str], n_trees: int = DEFAULT_TREES,
                seed: int = config.SEED, whole_image: str = "auto", n_jobs: int | None = None,
                whole_image_settings: dict | None = None) -> ensemble.Ensemble:
    """The six members, fitted on the photos of ``inputs`` (weights 1 until ``train`` sets them).

    ``paper_sets`` maps the paper's set names (rgb_avgpool, ...) to the backbone's
    (``backbone.paper_feature_sets``). Photos without a face train only the whole-image member.
    ``whole_image`` and ``whole_image_settings`` go to ``scene.whole_image_model`` (the settings
    only matter for the VGG16 head; default ``WHOLE_IMAGE_SETTINGS``).
    """
    y = ensemble.class_names(labels)
    if not inputs.has_face.any():
        raise ValueError("no face was found in any training photo: the face members cannot be trained")
    members = ensemble.Ensemble()

    # The landmark forest learns from FACES, each carrying its photo's label (the authors' way).
    forest = classifiers.random_forest(n_trees, seed, n_jobs)
    members.add("landmarks", forest.fit(inputs.face_sets[LANDMARKS], y[inputs.face_photo]), LANDMARKS, 1.0)

    # The deep forests learn from PHOTOS: the median of the photo's faces.
    pooled = inputs.member_inputs()
    for paper_set, ours in paper_sets.items():
        X = pooled[ours]
        found = ~np.isnan(X).any(axis=1)
        forest = classifiers.random_forest(n_trees, seed, n_jobs)
        members.add(f"vggface_{paper_set}", forest.fit(X[found], y[found]), ours, 1.0)

    # The whole-image model sees every photo, faces or not.
    settings = WHOLE_IMAGE_SETTINGS if whole_image_settings is None else whole_image_settings
    whole = scene.whole_image_model(whole_image, seed=seed, **settings)
    members.add("whole_image", whole.fit(inputs.paths, y), IMAGES, 1.0)
    return members


# ---------------------------------------------------------------------------------------------
# A trained ensemble with what it needs to score new photos
# ---------------------------------------------------------------------------------------------

@cache
def _backbone(name: str, weights_path: str | None = None):
    """A backbone by name, built once per process (VGGFace with a given weight file if named)."""
    return backbones.get_backbone(name, weights_path=weights_path)


@dataclass
class GroupEmotionModel:
    """The weighted ensemble, the backbone and detector it was trained with, and a description.

    ``info`` holds: backbone, backbone_label, detector, whole_image (the model's name), n_trees,
    seed, dataset, photos per split, weights.
    """

    ensemble: ensemble.Ensemble
    info: dict

    @property
    def backbone(self):
        return _backbone(self.info["backbone"], self.info.get("weights_path"))

    @property
    def detector(self) -> str:
        return self.info["detector"]

    @property
    def weights(self) -> dict[str, float]:
        return self.ensemble.weights

    def inputs(self, paths, progress: bool = False) -> PhotoInputs:
        return photo_inputs(paths, self.backbone, self.detector, progress=progress)

    def member_probabilities(self, inputs: PhotoInputs) -> dict[str, np.ndarray]:
        return self.ensemble.member_probabilities(inputs.member_inputs())

    def predict_proba(self, inputs: PhotoInputs) -> np.ndarray:
        """(n_photos, 3) class probabilities in ``config.CLASSES`` order: the members' weighted vote."""
        return self.ensemble.predict_proba(inputs.member_inputs())

    def face_scores(self, inputs: PhotoInputs) -> pd.DataFrame:
        """Each face scored on its own: the weighted vote of the FACE members on that face alone.

        One row per face: path, face, box, then one column per class (the vote) and
        ``<member>:<class>`` columns with each face member's own probabilities.
        """
        face_members = [m for m in self.ensemble.members if m.name in FACE_MEMBERS]
        table = inputs.faces[["path", "face", "x0", "y0", "x1", "y1"]].reset_index(drop=True)
        if table.empty:
            return table.assign(**{c: pd.Series(dtype=float) for c in config.CLASSES}, label=pd.Series(dtype=object))
        alone = inputs.faces_as_photos()
        probabilities = {m.name: m.predict_proba(alone[m.feature_set]) for m in face_members}
        vote = ensemble.weighted_vote(probabilities, {m.name: m.weight for m in face_members})
        table[list(config.CLASSES)] = vote
        table["label"] = ensemble.predicted_labels(vote)
        for name, p in probabilities.items():
            table[[f"{name}:{c}" for c in config.CLASSES]] = p
        return table

    def describe(self) -> str:
        """One line: what this model is made of."""
        return (f"ensemble of {len(self.ensemble.members)} members trained on {self.info.get('dataset', '?')}; "
                f"face features: {self.info['backbone_label']}; detector: {self.detector}; "
                f"{self.info['whole_image']}; {self.info['n_trees']} trees per forest")

    def save(self, folder: str | Path) -> Path:
        """The ensemble (``Ensemble.save``) plus ``pipeline.json`` (backbone, detector, ...)."""
        folder = self.ensemble.save(folder)
        tmp = folder / "pipeline.json.tmp"
        tmp.write_text(json.dumps(self.info, indent=1))
        os.replace(tmp, folder / "pipeline.json")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "GroupEmotionModel":
        folder = Path(folder)
        if not (folder / "pipeline.json").is_file() or not (folder / "ensemble.json").is_file():
            raise FileNotFoundError(f"{folder}: no saved model (ensemble.json and pipeline.json expected)")
        info = json.loads((folder / "pipeline.json").read_text())
        return cls(ensemble.Ensemble.load(folder), info)


@dataclass
class Validation:
    """What the weights were computed from: the val photos, their labels and each member's
    probabilities on them."""

    inputs: PhotoInputs
    labels: np.ndarray
    member_probabilities: dict[str, np.ndarray]


def _split(table: pd.DataFrame, split: str) -> pd.DataFrame:
    rows = table[table["split"] == split]
    if rows.empty or rows["label"].isna().any():
        raise ValueError(f"the table needs labelled {split!r} photos (columns path, split, label)")
    return rows


def _readable(rows: pd.DataFrame, inputs: PhotoInputs) -> pd.DataFrame:
    """Drop the photos that could not be read (each was reported when it was skipped)."""
    return rows[~rows["path"].isin(inputs.skipped)] if inputs.skipped else rows


def train(table: pd.DataFrame, backbone="auto", detector: str = "sequential", n_trees: int = DEFAULT_TREES,
          seed: int = config.SEED, whole_image: str = "auto", n_jobs: int | None = None,
          whole_image_settings: dict | None = None, progress: bool = True) -> tuple[GroupEmotionModel, Validation]:
    """The paper's ensemble from a dataset table (``datasets.load_dataset``): members fitted on
    the ``train`` photos, weighted by their accuracy on the ``val`` photos.

    ``backbone`` is a name for ``backbones.get_backbone`` or a backbone. Returns the model and the
    validation data the weights came from.
    """
    backbone = _backbone(backbone) if isinstance(backbone, str) else backbone
    train_rows, val_rows = _split(table, "train"), _split(table, "val")

    train_inputs = photo_inputs(train_rows["path"], backbone, detector, progress)
    if train_inputs.skipped:
        train_rows = _readable(train_rows, train_inputs)
        train_inputs = photo_inputs(train_rows["path"], backbone, detector, progress=False)
    members = fit_members(train_inputs, train_rows["label"], backbone.paper_feature_sets, n_trees, seed,
                          whole_image, n_jobs, whole_image_settings)

    val_inputs = photo_inputs(val_rows["path"], backbone, detector, progress)
    if val_inputs.skipped:
        val_rows = _readable(val_rows, val_inputs)
        val_inputs = photo_inputs(val_rows["path"], backbone, detector, progress=False)
    val_probabilities = members.member_probabilities(val_inputs.member_inputs())
    weights = ensemble.accuracy_weights(val_probabilities, val_rows["label"])
    for member in members.members:
        member.weight = weights[member.name]

    info = {
        "dataset": table.attrs.get("dataset", "a dataset table"),
        "backbone": backbone.name,
        "backbone_label": backbone_label(backbone.name),
        "weights_path": None if getattr(backbone, "weights_path", None) is None else str(backbone.weights_path),
        "paper_feature_sets": backbone.paper_feature_sets,
        "detector": detector,
        "whole_image": members.members[-1].model.name,
        "whole_image_settings": WHOLE_IMAGE_SETTINGS if whole_image_settings is None else whole_image_settings,
        "n_trees": n_trees,
        "seed": seed,
        "photos": {"train": len(train_rows), "val": len(val_rows)},
        "weights": "accuracy of each member on the val photos (the paper)",
    }
    validation = Validation(val_inputs, ensemble.class_names(val_rows["label"]), val_probabilities)
    return GroupEmotionModel(members, info), validation
