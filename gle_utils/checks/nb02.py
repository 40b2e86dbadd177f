"""The checks of notebook 02's exercises: `make check NB=02`, the tests and the course's test cells run them."""

import math
from contextlib import contextmanager

import numpy as np
import pytest
from skimage import data

from gle_utils import faces
from gle_utils.checks import exercise

__all__ = ["precision_recall_perfect_and_pooled_over_photos",
           "precision_recall_a_face_is_claimed_once_and_a_box_claims_one_face",
           "precision_recall_min_iou_and_nothing_found",
           "haar_first_takes_haar_and_runs_hog_only_when_haar_finds_nothing",
           "union_detector_adds_the_haar_faces_hog_did_not_find", "haar_first_on_the_astronaut",
           "union_detector_on_the_astronaut"]


_FACE = (0, 0, 10, 10)
_FAR = (50, 50, 60, 60)


@exercise("precision_recall")
def precision_recall_perfect_and_pooled_over_photos(ex):
    truth = {"a": [_FACE], "b": [_FAR, (100, 0, 110, 10)]}
    assert ex["precision_recall"](truth, truth) == pytest.approx((1.0, 1.0))
    # Photo a: one hit and one false box; photo b: nothing found. 1 hit / 2 boxes, 1 hit / 3 faces.
    assert ex["precision_recall"](truth, {"a": [_FACE, _FAR], "b": []}) == pytest.approx((1 / 2, 1 / 3))


@exercise("precision_recall")
def precision_recall_a_face_is_claimed_once_and_a_box_claims_one_face(ex):
    # Two boxes on one face: one hit, one false box.
    assert ex["precision_recall"]({"a": [_FACE]}, {"a": [_FACE, (1, 0, 11, 10)]}) == pytest.approx((0.5, 1.0))
    # One box over two overlapping faces (IoU 0.82 with each): it finds one of them only.
    assert ex["precision_recall"]({"a": [_FACE, (2, 0, 12, 10)]}, {"a": [(1, 0, 11, 10)]}) == pytest.approx((1.0, 0.5))


@exercise("precision_recall")
def precision_recall_min_iou_and_nothing_found(ex):
    shifted = (4, 0, 14, 10)  # IoU 6/14 = 0.43 with FACE
    assert ex["precision_recall"]({"a": [_FACE]}, {"a": [shifted]}) == pytest.approx((0.0, 0.0))
    assert ex["precision_recall"]({"a": [_FACE]}, {"a": [shifted]}, min_iou=0.4) == pytest.approx((1.0, 1.0))
    precision, recall = ex["precision_recall"]({"a": [_FACE]}, {"a": []})
    assert math.isnan(precision) and recall == 0.0


def _face(box, detector):
    return faces.Face(*box, score=1.0, detector=detector)


@contextmanager
def _stub_detectors(ex):
    """HOG and Haar replaced by stubs returning chosen faces (however the exercise cell calls them)."""
    found = {"hog": [], "haar": []}
    calls = []

    def stub(name):
        def detect(image, **settings):
            calls.append(name)
            return list(found[name])
        return detect

    stubs = {"detect_hog": stub("hog"), "detect_haar": stub("haar")}
    detect_faces = faces.detect_faces

    def detect_faces_stubbed(image, detector="sequential", **settings):
        if f"detect_{detector}" in stubs:  # in reading order, as detect_faces returns faces
            return sorted(stubs[f"detect_{detector}"](image, **settings), key=lambda face: face.box)
        return detect_faces(image, detector, **settings)

    stubs["detect_faces"] = detect_faces_stubbed
    # Where the exercise can reach a detector: the module (faces.detect_hog, or
    # faces.detect_faces(image, "hog")), and the notebook's own namespace if the cell imported
    # the function itself.
    places = [(vars(faces), name) for name in stubs] + [(ex, name) for name in stubs if name in ex]
    originals = [(table, key, table[key]) for table, key in places]
    for table, key in places:
        table[key] = stubs[key]
    try:
        yield found, calls
    finally:
        for table, key, original in originals:
            table[key] = original


_IMAGE = np.zeros((120, 120, 3), np.uint8)


@exercise("haar_first")
def haar_first_takes_haar_and_runs_hog_only_when_haar_finds_nothing(ex):
    with _stub_detectors(ex) as (found, calls):
        found["hog"] = [_face(_FACE, "hog"), _face(_FAR, "hog")]
        found["haar"] = [_face((20, 20, 40, 40), "haar")]
        assert [f.box for f in ex["haar_first"](_IMAGE)] == [(20, 20, 40, 40)]
        assert "hog" not in calls, "HOG ran although Haar had found a face"
        found["haar"] = []
        assert sorted(f.box for f in ex["haar_first"](_IMAGE)) == [_FACE, _FAR]
        found["hog"] = []
        assert ex["haar_first"](_IMAGE) == []


@exercise("union_detector")
def union_detector_adds_the_haar_faces_hog_did_not_find(ex):
    with _stub_detectors(ex) as (found, _):
        found["hog"] = [_face(_FACE, "hog")]
        found["haar"] = [_face((1, 0, 11, 10), "haar"),   # IoU 0.82 with HOG's face: the same face
                         _face((5, 0, 15, 10), "haar"),   # IoU 0.33: another face at min_iou 0.5
                         _face(_FAR, "haar")]
        assert sorted(f.box for f in ex["union_detector"](_IMAGE)) == [_FACE, (5, 0, 15, 10), _FAR]
        assert sorted(f.box for f in ex["union_detector"](_IMAGE, min_iou=0.3)) == [_FACE, _FAR]
        found["hog"] = []
        assert len(ex["union_detector"](_IMAGE)) == 3


@exercise("haar_first")
def haar_first_on_the_astronaut(ex):
    astronaut = data.astronaut()  # Haar finds her face only
    assert [f.box for f in ex["haar_first"](astronaut)] == [f.box for f in faces.detect_haar(astronaut)]
    assert ex["haar_first"](np.full((200, 200, 3), 128, np.uint8)) == []


@exercise("union_detector")
def union_detector_on_the_astronaut(ex):
    astronaut = data.astronaut()  # HOG: her face and the round mission patch, Haar's face among them
    hog = faces.detect_hog(astronaut)
    assert sorted(f.box for f in ex["union_detector"](astronaut)) == sorted(f.box for f in hog)
