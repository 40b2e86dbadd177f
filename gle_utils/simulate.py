"""The online paths, simulated: weight files of the true shapes and format, filled with RANDOM values.

A user with internet (Binder, Colab, a laptop) downloads two weight files that this project
cannot download where it is tested:

    keras-vggface's rcmalli_vggface_tf_vgg16.h5      <Keras home>/models/vggface/   (VGGFace, 03-08)
    Keras's vgg16_..._notop.h5 (ImageNet VGG16)      <Keras home>/models/           (07's whole-image CNN)

``write_online_weights(keras_home)`` writes both, where the downloads land, with the layers,
shapes and HDF5 layout of the real files and random values. With them, ``backbone="auto"``
picks VGGFace and notebook 07 trains the VGG16 head, so every online code path runs at its
real cost in time and memory; what it computes means nothing.

Two locks keep a real run from ever using such a file (``downloads.is_simulated``):
  * each file carries the attribute ``downloads.SIMULATED_MARK``, and
  * the loaders accept a marked file only while the environment variable
    ``downloads.SIMULATION_SWITCH`` (GLE_SIMULATE_ONLINE) is "1".
A marked file found without the switch is refused, with a message that names it. While the
switch is on, the loaders say, once per process, that the weights are RANDOM, and VGGFace's
features are cached under a key of their own.

    python -m gle_utils.simulate DIR      # writes the files under DIR/keras; prints the settings

``environment(root)`` gives those settings (a Keras home and a cache under ``root``, never the
user's) for a process that should take the online paths; ``tools/benchmark.py --binder`` uses it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import h5py
import numpy as np

from . import backbones, config, scene
from .downloads import SIMULATED_MARK, SIMULATION_SWITCH
from .io import atomic_path

__all__ = ["environment", "main", "write_imagenet_file", "write_keras2_file", "write_online_weights", "write_vggface_file"]

# keras.applications.VGG16's conv layers (its names; the same shapes as VGGFace's conv layers).
_IMAGENET_LAYERS = [f"block{block}_conv{i}" for block, convolutions in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3))
                    for i in range(1, convolutions + 1)]


def write_keras2_file(path: str | Path, layer_names: list[str], weights: dict, rng=None, mark: bool = False) -> Path:
    """A weight file in Keras 2's ``save_weights`` layout, the layout of both downloaded files.

    The root attribute "layer_names" lists every layer; each layer's group lists its arrays in
    the attribute "weight_names" ("fc6/kernel:0", "fc6/bias:0") and holds them as datasets.

    Parameters
    ----------
    path : str or Path
        The file to write (atomically: a file that is there is complete).
    layer_names : list of str
        Every layer, in order, under the names the real file uses.
    weights : dict
        Layer -> its [kernel, bias], each an array, or a shape tuple. A shape is filled with
        random values from ``rng`` (Glorot-uniform kernels, zero biases: what Keras starts a
        network with), written a slice of rows at a time so that fc6's 400 MB never sit in
        memory at once; without ``rng``, a shape is only declared (HDF5 stores nothing and
        reads zeros back: a file of VGGFace's topology in a few kB, for tests).
    rng : numpy.random.Generator, optional
        Where random values come from.
    mark : bool
        Give the file the ``downloads.SIMULATED_MARK`` attribute.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial, h5py.File(partial, "w") as h5file:
        h5file.attrs["layer_names"] = np.array(layer_names, dtype="S")
        h5file.attrs["backend"] = b"tensorflow"
        h5file.attrs["keras_version"] = b"2.1.5"
        if mark:
            h5file.attrs[SIMULATED_MARK] = True
        for name in layer_names:
            group = h5file.create_group(name)  # "fc6/relu" becomes a group inside "fc6", as in Keras 2
            arrays = weights.get(name, [])
            weight_names = [f"{name}/kernel:0", f"{name}/bias:0"][:len(arrays)]
            group.attrs["weight_names"] = np.array(weight_names, dtype="S")
            for weight_name, value in zip(weight_names, arrays):
                if not isinstance(value, tuple):
                    group.create_dataset(weight_name, data=value)
                    continue
                dataset = group.create_dataset(weight_name, shape=value, dtype="float32")
                if rng is not None and len(value) > 1:  # a kernel; biases stay zero
                    _fill_glorot(dataset, rng)
                elif rng is not None:
                    dataset[...] = 0.0
    return path


def _fill_glorot(dataset: h5py.Dataset, rng, rows: int = 512) -> None:
    shape = dataset.shape
    receptive_field = int(np.prod(shape[:-2]))  # 9 for a 3x3 convolution, 1 for Dense
    limit = np.sqrt(6.0 / (receptive_field * (shape[-2] + shape[-1])))
    for start in range(0, shape[0], rows):
        stop = min(start + rows, shape[0])
        uniform = rng.random((stop - start, *shape[1:]), dtype=np.float32)  # in [0, 1)
        dataset[start:stop] = (2 * uniform - 1) * np.float32(limit)


def write_vggface_file(keras_home: str | Path, rng=None) -> Path:
    """keras-vggface's full VGG16 file (about 580 MB), where keras-vggface keeps it under
    ``keras_home``; random values from ``rng`` (None: declared only, a few kB)."""
    shapes = backbones.vggface_weight_shapes(include_top=True)
    return write_keras2_file(Path(keras_home) / "models" / "vggface" / backbones.VGGFACE_FILES[True],
                             [name for name, _ in shapes], {name: [tuple(s) for s in pair] for name, pair in shapes},
                             rng, mark=True)


def write_imagenet_file(keras_home: str | Path, rng=None) -> Path:
    """Keras's ImageNet VGG16 without its top (about 59 MB), where Keras caches it under
    ``keras_home``; random values from ``rng`` (None: declared only, a few kB)."""
    shapes = backbones.vggface_weight_shapes(include_top=False)  # VGG16's conv layers
    return write_keras2_file(Path(keras_home) / "models" / scene.VGG16_NOTOP_FILE, _IMAGENET_LAYERS,
                             {name: [tuple(s) for s in pair] for name, (_, pair) in zip(_IMAGENET_LAYERS, shapes)},
                             rng, mark=True)


def write_online_weights(keras_home: str | Path, seed: int = config.SEED, fill: bool = True) -> dict[str, Path]:
    """Both simulated downloads under ``keras_home``, where the real ones land; -> {name: path}.

    Files already there are kept (they are complete: both are written atomically).
    ``fill=False`` only declares the arrays (the same layers and shapes, for tests of the
    loaders' checks).
    """
    rng = np.random.default_rng(seed) if fill else None
    paths = {}
    for name, write, target in (
            ("vggface", write_vggface_file, Path(keras_home) / "models" / "vggface" / backbones.VGGFACE_FILES[True]),
            ("imagenet", write_imagenet_file, Path(keras_home) / "models" / scene.VGG16_NOTOP_FILE)):
        paths[name] = target if target.is_file() else write(keras_home, rng)
    return paths


def environment(root: str | Path, cache_from: Path = config.CACHE_DIR, weights: bool = True,
                shared: tuple[str, ...] = ("packages", "real_photos")) -> dict[str, str]:
    """Settings of a process that takes the online paths on simulated weights, all under ``root``.

    Writes the weight files under root/keras (none without ``weights``: a fresh machine that has
    not fetched them, as Binder) and makes root/cache a cache of its own, which shares only the
    ``shared`` folders of ``cache_from`` (links; by default the package downloads, which this
    machine cannot download again): the demo set, every detection, feature and model is
    computed again, as on a fresh Binder.
    """
    root = Path(root).absolute()
    (root / "keras").mkdir(parents=True, exist_ok=True)
    if weights:
        write_online_weights(root / "keras")
    cache = root / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for name in shared:
        if (cache_from / name).exists() and not (cache / name).exists():
            (cache / name).symlink_to((cache_from / name).resolve())
    return {SIMULATION_SWITCH: "1", "KERAS_HOME": str(root / "keras"), "GLE_CACHE_DIR": str(cache),
            "GLE_MODELS_DIR": str(root / "models"), "GLE_FIGURES_DIR": str(root / "figures")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path, help="a folder for the simulated Keras home and cache (not your own)")
    args = parser.parse_args(argv)
    settings = environment(args.root)
    print("Simulated downloads written (RANDOM weights). To take the online paths, run with:")
    for name, value in settings.items():
        print(f"  export {name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
