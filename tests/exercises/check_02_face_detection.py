"""Checks for the exercises of notebook 02. Run: make check NB=02"""

import math

import numpy as np
import pytest
from skimage import data

from gle_utils import faces
from gle_utils.exercises import load_exercises

ex = load_exercises("02_face_detection")

FACE = (0, 0, 10, 10)
FAR = (50, 50, 60, 60)


def test_precision_recall_perfect_and_pooled_over_photos():
    truth = {"a": [FACE], "b": [FAR, (100, 0, 110, 10)]}
    assert ex["precision_recall"](truth, truth) == pytest.approx((1.0, 1.0))
    # Photo a: one hit and one false box; photo b: nothing found. 1 hit / 2 boxes, 1 hit / 3 faces.
    assert ex["precision_recall"](truth, {"a": [FACE, FAR], "b": []}) == pytest.approx((1 / 2, 1 / 3))


def test_precision_recall_a_face_is_claimed_once_and_a_box_claims_one_face():
    # Two boxes on one face: one hit, one false box.
    assert ex["precision_recall"]({"a": [FACE]}, {"a": [FACE, (1, 0, 11, 10)]}) == pytest.approx((0.5, 1.0))
    # One box over two overlapping faces (IoU 0.82 with each): it finds one of them only.
    assert ex["precision_recall"]({"a": [FACE, (2, 0, 12, 10)]}, {"a": [(1, 0, 11, 10)]}) == pytest.approx((1.0, 0.5))


def test_precision_recall_min_iou_and_nothing_found():
    shifted = (4, 0, 14, 10)  # IoU 6/14 = 0.43 with FACE
    assert ex["precision_recall"]({"a": [FACE]}, {"a": [shifted]}) == pytest.approx((0.0, 0.0))
    assert ex["precision_recall"]({"a": [FACE]}, {"a": [shifted]}, min_iou=0.4) == pytest.approx((1.0, 1.0))
    precision, recall = ex["precision_recall"]({"a": [FACE]}, {"a": []})
    assert math.isnan(precision) and recall == 0.0


def _face(box, detector):
    return faces.Face(*box, score=1.0, detector=detector)


@pytest.fixture
def stub_detectors(monkeypatch):
    """Replace HOG and Haar by stubs returning chosen faces (however the exercise cell calls them)."""
    found = {"hog": [], "haar": []}
    calls = []

    def stub(name):
        def detect(image, **settings):
            calls.append(name)
            return list(found[name])
        return detect

    for name in ("hog", "haar"):
        monkeypatch.setattr(faces, f"detect_{name}", stub(name))
        monkeypatch.setitem(faces._DETECTOR_FUNCTIONS, name, stub(name))
        if f"detect_{name}" in ex:  # the cell imported the function itself
            monkeypatch.setitem(ex, f"detect_{name}", stub(name))
    return found, calls


IMAGE = np.zeros((120, 120, 3), np.uint8)


def test_haar_first_takes_haar_and_runs_hog_only_when_haar_finds_nothing(stub_detectors):
    found, calls = stub_detectors
    found["hog"] = [_face(FACE, "hog"), _face(FAR, "hog")]
    found["haar"] = [_face((20, 20, 40, 40), "haar")]
    assert [f.box for f in ex["haar_first"](IMAGE)] == [(20, 20, 40, 40)]
    assert "hog" not in calls, "HOG ran although Haar had found a face"
    found["haar"] = []
    assert sorted(f.box for f in ex["haar_first"](IMAGE)) == [FACE, FAR]
    found["hog"] = []
    assert ex["haar_first"](IMAGE) == []


def test_union_detector_adds_the_haar_faces_hog_did_not_find(stub_detectors):
    found, _ = stub_detectors
    found["hog"] = [_face(FACE, "hog")]
    found["haar"] = [_face((1, 0, 11, 10), "haar"),   # IoU 0.82 with HOG's face: the same face
                     _face((5, 0, 15, 10), "haar"),   # IoU 0.33: another face at min_iou 0.5
                     _face(FAR, "haar")]
    assert sorted(f.box for f in ex["union_detector"](IMAGE)) == [FACE, (5, 0, 15, 10), FAR]
    assert sorted(f.box for f in ex["union_detector"](IMAGE, min_iou=0.3)) == [FACE, FAR]
    found["hog"] = []
    assert len(ex["union_detector"](IMAGE)) == 3


def test_on_the_astronaut():
    astronaut = data.astronaut()  # HOG: her face and the round mission patch; Haar: her face only
    hog, haar = faces.detect_hog(astronaut), faces.detect_haar(astronaut)
    assert [f.box for f in ex["haar_first"](astronaut)] == [f.box for f in haar]
    assert sorted(f.box for f in ex["union_detector"](astronaut)) == sorted(f.box for f in hog)
    assert ex["haar_first"](np.full((200, 200, 3), 128, np.uint8)) == []
