"""A saved model folder is untrusted input: what it must hold, checked before any of it is used.

``ensemble.Ensemble.save`` writes a model folder (``pipeline.GroupEmotionModel.save`` adds
pipeline.json to it), and ``python -m gle_utils.predict --model-dir FOLDER`` reads one, which
someone may have sent you or a disk may have damaged::

    manifest.json            the sha256 of every other file (``ManifestFile``), written last
    ensemble.json            the members: name, feature set, weight, kind, file
                             (``ensemble.EnsembleFile``)
    pipeline.json            backbone, detector, accuracies, calibration, ... (``PipelineFile``)
    member_NN_<name>.skops   a fitted scikit-learn model (skops: a zip archive, nothing unpickled)
    member_NN_<name>.json    a zero-shot member (``ZeroShotFile``)
    member_NN_whole_image/   the whole-image model: whole_image.json (``WholeImageFile``) and its
                             classifier.skops, or model.keras for the VGG16 head

The loaders (``Ensemble.load``, ``GroupEmotionModel.load``) check everything before they load a
model, with two defences; any failure is a ``ModelFolderError``, one line that names the file
and the field:

1. The manifest catches damage (``check_files``): a file changed, missing or added since the
   model was saved is refused. No switch loads it anyway: train and save the model again.
2. The schema catches malice, since whoever edits a file can rewrite the manifest as well. A
   dataclass per JSON file says which keys it has, the type of each, which may be left out, and
   the allowed values (``rule``); ``parse`` refuses anything else. Beyond the types: the files a
   folder names stay inside it once symbolic links are resolved (``inside``), no file is over
   ``MAX_FILE_MB``, a zip archive (.skops, .keras) opens and unpacks to no more than that
   (``check_archive``), and a loaded model is a fitted classifier of our classes
   (``check_model``). That each member reads as many numbers as its feature set has is
   checked by ``GroupEmotionModel.load``, which knows the model's inputs.

The one file outside the folder that a model may name is VGGFace's weights (pipeline.json's
``weights_path``): h5py reads it as arrays and ``backbones`` checks it layer by layer.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import re
import types
import typing
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from . import backbones, expression, faces, scene
from .config import CLASSES, shown_path
from .io import MAX_SIDE, file_digest

__all__ = ["MANIFEST", "MAX_ENTRIES", "MAX_FILE_MB", "MAX_JSON_KB", "MAX_TEXT", "SETTING_RANGES", "TEMPERATURES", "VOTES", "Calibration",
           "ManifestFile", "ModelFolderError", "PipelineFile", "WholeImageFile", "ZeroShotFile", "check_archive",
           "check_files", "check_model", "check_whole_image", "check_zero_shot", "inside", "loading", "parse",
           "read", "read_json", "read_pipeline", "rule", "write_manifest"]

# No file of a model folder may be larger than this (checked before it is read: a 2 GB file is
# refused at once), nor may a zip archive in it unpack to more. A forest of 300 trees on a few
# thousand photos takes tens of MB; the VGG16 head, 60 MB.
MAX_FILE_MB = 1024
# A JSON file of a saved model holds a few KB.
MAX_JSON_KB = 1024
# Every text in a model folder is one printable line of at most this many characters.
MAX_TEXT = 300
# Entries a model folder may hold, all folders included (a saved model has about ten).
MAX_ENTRIES = 1000

MANIFEST = "manifest.json"
_SHA256 = r"[0-9a-f]{64}"
_RETRAIN = ("; a changed model is never loaded: train and save it again (notebook 07; the demo models retrain "
            "themselves)")

# The temperatures pipeline.train can have fitted: the range metrics.fit_temperature searches
# (its default bounds; metrics imports ensemble, which imports this module, so the numbers are
# written here and tests/test_model_folder.py checks that the two agree).
TEMPERATURES = (0.25, 20.0)

# The settings of a whole-image model that matter when it predicts, and their ranges: a larger
# pyramid, side or batch would make each photo take gigabytes.
SETTING_RANGES = {"levels": (1, 4), "max_side": (16, MAX_SIDE), "image_size": (32, 1024), "batch_size": (1, 1024)}


class ModelFolderError(ValueError):
    """A model folder that is not loaded, and why, in one line: the file, the field, the problem."""

    def __init__(self, file: str | Path, field_name: str, problem: str):
        shown = shown_path(file)
        if not shown.isprintable():
            shown = ascii(shown)
        message = f"{shown}: {field_name}: {problem}" if field_name else f"{shown}: {problem}"
        super().__init__(" ".join(message.split()))  # one line, whatever the problem's text holds
        self.file, self.field = Path(file), field_name


# ---------------------------------------------------------------------------------------------
# The schema: dataclasses whose fields say what a JSON file holds
# ---------------------------------------------------------------------------------------------

def rule(*, choices=None, within=None, pattern=None, key=None, default=dataclasses.MISSING):
    """A field of a schema dataclass, with what ``parse`` checks beyond its type: ``choices``
    the allowed values, ``within`` an inclusive (low, high) range, ``pattern`` a regular
    expression a text must match whole, ``key`` the JSON key where it is not a Python name (such
    as "class"). Of a list or an object, each item is checked. A field with a ``default`` may
    be left out of the file; the others are required."""
    return field(default=default, metadata={"choices": choices, "within": within, "pattern": pattern, "key": key})


def _shown(value) -> str:
    """A value from a file, as a message quotes it: as JSON writes it, cut to 60 characters."""
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def _at(where: str, key: str) -> str:
    key = key if key.isidentifier() else _shown(key)
    return f"{where}.{key}" if where else key


def _kind_of(value) -> str:
    return {dict: "an object", list: "a list", str: "a text", bool: "true or false", type(None): "null"}.get(
        type(value), "a number")


_TYPE_NAMES = {str: f"a text of one printable line (at most {MAX_TEXT} characters)", Path: "a path",
               int: "an integer", float: "a finite number", bool: "true or false", type(None): "null"}


def _type_name(hint) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(option) for option in typing.get_args(hint))
    return _TYPE_NAMES.get(hint, getattr(typing.get_origin(hint), "__name__", str(hint)))


def _is_a(value, hint) -> bool:
    """Whether a JSON value is of the plain type ``hint``."""
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        try:
            return math.isfinite(value)
        except OverflowError:  # an integer too large for a float
            return False
    if hint in (str, Path):
        return isinstance(value, str) and value.isprintable() and len(value) <= MAX_TEXT
    if hint is type(None):
        return value is None
    raise TypeError(f"a schema uses the type {hint!r}, which parse does not know")  # a mistake in a schema


def _typed(value, hint, file, where: str):
    """``value`` if it has the type ``hint`` (str, int, float, bool, None, list[...],
    dict[str, ...], a union of these, or a schema dataclass); else a ModelFolderError."""
    if dataclasses.is_dataclass(hint):
        return parse(hint, value, file, where)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _typed(value, option, file, where)
            except ModelFolderError:
                continue
    elif origin is list:
        if not isinstance(value, list):
            raise ModelFolderError(file, where, f"expected a list, found {_kind_of(value)}")
        return [_typed(item, args[0], file, f"{where}[{i}]") for i, item in enumerate(value)]
    elif origin is dict:
        if not isinstance(value, dict):
            raise ModelFolderError(file, where, f"expected an object, found {_kind_of(value)}")
        return {key: _typed(item, args[1], file, _at(where, key)) for key, item in value.items()}
    elif _is_a(value, hint):
        return float(value) if hint is float else value
    raise ModelFolderError(file, where, f"{_shown(value)} is not {_type_name(hint)}")


def _obey(value, metadata, file, where: str) -> None:
    """The rules of a field (``rule``), on the value or on each of its items."""
    if isinstance(value, list):
        items = [(f"{where}[{i}]", item) for i, item in enumerate(value)]
    elif isinstance(value, dict):
        items = [(_at(where, key), item) for key, item in value.items()]
    else:
        items = [(where, value)]
    choices, within, pattern = metadata.get("choices"), metadata.get("within"), metadata.get("pattern")
    for here, item in items:
        if item is None:
            continue
        if choices is not None and item not in choices:
            raise ModelFolderError(file, here, f"{_shown(item)} is not one of: {', '.join(map(str, choices))}")
        if within is not None and not within[0] <= item <= within[1]:
            raise ModelFolderError(file, here, f"{_shown(item)} is outside [{within[0]}, {within[1]}]")
        if pattern is not None and not re.fullmatch(pattern, item):
            raise ModelFolderError(file, here, f"{_shown(item)} is not of the form {pattern}")


def parse(schema, data, file: str | Path, where: str = ""):
    """``data`` (read from a JSON file) as an instance of the dataclass ``schema``.

    ``data`` must be an object with no key that the schema lacks and every key it requires,
    each value of its field's type and within its rules (``rule``). Anything else is a
    ModelFolderError naming ``file`` and the field (``where`` is the path to ``data`` in it)."""
    if not isinstance(data, dict):
        raise ModelFolderError(file, where, f"expected an object, found {_kind_of(data)}")
    fields = {spec.metadata.get("key") or spec.name: spec for spec in dataclasses.fields(schema)}
    unknown = [key for key in data if key not in fields]
    if unknown:
        raise ModelFolderError(file, _at(where, unknown[0]), f"unknown key (the keys are: {', '.join(fields)})")
    hints = typing.get_type_hints(schema)
    values = {}
    for key, spec in fields.items():
        here = _at(where, key)
        if key not in data:
            if spec.default is dataclasses.MISSING:
                raise ModelFolderError(file, here, "missing (a required key)")
            continue
        values[spec.name] = _typed(data[key], hints[spec.name], file, here)
        _obey(values[spec.name], spec.metadata, file, here)
    return schema(**values)


def _no_repeated_keys(pairs):
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"the key {_shown(repeated[0])} is given twice in one object")
    return dict(pairs)


def read_json(path: Path):
    """The JSON value in the file ``path``: at most MAX_JSON_KB, UTF-8, no key given twice in an
    object, nested no deeper than Python's parser goes; else a ModelFolderError."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_KB * 1024:
            raise ModelFolderError(path, "", f"{size:,} bytes, more than a saved model's JSON file holds "
                                             f"(MAX_JSON_KB = {MAX_JSON_KB})")
        return json.loads(path.read_bytes().decode("utf-8"), object_pairs_hook=_no_repeated_keys)
    except RecursionError:
        raise ModelFolderError(path, "", "not valid JSON here (nested too deeply to be read)") from None
    except (UnicodeDecodeError, ValueError) as error:  # json.JSONDecodeError is a ValueError
        raise ModelFolderError(path, "", f"not valid JSON ({error})") from error
    except OSError as error:
        raise ModelFolderError(path, "", f"cannot be read ({error.strerror or error})") from error


def read(path: Path, schema):
    """The JSON file ``path`` as an instance of the dataclass ``schema`` (``read_json``, ``parse``)."""
    return parse(schema, read_json(path), path)


# ---------------------------------------------------------------------------------------------
# The files of a folder, and its manifest
# ---------------------------------------------------------------------------------------------

def _files_in(folder: Path) -> list[str]:
    """The paths (as "a/b") of the files in ``folder``, refusing what a saved model never holds:
    a symbolic link out of the folder or to a folder, anything but a regular file (a FIFO, a
    device, a dangling link), a folder inside a member's folder, a file over MAX_FILE_MB, more
    than MAX_ENTRIES entries. Sizes are read from the folder listing, before any file is read."""
    folder = folder.resolve()
    found, todo, seen = [], [(folder, 0)], 0
    while todo:
        current, depth = todo.pop()
        try:
            entries = sorted(current.iterdir())
        except OSError as error:
            raise ModelFolderError(current, "", f"cannot be listed ({error.strerror or error})") from error
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                raise ModelFolderError(folder, "", f"more than {MAX_ENTRIES} entries: not a saved model")
            if entry.is_symlink():
                try:
                    target = entry.resolve(strict=True)
                except (OSError, RuntimeError):
                    raise ModelFolderError(entry, "", "a symbolic link to nothing (or in a loop)") from None
                if not target.is_relative_to(folder):
                    raise ModelFolderError(entry, "", f"a symbolic link to {shown_path(target)}, outside the "
                                                      "model folder")
                if target.is_dir():
                    raise ModelFolderError(entry, "", "a symbolic link to a folder (a saved model holds none)")
            if entry.is_dir():
                if depth > 0:
                    raise ModelFolderError(entry, "", "a folder inside a member's folder (a saved model has none)")
                todo.append((entry, depth + 1))
                continue
            if not entry.is_file():
                raise ModelFolderError(entry, "", "not a regular file (a FIFO, socket or device)")
            size = entry.stat().st_size
            if size > MAX_FILE_MB * 2**20:
                raise ModelFolderError(entry, "", f"{size / 2**20:,.0f} MB, larger than a model's file may be "
                                                  f"(MAX_FILE_MB = {MAX_FILE_MB})")
            found.append(entry.relative_to(folder).as_posix())
    return sorted(found)


@dataclass(frozen=True, kw_only=True)
class ManifestFile:
    """manifest.json: the sha256 of every other file of the folder, by its path in the folder."""

    format: int = rule(choices=(1,))
    algorithm: str = rule(choices=("sha256",))
    files: dict[str, str] = rule(pattern=_SHA256)


def write_manifest(folder: str | Path) -> None:
    """Write manifest.json in ``folder``: the sha256 of every other file. The last file a save writes."""
    folder = Path(folder)
    files = {relative: file_digest(folder / relative) for relative in _files_in(folder) if relative != MANIFEST}
    (folder / MANIFEST).write_text(json.dumps({"format": 1, "algorithm": "sha256", "files": files}, indent=1))


def check_files(folder: Path) -> None:
    """Refuse (ModelFolderError) a folder that holds anything a saved model does not (``_files_in``),
    or whose files are not exactly those of its manifest.json, with the sha256 it lists."""
    if not folder.is_dir():
        raise ModelFolderError(folder, "", "no such folder")
    files = _files_in(folder)
    if MANIFEST not in files:
        raise ModelFolderError(folder / MANIFEST, "", "missing: the folder was saved before models had a manifest, "
                                                      "or not by gle_utils" + _RETRAIN)
    manifest = read(folder / MANIFEST, ManifestFile)
    present = set(files) - {MANIFEST}
    missing, added = sorted(set(manifest.files) - present), sorted(present - set(manifest.files))
    if missing:
        raise ModelFolderError(folder / missing[0], "", f"listed in {MANIFEST} but missing" + _RETRAIN)
    if added:
        raise ModelFolderError(folder / added[0], "", f"not in {MANIFEST}: added after the model was saved" + _RETRAIN)
    for relative in sorted(present):
        try:
            digest = file_digest(folder / relative)
        except OSError as error:
            raise ModelFolderError(folder / relative, "", f"cannot be read ({error.strerror or error})") from error
        if digest != manifest.files[relative]:
            raise ModelFolderError(folder / relative, "", f"changed since the model was saved (its sha256 is not the "
                                                          f"one {MANIFEST} lists)" + _RETRAIN)


def inside(folder: Path, name: str, file: Path, where: str) -> Path:
    """The path of the file ``name`` that ``file`` names (at its field ``where``) in ``folder``:
    a plain name of an entry of the folder, which stays inside it once links are resolved."""
    if not name or Path(name).name != name or name in (".", ".."):
        raise ModelFolderError(file, where, f"{_shown(name)} is not the name of a file in the model folder")
    path = folder / name
    if not path.exists():
        raise ModelFolderError(file, where, f"{_shown(name)} is not in the model folder")
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ModelFolderError(file, where, f"{_shown(name)} leads outside the model folder")
    return path


def check_archive(path: Path) -> None:
    """Refuse a .skops or .keras file that is missing, that is not a zip archive (a pickle named
    .skops, a truncated file), or whose contents would unpack to more than MAX_FILE_MB."""
    if not path.is_file():
        raise ModelFolderError(path, "", "missing, or not a file")
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except Exception as error:  # noqa: BLE001 - whatever the bytes are, the answer is one line
        raise ModelFolderError(path, "", f"not a zip archive, which a {path.suffix} file is "
                                         f"({type(error).__name__}: {error})") from error
    if unpacked > MAX_FILE_MB * 2**20:
        raise ModelFolderError(path, "", f"would unpack to {unpacked / 2**20:,.0f} MB, more than "
                                         f"MAX_FILE_MB = {MAX_FILE_MB}")


@contextmanager
def loading(path: Path):
    """Any error while a checked file is loaded becomes a ModelFolderError naming the file:
    whatever a file holds, loading it ends in a model or in one line, never a traceback."""
    try:
        yield
    except ModelFolderError:
        raise
    except Exception as error:  # noqa: BLE001 - a loader may raise anything on a hostile file
        raise ModelFolderError(path, "", f"cannot be loaded ({type(error).__name__}: {error})") from error


# ---------------------------------------------------------------------------------------------
# The members' own files
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class ZeroShotFile:
    """A zero-shot member's JSON file (``expression.ZeroShotValence.save``)."""

    kind: str = rule(choices=("zero_shot",))
    backbone: str = rule(choices=expression.EXPRESSION_BACKBONES)
    valence: str = rule(choices=(expression.ZeroShotValence.VALENCE_SOURCE,))


def check_zero_shot(path: Path) -> None:
    """Refuse a zero-shot member's file that is not a JSON file of ``ZeroShotFile``."""
    if path.suffix != ".json" or not path.is_file():
        raise ModelFolderError(path, "", "a zero-shot member's file is a .json file")
    read(path, ZeroShotFile)


# A whole-image model's settings (JSON values) are checked against the parameters of its class.
_Setting = str | int | float | bool | None


@dataclass(frozen=True, kw_only=True)
class WholeImageFile:
    """whole_image.json, in a whole-image member's folder (the ``save`` of ``scene``'s models).
    ``settings`` are the arguments its class is built with, checked against that class's
    parameters (``_settings_schema``)."""

    kind: str = rule(choices=("skops", "keras"))
    class_name: str | None = rule(key="class", default=None, choices=tuple(scene._FEATURE_MODELS))
    name: str
    settings: dict[str, _Setting]


@cache
def _settings_schema(model_class) -> type:
    """A schema of the settings ``model_class`` is built with: one field per parameter of its
    __init__, of the type its annotation says, optional where it has a default, within
    ``SETTING_RANGES``. So a key it does not take, or a text where it takes a number, is refused."""
    hints = typing.get_type_hints(model_class.__init__)
    fields = [(name, hints[name], rule(within=SETTING_RANGES.get(name),
                                       default=dataclasses.MISSING if parameter.default is parameter.empty
                                       else parameter.default))
              for name, parameter in inspect.signature(model_class).parameters.items()]
    return dataclasses.make_dataclass(f"{model_class.__name__}Settings", fields, frozen=True, kw_only=True)


def check_whole_image(path: Path) -> None:
    """Refuse a whole-image member's folder unless its whole_image.json fits ``WholeImageFile``,
    its settings fit its class, and its model file (classifier.skops, or model.keras for the
    VGG16 head) is a sound archive."""
    if not path.is_dir():
        raise ModelFolderError(path, "", "a whole-image member's file is a folder (whole_image.json and its model)")
    json_file = path / "whole_image.json"
    described = read(json_file, WholeImageFile)
    if described.kind == "skops":
        if described.class_name is None:
            raise ModelFolderError(json_file, "class", "missing (a model of kind 'skops' names its class)")
        model_class, model_file = scene._FEATURE_MODELS[described.class_name], "classifier.skops"
    else:
        if described.class_name is not None:
            raise ModelFolderError(json_file, "class", "only a model of kind 'skops' names its class")
        model_class, model_file = scene.WholeImageVGG16, "model.keras"
    parse(_settings_schema(model_class), described.settings, json_file, "settings")
    check_archive(path / model_file)


def _check_classifier(model, path: Path) -> None:
    """Refuse an object that is not a fitted classifier of ``CLASSES`` (names or their indices)."""
    classes = getattr(model, "classes_", None)
    if not callable(getattr(model, "predict_proba", None)) or classes is None \
            or not isinstance(getattr(model, "n_features_in_", None), int):
        raise ModelFolderError(path, "", f"holds a {type(model).__name__}, not a fitted classifier")
    index = (int, np.integer)
    known = {c for c in classes
             if c in CLASSES or (isinstance(c, index) and not isinstance(c, bool) and 0 <= c < len(CLASSES))}
    if len(known) != len(classes):
        raise ModelFolderError(path, "classes_", f"{_shown(list(classes))}: not the classes {', '.join(CLASSES)}")


def check_model(model, path: Path) -> None:
    """Refuse a loaded member's model that cannot be one. A skops file may hold any object skops
    trusts (a dict, an array): a scikit-learn member must be a fitted classifier of our classes.
    A whole-image stand-in's classifier must take as many numbers as its features have, with
    its settings (on a blank image: no photo is read)."""
    if isinstance(model, (expression.ZeroShotValence, scene.WholeImageVGG16)):
        return  # nothing fitted to check, or Keras's own loader has checked it
    if isinstance(model, scene._FeatureModel):
        _check_classifier(model.classifier_, path / "classifier.skops")
        width = model.features([np.zeros((32, 32, 3), np.uint8)]).shape[1]
        takes = model.classifier_.n_features_in_
        if takes != width:
            raise ModelFolderError(path / "whole_image.json", "settings",
                                   f"give {width} features, but its classifier takes {takes}")
        return
    _check_classifier(model, path)


# ---------------------------------------------------------------------------------------------
# pipeline.json
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Calibration:
    """pipeline.json's calibration: the two temperatures ``pipeline.train`` fits on val."""

    with_face: float = rule(within=TEMPERATURES)
    whole_image: float = rule(within=TEMPERATURES)


_BACKBONES = backbones.IDENTITY_NETWORKS.names() + expression.EXPRESSION_BACKBONES
_EXPRESSION_NETWORKS = expression.EXPRESSION_BACKBONES


# How pipeline.train weights the members (a pipeline.json names one), and what the model's
# description says of it.
VOTES = {"val accuracy": "accuracy of each member on the val photos (the paper)",
         "equal": "1 for every face member, 0 for the whole-image member (it answers only photos without a face)"}


@dataclass(frozen=True, kw_only=True)
class PipelineFile:
    """pipeline.json: the model's ``info`` (``pipeline.train`` writes it; ``GroupEmotionModel``
    documents it). Accuracies are in [0, 1]; ``weights_path`` is VGGFace's weight file or null."""

    model: str
    dataset: str
    backbone: str = rule(choices=_BACKBONES)
    backbone_label: str
    weights_path: str | None
    paper_feature_sets: dict[str, str]
    detector: str = rule(choices=faces.DETECTORS)
    detection_version: int
    expression: list[str] = rule(choices=_EXPRESSION_NETWORKS)
    zero_shot: list[str] = rule(choices=_EXPRESSION_NETWORKS)
    members: list[str]
    whole_image: str
    whole_image_settings: dict[str, _Setting]
    n_trees: int = rule(within=(1, 100_000))
    seed: int
    photos: dict[str, int] = rule(within=(0, 10**9))
    vote: str = rule(default="val accuracy", choices=tuple(VOTES))
    weights: str
    landmark_aggregate: str
    val_accuracy: dict[str, float] = rule(within=(0.0, 1.0))
    calibration: Calibration
    trained_with_detector: str | None = rule(default=None, choices=faces.DETECTORS)


def read_pipeline(folder: Path) -> dict:
    """pipeline.json of ``folder``, checked against ``PipelineFile``: the model's ``info`` as saved."""
    path = folder / "pipeline.json"
    info = read_json(path)
    described = parse(PipelineFile, info, path)
    if described.weights_path is not None and described.backbone != "vggface":
        raise ModelFolderError(path, "weights_path", "only a VGGFace model names a weight file")
    return info
