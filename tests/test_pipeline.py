"""The paper's pipeline end to end on a few demo photos: training, faceless photos, determinism, saving.

Tiny on purpose (a dozen train photos, forests of 10 trees): these tests check the plumbing and the
rules (who decides a faceless photo, where the weights come from, that a reload changes nothing),
not the accuracy.
"""

import json

import numpy as np
import pandas as pd
import pytest

from gle_utils import datasets, ensemble, pipeline
from gle_utils.config import CLASSES

N_TREES = 10


def tiny_table(per_class_train: int = 4, per_class_val: int = 3) -> pd.DataFrame:
    """A few demo photos of each class from train and val, and one val photo the demo made faceless."""
    photos = datasets.load_dataset("demo", verbose=False)
    root = datasets.dataset_root("demo")
    made = pd.read_csv(root / "photos.csv")
    faceless = {str(root / p) for p in made.path[made.faceless.notna()]}
    photos = photos[~photos.path.isin(faceless) | (photos.split == "val")]
    parts = [photos[(photos.split == "train") & (photos.label == c)].head(per_class_train) for c in CLASSES]
    parts += [photos[(photos.split == "val") & (photos.label == c) & ~photos.path.isin(faceless)].head(per_class_val)
              for c in CLASSES]
    parts.append(photos[(photos.split == "val") & photos.path.isin(faceless)].head(1))
    table = pd.concat(parts, ignore_index=True)
    table.attrs["dataset"] = "demo (a few photos, for tests)"
    return table


def train_tiny(table, seed=2017):
    return pipeline.train(table, backbone="faceid-resnet", detector="sequential", n_trees=N_TREES, seed=seed,
                          whole_image="offline", progress=False)


@pytest.fixture(scope="module")
def trained():
    table = tiny_table()
    model, val = train_tiny(table)
    return table, model, val


def test_the_six_members_and_their_inputs(trained):
    _, model, val = trained
    assert [m.name for m in model.ensemble.members] == list(pipeline.MEMBERS)
    assert model.info["backbone"] == "faceid-resnet"
    assert model.info["backbone_label"] == "face-ID ResNet (offline stand-in for VGGFace)"
    assert model.info["whole_image"].startswith("whole-image: offline stand-in")
    # The "vggface_*" members read the backbone's counterparts of avgpool / fc7, named in the model.
    reads = {m.name: m.feature_set for m in model.ensemble.members}
    assert reads["vggface_rgb_avgpool"] == "rgb_stage64" and reads["vggface_bgr_fc7"] == "bgr_stage128"
    assert reads["landmarks"] == "landmarks" and reads["whole_image"] == "images"
    inputs = val.inputs.member_inputs()
    assert isinstance(inputs["landmarks"], ensemble.PerFace)
    assert inputs["rgb_stage64"].shape == (len(val.labels), 64)
    assert inputs["images"] == val.inputs.paths


def test_weights_are_each_members_accuracy_on_val(trained):
    _, model, val = trained
    assert model.weights == pytest.approx(ensemble.accuracy_weights(val.member_probabilities, val.labels))
    assert all(0 <= w <= 1 for w in model.weights.values())


def test_a_photo_without_a_face_is_decided_by_the_whole_image_member(trained):
    _, model, val = trained
    faceless = ~val.inputs.has_face
    assert faceless.sum() >= 1, "the tiny table holds a val photo in which no face is found"
    members = model.member_probabilities(val.inputs)
    for name in pipeline.FACE_MEMBERS:
        assert np.isnan(members[name][faceless]).all()
        assert not np.isnan(members[name][~faceless]).any()
    scores = model.predict_proba(val.inputs)
    assert np.allclose(scores[faceless], members["whole_image"][faceless])
    assert np.allclose(scores.sum(axis=1), 1)
    report = ensemble.accuracy_report(scores, val.labels, val.inputs.has_face)
    assert report.photos.tolist() == [len(val.labels), int((~faceless).sum()), int(faceless.sum())]


def test_each_face_is_scored_by_the_face_members_alone(trained):
    _, model, val = trained
    table = model.face_scores(val.inputs)
    assert len(table) == len(val.inputs.faces) == val.inputs.n_faces.sum()
    assert np.allclose(table[list(CLASSES)].sum(axis=1), 1)
    assert set(table.label) <= set(CLASSES)
    # A photo with exactly one face: its face score is the photo's vote without the whole image.
    single = np.flatnonzero(val.inputs.n_faces == 1)
    assert len(single), "some val photo has exactly one face"
    members = model.member_probabilities(val.inputs)
    face_only = {name: p for name, p in members.items() if name != "whole_image"}
    photo_vote = ensemble.weighted_vote(face_only, model.weights)[single[0]]
    face_row = table[table.path == val.inputs.paths[single[0]]]
    assert np.allclose(face_row[list(CLASSES)].to_numpy()[0], photo_vote)


def test_same_seed_same_probabilities(trained):
    table, model, val = trained
    again, val_again = train_tiny(table)
    assert again.weights == model.weights
    assert np.array_equal(again.predict_proba(val_again.inputs), model.predict_proba(val.inputs))


def test_a_saved_model_predicts_the_same_after_reloading(trained, tmp_path):
    _, model, val = trained
    folder = model.save(tmp_path / "model")
    info = json.loads((folder / "pipeline.json").read_text())
    assert info["backbone"] == "faceid-resnet" and info["n_trees"] == N_TREES and info["detector"] == "sequential"
    reloaded = pipeline.GroupEmotionModel.load(folder)
    assert reloaded.weights == model.weights and reloaded.info == model.info
    assert np.array_equal(reloaded.predict_proba(val.inputs), model.predict_proba(val.inputs))
    pd.testing.assert_frame_equal(reloaded.face_scores(val.inputs), model.face_scores(val.inputs))
    with pytest.raises(FileNotFoundError, match="no saved model"):
        pipeline.GroupEmotionModel.load(tmp_path / "nothing here")


def test_training_needs_labelled_train_and_val_photos(trained):
    table, _, _ = trained
    with pytest.raises(ValueError, match="'val'"):
        pipeline.train(table[table.split == "train"], backbone="faceid-resnet", n_trees=N_TREES)
