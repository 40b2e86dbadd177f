"""The checks of notebook 02's exercises: `make check NB=02`, the tests and the course's test cells run them."""

import math
from contextlib import contextmanager

import numpy as np
import pytest
from skimage import data

from gle_utils import faces
from gle_utils.checks import exercise


FACE = (0, 0, 10, 10)
FAR = (50, 50, 60, 60)


@exercise("precision_recall")
def precision_recall_perfect_and_pooled_over_photos(ex):
    truth = {"a": [FACE], "b": [FAR, (100, 0, 110, 10)]}
    assert ex["precision_recall"](truth, truth) == pytest.approx((1.0, 1.0))
    # Photo a: one hit and one false box; photo b: nothing found. 1 hit / 2 boxes, 1 hit / 3 faces.
    assert ex["precision_recall"](truth, {"a": [FACE, FAR], "b": []}) == pytest.approx((1 / 2, 1 / 3))


@exercise("precision_recall")
def precision_recall_a_face_is_claimed_once_and_a_box_claims_one_face(ex):
    # Two boxes on one face: one hit, one false box.
    assert ex["precision_recall"]({"a": [FACE]}, {"a": [FACE, (1, 0, 11, 10)]}) == pytest.approx((0.5, 1.0))
    # One box over two overlapping faces (IoU 0.82 with each): it finds one of them only.
    assert ex["precision_recall"]({"a": [FACE, (2, 0, 12, 10)]}, {"a": [(1, 0, 11, 10)]}) == pytest.approx((1.0, 0.5))


@exercise("precision_recall")
def precision_recall_min_iou_and_nothing_found(ex):
    shifted = (4, 0, 14, 10)  # IoU 6/14 = 0.43 with FACE
    assert ex["precision_recall"]({"a": [FACE]}, {"a": [shifted]}) == pytest.approx((0.0, 0.0))
    assert ex["precision_recall"]({"a": [FACE]}, {"a": [shifted]}, min_iou=0.4) == pytest.approx((1.0, 1.0))
    precision, recall = ex["precision_recall"]({"a": [FACE]}, {"a": []})
    assert math.isnan(precision) and recall == 0.0


def _face(box, detector):
    return faces.Face(*box, score=1.0, detector=detector)


@contextmanager
def stub_detectors(ex):
    """HOG and Haar replaced by stubs returning chosen faces (however the exercise cell calls them)."""
    found = {"hog": [], "haar": []}
    calls = []

    def stub(name):
        def detect(image, **settings):
            calls.append(name)
            return list(found[name])
        return detect

    # Where the exercise can reach a detector: the module, its table of detectors, and the
    # notebook's own namespace if the cell imported the function itself.
    places = [(vars(faces), f"detect_{name}") for name in ("hog", "haar")]
    places += [(faces._DETECTOR_FUNCTIONS, name) for name in ("hog", "haar")]
    places += [(ex, f"detect_{name}") for name in ("hog", "haar") if f"detect_{name}" in ex]
    originals = [(table, key, table[key]) for table, key in places]
    for table, key in places:
        table[key] = stub(key.removeprefix("detect_"))
    try:
        yield found, calls
    finally:
        for table, key, original in originals:
            table[key] = original


IMAGE = np.zeros((120, 120, 3), np.uint8)


@exercise("haar_first")
def haar_first_takes_haar_and_runs_hog_only_when_haar_finds_nothing(ex):
    with stub_detectors(ex) as (found, calls):
        found["hog"] = [_face(FACE, "hog"), _face(FAR, "hog")]
        found["haar"] = [_face((20, 20, 40, 40), "haar")]
        assert [f.box for f in ex["haar_first"](IMAGE)] == [(20, 20, 40, 40)]
        assert "hog" not in calls, "HOG ran although Haar had found a face"
        found["haar"] = []
        assert sorted(f.box for f in ex["haar_first"](IMAGE)) == [FACE, FAR]
        found["hog"] = []
        assert ex["haar_first"](IMAGE) == []


@exercise("union_detector")
def union_detector_adds_the_haar_faces_hog_did_not_find(ex):
    with stub_detectors(ex) as (found, _):
        found["hog"] = [_face(FACE, "hog")]
        found["haar"] = [_face((1, 0, 11, 10), "haar"),   # IoU 0.82 with HOG's face: the same face
                         _face((5, 0, 15, 10), "haar"),   # IoU 0.33: another face at min_iou 0.5
                         _face(FAR, "haar")]
        assert sorted(f.box for f in ex["union_detector"](IMAGE)) == [FACE, (5, 0, 15, 10), FAR]
        assert sorted(f.box for f in ex["union_detector"](IMAGE, min_iou=0.3)) == [FACE, FAR]
        found["hog"] = []
        assert len(ex["union_detector"](IMAGE)) == 3


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
