"""predict_photo and the command line: no face, one face, several faces, bad files among good ones.

The models are the session's tiny ones (tests/conftest.py: a few demo photos, forests of 10
trees, saved to a temporary folder): the paper's recipe and the default one, so that nothing
here waits for a full-size model.

Bad inputs tried, each a file these tests make: black, white, one colour, noise, 2x2000, 1x1,
a decompression-bomb PNG, a truncated JPEG, text named .jpg, an empty file.
"""

import io
import json
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
    assert scenery["label"] in CLASSES and scenery["reason"] == ""
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
    assert "not_an_image.jpg: FAILED" in run.stderr and "1 of 4 photo(s) could not be predicted" in run.stderr
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
    assert f"training the {pipeline.DEFAULT_MODEL!r} model on the demo set" in capsys.readouterr().err
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
    assert "astronaut.png: " in captured.out and "1 of 2 photo(s) could not be predicted" in captured.err


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
    assert "4 of " in captured.err and "could not be predicted" in captured.err
    results = pd.read_csv(csv)
    assert len(results) == len(val) + 6 and results.error.notna().sum() == 4  # refused: a row with the reason
    assert set(results.true_label.dropna()) <= set(CLASSES)
    labelled = results[results.error.isna()]
    accuracy = (labelled.label == labelled.true_label).mean()
    assert f"accuracy of model 'paper' on {len(labelled)} labelled photo(s): {accuracy:.3f}" in captured.out
    assert results.loc[results.photo.str.endswith("black.png"), "label"].item() == "unknown"
