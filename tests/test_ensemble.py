"""The weighted vote (ensemble): per-face sums, weights, faceless photos, save/reload; and its
metrics (metrics): accuracy, confusion, calibration; and the safe reading of saved models (io.load_skops)."""

import json

import numpy as np
import pytest
import skops.io

from gle_utils import ensemble as ens
from gle_utils import expression, metrics
from gle_utils.classifiers import make_classifier
from gle_utils.config import CLASSES
from gle_utils.io import TRUSTED_TYPES, load_skops
from gle_utils.modelfolder import ModelFolderError, write_manifest
from gle_utils.scene import WholeImageStatistics

NAN3 = [np.nan] * 3


# ------------------------------------------------------------------ faces -> photos

def test_face_probabilities_are_summed_per_photo():
    face_probs = np.array([[0.6, 0.3, 0.1],
                           [0.2, 0.2, 0.6],
                           [0.1, 0.8, 0.1]])
    photo_ids = ["a.jpg", "a.jpg", "b.jpg"]
    raw = ens.sum_face_probabilities(face_probs, photo_ids)  # the authors' rule, the default
    assert np.allclose(raw, [[0.8, 0.5, 0.7], [0.1, 0.8, 0.1]])
    mean = ens.sum_face_probabilities(face_probs, photo_ids, aggregate="mean")
    assert np.allclose(mean, [[0.4, 0.25, 0.35], [0.1, 0.8, 0.1]])
    assert np.allclose(mean.sum(axis=1), 1)
    with pytest.raises(ValueError, match="aggregate"):
        ens.sum_face_probabilities(face_probs, photo_ids, aggregate="median")


def test_the_sum_gives_a_crowded_photo_more_say_than_the_mean():
    # Photo "a": 5 faces that lean Negative; the whole image says Positive firmly.
    landmarks = ens.sum_face_probabilities(np.tile([[0.2, 0.3, 0.5]], (5, 1)), ["a"] * 5)
    landmarks_mean = ens.sum_face_probabilities(np.tile([[0.2, 0.3, 0.5]], (5, 1)), ["a"] * 5, aggregate="mean")
    whole = np.array([[0.9, 0.05, 0.05]])
    weights = {"landmarks": 0.6, "whole_image": 0.86}
    by_sum = ens.weighted_vote({"landmarks": landmarks, "whole_image": whole}, weights)
    by_mean = ens.weighted_vote({"landmarks": landmarks_mean, "whole_image": whole}, weights)
    # sum: 0.6 * [1 1.5 2.5] + 0.86 * [.9 .05 .05] -> Negative; mean: 0.6 * [.2 .3 .5] + ... -> Positive
    assert ens.predicted_labels(by_sum).tolist() == ["Negative"]
    assert ens.predicted_labels(by_mean).tolist() == ["Positive"]
    assert np.allclose(by_sum.sum(axis=1), 1) and np.allclose(by_mean.sum(axis=1), 1)


def test_photos_order_is_kept_and_a_faceless_photo_gets_nan():
    face_probs = np.array([[0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    scores = ens.sum_face_probabilities(face_probs, [7, 3], photos=[3, 5, 7])
    assert np.allclose(scores[0], [0.1, 0.8, 0.1])
    assert np.isnan(scores[1]).all()  # photo 5 has no face
    assert np.allclose(scores[2], [0.6, 0.3, 0.1])
    with pytest.raises(ValueError, match="not in `photos`"):
        ens.sum_face_probabilities(face_probs, [7, 4], photos=[3, 5, 7])


# ------------------------------------------------------------------ the weighted vote

def test_weighted_vote_arithmetic_by_hand():
    probabilities = {"faces": np.array([[0.5, 0.5, 0.0], [0.2, 0.2, 0.6]]),
                     "whole_image": np.array([[0.0, 1.0, 0.0], [0.8, 0.1, 0.1]])}
    scores = ens.weighted_vote(probabilities, {"faces": 3.0, "whole_image": 1.0})
    # photo 0: (3 * [.5 .5 0] + 1 * [0 1 0]) / 4 = [.375 .625 0]
    # photo 1: (3 * [.2 .2 .6] + 1 * [.8 .1 .1]) / 4 = [.35 .175 .475]
    assert np.allclose(scores, [[0.375, 0.625, 0.0], [0.35, 0.175, 0.475]])
    assert ens.predicted_labels(scores).tolist() == ["Neutral", "Negative"]


def test_with_the_authors_weights_the_whole_image_cannot_outvote_the_five_face_members():
    # release.ipynb: 0.6 for the landmarks, 0.7 for each VGGFace forest, 0.86 for the whole image.
    one_hot = {name: np.array([[1.0, 0.0, 0.0]]) for name in ens.AUTHORS_WEIGHTS}
    one_hot["whole_image"] = np.array([[0.0, 0.0, 1.0]])
    scores = ens.weighted_vote(one_hot, ens.AUTHORS_WEIGHTS)
    total = 0.6 + 0.86 + 4 * 0.7
    assert np.allclose(scores, [[(0.6 + 2.8) / total, 0.0, 0.86 / total]])
    # but it outvotes the landmarks alone (0.86 > 0.6): a photo whose VGGFace members are absent
    alone = ens.weighted_vote({"landmarks": one_hot["landmarks"], "whole_image": one_hot["whole_image"]},
                              ens.AUTHORS_WEIGHTS)
    assert ens.predicted_labels(scores).tolist() == ["Positive"] and ens.predicted_labels(alone).tolist() == ["Negative"]


def test_a_faceless_photo_is_decided_by_the_whole_image_member_alone():
    probabilities = {"landmarks": np.array([[0.9, 0.05, 0.05], NAN3]),
                     "vggface_rgb_fc7": np.array([[0.8, 0.1, 0.1], NAN3]),
                     "whole_image": np.array([[0.1, 0.2, 0.7], [0.2, 0.3, 0.5]])}
    scores = ens.weighted_vote(probabilities, ens.AUTHORS_WEIGHTS)
    assert np.allclose(scores[1], [0.2, 0.3, 0.5])  # only the whole-image member voted
    assert ens.predicted_labels(scores).tolist() == ["Positive", "Negative"]
    nobody = ens.weighted_vote({"landmarks": np.array([NAN3])}, ens.AUTHORS_WEIGHTS)
    assert np.isnan(nobody).all() and ens.predicted_labels(nobody).tolist() == [None]


def test_a_member_without_a_weight_is_an_error():
    with pytest.raises(ValueError, match="no weight"):
        ens.weighted_vote({"mystery": np.ones((1, 3))}, {"landmarks": 1.0})


def test_weights_by_validation_accuracy_count_only_photos_the_member_saw():
    y = ["Positive", "Neutral", "Negative", "Positive"]
    probabilities = {
        # right on photos 0, 1, 2; wrong on 3 -> 3/4
        "whole_image": np.array([[.8, .1, .1], [.1, .8, .1], [.1, .1, .8], [.1, .8, .1]]),
        # faceless photo 3 is not counted: right on 0, wrong on 1 and 2 -> 1/3
        "landmarks": np.array([[.5, .3, .2], [.5, .3, .2], [.5, .3, .2], NAN3]),
    }
    weights = ens.accuracy_weights(probabilities, y)
    assert weights == pytest.approx({"whole_image": 0.75, "landmarks": 1 / 3})
    with pytest.raises(ValueError, match="no output"):
        ens.accuracy_weights({"landmarks": np.array([NAN3])}, ["Positive"])


# ------------------------------------------------------------------ accuracy and confusion

def test_accuracy_over_all_photos_and_over_photos_with_a_face():
    scores = np.array([[.8, .1, .1], [.1, .8, .1], [.1, .1, .8], [.8, .1, .1]])
    y = ["Positive", "Neutral", "Positive", "Negative"]  # right, right, wrong, wrong
    has_face = [True, True, True, False]
    report = metrics.accuracy_report(scores, y, has_face)
    assert report.loc["all photos", "accuracy"] == pytest.approx(0.5)
    assert report.loc["photos with a face", "accuracy"] == pytest.approx(2 / 3)
    assert report.loc["photos without a face", "accuracy"] == 0.0
    assert report.photos.tolist() == [4, 3, 1]


def test_confusion_matrix_rows_are_true_classes_and_sum_to_one():
    y_true = ["Positive", "Positive", "Positive", "Positive", "Neutral", "Neutral", "Negative"]
    y_pred = ["Positive", "Positive", "Positive", "Neutral", "Neutral", "Negative", "Negative"]
    matrix = metrics.confusion_matrix(y_true, y_pred)
    assert list(matrix.index) == list(matrix.columns) == list(CLASSES)
    assert matrix.loc["Positive"].tolist() == [0.75, 0.25, 0.0]
    assert matrix.loc["Neutral"].tolist() == [0.0, 0.5, 0.5]
    assert matrix.loc["Negative"].tolist() == [0.0, 0.0, 1.0]
    assert np.allclose(matrix.sum(axis=1), 1)
    # a photo without an answer (None) is left out; integer labels are class indices
    with_none = metrics.confusion_matrix([0, 0, 2], ["Positive", None, "Neutral"])
    assert with_none.loc["Positive"].tolist() == [1.0, 0.0, 0.0] and with_none.loc["Negative"].tolist() == [0.0, 1.0, 0.0]
    assert with_none.loc["Neutral"].isna().all()  # no Neutral photo: its recall is undefined


# ------------------------------------------------------------------ a fitted ensemble, saved and reloaded

@pytest.fixture(scope="module")
def fitted():
    """Three members on 24 photos (8 per class): per-face landmarks forest, photo-level features
    with NaN rows for faceless photos, and the whole-image stand-in on the photos themselves."""
    rng = np.random.default_rng(0)
    labels = np.repeat(CLASSES, 8)
    y = np.repeat([0, 1, 2], 8)
    n_photos = len(labels)
    faces_per_photo = rng.integers(1, 4, n_photos)
    faces_per_photo[[5, 17]] = 0  # two faceless photos
    photo_index = np.repeat(np.arange(n_photos), faces_per_photo)
    face_X = rng.normal(y[photo_index, None], 1.0, (len(photo_index), 10))
    photo_X = rng.normal(y[:, None], 1.0, (n_photos, 6))
    photo_X[faces_per_photo == 0] = np.nan
    images = []
    for label in y:
        image = rng.integers(0, 120, (50, 70, 3)).astype(np.uint8)
        image[:, :, label] += 120
        images.append(image)

    landmarks = make_classifier("random_forest", n_estimators=20).fit(face_X, labels[photo_index])
    has_face = faces_per_photo > 0
    vggface = make_classifier("logistic_regression").fit(photo_X[has_face], labels[has_face])
    whole = WholeImageStatistics().fit(images, labels)

    model = (ens.Ensemble()
             .add("landmarks", landmarks, "landmarks", 0.6)
             .add("vggface_rgb_fc7", vggface, "vggface_rgb_fc7", 0.7)
             .add("whole_image", whole, "images", 0.86))
    inputs = {"landmarks": ens.PerFace(face_X, photo_index, n_photos), "vggface_rgb_fc7": photo_X,
              "images": images}
    return model, inputs, labels, has_face


def test_ensemble_members_and_faceless_photos(fitted):
    model, inputs, labels, has_face = fitted
    members = model.member_probabilities(inputs)
    assert {name: p.shape for name, p in members.items()} == {
        "landmarks": (24, 3), "vggface_rgb_fc7": (24, 3), "whole_image": (24, 3)}
    for name in ("landmarks", "vggface_rgb_fc7"):
        assert np.isnan(members[name][~has_face]).all() and not np.isnan(members[name][has_face]).any()
    scores = model.predict_proba(inputs)
    assert np.allclose(scores[~has_face], members["whole_image"][~has_face])
    assert (model.predict(inputs) == labels).mean() > 0.8
    with pytest.raises(KeyError, match="images"):
        model.predict_proba({"landmarks": inputs["landmarks"], "vggface_rgb_fc7": inputs["vggface_rgb_fc7"]})
    with pytest.raises(ValueError, match="already"):
        model.add("landmarks", None, "landmarks", 1.0)


def test_ensemble_saves_to_a_folder_and_reloads_with_identical_probabilities(fitted, tmp_path):
    model, inputs, _, _ = fitted
    folder = model.save(tmp_path / "ensemble")
    info = json.loads((folder / "ensemble.json").read_text())
    assert info["classes"] == list(CLASSES)
    assert [(m["name"], m["feature_set"], m["weight"], m["kind"]) for m in info["members"]] == [
        ("landmarks", "landmarks", 0.6, "skops"), ("vggface_rgb_fc7", "vggface_rgb_fc7", 0.7, "skops"),
        ("whole_image", "images", 0.86, "whole_image")]
    assert [p.name for p in tmp_path.iterdir()] == ["ensemble"]  # no temporary left behind
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                                               if p.is_file() and p.name != "manifest.json")
    assert not list(folder.rglob("*.joblib")) and not list(folder.rglob("*.pkl"))

    again = ens.Ensemble.load(folder)
    assert again.weights == model.weights
    assert again.members[2].model.name == model.members[2].model.name
    assert np.array_equal(again.predict_proba(inputs), model.predict_proba(inputs), equal_nan=True)

    model.save(folder)  # saving again replaces the folder cleanly
    assert np.array_equal(ens.Ensemble.load(folder).predict_proba(inputs), model.predict_proba(inputs),
                          equal_nan=True)


# ------------------------------------------------------------------ calibration, NaN, safe files

def test_temperature_softens_an_overconfident_vote_and_keeps_the_argmax():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    # Scores that always put 0.98 on a class that is right only 60% of the time.
    guess = np.where(rng.random(300) < 0.6, y, (y + 1) % 3)
    scores = np.full((300, 3), 0.01)
    scores[np.arange(300), guess] = 0.98
    temperature = metrics.fit_temperature(scores, y)
    calibrated = metrics.calibrate(scores, temperature)
    assert temperature > 1
    assert np.array_equal(calibrated.argmax(axis=1), scores.argmax(axis=1))
    assert abs(calibrated.max(axis=1).mean() - 0.6) < 0.05  # confidence now matches accuracy
    assert np.allclose(calibrated.sum(axis=1), 1)
    assert np.isnan(metrics.calibrate(np.array([NAN3]), 2.0)).all()
    assert metrics.fit_temperature(np.array([NAN3]), [0]) == 1.0


def test_a_confidence_cap_shrinks_only_the_rows_above_it_towards_one_third_each():
    p = np.array([[0.9, 0.05, 0.05], [0.5, 0.3, 0.2], NAN3])
    capped = metrics.cap_confidence(p, 0.6)
    assert capped[0].max() == pytest.approx(0.6) and capped[0].argmax() == 0
    assert np.allclose(capped[0, 1:], capped[0, 1])  # the two others stay equal, sharing the rest
    assert np.allclose(capped.sum(axis=1)[:2], 1)
    assert np.array_equal(capped[1], p[1]) and np.isnan(capped[2]).all()
    assert np.allclose(metrics.cap_confidence(p[:1], 0.1), 1 / 3)  # a cap below 1/3 means no confidence at all


def test_a_member_at_chance_is_capped_to_one_third_each_and_keeps_its_own_answer():
    p = np.array([[0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.34, 0.33, 0.33]])
    for accuracy in (0.2, 1 / 3):
        capped = metrics.cap_confidence(p, accuracy)
        assert np.allclose(capped, 1 / 3, atol=1e-9) and capped.max() <= 1 / 3 + 1e-9
        assert np.array_equal(capped.argmax(axis=1), p.argmax(axis=1))  # not a tie won by the first class


def test_an_all_nan_row_never_becomes_a_label():
    scores = ens.weighted_vote({"landmarks": np.array([NAN3, [0.2, 0.3, 0.5]])}, {"landmarks": 1.0})
    assert np.isnan(scores[0]).all()
    assert ens.predicted_labels(scores).tolist() == [None, "Negative"]


def test_a_pickle_is_never_loaded(fitted, tmp_path):
    model, _, _, _ = fitted
    folder = model.save(tmp_path / "ensemble")
    info = json.loads((folder / "ensemble.json").read_text())
    old = dict(info, format=1)
    (folder / "ensemble.json").write_text(json.dumps(old))
    with pytest.raises(ModelFolderError, match="ensemble.json: changed since the model was saved"):
        ens.Ensemble.load(folder)  # the manifest catches any change
    write_manifest(folder)  # as one who meant it would: the schema still refuses the old format
    with pytest.raises(ModelFolderError, match="ensemble.json: format: 1, the old format"):
        ens.Ensemble.load(folder)
    # A member file that asks for a type outside the trusted list is refused, not loaded.
    skops.io.dump(ens.PerFace(np.zeros((1, 2)), np.zeros(1, int), 1), tmp_path / "odd.skops")
    with pytest.raises(ValueError, match="not trusted"):
        load_skops(tmp_path / "odd.skops")
    # a forest needs exactly the trusted types: it loads, and predicts as before
    forest = model.members[0].model
    skops.io.dump(forest, tmp_path / "forest.skops")
    assert set(skops.io.get_untrusted_types(file=tmp_path / "forest.skops")) <= set(TRUSTED_TYPES)
    X = np.random.default_rng(1).normal(size=(5, 10))
    assert np.array_equal(load_skops(tmp_path / "forest.skops").predict_proba(X), forest.predict_proba(X))


def test_a_zero_shot_member_is_saved_as_json_and_scores_the_same_after_loading(tmp_path):
    rng = np.random.default_rng(0)
    faces = rng.dirichlet(np.ones(7), 9)  # 9 faces' probabilities of fer's 7 expressions
    photo_index = np.array([0, 0, 0, 1, 1, 3, 3, 3, 3])  # photo 2 has no face
    inputs = {"fer": ens.PerFace(faces, photo_index, 4)}
    model = ens.Ensemble().add("fer_zero_shot", expression.ZeroShotValence("fer2013-xception"), "fer", 0.8, aggregate="mean")
    scores = model.member_probabilities(inputs)["fer_zero_shot"]
    valence = expression.valence_probabilities(faces, expression.FER_LABELS)
    assert np.allclose(scores[[0, 1, 3]], [valence[:3].mean(0), valence[3:5].mean(0), valence[5:].mean(0)])
    assert np.isnan(scores[2]).all()

    folder = model.save(tmp_path / "ensemble")
    member = json.loads((folder / "ensemble.json").read_text())["members"][0]
    assert member["kind"] == "zero_shot" and member["weight"] == 0.8 and member["aggregate"] == "mean"
    assert json.loads((folder / member["file"]).read_text()) == {
        "kind": "zero_shot", "backbone": "fer2013-xception", "valence": "gle_utils.expression.VALENCE"}
    assert sorted(p.name for p in folder.iterdir()) == ["ensemble.json", "manifest.json", member["file"]]  # no pickle
    again = ens.Ensemble.load(folder)
    assert again.weights == model.weights
    assert np.array_equal(again.predict_proba(inputs), model.predict_proba(inputs), equal_nan=True)
    with pytest.raises(ValueError, match="no expression network"):
        expression.ZeroShotValence("vggface")
