"""The whole-image branch: census transform and CENTRIST, the offline stand-in, the VGG16 head."""

import hashlib
import json
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import skimage.data
from PIL import Image

from gle_utils import config, scene
from gle_utils.config import CLASSES


# ------------------------------------------------------------------ census transform, CENTRIST

def test_census_code_of_wu_and_rehg_example():
    # Wu & Rehg 2011, Fig. 2: neighbours read TL, T, TR, L, R, BL, B, BR; bit set if centre >= neighbour
    image = np.array([[32, 64, 96],
                      [32, 64, 96],
                      [32, 32, 96]], dtype=np.uint8)
    assert scene.census_transform(image).tolist() == [[0b11010110]] == [[214]]


def test_census_codes_of_a_hand_made_image_checked_by_hand():
    image = np.array([[10, 10, 10, 10],
                      [10, 50, 5, 10],
                      [10, 10, 10, 10]], dtype=np.uint8)
    codes = scene.census_transform(image)
    assert codes.shape == (1, 2)
    # pixel 50: larger than all 8 neighbours (10, 10, 10, 10, 5, 10, 10, 10) -> all bits set
    assert codes[0, 0] == 255
    # pixel 5: smaller than every neighbour (10, 10, 10, 50, 10, 10, 10, 10) -> no bit set
    assert codes[0, 1] == 0


def test_equal_neighbours_set_the_bit_so_a_flat_image_is_all_255():
    codes = scene.census_transform(np.full((6, 7), 80, np.uint8))
    assert codes.shape == (4, 5) and (codes == 255).all()


def test_one_brighter_neighbour_clears_exactly_its_bit():
    image = np.full((3, 3), 100, np.uint8)
    image[0, 2] = 200  # top-right neighbour: third bit from the left (value 32)
    assert scene.census_transform(image)[0, 0] == 255 - 32
    image = np.full((3, 3), 100, np.uint8)
    image[2, 2] = 200  # bottom-right: the least significant bit
    assert scene.census_transform(image)[0, 0] == 254


def test_rgb_input_goes_through_grey_and_tiny_images_are_refused():
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert np.array_equal(scene.census_transform(rgb), scene.census_transform(scene.to_grey(rgb)))
    with pytest.raises(ValueError, match="3x3"):
        scene.census_transform(np.zeros((2, 9), np.uint8))


@pytest.mark.parametrize("levels, length", [(1, 256), (2, 1280), (3, 5376)])
def test_centrist_pyramid_histograms_each_sum_to_one(levels, length):
    image = np.random.default_rng(2).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    descriptor = scene.centrist(image, levels=levels)
    assert descriptor.shape == (length,)
    blocks = descriptor.reshape(-1, 256)
    assert np.allclose(blocks.sum(axis=1), 1.0)
    # level 0 is the histogram of all codes
    codes = scene.census_transform(image)
    assert np.allclose(blocks[0], np.bincount(codes.ravel(), minlength=256) / codes.size)


def test_centrist_hardly_depends_on_the_photo_size():
    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    big = np.kron(small, np.ones((6, 6, 1), np.uint8))  # the same photo, 6 times larger
    a, b = scene.centrist(small), scene.centrist(big)
    assert a.shape == b.shape == (1280,)
    assert np.abs(a - b).sum() < 2 * 5  # close (different pixels, same scene), over 5 blocks


def test_hsv_histogram_sums_to_one():
    image = np.random.default_rng(4).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    histogram = scene.hsv_histogram(image)
    assert histogram.shape == (128,) and histogram.sum() == pytest.approx(1.0)
    assert scene.scene_statistics(image).shape == (128 + 1280,)


# ------------------------------------------------------------------ image-in models

def coloured_photos(n_per_class=8, seed=0):
    """Photos of varied sizes whose class shows in their colour: Positive reddish, Neutral greenish, Negative bluish."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for index, label in enumerate(CLASSES):
        for _ in range(n_per_class):
            h, w = rng.integers(40, 120, size=2)
            image = rng.integers(0, 120, (h, w, 3)).astype(np.uint8)
            image[:, :, index] += 120
            images.append(image)
            labels.append(label)
    return images, np.array(labels)


def striped_photos(n_per_class=8, seed=0):
    """Texture classes in grey: horizontal stripes, vertical stripes, noise."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label in CLASSES:
        for _ in range(n_per_class):
            h, w = rng.integers(50, 100, size=2)
            noise = rng.integers(0, 60, (h, w))
            if label == "Positive":
                base = 150 * (np.arange(h)[:, None] // 3 % 2)
            elif label == "Neutral":
                base = 150 * (np.arange(w)[None, :] // 3 % 2)
            else:
                base = 2 * noise
            images.append(np.clip(base + noise, 0, 255).astype(np.uint8))
            labels.append(label)
    return images, np.array(labels)


def test_offline_stand_in_learns_colour_and_gives_probabilities_in_class_order(tmp_path):
    train_images, train_labels = coloured_photos(8, seed=0)
    test_images, test_labels = coloured_photos(4, seed=1)
    model = scene.WholeImageStatistics().fit(train_images, train_labels)
    probs = model.predict_proba(test_images)
    assert probs.shape == (12, 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    predicted = np.array(CLASSES)[probs.argmax(axis=1)]
    assert (predicted == test_labels).mean() >= 0.9

    model.save(tmp_path / "standin")
    again = scene.load_whole_image_model(tmp_path / "standin")
    assert again.name == model.name
    assert np.array_equal(again.predict_proba(test_images), probs)


def test_models_read_image_paths_too(tmp_path):
    images, labels = coloured_photos(4)
    model = scene.WholeImageStatistics().fit(images, labels)
    path = tmp_path / "photo.png"
    Image.fromarray(images[0]).save(path)
    assert np.allclose(model.predict_proba([path]), model.predict_proba(images[:1]))


def test_centrist_svm_baseline_tells_textures_apart():
    train_images, train_labels = striped_photos(8, seed=0)
    test_images, test_labels = striped_photos(4, seed=1)
    model = scene.CentristSVM(levels=1).fit(train_images, train_labels)
    probs = model.predict_proba(test_images)
    assert probs.shape == (12, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert (np.array(CLASSES)[probs.argmax(axis=1)] == test_labels).mean() >= 0.9
    assert "CENTRIST" in model.name


def test_predicting_before_fitting_says_so():
    with pytest.raises(RuntimeError, match="fit"):
        scene.WholeImageStatistics().predict_proba([np.zeros((10, 10, 3), np.uint8)])


# ------------------------------------------------------------------ every registered whole-image model

# The smallest settings of each registered model; a model registered without an entry here fails
# test_every_registered_model_has_a_tiny_setting, so each new one gets the contract test below.
TINY = {
    "offline": {},
    "centrist-svm": {"levels": 1},
    # The authors' head on a randomly initialised VGG16 at 32x32 (no ImageNet weights offline).
    "vgg16": {"weights": None, "image_size": 32, "epochs": 1, "batch_size": 4, "verbose": False},
}


def test_every_registered_model_has_a_tiny_setting():
    assert set(TINY) == set(scene.WHOLE_IMAGE_MODELS.names())


@pytest.fixture(scope="module")
def fitted_models():
    """Every registered whole-image model, fitted once on nine small photos (the SVM's Platt scaling
    needs 3 per class): name -> (model, photos)."""
    images, labels = coloured_photos(3)
    return {entry.name: (entry.part(**TINY[entry.name]).fit(images, labels), images)
            for entry in scene.WHOLE_IMAGE_MODELS}


@pytest.mark.parametrize("name", scene.WHOLE_IMAGE_MODELS.names())
def test_a_registered_model_predicts_saves_without_pickle_and_reloads_the_same(name, fitted_models, tmp_path):
    model, images = fitted_models[name]
    entry = scene.WHOLE_IMAGE_MODELS[name]
    assert entry.label and entry.about and entry.paper and model.name
    probs = model.predict_proba(images)
    assert probs.shape == (9, 3) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    folder = model.save(tmp_path / name)
    assert not [p for p in folder.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]
    again = scene.load_whole_image_model(folder)
    assert type(again) is type(model) and again.name == model.name
    assert np.allclose(again.predict_proba(images), probs, atol=1e-6)


def test_a_saved_model_of_an_unregistered_class_is_refused(fitted_models, tmp_path):
    folder = fitted_models["offline"][0].save(tmp_path / "standin")
    described = json.loads((folder / "whole_image.json").read_text())
    (folder / "whole_image.json").write_text(json.dumps(dict(described, **{"class": "SomethingElse"})))
    with pytest.raises(ValueError, match="unknown whole-image model class 'SomethingElse'"):
        scene.load_whole_image_model(folder)


def test_the_vgg16_pin_names_the_file_and_the_hash_that_are_checked():
    weights = scene.WHOLE_IMAGE_MODELS["vgg16"].weights
    assert Path(urlparse(weights.source).path).name == scene.VGG16_NOTOP_FILE
    assert weights.sha256 is None and scene.VGG16_NOTOP_MD5 in weights.check
    assert all(scene.WHOLE_IMAGE_MODELS[name].weights is None for name in ("offline", "centrist-svm"))


# ------------------------------------------------------------------ which whole-image model runs

@pytest.fixture
def empty_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / ".keras"))
    return tmp_path / ".keras"


def test_auto_gives_the_offline_stand_in_when_the_imagenet_weights_are_absent(empty_keras_cache, capsys):
    assert scene.imagenet_vgg16_weights() is None
    model = scene.whole_image_model("auto")
    assert isinstance(model, scene.WholeImageStatistics)
    assert model.name == "whole-image: offline stand-in (colour + texture statistics)"
    out = capsys.readouterr().out
    assert "not on this machine" in out and "offline stand-in" in out
    assert scene.whole_image_model("offline").name == model.name


def test_asking_for_vgg16_without_weights_fails_with_a_clear_message(empty_keras_cache):
    with pytest.raises(FileNotFoundError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        scene.whole_image_model("vgg16")
    with pytest.raises(ValueError, match="prefer"):
        scene.whole_image_model("resnet")


def test_auto_picks_vgg16_when_the_weights_file_is_there(empty_keras_cache, monkeypatch):
    weights = empty_keras_cache / "models" / scene.VGG16_NOTOP_FILE
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"stand-in for the 58 MB file")
    # a file whose hash is wrong (a broken download) does not count
    assert scene.imagenet_vgg16_weights() is None
    assert isinstance(scene.whole_image_model("auto"), scene.WholeImageStatistics)
    # one with the expected hash does (the hash is patched: the real file cannot be had offline)
    monkeypatch.setattr(scene, "VGG16_NOTOP_MD5", hashlib.md5(weights.read_bytes()).hexdigest())
    model = scene.whole_image_model("auto", epochs=3)
    assert isinstance(model, scene.WholeImageVGG16)
    assert model.name == "whole-image: ImageNet VGG16 head"
    assert model.weights == str(weights) and model.epochs == 3


def test_the_vgg16_head_has_the_authors_layers(fitted_models):
    """Fitted, predicting, saved and reloaded by the contract test above; here its architecture."""
    model, _ = fitted_models["vgg16"]
    layer_types = [type(layer).__name__ for layer in model.model_.layers[-4:]]
    assert layer_types == ["GlobalAveragePooling2D", "Dense", "Dropout", "Dense"]
    assert model.model_.layers[-3].units == 256 and model.model_.layers[-1].units == 3
    assert "random weights" in model.name


def test_the_keras_folder_is_keras_home_else_under_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    assert config.keras_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.keras_cache_dir() == tmp_path / ".keras"


# ------------------------------------------------------------------ small, blank and noise images

@pytest.mark.parametrize("shape", [(2, 2000), (1, 1), (2, 2), (3000, 1)])
def test_images_smaller_than_the_census_needs_are_padded(shape):
    image = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    assert scene.centrist(image).shape == (1280,)
    assert scene.scene_statistics(image).shape == (128 + 1280,)


@pytest.mark.parametrize("pixels, words", [
    (np.zeros((64, 64, 3), np.uint8), "near-uniform"),
    (np.full((64, 64, 3), 255, np.uint8), "near-uniform"),
    (np.tile(np.array([30, 160, 90], np.uint8), (80, 120, 1)), "near-uniform"),
    (np.random.default_rng(1).integers(0, 256, (240, 320, 3), dtype=np.uint8), "noise-like"),
])
def test_content_problem_names_images_with_nothing_in_them(pixels, words):
    assert words in scene.content_problem(pixels)


def test_content_problem_passes_real_photos():
    for name in ("astronaut", "coffee", "chelsea"):
        assert scene.content_problem(getattr(skimage.data, name)()) is None
