"""Tests for gle_utils.features: median/mean pooling, and an extraction that is cached per photo,
resumes after an interruption, skips bad files and stores plain arrays.

The extraction tests use a tiny fake backbone (a 16x16 crop -> its mean colour), so they need no
network and run in seconds; the face detector is the real one, on scikit-image's astronaut.
"""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data as skimage_data

from gle_utils import config, faces, features, progress, runner


# --- pooling --------------------------------------------------------------------------------

def test_median_and_mean_pooling_differ_when_a_minority_disagrees():
    # photo "a": three faces, the third far off in both features; photo "b": one face
    rows = np.array([[0.0, 10.0], [1.0, 11.0], [5.0, -40.0], [2.0, 2.0]])
    face_photos = ["a", "a", "a", "b"]
    median = features.pool_faces(rows, face_photos, ["a", "b"], "median")
    mean = features.pool_faces(rows, face_photos, ["a", "b"], "mean")
    np.testing.assert_allclose(median[0], [1.0, 10.0])  # element-wise: the middle value of each column
    np.testing.assert_allclose(mean[0], [2.0, -19.0 / 3])  # pulled toward the disagreeing face
    np.testing.assert_allclose(median[1], [2.0, 2.0])  # one face: both poolings are that face
    np.testing.assert_allclose(mean[1], [2.0, 2.0])


def test_two_faces_median_equals_mean():
    rows = np.array([[1.0, -3.0], [4.0, 5.0]])
    median = features.pool_faces(rows, ["p", "p"], ["p"], "median")
    np.testing.assert_allclose(median, features.pool_faces(rows, ["p", "p"], ["p"], "mean"))


def test_faceless_photo_gets_a_nan_row_in_photo_order():
    rows = np.array([[1.0, 2.0, 3.0]])
    pooled = features.pool_faces(rows, ["with_face"], ["no_face", "with_face"], "median")
    assert pooled.shape == (2, 3)
    assert np.isnan(pooled[0]).all()
    np.testing.assert_allclose(pooled[1], [1.0, 2.0, 3.0])


def test_pooling_matches_a_photo_by_photo_reference_on_random_data():
    def reference(rows, face_photos, photos, how):  # the obvious (and slow) way
        reduce = np.median if how == "median" else np.mean
        out = np.full((len(photos), rows.shape[1]), np.nan)
        for i, photo in enumerate(photos):
            mine = rows[np.array([p == photo for p in face_photos], dtype=bool)]
            if len(mine):
                out[i] = reduce(mine, axis=0)
        return out

    rng = np.random.default_rng(0)
    for _ in range(50):
        names = [f"photo_{i}.jpg" for i in range(int(rng.integers(1, 30)))]
        photos = list(rng.choice(names, int(rng.integers(0, 25))))  # repeats, and names without faces
        face_photos = list(rng.choice(names, int(rng.integers(0, 80))))  # faces of photos not asked for
        rows = rng.normal(size=(len(face_photos), int(rng.integers(1, 5))))
        for how in features.POOLINGS:
            np.testing.assert_array_equal(features.pool_faces(rows, face_photos, photos, how),
                                          reference(rows, face_photos, photos, how))


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="median"):
        features.pool_faces(np.zeros((1, 2)), ["a"], ["a"], "max")


# --- extraction: cache, resume, bad files ------------------------------------------------------

class FakeBackbone:
    """What extract_faces needs of a backbone: a 16x16 crop per face, its mean colour as features.

    ``fail_on_call=k`` makes the k-th features() call raise, as if the run were killed there.
    """

    name = "fake"
    cache_key = "fake"  # the name of its folder in the feature cache
    layer_dims = {"colour": 3}
    feature_sets = ["rgb_colour", "bgr_colour"]
    paper_feature_sets = {}

    def __init__(self, fail_on_call=None):
        self.fail_on_call = fail_on_call
        self.calls = 0
        self.chips_seen = 0

    def prepare(self, image, face):
        return faces.crop_face(image, face, size=16)

    def features(self, chips, progress=True):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("interrupted")
        self.chips_seen += len(chips)
        colour = chips.reshape(len(chips), -1, 3).mean(axis=1).astype(np.float32)
        return {"rgb_colour": colour, "bgr_colour": np.ascontiguousarray(colour[:, ::-1])}


@pytest.fixture(scope="module")
def face_photos(tmp_path_factory):
    """Three different JPEG files that each show the astronaut's face (crops and flips)."""
    folder = tmp_path_factory.mktemp("photos")
    image = skimage_data.astronaut()
    variants = {"full": image, "flipped": image[:, ::-1], "cropped": image[20:420, 60:460]}
    paths = []
    for name, pixels in variants.items():
        path = folder / f"{name}.jpg"
        Image.fromarray(np.ascontiguousarray(pixels)).save(path, quality=90)
        paths.append(str(path))
    return paths


def feature_folder(cache_dir, backbone_name="fake"):
    return cache_dir / "features" / faces.detection_cache_name("sequential") / backbone_name


def test_interrupted_extraction_resumes_with_only_the_missing_photos(face_photos, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")

    failing = FakeBackbone(fail_on_call=2)
    with pytest.raises(RuntimeError, match="interrupted"):
        features.extract_faces(face_photos, failing, batch_photos=1, progress=False)
    folder = feature_folder(tmp_path / "cache")
    assert len(list(folder.glob("*.npz"))) == 1  # the first photo was finished and kept
    assert [p.name for p in folder.iterdir() if "tmp" in p.name] == []  # nothing half-written

    working = FakeBackbone()
    resumed = features.extract_faces(face_photos, working, batch_photos=1, progress=False)
    detected = resumed.photos.set_index("path").n_faces
    assert working.calls == 2  # the two photos that were not cached yet, nothing else
    assert working.chips_seen == detected[face_photos[1]] + detected[face_photos[2]]
    assert len(list(folder.glob("*.npz"))) == 3

    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "fresh")
    fresh = features.extract_faces(face_photos, FakeBackbone(), batch_photos=1, progress=False)
    pd.testing.assert_frame_equal(resumed.faces, fresh.faces)
    pd.testing.assert_frame_equal(resumed.photos, fresh.photos)
    assert resumed.sets.keys() == fresh.sets.keys() == {"rgb_colour", "bgr_colour"}
    for name in fresh.sets:
        np.testing.assert_array_equal(resumed.sets[name], fresh.sets[name])

    again = FakeBackbone()
    features.extract_faces(face_photos, again, progress=False)
    assert again.calls == 0  # everything read back from the cache


def test_features_run_on_the_boxes_of_a_detector_chosen_by_name(face_photos, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    extracted = features.extract_faces(face_photos[:1], FakeBackbone(), detector="mtcnn", progress=False)
    assert len(extracted.faces) >= 1
    assert len(list((tmp_path / "features" / faces.detection_cache_name("mtcnn") / "fake").glob("*.npz"))) == 1


def test_cache_entries_are_plain_arrays(face_photos, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    extracted = features.extract_faces(face_photos[:1], FakeBackbone(), progress=False)
    (entry,) = feature_folder(tmp_path).glob("*.npz")
    with np.load(entry, allow_pickle=False) as stored:  # would raise on an object array
        assert set(stored.files) == {"boxes", "rgb_colour", "bgr_colour"}
        assert stored["boxes"].shape == (len(extracted.faces), 4)
        assert all(stored[name].dtype != object for name in stored.files)
        np.testing.assert_array_equal(stored["rgb_colour"], extracted.sets["rgb_colour"])


class WideBackbone(FakeBackbone):
    """The fake backbone with 100,000 features a face, so that the result's arrays dwarf the rest."""

    layer_dims = {"wide": 100_000}
    feature_sets = ["rgb_wide", "bgr_wide"]

    def features(self, chips, progress=True):
        colour = super().features(chips)["rgb_colour"]
        wide = np.repeat(colour, 100_000 // 3 + 1, axis=1)[:, :100_000]
        return {"rgb_wide": wide, "bgr_wide": wide[:, ::-1].copy()}


def test_the_result_is_read_back_without_holding_every_entry_beside_it(face_photos, tmp_path, monkeypatch):
    """Read back from the cache, the features are held about once (the result, and one photo's
    entry while it is copied in), not twice or three times (every entry, joined, then cast)."""
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    computed = features.extract_faces(face_photos, WideBackbone(), progress=False)
    result_bytes = sum(values.nbytes for values in computed.sets.values())
    assert computed.sets["rgb_wide"].dtype == np.float32 and len(computed.faces) >= len(face_photos)
    tracemalloc.start()
    try:
        read_back = features.extract_faces(face_photos, WideBackbone(), progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(read_back.sets["bgr_wide"], computed.sets["bgr_wide"])
    assert peak < 2.2 * result_bytes, f"peak {peak / 1e6:.1f} MB for a result of {result_bytes / 1e6:.1f} MB"


def test_bad_file_is_skipped_and_reported_and_faceless_photo_pools_to_nan(face_photos, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"this is not a JPEG")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(blank)
    paths = [face_photos[0], str(bad), str(blank)]

    extracted = features.extract_faces(paths, FakeBackbone(), progress=False)
    assert "broken.jpg" in capsys.readouterr().out
    table = extracted.photos.set_index("path")
    assert list(extracted.photos.path) == paths  # every photo asked for, in order
    assert table.skipped.to_dict() == {paths[0]: False, str(bad): True, str(blank): False}
    assert table.n_faces[str(bad)] == 0 and table.n_faces[str(blank)] == 0 and table.n_faces[paths[0]] >= 1
    assert set(extracted.faces.path) == {paths[0]}

    for how in features.POOLINGS:
        pooled = extracted.pooled("rgb_colour", how)
        assert pooled.shape == (3, 3)
        assert not np.isnan(pooled[0]).any()
        assert np.isnan(pooled[1]).all() and np.isnan(pooled[2]).all()


def test_a_long_stage_says_once_how_many_photos_and_how_long(face_photos, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(progress, "SAY_TIME_ABOVE", 2)  # 3 photos are "long"; GAF's thousands are
    monkeypatch.setattr(progress, "FIRST_PHOTOS", 1)
    features.extract_faces(face_photos, FakeBackbone(), batch_photos=1, progress=True)
    said = [line for line in capsys.readouterr().out.splitlines() if progress.PROJECTION.search(line)]
    assert len(said) == 2 and said[0].startswith("detecting faces (sequential): 3 photos to do, about ")
    assert said[1].startswith("fake features: 3 photos to do")  # one line a stage, each once
    assert runner.without_progress_bars("\n".join(said)) == ""  # never saved in a notebook

    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "fresh")
    features.extract_faces(face_photos, FakeBackbone(), progress=False)
    assert capsys.readouterr().out == ""  # no progress: nothing said
    features.extract_faces(face_photos, FakeBackbone(), progress=True)
    assert capsys.readouterr().out == ""  # nothing to do: nothing said
