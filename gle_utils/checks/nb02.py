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
           "precision_recall_min_iou_and_nothing_found", "precision_recall_a_box_does_not_fall_back_on_another_face",
           "precision_recall_gives_a_box_the_face_it_overlaps_most",
           "suppress_overlaps_keeps_the_best_box_of_each_face", "suppress_overlaps_a_dropped_box_drops_nothing",
           "suppress_overlaps_min_iou_and_nothing_found",
           "union_detector_adds_the_haar_faces_hog_did_not_find", "union_detector_on_the_astronaut"]


def _face(box, detector="hog", score=1.0):
    return faces.Face(*box, score=score, detector=detector)


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


@exercise("precision_recall")
def precision_recall_a_box_does_not_fall_back_on_another_face(ex):
    # Two neighbouring faces, two boxes. Box 1 overlaps face 1 (IoU 0.69) and face 2 (0.57); box 2
    # face 1 (0.91) and face 2 (0.44). Both boxes go to face 1, the face each overlaps most: one hit,
    # one false box, whichever comes first. Best overlap first (section 1, boxes.evaluate_boxes)
    # pairs box 2 with face 1 and then box 1 with face 2, its second best: two hits.
    two_faces, box_1, box_2 = [(10, 10, 30, 30), (15, 14, 35, 34)], (9, 12, 31, 34), (10, 9, 31, 30)
    for found in ([box_1, box_2], [box_2, box_1]):
        assert ex["precision_recall"]({"a": two_faces}, {"a": found}) == pytest.approx((0.5, 0.5)), \
            "each box goes to the face it overlaps most, and does not fall back on another"


@exercise("precision_recall")
def precision_recall_gives_a_box_the_face_it_overlaps_most(ex):
    # Box 1 overlaps face 1 (IoU 0.58) and face 2 more (0.69); box 2 face 1 only (0.57). Each to the
    # face it overlaps most: two hits. Taking the first face above min_iou would give one.
    two_faces, box_1, box_2 = [(10, 10, 30, 30), (14, 11, 34, 31)], (12, 7, 36, 31), (7, 7, 27, 27)
    for found in ([box_1, box_2], [box_2, box_1]):
        assert ex["precision_recall"]({"a": two_faces}, {"a": found}) == pytest.approx((1.0, 1.0))


@exercise("suppress_overlaps")
def suppress_overlaps_keeps_the_best_box_of_each_face(ex):
    around = [_face((0, 0, 10, 10), score=0.5), _face((1, 0, 11, 10), score=0.9), _face((0, 1, 10, 11), score=0.7)]
    apart = _face(_FAR, score=0.6)
    given = around + [apart]
    kept = ex["suppress_overlaps"](given)
    assert [f.box for f in kept] == [(1, 0, 11, 10), _FAR], "the best box of each face, highest score first"
    assert given == around + [apart], "the list given must not change"


@exercise("suppress_overlaps")
def suppress_overlaps_a_dropped_box_drops_nothing(ex):
    # a overlaps b (IoU 0.54), b overlaps c (0.43), a and c hardly (0.18): b goes, and c stays.
    a, b, c = _face((0, 0, 10, 10), score=0.9), _face((3, 0, 13, 10), score=0.8), _face((7, 0, 17, 10), score=0.7)
    assert [f.box for f in ex["suppress_overlaps"]([c, b, a])] == [a.box, c.box]


@exercise("suppress_overlaps")
def suppress_overlaps_min_iou_and_nothing_found(ex):
    a, b = _face((0, 0, 10, 10), score=0.4), _face((5, 0, 15, 10), score=0.8)   # IoU 1/3
    assert [f.box for f in ex["suppress_overlaps"]([a, b])] == [b.box]
    assert [f.box for f in ex["suppress_overlaps"]([a, b], min_iou=0.5)] == [b.box, a.box]
    assert list(ex["suppress_overlaps"]([])) == []


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


@exercise("union_detector")
def union_detector_adds_the_haar_faces_hog_did_not_find(ex):
    with _stub_detectors(ex) as (found, _):
        found["hog"] = [_face(_FACE)]
        found["haar"] = [_face((1, 0, 11, 10), "haar"),   # IoU 0.82 with HOG's face: the same face
                         _face((5, 0, 15, 10), "haar"),   # IoU 0.33: another face at min_iou 0.5
                         _face(_FAR, "haar")]
        assert sorted(f.box for f in ex["union_detector"](_IMAGE)) == [_FACE, (5, 0, 15, 10), _FAR]
        assert sorted(f.box for f in ex["union_detector"](_IMAGE, min_iou=0.3)) == [_FACE, _FAR]
        found["hog"] = []
        assert len(ex["union_detector"](_IMAGE)) == 3


@exercise("union_detector")
def union_detector_on_the_astronaut(ex):
    astronaut = data.astronaut()  # HOG: her face and the round mission patch, Haar's face among them
    hog = faces.detect_hog(astronaut)
    assert sorted(f.box for f in ex["union_detector"](astronaut)) == sorted(f.box for f in hog)
