"""What every face network offers, whatever it was trained for: the ``Backbone`` interface.

A backbone turns a detected face into the chip its network expects (``prepare``) and a stack of
chips into feature sets (``features``): one (N, D) matrix per layer it is read at, twice, since
every chip goes through the network in two passes, named as the paper names them, by the
order of the colour channels the NETWORK SEES:

    rgb_<layer>  the network sees the chip in RGB order;
    bgr_<layer>  the network sees it in BGR order.

One of the two is the input exactly as the network's own package feeds it (``own_order``), the
other is the paper's channel trick. For the networks trained on RGB photos (dlib's face-ID
ResNet, the expression networks) the own pass is rgb_. For VGGFace, trained in Caffe on BGR, it
is bgr_: keras-vggface flips the photo to BGR before it subtracts its means, and the authors'
``normalize_vggface_1`` (their norm=1 score files, the paper's "BGR" rows of Table 2) does the
same; their ``normalize_vggface_3`` (norm=3, the "RGB" rows) flips the channels back after the
mean subtraction.

The identity networks (``backbones``: VGGFace and its offline stand-in) and the expression
networks (``expression``) are subclasses of ``Backbone``; each is registered, with what it is
and where its weights come from, in its module's registry.

Keras (and TensorFlow under it) is imported inside the functions that build or run a network,
not at the top of a module: importing it is slow and takes memory, and a notebook that finds
all its features in the cache never runs a network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from . import faces

if TYPE_CHECKING:
    import keras

__all__ = ["Backbone", "PASSES"]

# The two passes of every chip, by the channel order the network sees.
PASSES = ("rgb", "bgr")


@cache
def _compiled(model: keras.Model, preprocess, own_order: str, batch_size: int, size: int, xla: bool):
    """Both passes of the network (its own input, named ``own_order``, and the channel-permuted
    one) compiled once into one call that takes a batch of exactly ``batch_size`` uint8 chips.

    The preprocessing runs inside the compiled program, so the only work left in Python is
    stacking chips. With ``xla`` the program is compiled by XLA, which fuses the layers and
    keeps far fewer intermediate arrays in memory (what lets VGGFace run in little memory);
    without, TensorFlow's own kernels run it, which on a CPU are much faster for depthwise and
    separable convolutions (what the expression networks are made of). A fixed batch size means
    one compilation; a short last batch is padded with blank chips.
    """
    import tensorflow as tf

    (other_order,) = set(PASSES) - {own_order}

    def both_passes(chips):
        x = tf.cast(chips, tf.float32)
        return {own_order: model(preprocess(x, False), training=False),
                other_order: model(preprocess(x, True), training=False)}

    # autograph=False: there is no Python control flow to convert (and converting it warns)
    return tf.function(both_passes, jit_compile=xla, autograph=False,
                       input_signature=[tf.TensorSpec([batch_size, size, size, 3], tf.uint8)])


class Backbone:
    """What every backbone offers; a subclass sets the attributes and writes ``prepare`` and
    ``_model``, and registers itself (``backbones.IDENTITY_NETWORKS`` or
    ``expression.EXPRESSION_NETWORKS``) under its ``name``.

    The network is built (and its weights read) on first use, once per process: a notebook that
    finds every feature in the cache never builds it."""

    name: str
    input_size: int
    preprocess = None  # chips (numpy or tensor, RGB 0..255), bgr_trick -> the network's input
    own_order: str = "rgb"  # the channel order the network sees in its package's own pass
    layer_dims: dict[str, int]  # layer -> length of its vector, shallow to deep
    paper_layers: dict[str, str]  # the paper's "avgpool" and "fc7" -> this network's counterparts
    weights_note: str  # which weights the network runs on, in words (notebook 03 prints it)
    batch_size: int = 32
    xla: bool = True  # compile with XLA (see _compiled); False where it runs the network slowly

    @classmethod
    def with_weights(cls, weights_path: str | Path | None = None, include_top: bool = True) -> Backbone:
        """The backbone, ready for ``get_backbone`` to hand out. Only VGGFace has weight files
        to choose between (``weights_path``, ``include_top``); the others ignore both."""
        return cls()

    @property
    def feature_sets(self) -> list[str]:
        """rgb_<layer> and bgr_<layer> (the network sees RGB, BGR order) for each layer."""
        return [f"{prefix}_{layer}" for prefix in PASSES for layer in self.layer_dims]

    @property
    def paper_feature_sets(self) -> dict[str, str]:
        """The paper's set names (rgb_avgpool, rgb_fc7, bgr_avgpool, bgr_fc7) -> this backbone's sets."""
        return {f"{p}_{paper}": f"{p}_{ours}" for p in PASSES
                for paper, ours in self.paper_layers.items() if ours in self.layer_dims}

    @property
    def cache_key(self) -> str:
        """What makes two runs' features the same: the name of their folder in the feature cache."""
        return self.name

    def prepare(self, image: np.ndarray, face: faces.Face) -> np.ndarray:
        """The chip (input_size x input_size x 3, uint8) the network wants for one detected face."""
        raise NotImplementedError

    def _model(self) -> keras.Model:
        raise NotImplementedError

    def network(self, batch: np.ndarray, batch_size: int | None = None) -> dict:
        """The bare compiled network on one FULL batch of uint8 chips: {"rgb"|"bgr": {layer: tensor}}."""
        batch_size = batch_size or self.batch_size
        return _compiled(self._model(), self.preprocess, self.own_order, batch_size, self.input_size,
                         self.xla)(batch)

    def features(self, chips, batch_size: int | None = None, progress: bool = True) -> dict[str, np.ndarray]:
        """Every feature set of a stack of chips.

        Parameters
        ----------
        chips : array of shape (N, input_size, input_size, 3), uint8
            Faces as ``prepare`` makes them.
        batch_size : int, optional
            Chips a call of the network takes (default ``self.batch_size``); it changes no value.
        progress : bool
            Show a progress bar over the batches.

        Returns
        -------
        dict of str to array of shape (N, D), float32
            One entry per name of ``feature_sets``; row i describes chip i.
        """
        chips = np.asarray(chips)
        expected = (self.input_size, self.input_size, 3)
        if chips.ndim != 4 or chips.shape[1:] != expected or chips.dtype != np.uint8:
            raise ValueError(f"{self.name} expects chips of shape (N, {', '.join(map(str, expected))}), "
                             f"uint8, as prepare() makes; got {chips.shape} {chips.dtype}")
        batch_size = batch_size or self.batch_size
        parts = {f"{prefix}_{layer}": [np.zeros((0, dim), np.float32)]
                 for prefix in PASSES for layer, dim in self.layer_dims.items()}
        for start in tqdm(range(0, len(chips), batch_size), desc=f"{self.name} features", disable=not progress):
            count = min(batch_size, len(chips) - start)
            batch = np.zeros((batch_size, *expected), np.uint8)  # blank chips pad a short last batch
            batch[:count] = chips[start:start + count]
            outputs = self.network(batch, batch_size)
            for prefix in PASSES:
                for layer in self.layer_dims:
                    parts[f"{prefix}_{layer}"].append(outputs[prefix][layer].numpy()[:count])
        return {name: np.concatenate(values) for name, values in parts.items()}
