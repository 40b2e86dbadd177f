"""One photo in: the group's emotion, its class probabilities, and every face found with its own score.

    from gle_utils.predict import predict_photo
    result = predict_photo("party.jpg")          # a path, or an RGB uint8 array
    result["label"]            # "Positive", "Neutral", "Negative", or "unknown"
    result["probabilities"]    # {"Positive": 0.71, "Neutral": 0.20, "Negative": 0.09}, calibrated
    result["decided_by"]       # "all members", or "whole_image" when no face was found
    result["low_confidence"]   # True when the answer should not be trusted (and why: "reason")
    result["faces"]            # per face: its box (x0, y0, x1, y1) and its own scores
    result["model_name"]       # which model answered: "zero-shot" (the default), "expression" or "paper"

    predict_photo("party.jpg", figure=True)["figure"]   # a picture of the answer (draw_result)

From a shell::

    python -m gle_utils.predict [--model zero-shot|expression|paper] [--detector NAME] [--model-dir FOLDER]
                                [--csv FILE] [--json] [--show PNG_OR_FOLDER] [--] PHOTO_OR_FOLDER [...]

A folder is read with ``datasets.load_gaf`` when it is in a GAF layout (train/, val/, test/ with
class folders, any of them; a folder with only val/ is fine): the photos' labels then give an
accuracy. Any other folder is searched for image files (``datasets.folder_entries``).

Every entry is accounted for. A photo is predicted, or it FAILED (unreadable, or at a later
stage: faces and features, scoring); any other entry of a folder is SKIPPED, with the reason
(not an image, a FIFO or device, a dangling link, an unknown or nested class folder, an empty
folder or split). Each failure and skip is one line on stderr and a row of ``--csv`` (its
``status`` column: predicted, failed, skipped); no bad photo stops a run. The last line counts
the entries listed, predicted, failed and skipped, which add up. Exit codes (``EXIT_CODES``):
0 when every entry was predicted, 1 when any failed or was skipped, 2 when no model could be
used (missing, damaged or refused: ``modelfolder``), the arguments are wrong, or a ``--csv`` or
``--show`` file could not be written. A path that begins with "-" goes after "--".

``--show PATH`` draws each predicted photo (``draw_result``): every face boxed in the colour of
its own valence, P(Positive) - P(Negative) (``face_valence``: red -1, yellow 0, green +1; grey
"n/a" for a face no member could score), and the group's probabilities as bars. With one photo
to predict, PATH is the PNG written; with several (or when PATH is a folder already), PATH is a
folder that gets one PNG per predicted photo, named after the photo (``party.png``;
``party_2.png`` for a second photo called party). A photo that failed or was skipped gets none.

Three models (``pipeline.RECIPES``), named in every output:

    zero-shot    the default: MTCNN finds the faces (small ones too); each face's valence from two
                 networks trained on facial expressions (``gle_utils.expression``,
                 ``expression.ZeroShotValence``), averaged over the two networks and the photo's
                 faces (``pipeline.zero_shot_scores``). Nothing is fitted for a photo with a face;
                 a photo without one goes to the whole-image member, trained on the demo set.
                 Chosen by a rule fixed before the measurement, on real group photos
                 (``datasets.load_check_set``) and the demo test split: see the README.
    expression   MTCNN's faces, the paper's members joined by those two zero-shot members, each
                 weighted by its accuracy on the demo set's val photos.
    paper        the paper's pipeline: the sequential HOG-then-Haar detector, the face-ID
                 stand-in for VGGFace, landmarks, the whole image (notebook 07 trains and saves it).

The members that learn are trained on the demo set's train photos; weights (but for the zero-shot
model's, which are equal) and calibration come from its val photos.

Each is saved under ``pipeline.default_model_dir("demo", model)``; when none is saved there yet,
the first call trains it, saves it, and says so: a few minutes, once. ``model_dir`` names another
saved model (e.g. one trained on GAF). ``detector`` finds the faces with another detector than
the one the model was trained with (``faces.DETECTORS``; e.g. "mmod" for small faces): the
members then score the faces that detector finds. Saved models are JSON and skops files
(``ensemble.Ensemble``): nothing is unpickled.

How an answer is made (``answers``, whose docstring lists the rules): a photo with a face gets the
weighted vote of the members; a photo in which no face is found is decided by the whole-image
model alone, and the result says so and gives that member's accuracy on the val photos, which
also caps its confidence. Probabilities are calibrated on the val photos. A blank, one-colour or
noise image, and a photo no member could score, get "unknown". A face's own score is the weighted
vote of the face members on that face alone.

Trained on the demo set, the model has seen a few posed and lab faces pasted on synthetic scenes:
its answers show the pipeline at work; they are not a measurement of anyone's mood.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from . import config, faces, metrics, pipeline, scene
from .classifiers import DEFAULT_TREES
from .datasets import DatasetLayoutError, entry_problem, folder_entries, load_dataset, load_gaf, not_a_file
from .ensemble import predicted_labels
from .io import ImageReadError, as_rgb_array, atomic_path, read_image
from .modelfolder import ModelFolderError

__all__ = ["EXIT_CODES", "NO_SCORE_COLOUR", "TIE", "TRAINING_MINUTES_ONE_CORE", "UNKNOWN", "VALENCE_COLOURS",
           "PredictionError", "answers", "draw_result", "face_valence", "forget_loaded_models", "format_result",
           "load_model", "main", "predict_photo"]

# A reported answer: "unknown" when no class can honestly be named.
UNKNOWN = "unknown"

# Two probabilities closer than this are equal (they differ by rounding only): a tie at the top.
TIE = 1e-9

# What the exit code of ``python -m gle_utils.predict`` says, one meaning each.
EXIT_CODES = {0: "every entry was predicted",
              1: "some photos failed or entries were skipped (each is named on stderr and in --csv)",
              2: "no usable model (missing, damaged or refused), bad arguments, or a --csv or --show file "
                 "that could not be written"}


class PredictionError(RuntimeError):
    """A photo that could not be predicted: ``stage`` says where it failed."""

    def __init__(self, photo: str, stage: str, error: BaseException):
        super().__init__(f"{photo}: failed at {stage}: {type(error).__name__}: {error}")
        self.stage = stage


@contextmanager
def _stage(photo: str, stage: str):
    """Any error inside becomes a PredictionError naming the photo and the stage."""
    try:
        yield
    except (PredictionError, ImageReadError):
        raise
    except Exception as error:  # noqa: BLE001 - one bad photo must never end a run over many
        raise PredictionError(photo, stage, error) from error


# At most how long the first call's training takes on one CPU core: the README's Binder table
# (`make bench-binder`) measures it, and a test keeps this within 2 min above that figure.
TRAINING_MINUTES_ONE_CORE = 2


def _train_demo_model(folder: Path, model: str, why: str) -> pipeline.GroupEmotionModel:
    """Train ``model`` on the demo set with the offline networks, whatever weights this machine
    has: the model whose accuracy the README gives, in the same minutes everywhere."""
    photos = load_dataset("demo", verbose=False)
    n_used = int(photos.split.isin(["train", "val"]).sum())  # members on train, weights on val
    print(f"No usable saved model in {config.shown_path(folder)} ({why}): training the {model!r} model on the "
          f"{n_used} train and val photos of the demo set now, once: up to about {TRAINING_MINUTES_ONE_CORE} min on one CPU core, less on "
          "more (progress bars below). Notebook 07 trains the paper's and shows how well it does.",
          file=sys.stderr, flush=True)
    trained, _ = pipeline.train_model(photos, model, backbone="faceid-resnet", whole_image="offline",
                                      n_trees=DEFAULT_TREES, n_jobs=-1, progress=True)
    trained.save(folder)
    print(f"Saved: {config.shown_path(folder)}", file=sys.stderr, flush=True)
    return trained


@cache
def _load(folder: str, model: str | None, detector: str | None) -> pipeline.GroupEmotionModel:
    """``model`` is None for a folder the user named, else the name of the demo model kept there."""
    path = Path(folder)
    if detector is not None and detector not in faces.DETECTORS:
        raise ValueError(f"unknown detector {detector!r}; choose one of {faces.DETECTORS}")
    loaded, why = None, "none saved yet"
    if (path / "pipeline.json").is_file():
        try:
            loaded = pipeline.GroupEmotionModel.load(path)
        except (ModelFolderError, FileNotFoundError) as error:
            if model is None:
                raise
            why = str(error)  # a demo model in the cache, damaged or in an older format: ours to rebuild
        if model is not None and loaded is not None and not pipeline.RECIPES[model].matches(loaded.info):
            loaded, why = None, "an older recipe"  # a demo model of an older recipe of that name: ours to rebuild too
    elif model is None:
        raise FileNotFoundError(f"{config.shown_path(path)}: no saved model here (notebook 07 saves one; "
                                "leave model_dir out to use the default model)")
    if loaded is None:
        loaded = _train_demo_model(path, model, why)
    if detector is None or detector == loaded.detector:
        return loaded
    # The members score whatever faces they are given: only the search for faces changes.
    info = dict(loaded.info, detector=detector, trained_with_detector=loaded.detector)
    return pipeline.GroupEmotionModel(loaded.ensemble, info)


def load_model(model_dir: str | Path | None = None, model: str = pipeline.DEFAULT_MODEL,
               detector: str | None = None) -> pipeline.GroupEmotionModel:
    """The saved model in ``model_dir``; without one, the demo model called ``model``
    (``pipeline.RECIPES``; trained first if absent). ``detector`` replaces the detector it finds
    faces with. Loaded once per process (``forget_loaded_models`` reads the disk again). Raises
    FileNotFoundError for a folder without a saved model, ``modelfolder.ModelFolderError`` (a
    ValueError) for one that is damaged or refused, ValueError for an unknown model or detector."""
    if model_dir is not None:
        return _load(str(Path(model_dir).resolve()), None, detector)
    if model not in pipeline.RECIPES:
        raise ValueError(f"unknown model {model!r}; choose one of {sorted(pipeline.RECIPES)}")
    return _load(str(pipeline.default_model_dir("demo", model)), model, detector)


def forget_loaded_models() -> None:
    """Forget every model ``load_model`` has loaded: the next call reads (or trains) it again."""
    _load.cache_clear()


# ---------------------------------------------------------------------------------------------
# What is reported for each photo
# ---------------------------------------------------------------------------------------------

def answers(model: pipeline.GroupEmotionModel, inputs: pipeline.PhotoInputs) -> pd.DataFrame:
    """Each photo's reported answer, one row per photo of ``inputs`` (``model.inputs(paths)``).

    Columns: path, label, one column per class (the reported probabilities), n_faces,
    decided_by, decider_val_accuracy, low_confidence, reason. The rules, in order:

    1. No member could score the photo (what would answer it, the vote or, without a face, the
       whole-image member alone, is all NaN): label "unknown", no probabilities.
    2. The whole image carries no evidence (``scene.content_problem``: near-uniform or noise):
       label "unknown", every class 1/3, ``reason`` says which.
    3. A photo with a face: the weighted vote, calibrated (the temperature fitted on val
       photos with a face); decided by "all members", worth the ensemble's val accuracy on
       photos with a face.
    4. A photo without a face: the whole-image member alone, calibrated with its own
       temperature, then shrunk towards 1/3 each so that no class gets more than that
       member's val accuracy (``metrics.cap_confidence``): a member right 55% of the time
       does not get to say 90%.
    5. Two or more classes tie at the top (within ``TIE``; e.g. a faceless photo, or a sliver,
       whose whole-image member is no better than chance gets 1/3 each): label "unknown",
       ``reason`` names the classes that tie.
    ``low_confidence`` is True for "unknown" and whenever the top probability is below 0.5.
    """
    info_calibration = model.info.get("calibration", {})
    accuracy = model.info.get("val_accuracy") or dict(model.weights)
    scores = model.predict_proba(inputs)
    whole = model.member_probabilities(inputs)["whole_image"]
    with_face = metrics.calibrate(scores, info_calibration.get("with_face", 1.0))
    alone = metrics.cap_confidence(metrics.calibrate(whole, info_calibration.get("whole_image", 1.0)),
                                   accuracy.get("whole_image", 1.0))
    rows = []
    for i, path in enumerate(inputs.paths):
        has_face = bool(inputs.n_faces[i])
        probabilities = with_face[i] if has_face else alone[i]
        reason = ""
        if np.isnan(probabilities).all():  # what would answer (the vote, or the whole image alone) has nothing
            reason = "no member could score this photo"
        elif (problem := scene.content_problem(path)) is not None:
            reason, probabilities = problem, np.full(len(config.CLASSES), 1 / len(config.CLASSES))
        elif len(tied := _tied_at_the_top(probabilities)) > 1:
            reason = f"{' and '.join(tied)} tie at the top ({probabilities.max():.2f} each)"
        label = predicted_labels(probabilities[None])[0] if not reason else UNKNOWN
        rows.append({"path": path, "label": label, **dict(zip(config.CLASSES, probabilities)),
                     "n_faces": int(inputs.n_faces[i]),
                     "decided_by": "all members" if has_face else "whole_image",
                     "decider_val_accuracy": accuracy.get("ensemble (photos with a face)") if has_face
                     else accuracy.get("whole_image"),
                     "low_confidence": label == UNKNOWN or bool(np.nanmax(probabilities, initial=0) < 0.5),
                     "reason": reason})
    return pd.DataFrame(rows)


def _tied_at_the_top(probabilities: np.ndarray) -> list[str]:
    """The classes whose probability is the highest, within ``TIE``: one class unless they tie."""
    top = probabilities.max()
    return [name for name, p in zip(config.CLASSES, probabilities) if top - p <= TIE]


def _by_class(values) -> dict[str, float | None]:
    return {name: (None if np.isnan(value) else float(value)) for name, value in zip(config.CLASSES, values)}


def _predict_file(model: pipeline.GroupEmotionModel, path: Path, shown_as: str, figure: bool = False) -> dict:
    with _stage(shown_as, "faces and features"):
        inputs = model.inputs([path])
        if inputs.skipped:
            raise RuntimeError("the face detector could not read the photo")
    with _stage(shown_as, "scoring (whole-image statistics and the vote)"):
        answer = answers(model, inputs).iloc[0]
        members = model.member_probabilities(inputs)
        face_table = model.face_scores(inputs)
    face_members = model.face_member_names
    faces = [{"box": (int(row.x0), int(row.y0), int(row.x1), int(row.y1)),
              "label": row.label,
              "probabilities": _by_class(row[list(config.CLASSES)]),
              "members": {name: _by_class(row[[f"{name}:{c}" for c in config.CLASSES]]) for name in face_members}}
             for _, row in face_table.iterrows()]
    result = {
        "photo": shown_as,
        "label": answer.label,
        "probabilities": _by_class(answer[list(config.CLASSES)].to_numpy(dtype=float)),
        "n_faces": int(answer.n_faces),
        "decided_by": answer.decided_by,
        "decider_val_accuracy": None if answer.decider_val_accuracy is None or pd.isna(answer.decider_val_accuracy)
        else float(answer.decider_val_accuracy),
        "low_confidence": bool(answer.low_confidence),
        "reason": answer.reason,
        "faces": faces,
        "members": {name: (None if np.isnan(p[0]).any() else _by_class(p[0])) for name, p in members.items()},
        "model_name": model.name,
        "model": model.describe(),
    }
    if figure:
        with _stage(shown_as, "drawing the picture"):
            result["figure"] = draw_result(result, read_image(path))  # the pixels the boxes are in
    return result


def predict_photo(path_or_image, model_dir: str | Path | None = None, model: str = pipeline.DEFAULT_MODEL,
                  detector: str | None = None, figure: bool = False) -> dict:
    """The group emotion of one photo.

    Parameters
    ----------
    path_or_image : str, Path or numpy.ndarray
        An image file, or an RGB uint8 array (H, W, 3) (greyscale (H, W) is accepted too).
    model_dir : str or Path, optional
        A saved model (e.g. one trained on GAF); without it, the demo model called ``model``.
    model : str
        A name of ``pipeline.RECIPES`` (default ``pipeline.DEFAULT_MODEL``), trained first if absent.
    detector : str, optional
        Find faces with this detector (``faces.DETECTORS``) instead of the model's own.
    figure : bool
        True: the result gets "figure" too, a picture of the answer (``draw_result``). False by
        default, so that the result stays plain JSON-ready data.

    Returns
    -------
    dict
        photo, label (a class or "unknown"), probabilities ({class: p}, calibrated; None when
        no member could score the photo), n_faces, decided_by ("all members" or "whole_image"),
        decider_val_accuracy (what the deciding member or vote scored on the val photos),
        low_confidence and reason, faces (one dict per face: box (x0, y0, x1, y1) in the pixels
        of ``io.read_image``, label, probabilities, members (each face member's own
        probabilities)), members (each member's probabilities for the photo; None for a face
        member when no face was found), model_name and model (what it is); with ``figure=True``,
        figure (a ``matplotlib.figure.Figure``: ``result["figure"].savefig("answer.png")``, or
        shown by a notebook cell that ends with it).

    Raises
    ------
    FileNotFoundError, modelfolder.ModelFolderError
        For a ``model_dir`` without a saved model, or with one that is damaged or refused
        (``load_model``); the photo is not read then.
    ImageReadError
        For a file that is not a readable image.
    PredictionError
        For a photo that fails later (its ``stage`` says where).
    """
    model = load_model(model_dir, model, detector)
    if isinstance(path_or_image, (str, os.PathLike)):
        path = Path(path_or_image)
        read_image(path)  # a clear ImageReadError for a missing, empty or broken file
        return _predict_file(model, path, str(path), figure)
    image = as_rgb_array(path_or_image)
    # An array goes the same way as a file (the caches and the whole-image model read files):
    # written losslessly to a temporary PNG, predicted, removed.
    with tempfile.TemporaryDirectory(prefix="gle_predict_") as folder:
        path = Path(folder) / "photo.png"
        Image.fromarray(image).save(path)
        return _predict_file(model, path, f"<image {image.shape[1]}x{image.shape[0]}>", figure)


def format_result(result: dict) -> str:
    """A few readable lines: the photo's label and probabilities, then one line per face."""
    def probs(p):
        return " | ".join(f"{name} {value:.2f}" if value is not None else f"{name} -" for name, value in p.items())

    lines = [f"{result['photo']}: {result['label']}  ({probs(result['probabilities'])})"
             f"  [model {result['model_name']}]"]
    if result["n_faces"]:
        lines[0] += f"  {result['n_faces']} face{'s' if result['n_faces'] > 1 else ''}"
        for number, face in enumerate(result["faces"], 1):
            lines.append(f"    face {number} at {face['box']}: {face['label']}  ({probs(face['probabilities'])})")
    else:
        worth = result["decider_val_accuracy"]
        lines.append("    no face found: decided by the whole-image model alone"
                     + (f" (its accuracy on the val photos: {worth:.2f})" if worth is not None else ""))
    if result["low_confidence"]:
        lines.append("    LOW CONFIDENCE" + (f": {result['reason']}" if result["reason"] else
                                             ": no class reaches probability 0.5"))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# A picture of the answer
# ---------------------------------------------------------------------------------------------

# A face's box is drawn in this matplotlib colour map, at its valence: red -1, yellow 0, green +1.
VALENCE_COLOURS = "RdYlGn"
# ... and in this colour, labelled "n/a", when the face has no score.
NO_SCORE_COLOUR = "grey"


def face_valence(probabilities: dict) -> float | None:
    """A face's valence: P(Positive) - P(Negative), from -1 (surely Negative) through 0 to +1
    (surely Positive); None when the face has no score (a probability is None or NaN).

    >>> face_valence({"Positive": 0.75, "Neutral": 0.0, "Negative": 0.25})
    0.5
    >>> face_valence({"Positive": 0.1, "Neutral": 0.2, "Negative": 0.7}) < 0
    True
    >>> face_valence({"Positive": None, "Neutral": None, "Negative": None}) is None
    True
    """
    positive, negative = probabilities.get("Positive"), probabilities.get("Negative")
    if positive is None or negative is None or np.isnan(positive) or np.isnan(negative):
        return None
    return float(positive - negative)


def _group_title(result: dict) -> str:
    """The answer in words: "Positive (0.71)", or "unknown", and why it is not to be trusted."""
    label, probabilities = result["label"], result["probabilities"] or {}
    title = f"{label} ({probabilities[label]:.2f})" if probabilities.get(label) is not None else label
    if result["low_confidence"]:
        why = result["reason"] or "no class reaches probability 0.5"
        title += "\n" + textwrap.fill(f"LOW CONFIDENCE: {why}", 40)
    return title


def draw_result(result: dict, image: np.ndarray):
    """A picture of one answer of ``predict_photo``: a ``matplotlib.figure.Figure``.

    Left, the photo with each face's box in the colour of its own valence (``face_valence``,
    colour map ``VALENCE_COLOURS`` from -1 to +1, its value written by the box; grey and "n/a"
    for a face without a score) and a colour bar. Right, the group's answer as the title and its
    probabilities (``config.CLASSES`` order) as horizontal bars.

    ``image`` is the photo as ``io.read_image`` reads it: the boxes are in its pixels. The figure
    is not shown and pyplot does not keep it (no ``plt.show``, nothing to close): save it with
    ``fig.savefig(path)``, or end a notebook cell with it to see it.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from .plots import CLASS_COLOURS

    colour_map, scale = colormaps[VALENCE_COLOURS], Normalize(vmin=-1, vmax=1)
    fig = Figure(figsize=(11, 4.8), layout="constrained")  # a Figure of its own, not pyplot's
    photo_ax, bars_ax = fig.subplots(1, 2, width_ratios=[3, 2])
    photo_ax.set_label("photo")
    bars_ax.set_label("group")
    fig.suptitle(f"{result['photo']}   [model {result['model_name']}]", fontsize=10)

    # Left: the photo, every face boxed in the colour of its own valence.
    photo_ax.imshow(image)
    photo_ax.set_axis_off()
    for face in result["faces"]:
        x0, y0, x1, y1 = face["box"]
        valence = face_valence(face["probabilities"])
        colour = NO_SCORE_COLOUR if valence is None else colour_map(scale(valence))
        photo_ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colour, linewidth=2.5))
        room_above = y0 > 0.06 * image.shape[0]  # the value goes above the box, or below it at the top edge
        photo_ax.text(x0, y0 - 3 if room_above else y1 + 3, "n/a" if valence is None else f"{valence:+.2f}",
                      va="bottom" if room_above else "top", fontsize=9,
                      bbox={"facecolor": colour, "edgecolor": "none", "pad": 1.5})
    fig.colorbar(ScalarMappable(norm=scale, cmap=colour_map), ax=photo_ax, shrink=0.8,
                 label="face valence: P(Positive) - P(Negative)")
    photo_ax.set_title(f"{result['n_faces']} face{'' if result['n_faces'] == 1 else 's'} found" if result["n_faces"]
                       else "no face found: decided by the whole-image model alone", fontsize=10)

    # Right: the group's answer, and its probabilities as bars.
    bars_ax.set_title(_group_title(result), fontsize=11, color="firebrick" if result["low_confidence"] else "black")
    values = [(result["probabilities"] or {}).get(name) for name in config.CLASSES]
    if any(value is None for value in values):
        bars_ax.text(0.5, 0.5, "no member could score this photo", ha="center", va="center",
                     transform=bars_ax.transAxes)
        bars_ax.set_axis_off()
    else:
        bars_ax.barh(list(config.CLASSES), values, color=[CLASS_COLOURS[name] for name in config.CLASSES])
        bars_ax.invert_yaxis()  # the first class on top
        for row, value in enumerate(values):
            bars_ax.text(value + 0.01, row, f"{value:.2f}", va="center")
        bars_ax.set_xlim(0, 1.1)
        bars_ax.set_xlabel("probability (calibrated)")
    return fig


@dataclass
class _Entry:
    """One entry of a run: a photo to predict; one found unreadable while its folder was listed
    (``unreadable``: why); or an entry that is not a photo (``skipped``: why)."""

    path: str
    split: str | None = None
    label: str | None = None
    unreadable: str = ""
    skipped: str = ""


def _entries(paths) -> list[_Entry]:
    """Every entry of a run, in order: each path named on the command line, each folder expanded.

    A file named directly is a photo (read whatever its name, so a .ppm works too) unless it is
    a FIFO, a device or a dangling link (``datasets.not_a_file``); a path with nothing there is
    a photo that will fail at reading. A folder (a link to one too) in a GAF layout gives its
    photos with split and label, and what ``datasets.load_gaf`` left out; any other folder,
    every entry below it (``datasets.folder_entries``), each a photo or skipped
    (``datasets.entry_problem``)."""
    entries = []
    for given in map(Path, paths):
        if not given.is_dir():
            entries.append(_Entry(str(given), skipped=not_a_file(given) or ""))
            continue
        try:
            table = load_gaf(given, verbose=False)
        except DatasetLayoutError:
            found = []
            for path in folder_entries(given):
                # ``given`` is an entry itself only when it holds nothing (or cannot be read)
                why = not_a_file(path.resolve()) if path == given else entry_problem(path)
                found.append(_Entry(str(path), skipped=why or ""))
        else:
            found = [_Entry(row.path, row.split, row.label) for row in table.itertuples(index=False)]
            found += [_Entry(path, unreadable=reason) for path, reason in table.attrs["unreadable"]]
            found += [_Entry(path, skipped=reason) for path, reason in table.attrs["skipped"]]
        entries += sorted(found, key=lambda entry: entry.path)
    return entries


def _csv_row(entry: _Entry, model: str, status: str, result: dict | None, error: str = "") -> dict:
    out = {"photo": entry.path, "split": entry.split, "true_label": entry.label, "model": model, "status": status,
           "label": result["label"] if result else None}
    for name in config.CLASSES:
        out[f"P({name})"] = result["probabilities"][name] if result else None
    out.update({"n_faces": result["n_faces"] if result else None,
                "decided_by": result["decided_by"] if result else None,
                "low_confidence": result["low_confidence"] if result else None,
                "reason": result["reason"] if result else "", "error": error})
    return out


def _parser() -> argparse.ArgumentParser:
    exit_codes = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="python -m gle_utils.predict", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Group-level emotion of photos (Positive / Neutral / Negative).",
        epilog=f"Every entry is predicted, failed or skipped: each failure and skip is one line on stderr and a row "
               f"of --csv,\nand the last line counts them.\n\nexit codes:\n{exit_codes}\n\n"
               "A path that begins with '-' goes after '--':  python -m gle_utils.predict --csv out.csv -- -photo.jpg")
    parser.add_argument("photos", nargs="+", help="image files, or folders (a GAF-layout folder gives accuracy)")
    parser.add_argument("--model", default=pipeline.DEFAULT_MODEL, choices=sorted(pipeline.RECIPES),
                        help=f"which demo model (default: {pipeline.DEFAULT_MODEL}, chosen by the README's rule on "
                             "real group photos; paper: the paper's pipeline); trained on first use")
    parser.add_argument("--model-dir", default=None, help="a saved model instead (e.g. one trained on GAF); checked "
                                                          "before any photo is read")
    parser.add_argument("--detector", default=None, choices=faces.DETECTORS,
                        help="find faces with this detector instead of the model's own (mtcnn, or mmod for "
                             "small faces)")
    parser.add_argument("--csv", default=None, help="write one row per entry to this CSV file")
    parser.add_argument("--json", action="store_true", help="print one JSON object per photo")
    parser.add_argument("--show", default=None, metavar="PNG_OR_FOLDER",
                        help="draw each predicted photo: its faces boxed in the colour of their valence, the "
                             "group's probabilities as bars; one photo: the PNG file written; several (or an "
                             "existing folder): a folder of one PNG per photo, named after it")
    return parser


def _picture_paths(show: str, entries: list[_Entry]):
    """Where ``--show`` writes the picture of each photo: a function of the photo's path.

    One photo to predict: ``show`` itself. Several, or ``show`` a folder already (or ending in
    "/"): ``show/<the photo's stem>.png``, made unique with _2, _3, ... when two stems are alike."""
    photos = [entry for entry in entries if not (entry.skipped or entry.unreadable)]
    if len(photos) <= 1 and not (Path(show).is_dir() or show.endswith(("/", os.sep))):
        return lambda photo: Path(show)
    taken = set()

    def in_folder(photo: str) -> Path:
        stem, number = Path(photo).stem or "photo", 1
        name = f"{stem}.png"
        while name in taken:
            number += 1
            name = f"{stem}_{number}.png"
        taken.add(name)
        return Path(show) / name

    return in_folder


def _write_picture(figure, path: Path) -> None:
    """A figure as a PNG, written atomically (``io.atomic_path``): never half a file."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})  # no version: same picture, same bytes


def main(argv: list[str] | None = None) -> int:
    """The command line: ``EXIT_CODES`` says what the number it returns means (argparse exits
    with 2 itself for bad arguments)."""
    args = _parser().parse_args(argv)
    try:
        model = load_model(args.model_dir, args.model, args.detector)
    except (FileNotFoundError, ValueError) as error:  # ModelFolderError is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.json:
        print(f"model: {model.describe()}")
    entries = _entries(args.photos)
    picture_path = _picture_paths(args.show, entries) if args.show else None
    pictures_failed = False
    rows, counts = [], {"predicted": 0, "failed": 0, "skipped": 0}
    for entry in entries:
        result = None
        if entry.skipped:
            status, message = "skipped", entry.skipped
        elif entry.unreadable:
            status, message = "failed", f"failed at reading: {entry.unreadable}"
        else:
            try:
                result = predict_photo(entry.path, args.model_dir, args.model, args.detector, figure=bool(args.show))
                status, message = "predicted", ""
            except ImageReadError as error:
                status, message = "failed", f"failed at reading: {str(error).removeprefix(f'{entry.path}: ')}"
            except PredictionError as error:
                status, message = "failed", str(error).removeprefix(f"{entry.path}: ")
        counts[status] += 1
        rows.append(_csv_row(entry, model.name, status, result, message))
        if result is not None:
            figure = result.pop("figure", None)  # a Figure is no JSON: written as a PNG instead
            print(json.dumps(result) if args.json else format_result(result), flush=True)
            if figure is not None:
                target = picture_path(entry.path)
                try:
                    _write_picture(figure, target)
                    print(f"wrote {target}", file=sys.stderr, flush=True)
                except OSError as error:  # reported, and exit code 2 at the end; the run goes on
                    print(f"error: cannot write {target}: {error}", file=sys.stderr, flush=True)
                    pictures_failed = True
        else:
            print(f"{entry.path}: {status.upper()}: {message}", file=sys.stderr, flush=True)

    results = pd.DataFrame(rows)
    labelled = results[results.true_label.notna() & (results.status == "predicted")] if len(results) else results
    if len(labelled):
        correct = labelled.label == labelled.true_label
        unknown = int((labelled.label == UNKNOWN).sum())
        print(f"accuracy of model {model.name!r} on {len(labelled)} labelled photo(s): {correct.mean():.3f}"
              + (f" ({unknown} answered unknown, counted as wrong)" if unknown else ""),
              file=sys.stderr if args.json else sys.stdout)
    if args.csv:
        try:
            with atomic_path(Path(args.csv)) as tmp:
                results.to_csv(tmp, index=False)
        except OSError as error:
            print(f"error: cannot write {args.csv}: {error}", file=sys.stderr)
            return 2
        print(f"wrote {args.csv} ({len(results)} row(s))", file=sys.stderr)
    print(f"{len(entries)} listed: {counts['predicted']} predicted, {counts['failed']} failed, "
          f"{counts['skipped']} skipped", file=sys.stderr)
    if pictures_failed:
        return 2
    return 0 if counts["predicted"] == len(entries) else 1


if __name__ == "__main__":
    sys.exit(main())
