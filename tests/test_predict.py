"""predict_photo and the command line: no face, one face, several faces, a bad file among good ones.

The model is a tiny ensemble trained on a few demo photos (forests of 10 trees) and saved to a
temporary folder, so that nothing here waits for the default model to be trained.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from gle_utils import faces, pipeline, predict
from gle_utils.config import CLASSES, REPO_ROOT
from gle_utils.io import ImageReadError

from test_pipeline import tiny_table, train_tiny


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model, _ = train_tiny(tiny_table())
    return model.save(tmp_path_factory.mktemp("model") / "ensemble")


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


def test_a_photo_without_a_face_is_decided_by_the_whole_image(model_dir, photos):
    result = predict.predict_photo(photos["blank"], model_dir=model_dir)
    assert result["n_faces"] == 0 and result["faces"] == []
    assert result["label"] in CLASSES
    check_probabilities(result["probabilities"])
    assert "whole-image model alone" in result["decided_by"]
    assert result["probabilities"] == pytest.approx(result["members"]["whole_image"])
    assert all(result["members"][name] is None for name in pipeline.FACE_MEMBERS)


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


def test_a_bad_file_is_a_clear_error(model_dir, photos):
    with pytest.raises(ImageReadError, match="not_an_image.jpg"):
        predict.predict_photo(photos["bad"], model_dir=model_dir)


def test_command_line_predicts_the_good_photos_and_reports_the_bad_one(model_dir, photos):
    order = [photos["blank"], photos["bad"], photos["astronaut"], photos["group"]]
    run = subprocess.run([sys.executable, "-m", "gle_utils.predict", *map(str, order), "--model-dir", str(model_dir)],
                         capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert run.returncode == 1, run.stderr
    assert "not_an_image.jpg: FAILED" in run.stderr and "1 of 4 photo(s) could not be read" in run.stderr
    blocks = [line for line in run.stdout.splitlines() if not line.startswith((" ", "model:"))]
    assert [line.split(":")[0] for line in blocks] == [str(photos["blank"]), str(photos["astronaut"]),
                                                        str(photos["group"])]
    assert "no face found: decided by the whole-image model alone" in run.stdout
    assert run.stdout.count("    face ") == 1 + predict.predict_photo(photos["group"], model_dir=model_dir)["n_faces"]


def test_main_returns_zero_when_all_photos_are_read_and_two_for_a_missing_model(model_dir, photos, capsys, tmp_path):
    assert predict.main([str(photos["astronaut"]), "--model-dir", str(model_dir)]) == 0
    assert "astronaut.png: " in capsys.readouterr().out
    assert predict.main([str(photos["astronaut"]), "--model-dir", str(tmp_path / "no model")]) == 2
    assert "no saved model" in capsys.readouterr().err


def test_the_default_model_is_trained_and_saved_once_when_none_is_saved(model_dir, monkeypatch, tmp_path, capsys):
    folder = tmp_path / "default"
    calls = []

    def pretend_to_train(table, **settings):  # the real training takes minutes: reuse the tiny model
        calls.append(settings)
        return pipeline.GroupEmotionModel.load(model_dir), None

    monkeypatch.setattr(pipeline, "default_model_dir", lambda dataset="demo": folder)
    monkeypatch.setattr(pipeline, "train", pretend_to_train)
    first = predict.load_model()
    assert calls and calls[0]["detector"] == "sequential" and (folder / "pipeline.json").is_file()
    assert "training the default model on the demo set" in capsys.readouterr().err
    assert predict.load_model() is first and len(calls) == 1  # loaded once per process
    predict._load.cache_clear()
    assert predict.load_model().weights == first.weights and len(calls) == 1  # read back, not retrained
    predict._load.cache_clear()
