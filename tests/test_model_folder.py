"""A saved model folder is untrusted input (issue 24): every way of damaging or tampering with one
gives one line that names the file and the field, and exit code 2, before any photo is read.

One small model (forests of two trees on random numbers of the right widths, the zero-shot
member, the whole-image stand-in on a dozen tiny images; no photo, no network) is saved once per
module; each case edits a copy. "Damage" cases leave the manifest as it was, so the manifest
refuses them; "malice" cases rewrite it after the edit, as one who edits a file on purpose
would, so the schema must refuse them.
"""

import inspect
import json
import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import skops.io

from gle_utils import (backbones, classifiers, ensemble, expression, faces, metrics, modelfolder, pipeline, predict,
                       scene)
from gle_utils.config import CLASSES
from gle_utils.geometry import N_DISTANCES

PHOTO = "/nonexistent/photo.jpg"  # never read: every case stops at the model
SKOPS = "member_00_landmarks.skops"
OTHER_SKOPS = "member_01_vggface_rgb_avgpool.skops"
ZERO_SHOT = "member_05_fer2013_zero_shot.json"
WHOLE = "member_06_whole_image"


def small_model() -> pipeline.GroupEmotionModel:
    """A model of the default recipe's shape, fitted on random numbers: the paper's six members
    (faceid-resnet's feature sets) and fer2013's zero-shot member. Its info is what train writes."""
    rng = np.random.default_rng(0)
    labels = np.array(CLASSES * 4)
    backbone = backbones.get_backbone("faceid-resnet")
    widths = {f"{p}_{layer}": width for p in ("rgb", "bgr") for layer, width in backbone.layer_dims.items()}

    def forest(width):
        return classifiers.random_forest(2, 0).fit(rng.normal(size=(len(labels), width)), labels)

    members = ensemble.Ensemble().add("landmarks", forest(N_DISTANCES), "landmarks", 0.6)
    for paper, ours in backbone.paper_feature_sets.items():
        members.add(f"vggface_{paper}", forest(widths[ours]), ours, 0.7)
    members.add("fer2013_zero_shot", expression.ZeroShotValence("fer2013-xception"),
                pipeline.expression_set("fer2013-xception"), 0.8, aggregate="mean")
    images = [rng.integers(0, 256, (24, 32, 3), dtype=np.uint8) for _ in labels]
    members.add("whole_image", scene.WholeImageStatistics().fit(images, labels), "images", 0.4)
    info = {"model": "expression", "dataset": "random numbers", "backbone": backbone.name,
            "backbone_label": backbones.backbone_label(backbone.name), "weights_path": None,
            "paper_feature_sets": backbone.paper_feature_sets, "detector": "mtcnn",
            "detection_version": faces.DETECTION_VERSION, "expression": [], "zero_shot": ["fer2013-xception"],
            "members": [m.name for m in members.members], "whole_image": members.members[-1].model.name,
            "whole_image_settings": pipeline.WHOLE_IMAGE_SETTINGS, "n_trees": 2, "seed": 0,
            "photos": {"train": 12, "val": 12}, "weights": "made up", "landmark_aggregate": "sum",
            "val_accuracy": {**members.weights, "ensemble (photos with a face)": 0.9},
            "calibration": {"with_face": 0.5, "whole_image": 2.0}}
    return pipeline.GroupEmotionModel(members, info)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The small model, saved once; a case copies it."""
    return small_model().save(tmp_path_factory.mktemp("saved") / "model")


@pytest.fixture
def copy_of(saved, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(saved, folder, symlinks=True)
    return folder


def run(capsys, folder) -> tuple[int, str, str]:
    predict.forget_loaded_models()
    code = predict.main([PHOTO, "--model-dir", str(folder)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------------ the edits

def edit_json(name: str, change: Callable[[dict], None]):
    def edit(folder: Path):
        path = folder / name
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    return edit


def member(number: int, **values):
    return edit_json("ensemble.json", lambda info: info["members"][number].update(values))


def info(**values):
    return edit_json("pipeline.json", lambda data: data.update(values))


def settings(**values):
    return edit_json(f"{WHOLE}/whole_image.json", lambda data: data["settings"].update(values))


def write(name: str, content: bytes | str):
    def edit(folder: Path):
        (folder / name).write_bytes(content.encode() if isinstance(content, str) else content)
    return edit


def truncate(name: str, size: int | None = None):
    """Cut a file to half its size, or make it ``size`` bytes long (a sparse file: nothing written)."""
    def edit(folder: Path):
        path = folder / name
        os.truncate(path, path.stat().st_size // 2 if size is None else size)
    return edit


def replace_with_link(name: str, to: Callable[[Path], Path]):
    def edit(folder: Path):
        target = to(folder)
        (folder / name).unlink()
        (folder / name).symlink_to(target)
    return edit


def outside_copy(folder: Path) -> Path:
    """A copy of a member's file outside the model folder (what a link out of it points to)."""
    target = folder.parent / "outside.skops"
    shutil.copy(folder / SKOPS, target)
    return target


def dump_skops(name: str, make: Callable[[], object]):
    def edit(folder: Path):
        skops.io.dump(make(), folder / name)
    return edit


def drop_member(name: str):
    def edit(folder: Path):
        edit_json("ensemble.json", lambda data: data.update(
            members=[m for m in data["members"] if m["name"] != name]))(folder)
        edit_json("pipeline.json", lambda data: data.update(members=[m for m in data["members"] if m != name]))(folder)
    return edit


def each(*edits):
    def edit(folder: Path):
        for one in edits:
            one(folder)
    return edit


def flip_a_byte(name: str):
    def edit(folder: Path):
        data = bytearray((folder / name).read_bytes())
        data[len(data) // 2] ^= 1
        (folder / name).write_bytes(bytes(data))
    return edit


def foreign_forest():
    rng = np.random.default_rng(1)
    return classifiers.random_forest(2, 0).fit(rng.normal(size=(6, N_DISTANCES)), ["cat", "dog"] * 3)


def untrusted_object():
    return ensemble.PerFace(np.zeros((1, 2)), np.zeros(1, int), 1)


@dataclass(frozen=True)
class Case:
    edit: Callable[[Path], None]
    says: str              # what the one line must hold: the file and the field
    malice: bool = True    # rewrite the manifest after the edit (False: damage, the manifest refuses it)


# The tamperings issue 24 lists, then more of our own. Each says which file and field it names.
CASES = {
    # --- issue 24: tracebacks
    "truncated skops": Case(truncate(SKOPS), f"{SKOPS}: not a zip archive"),
    "pickle named .skops": Case(write(SKOPS, pickle.dumps(["a", "list"])), f"{SKOPS}: not a zip archive"),
    "ensemble.json holds []": Case(write("ensemble.json", "[]"), "ensemble.json: expected an object, found a list"),
    "pipeline.json holds []": Case(write("pipeline.json", "[]"), "pipeline.json: expected an object, found a list"),
    "a member without its file key": Case(edit_json("ensemble.json", lambda d: d["members"][0].pop("file")),
                                          "ensemble.json: members[0].file: missing"),
    "weight null": Case(member(0, weight=None), "ensemble.json: members[0].weight: null is not a finite number"),
    "extra key in whole_image settings": Case(settings(evil=1),
                                              f"{WHOLE}/whole_image.json: settings.evil: unknown key"),
    # --- issue 24: every photo would fail
    "unknown feature set": Case(member(1, feature_set="rgb_nonsense"), "ensemble.json: members[1].feature_set"),
    "members []": Case(each(edit_json("ensemble.json", lambda d: d.update(members=[])), info(members=[])),
                       "ensemble.json: members: empty"),
    "unknown detector": Case(info(detector="nonsense"), "pipeline.json: detector: \"nonsense\" is not one of"),
    "unknown backbone": Case(info(backbone="resnet9000"), "pipeline.json: backbone: \"resnet9000\" is not one of"),
    "skops file swapped": Case(lambda f: shutil.copy(f / OTHER_SKOPS, f / SKOPS),
                               "ensemble.json: members[0].feature_set: member 'landmarks' reads 'landmarks' "
                               "(2278 values), but its model takes 64"),
    "calibration a string": Case(info(calibration={"with_face": "0.5", "whole_image": 2.0}),
                                 "pipeline.json: calibration.with_face: \"0.5\" is not a finite number"),
    "accuracy a string": Case(edit_json("pipeline.json", lambda d: d["val_accuracy"].update(whole_image="0.4")),
                              "pipeline.json: val_accuracy.whole_image: \"0.4\" is not a finite number"),
    # --- issue 24: wrong answers
    "weight -5": Case(member(0, weight=-5), "ensemble.json: members[0].weight: -5.0 is outside [0.0, 1.0]"),
    "weight NaN": Case(member(0, weight=float("nan")), "ensemble.json: members[0].weight: NaN is not a finite number"),
    "weight infinite": Case(member(0, weight=float("inf")), "members[0].weight: Infinity is not a finite number"),
    "temperature 0.001 (P = 1.0)": Case(info(calibration={"with_face": 0.001, "whole_image": 2.0}),
                                        "pipeline.json: calibration.with_face: 0.001 is outside [0.25, 20.0]"),
    # --- issue 24: paths not contained
    "file ../../../../etc/passwd": Case(member(0, file="../../../../etc/passwd"), "ensemble.json: members[0].file"),
    "file /etc/passwd": Case(member(0, file="/etc/passwd"), "ensemble.json: members[0].file"),
    # --- issue 24: the manifest (damage: it is not rewritten)
    "a file changed": Case(flip_a_byte(OTHER_SKOPS), f"{OTHER_SKOPS}: changed since the model was saved", False),
    "a file missing": Case(lambda f: (f / OTHER_SKOPS).unlink(), f"{OTHER_SKOPS}: listed in manifest.json but missing",
                           False),
    "a file added": Case(write("extra.txt", "hello"), "extra.txt: not in manifest.json", False),
    "a value changed": Case(member(0, weight=0.5), "ensemble.json: changed since the model was saved", False),
    # --- issue 24's own examples
    "JSON 10,000 levels deep": Case(write("ensemble.json", "[" * 10_000 + "]" * 10_000),
                                    "ensemble.json: not valid JSON here (nested too deeply"),
    "a 2 GB skops (sparse)": Case(truncate(SKOPS, 2 * 2**30), f"{SKOPS}: 2,048 MB, larger than", False),
    "member file a link outside": Case(replace_with_link(SKOPS, outside_copy),
                                       f"{SKOPS}: a symbolic link to", False),
    # --- more of our own
    "a key given twice": Case(write("ensemble.json", '{"format": 2, "format": 2, "classes": [], "members": []}'),
                              "ensemble.json: not valid JSON (the key \"format\" is given twice"),
    "every weight 0": Case(edit_json("ensemble.json", lambda d: [m.update(weight=0) for m in d["members"]]),
                           "ensemble.json: members: every weight is 0"),
    "weight 1e308": Case(member(0, weight=1e308), "members[0].weight: 1e+308 is outside [0.0, 1.0]"),
    "weight a string": Case(member(0, weight="0.7"), "members[0].weight: \"0.7\" is not a finite number"),
    "weight true": Case(member(0, weight=True), "members[0].weight: true is not a finite number"),
    "weight 10**400": Case(lambda f: (f / "ensemble.json").write_text(
        (f / "ensemble.json").read_text().replace('"weight": 0.6', '"weight": 1' + "0" * 400, 1)),
        "members[0].weight: 1000"),
    "kind pickle": Case(member(0, kind="pickle"), "ensemble.json: members[0].kind: \"pickle\" is not one of"),
    "aggregate median": Case(member(0, aggregate="median"), "ensemble.json: members[0].aggregate"),
    "old format 1": Case(edit_json("ensemble.json", lambda d: d.update(format=1)), "ensemble.json: format: 1, the old"),
    "classes reordered": Case(edit_json("ensemble.json", lambda d: d.update(classes=list(reversed(CLASSES)))),
                              "ensemble.json: classes"),
    "two members of one name": Case(member(1, name="landmarks"),
                                    "ensemble.json: members: two members with the same name"),
    "members disagree": Case(edit_json("pipeline.json", lambda d: d["members"].reverse()), "pipeline.json: members"),
    "no whole_image member": Case(drop_member("whole_image"), "ensemble.json: members: no whole_image member"),
    "zero-shot reads another network": Case(
        each(member(5, feature_set=pipeline.expression_set("faceapi-expression")),
             info(zero_shot=["fer2013-xception", "faceapi-expression"])),
        "ensemble.json: members[5].feature_set: the zero-shot member of 'fer2013-xception' reads"),
    "zero-shot unknown network": Case(edit_json(ZERO_SHOT, lambda d: d.update(backbone="evilnet")),
                                      f"{ZERO_SHOT}: backbone: \"evilnet\" is not one of"),
    "whole-image class os.system": Case(
        edit_json(f"{WHOLE}/whole_image.json", lambda d: d.update({"class": "os.system"})),
        f"{WHOLE}/whole_image.json: class"),
    "whole-image kind joblib": Case(edit_json(f"{WHOLE}/whole_image.json", lambda d: d.update(kind="joblib")),
                                    f"{WHOLE}/whole_image.json: kind"),
    "whole-image side 100000": Case(settings(max_side=100_000), "settings.max_side: 100000 is outside [16, 2048]"),
    "whole-image setting a string": Case(settings(C="0.01"), "settings.C: \"0.01\" is not a finite number"),
    "whole-image classifier swapped": Case(lambda f: shutil.copy(f / OTHER_SKOPS, f / WHOLE / "classifier.skops"),
                                           f"{WHOLE}/whole_image.json: settings: give"),
    "whole-image classifier missing": Case(lambda f: (f / WHOLE / "classifier.skops").unlink(),
                                           f"{WHOLE}/classifier.skops: missing"),
    "skops holds a dict": Case(dump_skops(SKOPS, lambda: {"a": [1, 2]}),
                               f"{SKOPS}: holds a dict, not a fitted classifier"),
    "skops needs an untrusted type": Case(dump_skops(SKOPS, untrusted_object),
                                          f"{SKOPS}: cannot be loaded (ValueError"),
    "skops of other classes": Case(dump_skops(SKOPS, foreign_forest), f"{SKOPS}: classes_"),
    "member file not its kind": Case(member(0, file="pipeline.json"), "pipeline.json: not a zip archive"),
    "a FIFO in the folder": Case(lambda f: os.mkfifo(f / "pipe"), "pipe: not a regular file", False),
    "a link in a loop": Case(lambda f: (f / "loop").symlink_to(f / "loop"), "loop: a symbolic link to nothing", False),
    "a link to a folder": Case(lambda f: (f / "link").symlink_to(f / WHOLE), "link: a symbolic link to a folder",
                               False),
    "a folder in a member's folder": Case(lambda f: (f / WHOLE / "deeper").mkdir(),
                                          f"{WHOLE}/deeper: a folder inside a member's folder", False),
    "a newline in a text": Case(info(dataset="demo\nphoto.jpg: Positive"),
                                "pipeline.json: dataset: \"demo\\nphoto.jpg: Positive\" is not a text of one"),
    "not UTF-8": Case(write("pipeline.json", b"\xff\xfe{}"), "pipeline.json: not valid JSON"),
    "JSON of 2 MB": Case(write("pipeline.json", "{}" + " " * 2**21), "pipeline.json: 2,097,154 bytes, more than"),
    "manifest missing": Case(lambda f: (f / "manifest.json").unlink(), "manifest.json: missing", False),
    "manifest digest malformed": Case(edit_json("manifest.json", lambda d: d["files"].update({"ensemble.json": "abc"})),
                                      "manifest.json: files.\"ensemble.json\": \"abc\" is not of the form", False),
    "weights_path for a network without one": Case(info(weights_path="/etc/passwd"), "pipeline.json: weights_path"),
    "paper_feature_sets changed": Case(info(paper_feature_sets={"rgb_avgpool": "rgb_embedding"}),
                                       "pipeline.json: paper_feature_sets"),
    "unknown key in pipeline.json": Case(info(evil=1), "pipeline.json: evil: unknown key"),
    "an accuracy missing": Case(edit_json("pipeline.json", lambda d: d["val_accuracy"].pop("landmarks")),
                                "pipeline.json: val_accuracy: no accuracy for the member(s) ['landmarks']"),
    "an accuracy above 1": Case(edit_json("pipeline.json", lambda d: d["val_accuracy"].update(landmarks=1.5)),
                                "pipeline.json: val_accuracy.landmarks: 1.5 is outside [0.0, 1.0]"),
    "landmark_aggregate median": Case(info(landmark_aggregate="median"), "pipeline.json: landmark_aggregate"),
    "trained_with_detector unknown": Case(info(trained_with_detector="nonsense"),
                                          "pipeline.json: trained_with_detector"),
    "n_trees negative": Case(info(n_trees=-3), "pipeline.json: n_trees: -3 is outside"),
}
ISSUE_CASES = 27  # the first 27 above are the tamperings issue 24 names


def test_there_are_the_issues_cases_and_more_than_ten_of_our_own():
    assert len(CASES) - ISSUE_CASES >= 10


@pytest.mark.parametrize("name", list(CASES))
def test_a_damaged_or_tampered_model_folder_is_one_line_and_exit_2(copy_of, capsys, name):
    """predict.main in this process: a traceback would end the test, so none reaches a user
    (tests/test_predict.py runs the command line itself in a process of its own)."""
    case = CASES[name]
    case.edit(copy_of)
    if case.malice:
        modelfolder.write_manifest(copy_of)
    code, out, err = run(capsys, copy_of)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert case.says in err, err


def test_the_untouched_folder_loads_and_reads_the_photo(copy_of, capsys):
    code, out, err = run(capsys, copy_of)
    assert code == 1 and out.startswith("model: ")  # the model loaded; the photo is not there
    assert f"{PHOTO}: FAILED: failed at reading: no such file" in err


def test_a_saved_model_reloads_with_the_same_answers(saved):
    model, again = small_model(), pipeline.GroupEmotionModel.load(saved)
    assert again.info == model.info and again.weights == model.weights
    X = np.random.default_rng(2).normal(size=(4, N_DISTANCES))
    landmarks, landmarks_again = model.ensemble.members[0].model, again.ensemble.members[0].model
    assert np.array_equal(landmarks_again.predict_proba(X), landmarks.predict_proba(X))
    manifest = json.loads((saved / "manifest.json").read_text())["files"]
    assert sorted(manifest) == sorted(p.relative_to(saved).as_posix() for p in saved.rglob("*")
                                      if p.is_file() and p.name != "manifest.json")


def test_a_damaged_demo_model_in_the_cache_is_retrained_not_loaded(copy_of, monkeypatch, capsys):
    flip_a_byte(SKOPS)(copy_of)
    monkeypatch.setattr(pipeline, "default_model_dir", lambda dataset="demo", model="paper": copy_of)
    retrained = []
    monkeypatch.setattr(predict, "_train_demo_model", lambda folder, model, why: retrained.append(why) or small_model())
    predict.forget_loaded_models()
    predict.load_model(model="expression")
    predict.forget_loaded_models()
    assert len(retrained) == 1 and f"{SKOPS}: changed since the model was saved" in retrained[0]


def test_the_temperature_range_is_the_one_fit_temperature_searches():
    assert modelfolder.TEMPERATURES == inspect.signature(metrics.fit_temperature).parameters["bounds"].default


@pytest.mark.parametrize("model_class, arguments", [(scene.WholeImageStatistics, ()), (scene.CentristSVM, ()),
                                                     (scene.WholeImageVGG16, (None,))])
def test_whole_image_settings_are_checked_against_the_class_that_takes_them(model_class, arguments):
    schema = modelfolder._settings_schema(model_class)
    saved_settings = {k: v for k, v in vars(model_class(*arguments)).items() if k not in ("model_", "classifier_")}
    modelfolder.parse(schema, json.loads(json.dumps(saved_settings)), "x.json")  # what save writes is accepted
    with pytest.raises(modelfolder.ModelFolderError, match="x.json: settings.evil: unknown key"):
        modelfolder.parse(schema, {**saved_settings, "evil": 1}, "x.json", "settings")
