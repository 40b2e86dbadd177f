"""The paper's pipeline end to end on a few demo photos: training, faceless photos, determinism, saving.

Tiny on purpose (a dozen train photos, forests of 10 trees): these tests check the plumbing and the
rules (who decides a faceless photo, where the weights come from, that a reload changes nothing),
not the accuracy.
"""

import json

import numpy as np
import pandas as pd
import pytest

from gle_utils import datasets, ensemble, expression, metrics, pipeline, predict
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
    """The paper's recipe on the tiny table: forests of N_TREES trees, the offline stand-ins."""
    return pipeline.train(table, backbone="faceid-resnet", detector="sequential", n_trees=N_TREES, seed=seed,
                          whole_image="offline", progress=False)


def train_tiny_default(table, seed=2017):
    """The default model's recipe (pipeline.DEFAULT_MODEL), as tiny as train_tiny."""
    return pipeline.train_model(table, pipeline.DEFAULT_MODEL, backbone="faceid-resnet", n_trees=N_TREES,
                                seed=seed, whole_image="offline", progress=False)


@pytest.fixture(scope="module")
def trained(tiny_ensemble):
    table, model, val, _ = tiny_ensemble
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


def check_weights_are_val_accuracy(model, val):
    """Each member's weight is the share of the val photos it scores that its argmax gets right."""
    inputs = val.inputs.member_inputs()
    for member in model.ensemble.members:
        scores = member.predict_proba(inputs[member.feature_set])
        scored = ~np.isnan(scores).any(axis=1)
        right = np.array(CLASSES)[scores[scored].argmax(axis=1)] == val.labels[scored]
        assert model.weights[member.name] == pytest.approx(right.mean()), member.name
        # a face member is not counted on a faceless val photo; the whole image sees every photo
        assert scored.sum() == (len(val.labels) if member.name == "whole_image" else val.inputs.has_face.sum())


def test_weights_are_each_members_accuracy_on_the_val_photos_it_scores(trained):
    _, model, val = trained
    check_weights_are_val_accuracy(model, val)


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
    answers = predict.answers(model, val.inputs)
    assert (answers.decided_by[faceless] == "whole_image").all()
    assert (answers.decided_by[~faceless] == "all members").all()
    assert np.allclose(answers.decider_val_accuracy[faceless], model.weights["whole_image"])
    # The whole-image member's val accuracy caps its confidence on a faceless photo (never below 1/3).
    cap = max(model.weights["whole_image"], 1 / 3)
    assert (answers.loc[faceless, list(CLASSES)].max(axis=1) <= cap + 1e-9).all()
    report = metrics.accuracy_report(scores, val.labels, val.inputs.has_face)
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
    assert np.array_equal(reloaded.predict_proba(val.inputs), model.predict_proba(val.inputs), equal_nan=True)
    pd.testing.assert_frame_equal(reloaded.face_scores(val.inputs), model.face_scores(val.inputs))
    with pytest.raises(FileNotFoundError, match="no saved model"):
        pipeline.GroupEmotionModel.load(tmp_path / "nothing here")


def test_training_needs_labelled_train_and_val_photos(trained):
    table, _, _ = trained
    with pytest.raises(ValueError, match="'val'"):
        pipeline.train(table[table.split == "train"], backbone="faceid-resnet", n_trees=N_TREES)


def test_the_settings_of_training_are_named_never_positional(trained):
    table, _, val = trained
    with pytest.raises(TypeError, match="positional"):
        pipeline.train(table, "faceid-resnet")
    with pytest.raises(TypeError, match="positional"):
        pipeline.fit_members(val.inputs, val.labels, {}, N_TREES)


def test_the_landmark_member_sums_its_faces_as_the_authors_did_and_the_mean_is_a_variant(trained):
    _, model, val = trained
    landmarks = model.ensemble.members[0]
    assert landmarks.name == "landmarks" and landmarks.aggregate == model.info["landmark_aggregate"] == "sum"
    summed = landmarks.predict_proba(val.inputs.member_inputs()["landmarks"])
    has_face = val.inputs.has_face
    assert np.allclose(summed[has_face].sum(axis=1), val.inputs.n_faces[has_face])  # a sum of one row per face
    landmarks.aggregate = "mean"
    try:
        averaged = landmarks.predict_proba(val.inputs.member_inputs()["landmarks"])
    finally:
        landmarks.aggregate = "sum"
    assert np.allclose(averaged[has_face], summed[has_face] / val.inputs.n_faces[has_face, None])


def test_calibration_is_fitted_on_val_and_stored(trained, tmp_path):
    _, model, _ = trained
    calibration = model.info["calibration"]
    assert set(calibration) == {"with_face", "whole_image"}
    assert all(0.25 <= t <= 20 for t in calibration.values())
    assert set(model.info["val_accuracy"]) >= set(pipeline.MEMBERS)
    reloaded = pipeline.GroupEmotionModel.load(model.save(tmp_path / "model"))
    assert reloaded.info["calibration"] == calibration


# ------------------------------------------------------------------ the default model's recipe

@pytest.fixture(scope="module")
def default_model(tiny_expression_model):
    table, model, val, folder = tiny_expression_model
    return table, model, val, folder


def test_the_two_recipes_and_their_names(trained, default_model):
    _, paper, _ = trained
    _, model, _, _ = default_model
    assert paper.name == "paper" and paper.info["model"] == "paper" and "model 'paper'" in paper.describe()
    assert paper.recipe == pipeline.RECIPES["paper"]  # train's defaults are the paper's recipe
    recipe = pipeline.RECIPES[pipeline.DEFAULT_MODEL]
    assert model.name == pipeline.DEFAULT_MODEL and f"model {pipeline.DEFAULT_MODEL!r}" in model.describe()
    assert model.recipe == recipe and model.detector == recipe.detector
    expected = [m for m in pipeline.MEMBERS[:1] if m in recipe.paper_members]
    expected += [pipeline.EXPRESSION_MEMBERS[name] for name in recipe.expression]
    expected += [pipeline.ZERO_SHOT_MEMBERS[name] for name in recipe.zero_shot]
    expected += [m for m in pipeline.MEMBERS[1:] if m in recipe.paper_members]
    assert [m.name for m in model.ensemble.members] == expected == model.info["members"]
    if recipe.vote == "val accuracy":
        check_weights_are_val_accuracy(model, default_model[2])
    else:  # "equal": the face members 1 each, the whole image 0 (it answers faceless photos alone)
        assert model.weights == {m: 0.0 if m == "whole_image" else 1.0 for m in expected}
        assert model.info["weights"] == pipeline.VOTES["equal"]
    with pytest.raises(ValueError, match="unknown model"):
        pipeline.train_model(default_model[0], "nonsense")


def test_a_zero_shot_member_averages_each_faces_valence(default_model):
    _, model, val, _ = default_model
    names = model.info["zero_shot"]
    assert names, "the default recipe reads expression networks, zero-shot"
    assert pipeline.expression_networks(model.info) == tuple(names)
    inputs = val.inputs.member_inputs()
    for name in names:
        member = next(m for m in model.ensemble.members if m.name == pipeline.ZERO_SHOT_MEMBERS[name])
        assert member.feature_set == pipeline.expression_set(name) and member.aggregate == "mean"
        assert isinstance(member.model, expression.ZeroShotValence) and member.model.backbone == name
        per_face = inputs[member.feature_set]
        assert isinstance(per_face, ensemble.PerFace) and per_face.X.shape == (len(val.inputs.faces), 7)
        assert np.allclose(per_face.X.sum(axis=1), 1, atol=1e-4)  # each face's 7 probabilities
        scores = member.predict_proba(per_face)
        has_face = val.inputs.has_face
        assert np.allclose(scores[has_face].sum(axis=1), 1) and np.isnan(scores[~has_face]).all()
    faces = model.face_scores(val.inputs)
    assert {f"{pipeline.ZERO_SHOT_MEMBERS[n]}:{c}" for n in names for c in CLASSES} <= set(faces.columns)


def test_a_saved_model_of_an_older_recipe_is_recognised(trained, default_model):
    _, paper, _ = trained
    _, model, _, _ = default_model
    default = pipeline.RECIPES[pipeline.DEFAULT_MODEL]
    assert pipeline.RECIPES["paper"].matches(paper.info) and default.matches(model.info)
    older = dict(model.info, expression=list(model.info["zero_shot"]), zero_shot=[])  # forests, not zero-shot
    assert not default.matches(older)
    assert not default.matches(paper.info)
    before_reading_order = {k: v for k, v in paper.info.items() if k != "detection_version"}  # faces in detector order
    assert not pipeline.RECIPES["paper"].matches(before_reading_order)
    fewer = dict(paper.info, members=[m for m in paper.info["members"] if m != "landmarks"])
    assert not pipeline.RECIPES["paper"].matches(fewer)


def test_the_default_model_reloads_unchanged(default_model):
    _, model, val, folder = default_model
    reloaded = pipeline.GroupEmotionModel.load(folder)
    assert reloaded.info == model.info and reloaded.weights == model.weights
    assert np.array_equal(reloaded.predict_proba(val.inputs), model.predict_proba(val.inputs), equal_nan=True)
    pd.testing.assert_frame_equal(predict.answers(reloaded, val.inputs), predict.answers(model, val.inputs))


def test_the_zero_shot_model_is_the_zero_shot_row_on_photos_with_a_face_and_the_whole_image_on_the_others(default_model):
    from gle_utils import metrics

    model, val = pipeline.train_model(default_model[0], "zero-shot", backbone="faceid-resnet", n_trees=N_TREES,
                                      whole_image="offline", progress=False)
    inputs = val.inputs
    has_face = inputs.has_face
    assert has_face.any() and (~has_face).any(), "the tiny table has photos with and without a face"
    row = pipeline.zero_shot_scores(inputs, pipeline.RECIPES["zero-shot"].zero_shot)[has_face]
    # The vote divides each row by its total; the networks' float32 softmax rows sum to 1 only to
    # about 1e-7, which is as far as the two could differ without this (seen on an AMD machine).
    np.testing.assert_allclose(model.predict_proba(inputs)[has_face], row / row.sum(axis=1, keepdims=True))
    answered = predict.answers(model, inputs)
    calibrated = metrics.calibrate(row, model.info["calibration"]["with_face"])
    assert (answered.label[has_face] == ensemble.predicted_labels(calibrated)).all()  # a temperature keeps the argmax
    assert (answered.decided_by[~has_face] == "whole_image").all()
    assert model.info["val_accuracy"]["whole_image"] > 0  # its real accuracy caps its answers, not its weight 0


def test_train_model_takes_another_detector(trained):
    table, paper, _ = trained
    model, _ = pipeline.train_model(table, "paper", detector="mtcnn", backbone="faceid-resnet", n_trees=N_TREES,
                                    whole_image="offline", progress=False)
    assert model.name == "paper" and model.detector == "mtcnn" and "detector: mtcnn" in model.describe()
    assert [m.name for m in model.ensemble.members] == [m.name for m in paper.ensemble.members]


def test_the_zero_shot_row_averages_each_faces_valence_over_the_networks_then_the_faces():
    from gle_utils.expression import EXPRESSION_NETWORKS

    fer, faceapi = "fer2013-xception", "faceapi-expression"
    one_hot = {name: lambda label, name=name: np.eye(7)[EXPRESSION_NETWORKS[name].part.labels.index(label)]
               for name in (fer, faceapi)}
    # Photo 0: two faces; photo 1: none; photo 2: one face. fer reads face 0 happy, face-api reads it neutral.
    sets = {pipeline.expression_set(fer): np.stack([one_hot[fer]("happy"), one_hot[fer]("sad"), one_hot[fer]("happy")]),
            pipeline.expression_set(faceapi): np.stack([one_hot[faceapi]("neutral"), one_hot[faceapi]("sad"),
                                                        one_hot[faceapi]("happy")])}
    inputs = pipeline.PhotoInputs(paths=["a", "b", "c"], faces=pd.DataFrame(), face_photo=np.array([0, 0, 2]),
                                  face_sets=sets, n_faces=np.array([2, 0, 1]))
    scores = pipeline.zero_shot_scores(inputs, (fer, faceapi))
    # face 0: (Positive + Neutral) / 2; face 1: Negative; photo 0 is their mean.
    np.testing.assert_allclose(scores[0], [0.25, 0.25, 0.5])
    assert np.isnan(scores[1]).all()  # no face: no answer
    np.testing.assert_allclose(scores[2], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(pipeline.zero_shot_scores(inputs, (fer,))[0], [0.5, 0.0, 0.5])
    with pytest.raises(ValueError, match="at least one"):
        pipeline.zero_shot_scores(inputs, ())
