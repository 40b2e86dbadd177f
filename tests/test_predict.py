"""predict_photo and the command line: no face, one face, several faces, bad files among good ones.

The models are the session's tiny ones (tests/conftest.py: a few demo photos, forests of 10
trees, saved to a temporary folder): the paper's recipe and the default one, so that nothing
here waits for a full-size model.

Bad inputs tried, each a file these tests make: black, white, one colour, noise, 2x2000, 1x1,
a decompression-bomb PNG, a truncated JPEG, text named .jpg, an empty file. Folder runs: every
entry is predicted, failed or skipped, and said (a FIFO, a link to /dev/zero, a dangling link,
an unknown or nested class folder, an empty split, .avif and .ico files, ...); the exit codes.
A model folder that is damaged or hostile: tests/test_model_folder.py.
The picture of an answer (draw_result, figure=True, --show): last section.
"""

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skimage.data
from helpers import png_header_only
from PIL import Image
from test_pipeline import tiny_table

from gle_utils import faces, pipeline, predict
from gle_utils.config import CLASSES, REPO_ROOT
from gle_utils.io import ImageReadError


@pytest.fixture(scope="module")
def model_dir(tiny_ensemble):
    """The paper's recipe, tiny."""
    return tiny_ensemble[3]


@pytest.fixture(scope="module")
def default_dir(tiny_expression_model):
    """The default recipe (pipeline.DEFAULT_MODEL), tiny."""
    return tiny_expression_model[3]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A blank image, the astronaut's head and shoulders (one face), a demo photo with several faces,
    and a text file named .jpg."""
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(np.full((240, 320, 3), 200, np.uint8)).save(folder / "blank.png")
    Image.fromarray(skimage.data.astronaut()[:300, 100:400]).save(folder / "astronaut.png")
    (folder / "not_an_image.jpg").write_text("this is text, not a JPEG\n")
    table = tiny_table()
    found = faces.detect_dataset(table.path, "sequential", progress=False).drop_duplicates("path")
    crowded = found[found.n_faces >= 3].path.iloc[0]
    return {"blank": folder / "blank.png", "astronaut": folder / "astronaut.png",
            "bad": folder / "not_an_image.jpg", "group": Path(crowded)}


def check_probabilities(probabilities):
    assert list(probabilities) == list(CLASSES)
    assert sum(probabilities.values()) == pytest.approx(1)


def test_a_photo_without_a_face_is_decided_by_the_whole_image_and_says_what_it_is_worth(model_dir, photos):
    model = predict.load_model(model_dir)
    scenery = predict.predict_photo(skimage.data.coffee(), model_dir=model_dir)  # a photo, no face
    assert scenery["n_faces"] == 0 and scenery["faces"] == []
    assert scenery["decided_by"] == "whole_image"
    assert scenery["decider_val_accuracy"] == pytest.approx(model.info["val_accuracy"]["whole_image"])
    # The tiny model's whole-image member does no better than chance on its val photos: capped at
    # 1/3 each, the classes tie, and a tie names no class (test_a_tie_at_the_top_names_no_class).
    assert scenery["decider_val_accuracy"] <= 1 / 3
    assert scenery["label"] == "unknown" and "tie at the top" in scenery["reason"] and scenery["low_confidence"]
    check_probabilities(scenery["probabilities"])
    assert max(scenery["probabilities"].values()) <= max(scenery["decider_val_accuracy"], 1 / 3) + 1e-9
    assert all(scenery["members"][name] is None for name in pipeline.FACE_MEMBERS)
    assert "decided by the whole-image model alone (its accuracy on the val photos:" in predict.format_result(scenery)


def test_one_face(model_dir, photos):
    result = predict.predict_photo(photos["astronaut"], model_dir=model_dir)
    assert result["n_faces"] == 1 and len(result["faces"]) == 1
    face = result["faces"][0]
    x0, y0, x1, y1 = face["box"]
    assert 0 <= x0 < x1 <= 300 and 0 <= y0 < y1 <= 300  # inside the 300x300 crop
    check_probabilities(face["probabilities"])
    assert set(face["members"]) == set(pipeline.FACE_MEMBERS)
    assert face["label"] == max(face["probabilities"], key=face["probabilities"].get)
    check_probabilities(result["probabilities"])
    assert "face-ID ResNet (offline stand-in for VGGFace)" in result["model"]


def test_an_image_array_gives_the_same_answer_as_its_file(model_dir, photos):
    from_file = predict.predict_photo(photos["astronaut"], model_dir=model_dir)
    from_array = predict.predict_photo(skimage.data.astronaut()[:300, 100:400], model_dir=model_dir)
    assert from_array["probabilities"] == pytest.approx(from_file["probabilities"])
    assert [f["box"] for f in from_array["faces"]] == [f["box"] for f in from_file["faces"]]
    with pytest.raises(ValueError, match="uint8"):
        predict.predict_photo(np.zeros((50, 50, 3), np.float32), model_dir=model_dir)


def test_several_faces(model_dir, photos):
    result = predict.predict_photo(photos["group"], model_dir=model_dir)
    assert result["n_faces"] >= 3 and len(result["faces"]) == result["n_faces"]
    for face in result["faces"]:
        check_probabilities(face["probabilities"])
    assert len({f["box"] for f in result["faces"]}) == result["n_faces"]
    assert result["decided_by"] == "all members"
    assert result["decider_val_accuracy"] == pytest.approx(
        predict.load_model(model_dir).info["val_accuracy"]["ensemble (photos with a face)"])


def test_a_bad_file_is_a_clear_error(model_dir, photos):
    with pytest.raises(ImageReadError, match="not_an_image.jpg"):
        predict.predict_photo(photos["bad"], model_dir=model_dir)


def test_command_line_predicts_the_good_photos_and_reports_the_bad_one(model_dir, photos):
    order = [photos["blank"], photos["bad"], photos["astronaut"], photos["group"]]
    run = subprocess.run([sys.executable, "-m", "gle_utils.predict", *map(str, order), "--model-dir", str(model_dir)],
                         capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert run.returncode == 1, run.stderr
    assert "not_an_image.jpg: FAILED" in run.stderr and "4 listed: 3 predicted, 1 failed, 0 skipped" in run.stderr
    blocks = [line for line in run.stdout.splitlines() if not line.startswith((" ", "model:"))]
    assert [line.split(":")[0] for line in blocks] == [str(photos["blank"]), str(photos["astronaut"]),
                                                        str(photos["group"])]
    assert "LOW CONFIDENCE: near-uniform image" in run.stdout
    assert run.stdout.count("    face ") == 1 + predict.predict_photo(photos["group"], model_dir=model_dir)["n_faces"]


def test_main_returns_zero_when_all_photos_are_read_and_two_for_a_missing_model(model_dir, photos, capsys, tmp_path):
    assert predict.main([str(photos["astronaut"]), "--model-dir", str(model_dir)]) == 0
    assert "astronaut.png: " in capsys.readouterr().out
    assert predict.main([str(photos["astronaut"]), "--model-dir", str(tmp_path / "no model")]) == 2
    assert "no saved model" in capsys.readouterr().err


def test_each_demo_model_is_trained_and_saved_once_when_none_is_saved(model_dir, default_dir, monkeypatch,
                                                                      tmp_path, capsys):
    calls = []

    def pretend_to_train(table, **settings):  # the real training takes minutes: reuse the tiny models
        calls.append(settings)
        return pipeline.GroupEmotionModel.load(model_dir if settings["model"] == "paper" else default_dir), None

    predict.forget_loaded_models()
    monkeypatch.setattr(pipeline, "default_model_dir", lambda dataset="demo", model="paper": tmp_path / model)
    monkeypatch.setattr(pipeline, "train", pretend_to_train)
    first = predict.load_model()
    recipe = pipeline.RECIPES[pipeline.DEFAULT_MODEL]
    assert calls[0]["model"] == recipe.name and calls[0]["detector"] == recipe.detector
    assert calls[0]["expression"] == recipe.expression and calls[0]["zero_shot"] == recipe.zero_shot
    assert (tmp_path / pipeline.DEFAULT_MODEL / "pipeline.json").is_file()
    # the offline networks, whatever weights the machine has: the model the README measured
    assert calls[0]["backbone"] == "faceid-resnet" and calls[0]["whole_image"] == "offline"
    said = capsys.readouterr().err
    assert f"training the {pipeline.DEFAULT_MODEL!r} model on the 450 train and val photos of the demo set now" in said
    assert f"up to about {predict.TRAINING_MINUTES_ONE_CORE} min on one CPU core" in said
    assert predict.load_model() is first and len(calls) == 1  # loaded once per process
    paper = predict.load_model(model="paper")
    assert calls[1]["model"] == "paper" and calls[1]["detector"] == pipeline.RECIPES["paper"].detector
    assert paper.name == "paper" and (tmp_path / "paper" / "pipeline.json").is_file()
    predict.forget_loaded_models()
    assert predict.load_model().weights == first.weights and len(calls) == 2  # read back, not retrained
    with pytest.raises(ValueError, match="unknown model"):
        predict.load_model(model="nonsense")
    predict.forget_loaded_models()


def test_both_models_are_named_in_every_output(model_dir, default_dir, photos, tmp_path, capsys):
    for folder, name in ((model_dir, "paper"), (default_dir, pipeline.DEFAULT_MODEL)):
        result = predict.predict_photo(photos["astronaut"], model_dir=folder)
        assert result["model_name"] == name and result["model"].startswith(f"model {name!r}")
        assert f"[model {name}]" in predict.format_result(result)
        csv = tmp_path / f"{name}.csv"
        assert predict.main([str(photos["astronaut"]), "--model-dir", str(folder), "--csv", str(csv), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["model_name"] == name
        assert pd.read_csv(csv).model.tolist() == [name]
    default = predict.predict_photo(photos["astronaut"], model_dir=default_dir)
    assert set(default["faces"][0]["members"]) == {m for m in default["members"] if m != "whole_image"}
    recipe = pipeline.RECIPES[pipeline.DEFAULT_MODEL]
    assert {pipeline.ZERO_SHOT_MEMBERS[n] for n in recipe.zero_shot} <= set(default["members"])


def test_the_detector_can_be_replaced(model_dir, photos, capsys):
    model = predict.load_model(model_dir, detector="mtcnn")
    assert model.detector == "mtcnn" and "detector: mtcnn (trained with sequential)" in model.describe()
    assert predict.load_model(model_dir).detector == "sequential"  # the saved model is unchanged
    result = predict.predict_photo(photos["astronaut"], model_dir=model_dir, detector="mtcnn")
    assert result["n_faces"] == 1 and "detector: mtcnn" in result["model"]
    assert predict.main([str(photos["astronaut"]), "--model-dir", str(model_dir), "--detector", "mtcnn"]) == 0
    assert "(trained with sequential)" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown detector"):
        predict.load_model(model_dir, detector="nonsense")
    with pytest.raises(SystemExit):
        predict.main([str(photos["astronaut"]), "--detector", "nonsense"])


# ------------------------------------------------------------------ bad inputs never stop a run

def make_bad_inputs(folder: Path) -> dict[str, Path]:
    """Every bad input kind, written into ``folder``: name -> path."""
    rng = np.random.default_rng(0)
    images = {"black": np.zeros((64, 64, 3), np.uint8), "white": np.full((64, 64, 3), 255, np.uint8),
              "one_colour": np.tile(np.array([30, 160, 90], np.uint8), (80, 120, 1)),
              "noise": rng.integers(0, 256, (240, 320, 3), dtype=np.uint8),
              "strip_2x2000": np.tile(np.linspace(0, 255, 2000, dtype=np.uint8)[None, :, None], (2, 1, 3)),
              "one_pixel": np.array([[[200, 10, 10]]], np.uint8)}
    paths = {}
    for name, pixels in images.items():
        paths[name] = folder / f"{name}.png"
        Image.fromarray(pixels).save(paths[name])
    paths["bomb"] = folder / "bomb.png"
    paths["bomb"].write_bytes(png_header_only(14000, 14000))
    buffer = io.BytesIO()
    Image.fromarray(skimage.data.astronaut()).save(buffer, "JPEG")
    paths["truncated"] = folder / "truncated.jpg"
    paths["truncated"].write_bytes(buffer.getvalue()[:len(buffer.getvalue()) // 2])
    paths["text"] = folder / "text.jpg"
    paths["text"].write_text("this is text, not a JPEG\n")
    paths["empty"] = folder / "empty.jpg"
    paths["empty"].write_bytes(b"")
    return paths


UNREADABLE = {"bomb": "decompression bomb", "truncated": "truncated", "text": "not a readable image",
              "empty": "empty"}
NO_EVIDENCE = {"black": "near-uniform", "white": "near-uniform", "one_colour": "near-uniform",
               "noise": "noise-like"}


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    return make_bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("name", sorted(NO_EVIDENCE))
def test_an_image_with_nothing_in_it_gets_no_confident_answer(model_dir, bad_inputs, name):
    result = predict.predict_photo(bad_inputs[name], model_dir=model_dir)
    assert result["label"] == "unknown" and result["low_confidence"]
    assert NO_EVIDENCE[name] in result["reason"]
    assert max(result["probabilities"].values()) <= 0.5


@pytest.mark.parametrize("name", ["strip_2x2000", "one_pixel"])
def test_images_smaller_than_a_stage_needs_are_padded_and_predicted(model_dir, bad_inputs, name):
    result = predict.predict_photo(bad_inputs[name], model_dir=model_dir)
    assert result["n_faces"] == 0
    assert result["label"] in (*CLASSES, "unknown")
    assert sum(result["probabilities"].values()) == pytest.approx(1)


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_an_unreadable_file_is_a_clear_error(model_dir, bad_inputs, name):
    with pytest.raises(ImageReadError, match=UNREADABLE[name]):
        predict.predict_photo(bad_inputs[name], model_dir=model_dir)


def test_all_nan_scores_give_unknown_never_a_label(model_dir, photos, monkeypatch):
    model = predict.load_model(model_dir)
    nothing = {name: np.full((1, 3), np.nan) for name in pipeline.MEMBERS}
    monkeypatch.setattr(type(model), "member_probabilities", lambda self, inputs: nothing)
    monkeypatch.setattr(type(model), "predict_proba", lambda self, inputs: np.full((1, 3), np.nan))
    result = predict.predict_photo(photos["astronaut"], model_dir=model_dir)
    assert result["label"] == "unknown" and result["low_confidence"]
    assert result["probabilities"] == {c: None for c in CLASSES}
    assert "no member could score" in predict.format_result(result)


def test_a_failure_at_any_later_stage_is_reported_and_the_run_goes_on(model_dir, photos, monkeypatch, capsys):
    model = predict.load_model(model_dir)
    real_inputs = type(model).inputs

    def detector_breaks_on_the_group_photo(self, paths, progress=False):
        if str(paths[0]) == str(photos["group"]):
            raise MemoryError("pretend the detector ran out of memory")
        return real_inputs(self, paths, progress)

    monkeypatch.setattr(type(model), "inputs", detector_breaks_on_the_group_photo)
    code = predict.main([str(photos["group"]), str(photos["astronaut"]), "--model-dir", str(model_dir)])
    captured = capsys.readouterr()
    assert code == 1
    assert "failed at faces and features: MemoryError: pretend" in captured.err
    assert "astronaut.png: " in captured.out and "2 listed: 1 predicted, 1 failed, 0 skipped" in captured.err


def test_a_val_only_folder_is_scored_with_accuracy_and_a_csv(model_dir, tiny_ensemble, bad_inputs, tmp_path, capsys):
    """A GroupEmoW-like folder with only a labelled val split, class folders in lower case, and bad files."""
    table = tiny_ensemble[0]
    val = table[table.split == "val"]
    root = tmp_path / "GroupEmoW"
    for row in val.itertuples():
        target = root / "GroupEmoW_Val" / row.label.lower() / Path(row.path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(row.path, target)
    for name in ("black", "strip_2x2000", "truncated", "text", "empty", "bomb"):
        shutil.copy(bad_inputs[name], root / "GroupEmoW_Val" / "neutral" / bad_inputs[name].name)
    csv = tmp_path / "out" / "predictions.csv"
    code = predict.main([str(root), "--model-dir", str(model_dir), "--csv", str(csv)])
    captured = capsys.readouterr()
    assert code == 1  # four files could not be read
    assert f"{len(val) + 6} listed: {len(val) + 2} predicted, 4 failed, 0 skipped" in captured.err
    results = pd.read_csv(csv)
    assert len(results) == len(val) + 6 and results.error.notna().sum() == 4  # refused: a row with the reason
    assert (results.status == "failed").sum() == 4
    assert set(results.true_label.dropna()) <= set(CLASSES)
    labelled = results[results.error.isna()]
    accuracy = (labelled.label == labelled.true_label).mean()
    assert f"accuracy of model 'paper' on {len(labelled)} labelled photo(s): {accuracy:.3f}" in captured.out
    assert results.loc[results.photo.str.endswith("black.png"), "label"].item() == "unknown"


# ------------------------------------------------------------------ ties name no class

def test_a_tie_at_the_top_names_no_class(model_dir, photos, tmp_path, monkeypatch):
    model = predict.load_model(model_dir)
    coffee = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(coffee)  # a photo without a face
    inputs = model.inputs([coffee])
    chance = predict.answers(model, inputs).iloc[0]  # whole-image member at chance: 1/3 each
    assert chance.label == "unknown" and chance.reason == "Positive and Neutral and Negative tie at the top (0.33 each)"
    better = pipeline.GroupEmotionModel(model.ensemble, {**model.info, "val_accuracy": {
        **model.info["val_accuracy"], "whole_image": 0.9}})
    answer = predict.answers(better, inputs).iloc[0]
    assert answer.label in CLASSES and answer.reason == ""
    # a vote that ties two classes, on a photo with a face
    with_face = model.inputs([photos["astronaut"]])
    monkeypatch.setattr(type(model), "predict_proba", lambda self, inputs: np.array([[0.45, 0.1, 0.45]]))
    tied = predict.answers(model, with_face).iloc[0]
    assert tied.n_faces == 1 and tied.label == "unknown" and tied.low_confidence
    assert tied.reason.startswith("Positive and Negative tie at the top")


# ------------------------------------------------------------------ every entry accounted for

def write_picture(path: Path) -> Path:
    """A small picture with something in it (no face), in the format its suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.coffee()[::8, ::8]).save(path)
    return path


@pytest.fixture
def awkward_folder(tmp_path):
    """A folder in no layout holding the entries a fuzz round found vanishing (issue 24)."""
    root = tmp_path / "photos"
    write_picture(root / "good.png")
    write_picture(root / "sub" / "photo.avif")
    write_picture(root / "photo.ico")
    (root / "notes.txt").write_text("not an image")
    (root / "fake.jpg").write_text("text named .jpg")
    os.mkfifo(root / "pipe.jpg")
    (root / "zero.jpg").symlink_to("/dev/zero")
    (root / "dangling.jpg").symlink_to(root / "nowhere.jpg")
    (root / ".hidden.jpg").write_bytes(b"")
    (root / "empty").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "dirlink.jpg").symlink_to(tmp_path / "elsewhere")
    return root


def run_main(capsys, *argv):
    code = predict.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def summary(err: str) -> tuple[int, int, int, int]:
    line = err.strip().splitlines()[-1]
    listed, predicted, failed, skipped = map(int, re.fullmatch(
        r"(\d+) listed: (\d+) predicted, (\d+) failed, (\d+) skipped", line).groups())
    assert listed == predicted + failed + skipped
    return listed, predicted, failed, skipped


def test_no_entry_of_a_folder_run_goes_unreported(model_dir, awkward_folder, tmp_path, capsys):
    csv = tmp_path / "out.csv"
    code, out, err = run_main(capsys, awkward_folder, "--model-dir", model_dir, "--csv", csv)
    assert code == 1
    assert summary(err) == (11, 3, 1, 7)
    results = pd.read_csv(csv)
    assert len(results) == 11 and results.status.value_counts().to_dict() == {"skipped": 7, "predicted": 3,
                                                                             "failed": 1}
    by_name = {Path(row.photo).name: row for row in results.itertuples()}
    assert {name for name, row in by_name.items() if row.status == "predicted"} == {"good.png", "photo.avif",
                                                                                    "photo.ico"}
    assert by_name["fake.jpg"].status == "failed" and "not a readable image" in by_name["fake.jpg"].error
    reasons = {"notes.txt": "not an image file name (.txt", "pipe.jpg": "a FIFO",
               "zero.jpg": "a FIFO, socket or device",
               "dangling.jpg": "a dangling symbolic link", ".hidden.jpg": "a hidden file",
               "empty": "an empty folder", "dirlink.jpg": "a symbolic link to a folder"}
    for name, reason in reasons.items():
        assert by_name[name].status == "skipped" and reason in by_name[name].error, name
        assert f"{awkward_folder / name}: SKIPPED: " in err  # and said on stderr, one line each
    assert out.count("[model paper]") == 3


def test_no_entry_of_a_gaf_folder_run_goes_unreported(model_dir, tmp_path, capsys):
    root = tmp_path / "GAF"
    write_picture(root / "train" / "Positive" / "a.png")
    write_picture(root / "train" / "happy" / "smile.png")
    write_picture(root / "train" / "Positive" / "Positive" / "nested.png")
    (root / "val").mkdir()
    csv = tmp_path / "out.csv"
    code, out, err = run_main(capsys, root, "--model-dir", model_dir, "--csv", csv)
    assert code == 1 and summary(err) == (4, 1, 0, 3)
    for entry, reason in (("train/happy/smile.png", "not a class folder"),
                          ("train/Positive/Positive/nested.png", "a folder nested in Positive/"),
                          ("val", "an empty split folder")):
        assert f"{root / entry}: SKIPPED: " in err and reason in err
    results = pd.read_csv(csv)
    assert results.status.tolist().count("skipped") == 3 and results.true_label.dropna().tolist() == ["Positive"]


def test_a_link_to_a_folder_given_directly_is_followed_and_an_empty_one_said(model_dir, tmp_path, capsys):
    write_picture(tmp_path / "real" / "a.png")
    (tmp_path / "dirlink.jpg").symlink_to(tmp_path / "real")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "emptylink.jpg").symlink_to(tmp_path / "nothing")
    code, out, err = run_main(capsys, tmp_path / "dirlink.jpg", tmp_path / "emptylink.jpg", "--model-dir", model_dir)
    assert code == 1 and summary(err) == (2, 1, 0, 1)
    assert f"{tmp_path / 'dirlink.jpg' / 'a.png'}: " in out
    assert f"{tmp_path / 'emptylink.jpg'}: SKIPPED: an empty folder" in err


# ------------------------------------------------------------------ exit codes

def test_exit_codes_mean_one_thing_each(model_dir, photos, tmp_path, capsys, monkeypatch):
    assert set(predict.EXIT_CODES) == {0, 1, 2}
    help_text = predict._parser().format_help()
    assert all(f"  {code}  {meaning}" in help_text for code, meaning in predict.EXIT_CODES.items())
    write_picture(tmp_path / "-dash.png")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, "--model-dir", model_dir, "--", "-dash.png")
    assert code == 0 and summary(err) == (1, 1, 0, 0) and out.count("-dash.png: ") == 1
    with pytest.raises(SystemExit) as stopped:  # without "--" it reads as an option: bad arguments
        predict.main(["--model-dir", str(model_dir), "-dash.png"])
    assert stopped.value.code == 2
    capsys.readouterr()
    code, _, err = run_main(capsys, photos["bad"], "--model-dir", model_dir)
    assert code == 1 and summary(err) == (1, 0, 1, 0)
    unwritable = tmp_path / "-dash.png" / "x.csv"  # inside a file
    code, _, err = run_main(capsys, photos["astronaut"], "--model-dir", model_dir, "--csv", unwritable)
    assert code == 2 and "error: cannot write" in err


def test_the_first_calls_announced_minutes_are_those_the_binder_table_measured():
    """The message before the first call's training quotes TRAINING_MINUTES_ONE_CORE, an upper bound
    of the README's measured CPU time of that call on one core (`make bench-binder`), not far above it."""
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme[readme.index("<!-- binder:start -->"):readme.index("<!-- binder:end -->")]
    row = re.search(r"^\| predict: first call \| ([\d.]+) min \|", table, re.M)
    assert row, "the README's Binder table has no row for predict's first call"
    assert float(row.group(1)) <= predict.TRAINING_MINUTES_ONE_CORE <= float(row.group(1)) + 2


# ------------------------------------------------------------------ a picture of the answer

def axes_named(fig, label):
    return next(ax for ax in fig.axes if ax.get_label() == label)


def face_boxes(fig):
    from matplotlib.patches import Rectangle
    return [patch for patch in axes_named(fig, "photo").patches if isinstance(patch, Rectangle)]


def valence_colour(valence):
    from matplotlib import colormaps
    return colormaps[predict.VALENCE_COLOURS]((valence + 1) / 2)  # -1..1 onto the map's 0..1


def test_a_faces_valence_is_its_positive_minus_its_negative_probability():
    assert predict.face_valence({"Positive": 0.9, "Neutral": 0.1, "Negative": 0.0}) == pytest.approx(0.9)
    assert predict.face_valence({"Positive": 0.2, "Neutral": 0.2, "Negative": 0.6}) == pytest.approx(-0.4)
    assert predict.face_valence({"Positive": 0.3, "Neutral": 0.4, "Negative": 0.3}) == pytest.approx(0)
    assert predict.face_valence({"Positive": 1.0, "Neutral": 0.0, "Negative": 0.0}) == 1
    assert predict.face_valence({"Positive": 0.0, "Neutral": 0.0, "Negative": 1.0}) == -1
    assert predict.face_valence({c: None for c in CLASSES}) is None
    assert predict.face_valence({"Positive": float("nan"), "Neutral": 0.5, "Negative": 0.5}) is None


def test_the_picture_colours_each_face_by_its_valence_and_says_when_not_to_trust_it():
    """draw_result on a made-up answer: no model needed."""
    from matplotlib.colors import to_rgba
    image = np.full((120, 240, 3), 90, np.uint8)
    faces_drawn = [((10, 40, 50, 90), {"Positive": 0.85, "Neutral": 0.1, "Negative": 0.05}),   # +0.80
                   ((90, 40, 130, 90), {"Positive": 0.1, "Neutral": 0.2, "Negative": 0.7}),    # -0.60
                   ((170, 2, 210, 50), {c: None for c in CLASSES})]                           # no score
    result = {"photo": "made_up.png", "label": "unknown", "probabilities": {c: None for c in CLASSES},
              "n_faces": 3, "low_confidence": True, "reason": "no member could score this photo",
              "model_name": "paper",
              "faces": [{"box": box, "probabilities": p, "label": "Positive"} for box, p in faces_drawn]}
    fig = predict.draw_result(result, image)
    boxes = face_boxes(fig)
    assert [(b.get_x(), b.get_y(), b.get_width(), b.get_height()) for b in boxes] == [
        (10, 40, 40, 50), (90, 40, 40, 50), (170, 2, 40, 48)]
    happy, sad, unscored = (b.get_edgecolor() for b in boxes)
    assert happy == pytest.approx(valence_colour(0.8)) and sad == pytest.approx(valence_colour(-0.6))
    assert happy[1] - happy[0] > 0 > sad[1] - sad[0]  # greener than red, redder than green
    assert unscored == pytest.approx(to_rgba(predict.NO_SCORE_COLOUR))
    texts = [t.get_text() for t in axes_named(fig, "photo").texts]
    assert texts == ["+0.80", "-0.60", "n/a"]
    group = axes_named(fig, "group")
    assert not group.patches and "no member could score this photo" in [t.get_text() for t in group.texts]
    assert group.get_title().startswith("unknown\nLOW CONFIDENCE")
    # a tie: no label, the reason given, and the bars
    tied = {**result, "probabilities": {"Positive": 0.45, "Neutral": 0.1, "Negative": 0.45},
            "reason": "Positive and Negative tie at the top (0.45 each)"}
    group = axes_named(predict.draw_result(tied, image), "group")
    assert [bar.get_width() for bar in group.patches] == pytest.approx([0.45, 0.1, 0.45])
    assert "LOW CONFIDENCE" in group.get_title() and "tie at the top" in group.get_title().replace("\n", " ")


def test_figure_true_draws_the_photo_its_faces_and_the_groups_probabilities(model_dir, photos):
    from matplotlib.figure import Figure

    from gle_utils.io import read_image
    plain = predict.predict_photo(photos["group"], model_dir=model_dir)
    assert "figure" not in plain  # the default result stays JSON-ready
    result = predict.predict_photo(photos["group"], model_dir=model_dir, figure=True)
    fig = result.pop("figure")
    assert isinstance(fig, Figure) and result == plain
    photo = axes_named(fig, "photo")
    assert np.array_equal(np.asarray(photo.images[0].get_array()), read_image(photos["group"]))
    boxes = face_boxes(fig)
    assert len(boxes) == result["n_faces"] >= 3
    valences = [predict.face_valence(face["probabilities"]) for face in result["faces"]]
    for box, face, valence in zip(boxes, result["faces"], valences):
        x0, y0, x1, y1 = face["box"]
        assert (box.get_x(), box.get_y(), box.get_width(), box.get_height()) == (x0, y0, x1 - x0, y1 - y0)
        assert box.get_edgecolor() == pytest.approx(valence_colour(valence))
    # the more positive a face, the greener (green minus red) its box
    by_valence = [box.get_edgecolor() for _, box in sorted(zip(valences, boxes), key=lambda pair: pair[0])]
    greenness = [green - red for red, green, *_ in by_valence]
    assert greenness == sorted(greenness)
    group = axes_named(fig, "group")
    assert [bar.get_width() for bar in group.patches] == pytest.approx([result["probabilities"][c] for c in CLASSES])
    assert [t.get_text() for t in group.get_yticklabels()] == list(CLASSES)
    label = result["label"]
    assert group.get_title().startswith(f"{label} ({result['probabilities'][label]:.2f})" if label in CLASSES
                                        else "unknown")


def test_a_photo_without_a_face_is_drawn_without_boxes_and_with_its_bars(model_dir):
    result = predict.predict_photo(skimage.data.coffee(), model_dir=model_dir, figure=True)
    assert result["n_faces"] == 0
    fig = result["figure"]
    assert face_boxes(fig) == [] and axes_named(fig, "photo").images[0].get_array().shape == (400, 600, 3)
    assert "no face found" in axes_named(fig, "photo").get_title()
    group = axes_named(fig, "group")
    assert [bar.get_width() for bar in group.patches] == pytest.approx([result["probabilities"][c] for c in CLASSES])
    assert "LOW CONFIDENCE" in group.get_title()  # the tiny model's whole-image member ties at 1/3


def check_picture(path: Path):
    """A PNG of plausible size with something drawn in it."""
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        pixels = np.asarray(picture.convert("RGB"))
    assert 600 <= pixels.shape[1] <= 2000 and 300 <= pixels.shape[0] <= 1200
    assert pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100


def test_show_writes_one_png_or_a_folder_of_them(model_dir, photos, tmp_path, capsys):
    # one photo: the file named
    out = tmp_path / "answer.png"
    code, stdout, err = run_main(capsys, photos["astronaut"], "--model-dir", model_dir, "--show", out)
    assert code == 0 and f"wrote {out}\n" in err and "astronaut.png: " in stdout
    check_picture(out)
    assert [p.name for p in tmp_path.iterdir()] == ["answer.png"]  # no temporary left behind
    # several photos: a folder, one PNG each, named after the photo; two alike names kept apart;
    # a photo that failed gets none; --json is unchanged
    twin = tmp_path / "other" / "astronaut.png"
    twin.parent.mkdir()
    shutil.copy(photos["astronaut"], twin)
    folder = tmp_path / "pictures"
    code, stdout, err = run_main(capsys, photos["astronaut"], photos["bad"], twin, "--model-dir", model_dir,
                                 "--show", folder, "--json")
    assert code == 1 and summary(err) == (3, 2, 1, 0)
    assert sorted(p.name for p in folder.iterdir()) == ["astronaut.png", "astronaut_2.png"]
    for picture in folder.iterdir():
        check_picture(picture)
        assert f"wrote {picture}\n" in err
    assert [json.loads(line)["photo"] for line in stdout.splitlines()] == [str(photos["astronaut"]), str(twin)]
    # a picture that cannot be written: said, exit code 2, and the rest of the output kept
    code, stdout, err = run_main(capsys, photos["astronaut"], "--model-dir", model_dir, "--show", out / "x.png")
    assert code == 2 and f"error: cannot write {out / 'x.png'}" in err
    assert "astronaut.png: " in stdout and summary(err) == (1, 1, 0, 0)
