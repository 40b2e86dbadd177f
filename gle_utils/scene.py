"""The whole image (paper sections 2.5 and 3): the CENTRIST baseline and the whole-image member.

Two things look at the whole photo rather than at its faces:

* The challenge BASELINE (Dhall et al. 2015, "The more the merrier", FG; used as the EmotiW
  2017 baseline: 52.97% on GAF 2.0 val): the CENTRIST scene descriptor (Wu & Rehg 2011,
  "CENTRIST: A Visual Descriptor for Scene Categorization", IEEE TPAMI 33(8)) and a support
  vector machine (the organisers used support vector regression; here an SVM classifier).

  CENTRIST = a histogram of census-transform codes. The census transform gives each pixel
  of the grey image an 8-bit code: one bit per neighbour, set when the centre pixel is
  greater than or equal to that neighbour. The neighbours are read top-left, top,
  top-right, left, right, bottom-left, bottom, bottom-right; the first is the most
  significant bit. Wu & Rehg's own example::

        32 64 96
        32 64 96    ->  1 1 0 1 0 1 1 0  = 214
        32 32 96

  What is implemented here: codes for every pixel that has 8 neighbours (the one-pixel
  border has none); a 256-bin histogram normalised to sum 1; a spatial pyramid of
  ``levels`` levels, level l cutting the image into 2^l x 2^l blocks, one histogram per
  block, all concatenated (``levels=1``: the plain 256-bin descriptor; the default
  ``levels=2``: 1 + 4 blocks = 1280 numbers). Simpler than Wu & Rehg's full
  recipe, which adds shifted blocks (31 in all), drops bins 0 and 255 and reduces each
  block to 40 numbers with PCA.

* The whole-image MEMBER of the ensemble. The authors fine-tuned ImageNet VGG16 on the
  whole photo: conv layers -> global average pooling -> Dense(256, relu) -> Dropout(0.5) ->
  Dense(3, softmax); Adagrad, learning rate 1e-4 (decay 1e-4), batch 40, augmentation
  (rotation 10 degrees, zoom 0.1, channel shift 5, horizontal flip), 30 epochs (paper, section 3). It
  votes on every photo, and is the ONLY voter on photos where no face was found.
  That needs the ImageNet weights, which Keras downloads from the internet on first use.
  ``whole_image_model("auto")`` builds the authors' head when the weights file is already
  in the Keras cache; otherwise (offline) it builds a stand-in that needs no download:
  colour and texture statistics of the whole photo (an HSV colour histogram and the
  CENTRIST pyramid) into a regularised logistic regression. Both answer to the same
  ``fit(images, labels)`` / ``predict_proba(images)`` and say which they are in ``.name``.

Images are RGB uint8 arrays of any size (or paths, read with ``io.read_image``); every model
resizes inside, and an image smaller than 3x3 (which the census transform needs) is padded by
repeating its edge pixels. Labels are class names from ``config.CLASSES`` (or their indices);
class probabilities always come back as (n_images, 3) columns in ``CLASSES`` order.

Is there anything to judge? ``content_problem(image)`` says when a whole image carries no
evidence at all: near-uniform (black, white, one colour) or noise (neighbouring pixels
unrelated). ``predict`` uses it so that such an image never gets a confident answer.

The three image-in models (the stand-in, the VGG16 head, the CENTRIST baseline) are registered
in ``WHOLE_IMAGE_MODELS`` (``registry.Registry``) with what they are, what they stand for in the
paper and, for the VGG16 head, where its weights come from and how they are checked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from tqdm import tqdm

from . import config
from .classifiers import class_indices, probabilities_in_class_order, svm_with_probabilities
from .downloads import is_simulated, simulation_on
from .io import as_rgb_array, atomic_path, file_digest, load_skops, read_image, resize_longest_side
from .registry import Registry, Weights

__all__ = ["VGG16_NOTOP_FILE", "VGG16_NOTOP_MD5", "WHOLE_IMAGE_MODELS", "CentristSVM",
           "WholeImageStatistics", "WholeImageVGG16", "census_transform", "centrist", "centrist_features",
           "content_problem", "hsv_histogram", "imagenet_vgg16_weights",
           "load_whole_image_model", "scene_statistics", "to_grey", "whole_image_model"]

# The image-in models, by name: the ensemble's whole-image member is "vgg16" or "offline"
# (``whole_image_model``); "centrist-svm" is the challenge's baseline.
WHOLE_IMAGE_MODELS = Registry("whole-image model")

# ---------------------------------------------------------------------------------------------
# The census transform and CENTRIST
# ---------------------------------------------------------------------------------------------

# (row, column) offsets of the 8 neighbours, most significant bit first (Wu & Rehg 2011).
_NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def to_grey(image: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> grey uint8 (H, W) with the usual luma weights; grey stays grey."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image.astype(np.uint8, copy=False)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    raise ValueError(f"expected a grey (H, W) or RGB (H, W, 3) image, got shape {image.shape}")


def census_transform(image: np.ndarray) -> np.ndarray:
    """The 8-bit census code of every pixel that has 8 neighbours: (H, W) -> (H - 2, W - 2).

    Wu & Rehg's example: the centre 64 is greater than or equal to every neighbour but the
    three 96s (top-right, right, bottom-right), which gives the bits 1101 0110:

    >>> import numpy as np
    >>> census_transform(np.array([[32, 64, 96], [32, 64, 96], [32, 32, 96]], dtype=np.uint8))
    array([[214]], dtype=uint8)

    A flat image: every neighbour is equal, so every bit is set.

    >>> census_transform(np.full((3, 4), 7, dtype=np.uint8))
    array([[255, 255]], dtype=uint8)
    """
    grey = to_grey(image)
    height, width = grey.shape
    if height < 3 or width < 3:
        raise ValueError(f"the census transform needs an image of at least 3x3 pixels, got {width}x{height}")
    centre = grey[1:height - 1, 1:width - 1]
    codes = np.zeros(centre.shape, dtype=np.uint8)
    for bit, (dy, dx) in enumerate(_NEIGHBOUR_OFFSETS):
        neighbour = grey[1 + dy:height - 1 + dy, 1 + dx:width - 1 + dx]
        codes |= (centre >= neighbour).astype(np.uint8) << (7 - bit)
    return codes


def _census_histogram(codes: np.ndarray) -> np.ndarray:
    """The 256-bin histogram of census codes, normalised to sum 1."""
    counts = np.bincount(np.asarray(codes, dtype=np.uint8).ravel(), minlength=256)
    return counts / max(counts.sum(), 1)


def _pad_to_census_size(grey: np.ndarray) -> np.ndarray:
    """A grey image at least 3x3 pixels (what the census transform needs), by repeating edge pixels."""
    height, width = grey.shape[:2]
    bottom, right = max(0, 3 - height), max(0, 3 - width)
    if not bottom and not right:
        return grey
    return cv2.copyMakeBorder(grey, 0, bottom, 0, right, cv2.BORDER_REPLICATE)


def centrist(image: np.ndarray, levels: int = 2, max_side: int = 256) -> np.ndarray:
    """The CENTRIST descriptor: census histograms over a spatial pyramid, concatenated.

    Level l cuts the code map into 2^l x 2^l blocks; ``levels`` levels give
    256 * (1 + 4 + ... + 4^(levels-1)) numbers (levels=2: 1280). The image is first shrunk to
    at most ``max_side`` pixels so that photos of any size are described at the same scale, and
    padded to 3x3 when smaller (a 2x2000 strip is described, not refused).
    """
    if levels < 1:
        raise ValueError("levels must be at least 1 (level 0 is the whole image)")
    codes = census_transform(_pad_to_census_size(resize_longest_side(to_grey(image), max_side)))
    histograms = []
    for level in range(levels):
        for band in np.array_split(codes, 2 ** level, axis=0):
            for block in np.array_split(band, 2 ** level, axis=1):
                histograms.append(_census_histogram(block))
    return np.concatenate(histograms)


def hsv_histogram(image: np.ndarray, bins: tuple[int, int, int] = (8, 4, 4)) -> np.ndarray:
    """A joint hue x saturation x value histogram of the colours in the photo, normalised to sum 1."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    hsv = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2HSV)
    counts = cv2.calcHist([hsv], [0, 1, 2], None, list(bins), [0, 180, 0, 256, 0, 256]).ravel()
    return counts / max(counts.sum(), 1)


def _as_image(item, max_side: int | None = None) -> np.ndarray:
    """An image array (checked by ``io.as_rgb_array``), or a path read with ``io.read_image``
    (shrunk while decoding to at most ``max_side`` pixels when given: much faster for big JPEGs)."""
    if isinstance(item, (str, os.PathLike)):
        return read_image(item) if max_side is None else read_image(item, max_side=max_side)
    return as_rgb_array(item)


def _features_of_images(images, describe, desc: str, max_side: int | None = None) -> np.ndarray:
    images = list(images)
    return np.stack([describe(_as_image(image, max_side))
                     for image in tqdm(images, desc=desc, leave=False, disable=len(images) < 2)])


def centrist_features(images, levels: int = 2, max_side: int = 256) -> np.ndarray:
    """CENTRIST of many images, one row each (``centrist`` of every image).

    Parameters
    ----------
    images : iterable of RGB uint8 arrays or image paths
        Paths are read with ``io.read_image``, shrunk while decoding to ``max_side``.
    levels : int
        Levels of the spatial pyramid (1: the plain 256-bin histogram; 2: 1 + 4 blocks).
    max_side : int
        Each image is shrunk to at most this many pixels on its longest side first.

    Returns
    -------
    numpy.ndarray
        (n_images, 256 * (4^levels - 1) / 3): levels=2 gives 1280 numbers per image.
    """
    return _features_of_images(images, lambda image: centrist(image, levels, max_side), "CENTRIST", max_side)


def scene_statistics(image: np.ndarray, max_side: int = 256) -> np.ndarray:
    """The offline stand-in's description of a whole photo: HSV colour histogram + CENTRIST pyramid."""
    small = resize_longest_side(as_rgb_array(image), max_side)
    return np.concatenate([hsv_histogram(small), centrist(small, levels=2, max_side=max_side)])


# Below these a whole image shows nothing to judge. Photos are well above both and uniform noise
# far below the second (tests/test_scene.py checks both sides).
_BLANK_STD = 2.0          # grey levels (of 255): a black, white or one-colour image
_NOISE_CORRELATION = 0.5  # correlation of each pixel with its right and lower neighbours


def content_problem(image, max_side: int = 256) -> str | None:
    """Why a whole image carries no evidence (near-uniform, or noise), or None when it may.

    Measured on the grey image shrunk to ``max_side``: its standard deviation (below 2 grey
    levels: near-uniform) and the correlation of neighbouring pixels (below 0.5: noise; in
    photos neighbours are alike).
    """
    grey = to_grey(resize_longest_side(_as_image(image, max_side), max_side)).astype(np.float64)
    spread = float(grey.std())
    if spread < _BLANK_STD:
        return f"near-uniform image (grey standard deviation {spread:.1f} < {_BLANK_STD})"
    centred = grey - grey.mean()
    pairs = [(centred[:, :-1], centred[:, 1:]), (centred[:-1, :], centred[1:, :])]
    products = np.concatenate([(a * b).ravel() for a, b in pairs if a.size])
    correlation = float(products.mean() / grey.var()) if products.size else 1.0
    if correlation < _NOISE_CORRELATION:
        return f"noise-like image (neighbouring pixels correlate {correlation:.2f} < {_NOISE_CORRELATION})"
    return None


# ---------------------------------------------------------------------------------------------
# Image-in models built on hand-made features
# ---------------------------------------------------------------------------------------------

class _FeatureModel:
    """Images -> hand-made features -> a scikit-learn classifier; probabilities in CLASSES order."""

    name = ""

    def features(self, images) -> np.ndarray:
        raise NotImplementedError

    def make_classifier(self) -> Pipeline:
        raise NotImplementedError

    def fit(self, images, labels):
        X = self.features(images)
        self.classifier_ = self.make_classifier().fit(X, class_indices(labels))
        return self

    def predict_proba(self, images) -> np.ndarray:
        if not hasattr(self, "classifier_"):
            raise RuntimeError(f"{self.name}: call fit() before predict_proba()")
        return probabilities_in_class_order(self.classifier_, self.features(images))

    def save(self, folder: str | Path) -> Path:
        """The fitted classifier in skops format (no pickle) plus the class and its settings as JSON."""
        import skops.io  # imported here, as in io.load_skops: only saving a model needs it

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / "classifier.skops") as tmp:
            skops.io.dump(self.classifier_, tmp)
        settings = {k: v for k, v in vars(self).items() if k != "classifier_"}
        with atomic_path(folder / "whole_image.json") as tmp:
            tmp.write_text(json.dumps({"kind": "skops", "class": type(self).__name__, "name": self.name,
                                       "settings": settings}, indent=1))
        return folder


@WHOLE_IMAGE_MODELS.register(
    "centrist-svm", label="CENTRIST + SVM",
    about="census-transform histograms over a spatial pyramid, into an RBF support vector machine",
    paper="the EmotiW 2017 challenge baseline (Dhall et al. 2015): 52.97% on GAF 2.0 val")
class CentristSVM(_FeatureModel):
    """The challenge baseline (Dhall et al. 2015; Wu & Rehg 2011): CENTRIST pyramid + SVM."""

    name = "scene baseline: CENTRIST + SVM"

    def __init__(self, levels: int = 2, max_side: int = 256):
        self.levels, self.max_side = levels, max_side

    def features(self, images) -> np.ndarray:
        return centrist_features(images, self.levels, self.max_side)

    def make_classifier(self) -> Pipeline:
        """Square root (Hellinger map of histograms), standardisation, RBF support vector machine
        with probabilities (Platt scaling)."""
        return Pipeline([
            ("hellinger", FunctionTransformer(np.sqrt)),
            ("scale", StandardScaler()),
            ("svm", svm_with_probabilities()),
        ])


@WHOLE_IMAGE_MODELS.register(
    "offline", label="offline stand-in (colour + texture statistics)",
    about="an HSV colour histogram and the CENTRIST pyramid of the whole photo, into a regularised "
          "logistic regression; needs no download",
    paper="stands in for the authors' whole-image VGG16 when its ImageNet weights are absent")
class WholeImageStatistics(_FeatureModel):
    """The offline stand-in for the whole-image CNN: colour + texture statistics of the photo
    (``scene_statistics``: HSV histogram, CENTRIST pyramid) into a strongly regularised
    logistic regression, which gives smooth, usable probabilities for every photo."""

    name = "whole-image: offline stand-in (colour + texture statistics)"

    def __init__(self, C: float = 0.01, max_side: int = 256, seed: int = config.SEED):
        self.C, self.max_side, self.seed = C, max_side, seed

    def features(self, images) -> np.ndarray:
        return _features_of_images(images, lambda image: scene_statistics(image, self.max_side),
                                   "scene statistics", self.max_side)

    def make_classifier(self) -> Pipeline:
        return Pipeline([
            ("hellinger", FunctionTransformer(np.sqrt)),
            ("scale", StandardScaler()),
            ("logistic", LogisticRegression(C=self.C, max_iter=5000, random_state=self.seed)),
        ])


# ---------------------------------------------------------------------------------------------
# The authors' whole-image CNN: ImageNet VGG16 + a small head (needs the ImageNet weights)
# ---------------------------------------------------------------------------------------------

VGG16_NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
_VGG16_NOTOP_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                   "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
VGG16_NOTOP_MD5 = "6d6bbae143d832006294945121d1f1fc"  # the hash keras.applications checks


def imagenet_vgg16_weights() -> Path | None:
    """The ImageNet VGG16 (no top) weights file in the Keras cache, or None when it is absent.

    Only looks at the disk, never at the network, so it cannot hang offline. A file whose
    MD5 differs from the one Keras publishes (e.g. a half-finished download) counts as absent,
    unless it is a simulated file (``gle_utils.simulate``) and the simulation switch is on.
    """
    path = config.keras_cache_dir() / "models" / VGG16_NOTOP_FILE
    if not path.is_file() or path.stat().st_size == 0:
        return None
    if file_digest(path, "md5") == VGG16_NOTOP_MD5:
        return path
    if is_simulated(path) and simulation_on():  # gle_utils.simulate's file, and its switch on
        config.notice("ImageNet VGG16 with RANDOM weights (a simulated download): for timings only.")
        return path
    print(f"{config.shown_path(path)} is not the file Keras publishes (MD5 mismatch): ignored")
    return None


def _missing_weights_message() -> str:
    path = config.keras_cache_dir() / "models" / VGG16_NOTOP_FILE
    return (f"The ImageNet VGG16 weights are not in the Keras cache ({config.shown_path(path)}).\n"
            f"To use the authors' whole-image CNN, on a machine with internet run "
            f"keras.applications.VGG16(include_top=False) once, or download\n  {_VGG16_NOTOP_URL}\n"
            f"to that path.")


@WHOLE_IMAGE_MODELS.register(
    "vgg16", label="ImageNet VGG16 head",
    about="VGG16 conv layers (ImageNet weights) -> global average pooling -> Dense(256, relu) -> "
          "Dropout(0.5) -> Dense(3, softmax), fine-tuned on the whole photo",
    paper="the authors' whole-image CNN (sections 2.5 and 3)",
    weights=Weights(source=_VGG16_NOTOP_URL, sha256=None, check=f"MD5 published by Keras: {VGG16_NOTOP_MD5}"))
class WholeImageVGG16:
    """The authors' whole-image CNN: ImageNet VGG16 conv layers, fine-tuned with a small head.

    ``weights`` is the path of the ImageNet "notop" .h5 file (``imagenet_vgg16_weights()``);
    None builds the same network with random weights (only for tests: it learns little).
    Defaults are the authors' settings; on a CPU, fine-tuning all 14.7 million weights for 20
    epochs is slow (``train_base=False`` trains the head only).
    """

    def __init__(self, weights: str | Path | None, image_size: int = 224, epochs: int = 30,
                 batch_size: int = 40, learning_rate: float = 1e-4, decay: float = 1e-4,
                 train_base: bool = True, seed: int = config.SEED, verbose: bool = True):
        self.weights = None if weights is None else str(weights)
        self.image_size, self.epochs, self.batch_size = image_size, epochs, batch_size
        self.learning_rate, self.decay, self.train_base = learning_rate, decay, train_base
        self.seed, self.verbose = seed, verbose
        self.model_ = None

    @property
    def name(self) -> str:
        base = "whole-image: ImageNet VGG16 head"
        if self.weights is None:
            return base + " (random weights, untrained backbone)"
        return base + (" (RANDOM weights: a simulated download)" if is_simulated(self.weights) else "")

    def build(self):
        """VGG16 conv layers -> GlobalAveragePooling -> Dense(256, relu) -> Dropout(0.5) -> Dense(3, softmax)."""
        import keras  # imported here: TensorFlow takes seconds to load and the stand-in needs none of it
        from keras import layers

        keras.utils.set_random_seed(self.seed)
        base = keras.applications.VGG16(include_top=False, weights=self.weights,
                                        input_shape=(self.image_size, self.image_size, 3))
        base.trainable = self.train_base
        x = layers.GlobalAveragePooling2D()(base.output)
        x = layers.Dense(256, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
        out = layers.Dense(len(config.CLASSES), activation="softmax")(x)
        model = keras.Model(base.input, out, name="whole_image_vgg16")
        # Keras 2's Adagrad(lr, decay=d) = a learning rate of lr / (1 + d * step).
        schedule = keras.optimizers.schedules.InverseTimeDecay(self.learning_rate, decay_steps=1,
                                                               decay_rate=self.decay)
        model.compile(optimizer=keras.optimizers.Adagrad(schedule),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def _augmenter(self):
        """The authors' augmentation: rotation 10 degrees, zoom 0.1, channel shift 5, horizontal flip."""
        import keras  # heavy and optional, as in build()
        from keras import layers

        return keras.Sequential([
            layers.RandomRotation(10 / 360, fill_mode="nearest", seed=self.seed),
            layers.RandomZoom(0.1, fill_mode="nearest", seed=self.seed + 1),
            layers.RandomBrightness(5 / 255, value_range=(0, 255), seed=self.seed + 2),  # = channel shift 5
            layers.RandomFlip("horizontal", seed=self.seed + 3),
        ])

    def _resized(self, images) -> np.ndarray:
        """Every photo squeezed to image_size x image_size, kept as uint8 (float only per batch)."""
        size = (self.image_size, self.image_size)
        return np.stack([cv2.resize(_as_image(image), size, interpolation=cv2.INTER_AREA)
                         for image in tqdm(images, desc="resize", leave=False, disable=not self.verbose)])

    def fit(self, images, labels):
        # RGB -> BGR, minus the ImageNet means; imported here for the reason given in build()
        from keras.applications.vgg16 import preprocess_input

        X, y = self._resized(images), class_indices(labels)
        self.model_ = self.build()
        augment = self._augmenter()
        rng = np.random.default_rng(self.seed)
        for epoch in tqdm(range(self.epochs), desc="VGG16 epochs", disable=not self.verbose):
            order = rng.permutation(len(X))
            for start in range(0, len(X), self.batch_size):
                batch = order[start:start + self.batch_size]
                augmented = np.array(augment(X[batch].astype(np.float32), training=True), dtype=np.float32)
                self.model_.train_on_batch(preprocess_input(augmented), y[batch])
        return self

    def predict_proba(self, images) -> np.ndarray:
        from keras.applications.vgg16 import preprocess_input  # heavy and optional, as in build()

        if self.model_ is None:
            raise RuntimeError(f"{self.name}: call fit() before predict_proba()")
        X = self._resized(images)
        batches = [self.model_.predict_on_batch(preprocess_input(X[start:start + self.batch_size].astype(np.float32)))
                   for start in range(0, len(X), self.batch_size)]
        return np.concatenate([np.asarray(batch, dtype=np.float64) for batch in batches])

    def save(self, folder: str | Path) -> Path:
        """Keras's own format (model.keras) plus the settings as JSON."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        # Keras needs the .keras suffix to pick its format: the temporary name keeps it.
        tmp = folder / "model.tmp.keras"
        try:
            self.model_.save(tmp)
            os.replace(tmp, folder / "model.keras")
        finally:
            tmp.unlink(missing_ok=True)
        settings = {k: v for k, v in vars(self).items() if k != "model_"}
        with atomic_path(folder / "whole_image.json") as tmp_json:
            tmp_json.write_text(json.dumps({"kind": "keras", "name": self.name, "settings": settings}, indent=1))
        return folder


# The classes a saved whole-image model of kind "skops" may be rebuilt as, by the class name
# its whole_image.json holds: the registered models built on hand-made features.
_FEATURE_MODELS = {entry.part.__name__: entry.part for entry in WHOLE_IMAGE_MODELS
                   if issubclass(entry.part, _FeatureModel)}


def load_whole_image_model(folder: str | Path):
    """Reload what ``save(folder)`` wrote (either kind of whole-image model, or the CENTRIST baseline).

    Nothing is unpickled: the stand-in's classifier is read with ``io.load_skops`` (trusted
    types only), the VGG16 head with Keras's own loader in its safe mode.
    """
    folder = Path(folder)
    info = json.loads((folder / "whole_image.json").read_text())
    if info["kind"] == "skops":
        if info.get("class") not in _FEATURE_MODELS:
            raise ValueError(f"{config.shown_path(folder)}: unknown whole-image model class {info.get('class')!r}")
        model = _FEATURE_MODELS[info["class"]](**info["settings"])
        model.classifier_ = load_skops(folder / "classifier.skops")
        return model
    if info["kind"] != "keras":
        raise ValueError(f"{config.shown_path(folder)}: a whole-image model of kind {info['kind']!r}, which is not loaded "
                         "(\"joblib\" was the old pickle format: train and save the model again)")
    import keras  # only a saved VGG16 head needs TensorFlow, which takes seconds to load


    model = WholeImageVGG16(**info["settings"])
    model.model_ = keras.models.load_model(folder / "model.keras", safe_mode=True)
    return model


# What whole_image_model may be asked for: "auto", or one of the two registered models that can
# be the ensemble's member (the CENTRIST baseline is compared with the ensemble, not part of it).
_PREFERENCES = ("auto", "vgg16", "offline")


def whole_image_model(prefer: str = "auto", seed: int = config.SEED, **vgg16_settings):
    """The whole-image member: the authors' VGG16 head when its weights are here, else the stand-in.

    Parameters
    ----------
    prefer : {"auto", "vgg16", "offline"}
        "auto": VGG16 when ``imagenet_vgg16_weights()`` finds the file, otherwise the offline
        stand-in (and a message says so). "vgg16": VGG16, or a FileNotFoundError saying where the
        weights go. "offline": always the stand-in.
    seed : int
        The seed of either model.
    **vgg16_settings
        Settings of ``WholeImageVGG16`` (epochs, image_size, train_base, ...); ignored by the stand-in.

    Returns
    -------
    WholeImageVGG16 or WholeImageStatistics
        An unfitted model with ``fit(images, labels)`` and ``predict_proba(images)``; its
        ``.name`` says which one it is.
    """
    if prefer not in _PREFERENCES:
        raise ValueError(f"unknown prefer={prefer!r}; choose one of {_PREFERENCES}")
    if prefer == "offline":
        return WholeImageStatistics(seed=seed)
    weights = imagenet_vgg16_weights()
    if weights is not None:
        return WholeImageVGG16(weights, seed=seed, **vgg16_settings)
    if prefer == "vgg16":
        raise FileNotFoundError(_missing_weights_message())
    config.notice("The ImageNet VGG16 weights are not on this machine, so the whole-image member is the "
                  "offline stand-in (colour and texture statistics); the README section \"The VGGFace weights\" says how to get them.")
    return WholeImageStatistics(seed=seed)
