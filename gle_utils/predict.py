"""One photo in: the group's emotion, its class probabilities, and every face found with its own score.

    from gle_utils.predict import predict_photo
    result = predict_photo("party.jpg")          # a path, or an RGB uint8 array
    result["label"]            # "Positive", "Neutral" or "Negative"
    result["probabilities"]    # {"Positive": 0.71, "Neutral": 0.20, "Negative": 0.09}
    result["faces"]            # per face: its box (x0, y0, x1, y1) and its own scores

From a shell::

    python -m gle_utils.predict PHOTO [PHOTO ...] [--model-dir FOLDER] [--json]

Every photo gets its answer; a file that cannot be read is reported and the others are still
predicted (the exit code is then 1).

The model is the paper's ensemble (``pipeline``): notebook 07 trains it and saves it under
``pipeline.default_model_dir()``. When no model is saved there yet, the first call trains the
default one on the demo set (train photos; weights from the val photos), saves it, and says so:
a few minutes, once. ``model_dir`` names another saved model (e.g. one trained on GAF).

A photo's score is the weighted vote of all members; a photo in which no face is found is decided
by the whole-image model alone. A face's own score is the weighted vote of the face members on
that face alone (the landmark forest on its distances, the deep forests on its features, as if it
were the only face in the photo).

Trained on the demo set, the model has seen a few posed and lab faces pasted on synthetic scenes:
its answers show the pipeline at work; they are not a measurement of anyone's mood.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from . import config, pipeline
from .io import ImageReadError, read_image


def _train_default_model(folder: Path) -> pipeline.GroupEmotionModel:
    from .datasets import load_dataset  # building the demo set is only needed here

    print(f"No saved model in {folder}: training the default model on the demo set now "
          f"(once, a few minutes; notebook 07 trains the same model and shows how well it does).",
          file=sys.stderr, flush=True)
    model, _ = pipeline.train(load_dataset("demo", verbose=False), backbone="auto", detector="sequential",
                              n_trees=pipeline.DEFAULT_TREES, n_jobs=-1)
    model.save(folder)
    print(f"Saved: {folder}", file=sys.stderr, flush=True)
    return model


@cache
def _load(folder: str, is_default: bool) -> pipeline.GroupEmotionModel:
    path = Path(folder)
    if (path / "pipeline.json").is_file():
        return pipeline.GroupEmotionModel.load(path)
    if not is_default:
        raise FileNotFoundError(f"{path}: no saved model here (notebook 07 saves one; "
                                "leave model_dir out to use the default model)")
    return _train_default_model(path)


def load_model(model_dir: str | Path | None = None) -> pipeline.GroupEmotionModel:
    """The saved model in ``model_dir`` (default: the demo model, trained first if absent);
    loaded once per process."""
    if model_dir is None:
        return _load(str(pipeline.default_model_dir("demo")), True)
    return _load(str(Path(model_dir).resolve()), False)


def _as_rgb_array(image) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image (values 0..255), got dtype {image.dtype}; "
                         "io.read_image() gives the right kind")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB (H, W, 3) or greyscale (H, W) image, got shape {image.shape}")
    return image


def _by_class(values) -> dict[str, float]:
    return {name: float(value) for name, value in zip(config.CLASSES, values)}


def _predict_file(model: pipeline.GroupEmotionModel, path: Path, shown_as: str) -> dict:
    inputs = model.inputs([path])
    scores = model.predict_proba(inputs)[0]
    members = model.member_probabilities(inputs)
    face_table = model.face_scores(inputs)
    face_members = [name for name in pipeline.FACE_MEMBERS if name in members]
    faces = [{"box": (int(row.x0), int(row.y0), int(row.x1), int(row.y1)),
              "label": row.label,
              "probabilities": _by_class(row[list(config.CLASSES)]),
              "members": {name: _by_class(row[[f"{name}:{c}" for c in config.CLASSES]]) for name in face_members}}
             for _, row in face_table.iterrows()]
    n_faces = int(inputs.n_faces[0])
    return {
        "photo": shown_as,
        "label": config.CLASSES[int(np.argmax(scores))],
        "probabilities": _by_class(scores),
        "n_faces": n_faces,
        "decided_by": "all members" if n_faces else "the whole-image model alone (no face found)",
        "faces": faces,
        "members": {name: (None if np.isnan(p[0]).any() else _by_class(p[0])) for name, p in members.items()},
        "model": model.describe(),
    }


def predict_photo(path_or_image, model_dir: str | Path | None = None) -> dict:
    """The group emotion of one photo (a file path or an RGB uint8 array).

    Returns a dict: photo, label, probabilities ({class: p}), n_faces, decided_by, faces (one
    dict per face: box (x0, y0, x1, y1) in the pixels of ``io.read_image``, label, probabilities,
    members (each face member's own probabilities)), members (each member's probabilities for
    the photo; None for a face member when no face was found) and model (what it is).
    Raises ``ImageReadError`` for a file that is not a readable image.
    """
    model = load_model(model_dir)
    if isinstance(path_or_image, (str, os.PathLike)):
        path = Path(path_or_image)
        read_image(path)  # a clear ImageReadError for a missing, empty or broken file
        return _predict_file(model, path, str(path))
    image = _as_rgb_array(path_or_image)
    # An array goes the same way as a file (the caches and the whole-image model read files):
    # written losslessly to a temporary PNG, predicted, removed.
    with tempfile.TemporaryDirectory(prefix="gle_predict_") as folder:
        path = Path(folder) / "photo.png"
        Image.fromarray(image).save(path)
        return _predict_file(model, path, f"<image {image.shape[1]}x{image.shape[0]}>")


def format_result(result: dict) -> str:
    """A few readable lines: the photo's label and probabilities, then one line per face."""
    def probs(p):
        return " | ".join(f"{name} {value:.2f}" for name, value in p.items())

    lines = [f"{result['photo']}: {result['label']}  ({probs(result['probabilities'])})"]
    if result["n_faces"]:
        lines[0] += f"  {result['n_faces']} face{'s' if result['n_faces'] > 1 else ''}"
        for number, face in enumerate(result["faces"], 1):
            lines.append(f"    face {number} at {face['box']}: {face['label']}  ({probs(face['probabilities'])})")
    else:
        lines.append("    no face found: decided by the whole-image model alone")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gle_utils.predict",
                                     description="Group-level emotion of photos (Positive / Neutral / Negative).")
    parser.add_argument("photos", nargs="+", help="image files")
    parser.add_argument("--model-dir", default=None,
                        help="a saved model (default: the demo model, trained on first use)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per photo")
    args = parser.parse_args(argv)

    try:
        model = load_model(args.model_dir)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.json:
        print(f"model: {model.describe()}")
    failed = 0
    for photo in args.photos:
        try:
            result = predict_photo(photo, args.model_dir)
        except ImageReadError as error:
            failed += 1
            print(f"{photo}: FAILED: {error}", file=sys.stderr, flush=True)
            continue
        print(json.dumps(result) if args.json else format_result(result), flush=True)
    if failed:
        print(f"{failed} of {len(args.photos)} photo(s) could not be read", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
