"""Face stage: detectors, crops, landmarks, the dataset runner and its cache.

The astronaut photo of scikit-image (one frontal face, public domain) is the face that must
be found; its hand-checked box is in data/real_photos/boxes.json.
"""

import errno
import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from gle_utils import config, datasets, faces
from gle_utils.faces import Face

ASTRONAUT_FACE = (175, 70, 265, 168)  # hand-checked, as in data/real_photos/boxes.json
FAST_DETECTORS = ("hog", "haar", "sequential")


@pytest.fixture(scope="module")
def astronaut():
    return skimage.data.astronaut()


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    """Point every cache at an empty folder, so tests neither read nor touch the real cache."""
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def assert_inside(found, image):
    height, width = image.shape[:2]
    for face in found:
        assert 0 <= face.x0 < face.x1 <= width and 0 <= face.y0 < face.y1 <= height, face


def best_iou(found, box):
    return max((faces.iou(face.box, box) for face in found), default=0.0)


# --- detectors -------------------------------------------------------------------------------

@pytest.mark.parametrize("detector", FAST_DETECTORS)
def test_the_astronauts_face_is_found(astronaut, detector):
    found = faces.detect_faces(astronaut, detector)
    assert best_iou(found, ASTRONAUT_FACE) >= 0.5
    assert all(isinstance(f, Face) and np.isfinite(f.score) for f in found)
    assert_inside(found, astronaut)


@pytest.mark.parametrize("detector", FAST_DETECTORS)
def test_a_photo_without_a_face_gives_no_box(detector):
    noise = np.random.default_rng(config.SEED).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    blank = np.full((200, 300, 3), 128, dtype=np.uint8)
    assert faces.detect_faces(noise, detector) == []
    assert faces.detect_faces(blank, detector) == []


@pytest.mark.parametrize("detector", FAST_DETECTORS)
def test_greyscale_input_works(astronaut, detector):
    grey = (astronaut.mean(axis=2)).astype(np.uint8)  # (H, W)
    assert best_iou(faces.detect_faces(grey, detector), ASTRONAUT_FACE) >= 0.5
    assert best_iou(faces.detect_faces(grey[:, :, None], detector), ASTRONAUT_FACE) >= 0.5


def test_a_face_cut_by_the_image_border_gets_a_box_inside_the_image(astronaut):
    part = astronaut[:, 210:]  # the face (x 175..265) loses its left 35 pixels
    for detector in FAST_DETECTORS:
        assert_inside(faces.detect_faces(part, detector), part)
    found = faces.detect_hog(part)
    assert found and found[0].x0 == 0  # HOG's box reached past the edge and was clipped


def test_boxes_are_clipped_to_the_image():
    assert faces._clipped(-20, -5, 50, 40, 1.0, "x", (30, 40)).box == (0, 0, 40, 30)
    assert faces._clipped(50, 50, 60, 60, 1.0, "x", (30, 40)) is None  # wholly outside


def test_bad_input_gives_a_clear_error(astronaut):
    with pytest.raises(ValueError, match="uint8"):
        faces.detect_hog(astronaut / 255.0)
    with pytest.raises(ValueError, match="shape"):
        faces.detect_hog(np.zeros((10, 10, 4), np.uint8))
    with pytest.raises(ValueError, match="unknown detector"):
        faces.detect_faces(astronaut, "tinyfaces")
    with pytest.raises(TypeError, match="no setting"):
        faces.detector_settings("hog", upsampel=2)


def test_haar_runs_only_when_hog_finds_nothing(astronaut, monkeypatch):
    calls = []
    haar_face = Face(1, 2, 30, 40, 5.0, "haar")

    def spy_haar(image, **settings):
        calls.append(image.shape)
        return [haar_face]

    monkeypatch.setattr(faces, "detect_haar", spy_haar)
    found = faces.detect_sequential(astronaut)
    assert calls == [] and {f.detector for f in found} == {"hog"}

    blank = np.full((200, 300, 3), 128, dtype=np.uint8)
    assert faces.detect_sequential(blank) == [haar_face]
    assert calls == [blank.shape]


def test_faces_come_in_reading_order_whatever_order_the_detector_gives(monkeypatch):
    """OpenCV's Haar cascade gathers candidates from several threads, so its order is not fixed
    (a CI machine once gave two faces swapped, and every per-face forest changed)."""
    right, left_low, left_high = Face(300, 10, 330, 40, 9.0, "haar"), Face(5, 90, 35, 120, 1.0, "haar"), \
        Face(5, 10, 35, 40, 5.0, "haar")
    monkeypatch.setitem(faces._DETECTOR_FUNCTIONS, "haar", lambda image, **settings: [right, left_low, left_high])
    assert faces.detect_faces(np.zeros((200, 400, 3), np.uint8), "haar") == [left_high, left_low, right]


def test_the_cnn_detectors_find_the_astronauts_face(astronaut):
    # The astronaut's face is large (98 px): MMOD needs no upsampling for it, which saves 3/4 of its time.
    for detector, settings in (("mtcnn", {}), ("mmod", {"upsample": 0})):
        found = faces.detect_faces(astronaut, detector, **settings)
        assert best_iou(found, ASTRONAUT_FACE) >= 0.5, detector
        assert_inside(found, astronaut)
    half = astronaut[:, 220:]  # half the face off the edge: MTCNN still finds it
    found = faces.detect_mtcnn(half)
    assert found and found[0].x0 == 0
    assert_inside(found, half)
    assert faces.detect_mmod(np.zeros((8, 8), np.uint8)) == []  # too small for dlib's filters: no error


def test_mmods_defaults_find_a_small_face_that_its_old_defaults_missed(astronaut):
    small = cv2.resize(astronaut, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)  # face ~44 px tall
    box = tuple(0.45 * v for v in ASTRONAUT_FACE)
    assert best_iou(faces.detect_mmod(small), box) >= 0.5
    assert best_iou(faces.detect_mmod(small, upsample=0, max_side=800), box) < 0.5


@pytest.mark.parametrize("detector", ["mtcnn"])  # "mmod" takes the same path, at 10x the time
def test_the_cnn_detectors_are_chosen_by_name_over_a_dataset(tmp_path, tmp_cache, astronaut, detector):
    astro, blank, _ = _photo_folder(tmp_path, astronaut)
    table = faces.detect_dataset([astro, blank], detector, progress=False)
    assert best_iou(faces.faces_of(table, astro), ASTRONAUT_FACE) >= 0.5
    assert (table["detector"] == detector).all() and table.attrs["skipped"] == []
    assert len(list((tmp_cache / "detections" / faces.detection_cache_name(detector)).iterdir())) == 2


def test_mmod_shrinks_large_images_and_scales_boxes_back(astronaut):
    big = np.kron(astronaut, np.ones((2, 2, 1), np.uint8))  # 1024x1024, face at twice the size
    found = faces.detect_mmod(big, upsample=0, max_side=512)  # no upsampling: the face is large
    doubled = tuple(2 * v for v in ASTRONAUT_FACE)
    assert best_iou(found, doubled) >= 0.5


def test_mmod_in_tiles_finds_the_face_of_one_pass(astronaut):
    small = cv2.resize(astronaut, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)  # 230x230, face ~44 px
    box = tuple(0.45 * v for v in ASTRONAUT_FACE)
    whole = faces.detect_mmod(small)  # 230x230 upsampled once: 212k pixels, one pass
    tiled = faces.detect_mmod(small, max_pixels=100_000)  # pass 1, then four tiles of 156x156, upsampled
    assert best_iou(whole, box) >= 0.5 and best_iou(tiled, box) >= 0.5
    # The same face; its box may differ by one step of dlib's scale pyramid, which depends on the tile's size.
    assert len(tiled) == len(whole) == 1 and faces.iou(tiled[0].box, whole[0].box) >= 0.5


def test_mmod_never_hands_dlib_more_than_max_pixels_and_keeps_each_face_once(monkeypatch):
    """A stand-in for dlib: it "finds" each white square of the image it is handed, cut where the
    image ends, and only squares of 80 pixels or more once upsampled (as MMOD)."""
    handed = []

    def fake_mmod(image, upsample):
        handed.append(image.shape[0] * image.shape[1] * 4 ** upsample)
        n, _, stats, _ = cv2.connectedComponentsWithStats((image[..., 0] > 0).astype(np.uint8))
        return [((x, y, x + w, y + h), 1.0 + 0.01 * w) for x, y, w, h, _ in stats[1:n]
                if max(w, h) * 2 ** upsample >= faces.MMOD_SMALLEST_FACE]

    monkeypatch.setattr(faces, "_mmod_boxes", fake_mmod)
    # A 1800x1200 photo, shrunk to 900x600 by max_side. Upsampled once that is 2.16 M pixels: pass 1
    # (540k, finds the large square), then 6 tiles of 341x355 (484k upsampled) in 2 rows
    # (y 0-341, 259-600) and 3 columns (x 0-355, 272-627, 545-900) of the shrunk image.
    photo = np.zeros((1200, 1800, 3), np.uint8)
    squares = [(580, 500, 680, 600), (1000, 200, 1400, 600), (1060, 1040, 1160, 1140)]  # 50, 200, 50 px once shrunk
    for x0, y0, x1, y1 in squares:
        photo[y0:y1, x0:x1] = 255
    assert len(faces._tile_grid(600, 900, 600_000 // 4, faces.MMOD_SMALLEST_FACE)) == 6
    found = faces.detect_mmod(photo, max_side=900, max_pixels=600_000)
    # Each square once, whole, in the photo's pixels: the pieces that tiles cut off are dropped,
    # the repeats merged.
    assert sorted(f.box for f in found) == sorted(squares)
    assert len(handed) == 7 and max(handed) <= 600_000
    # A smaller budget: pass 1 too is shrunk (to 400k pixels), and the tiles overlap more.
    handed.clear()
    found = faces.detect_mmod(photo, max_side=900, max_pixels=400_000)
    assert len(found) == 3 and all(best_iou(found, square) > 0.95 for square in squares)
    assert max(handed) <= 400_000


def test_the_tile_grid_covers_the_image_with_overlapping_tiles():
    for height, width, tile_pixels, overlap in ((709, 1024, 187_500, 80), (512, 512, 187_500, 80),
                                                (100, 3000, 40_000, 80), (1000, 1000, 60_000, 130)):
        tiles = faces._tile_grid(height, width, tile_pixels, overlap)
        covered = np.zeros((height, width), int)
        for y0, x0, tile_height, tile_width in tiles:
            assert tile_height * tile_width <= tile_pixels and y0 + tile_height <= height and x0 + tile_width <= width
            covered[y0:y0 + tile_height, x0:x0 + tile_width] += 1
        assert covered.min() >= 1
        # Any square of `overlap` pixels lies whole inside some tile.
        for y in range(0, height - overlap + 1, 13):
            for x in range(0, width - overlap + 1, 13):
                assert any(y0 <= y and y + overlap <= y0 + h and x0 <= x and x + overlap <= x0 + w
                           for y0, x0, h, w in tiles), (height, width, y, x)
    with pytest.raises(ValueError, match="max_pixels is too small"):
        faces._tile_grid(1000, 1000, 5_000, 80)


# --- crops and landmarks ---------------------------------------------------------------------

def test_crop_face_is_224_square_and_margin_widens_it(astronaut):
    face = Face(*ASTRONAUT_FACE, 1.0, "hand")
    crop = faces.crop_face(astronaut, face)
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    exact = astronaut[face.y0:face.y1, face.x0:face.x1]
    assert abs(float(crop.mean()) - float(exact.mean())) < 2  # the same pixels, resized
    wide = faces.crop_face(astronaut, face, size=100, margin=0.5)
    assert wide.shape == (100, 100, 3) and abs(float(wide.mean()) - float(crop.mean())) > 1
    assert faces.crop_face(astronaut.mean(axis=2).astype(np.uint8), face).shape == (224, 224, 3)


def test_landmarks_are_68_points_on_the_face(astronaut):
    face = faces.detect_hog(astronaut)[0]
    points = faces.landmarks_68(astronaut, face)
    assert points.shape == (68, 2) and points.dtype == np.float64
    pad_x, pad_y = 0.2 * face.width, 0.2 * face.height
    assert np.all((points[:, 0] > face.x0 - pad_x) & (points[:, 0] < face.x1 + pad_x))
    assert np.all((points[:, 1] > face.y0 - pad_y) & (points[:, 1] < face.y1 + pad_y))
    # iBUG order: points 36-41 are the right eye (left in the photo), 42-47 the left eye.
    assert points[36:42, 0].mean() < points[42:48, 0].mean()
    assert points[36:48, 1].mean() < points[48:68, 1].mean()  # eyes above the mouth


def test_landmarks_on_the_224_crop(astronaut):
    crop = faces.crop_face(astronaut, faces.detect_hog(astronaut)[0])
    points = faces.landmarks_on_crop(crop)
    assert points.shape == (68, 2)
    assert np.all((points > -0.1 * 224) & (points < 1.1 * 224))
    assert points[:, 0].max() - points[:, 0].min() > 0.5 * 224  # spread over the face, not a blob


# --- the dataset runner and its cache ----------------------------------------------------------

def _photo_folder(tmp_path, astronaut):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(astronaut).save(folder / "astronaut.png")
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(folder / "blank.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff this is not a JPEG")
    return [folder / "astronaut.png", folder / "blank.png", folder / "broken.jpg"]


def test_detect_dataset_gives_one_row_per_face_and_skips_bad_files(tmp_path, tmp_cache, astronaut, capsys):
    astro, blank, broken = _photo_folder(tmp_path, astronaut)
    table = faces.detect_dataset([astro, blank, broken], "hog", progress=False)
    assert list(table.columns) == faces.DETECTION_COLUMNS
    assert set(table["path"]) == {str(astro), str(blank)}
    assert "broken.jpg" in capsys.readouterr().out
    assert [p for p, _ in table.attrs["skipped"]] == [str(broken)]
    faceless = table[table["n_faces"] == 0]
    assert list(faceless["path"]) == [str(blank)] and faceless["x0"].isna().all()
    only = faces.faces_only(table)
    assert (only["path"] == str(astro)).all() and only["x0"].notna().all()
    assert best_iou(faces.faces_of(table, astro), ASTRONAUT_FACE) >= 0.5
    written = list((tmp_cache / "detections" / faces.detection_cache_name("hog")).iterdir())
    assert len(written) == 2 and all(p.suffix == ".json" for p in written)  # no temporary files left
    assert json.loads(written[0].read_text())["faces"] is not None


def test_detect_dataset_reads_its_cache_the_second_time(tmp_path, tmp_cache, astronaut, monkeypatch):
    paths = _photo_folder(tmp_path, astronaut)
    first = faces.detect_dataset(paths, "haar", progress=False)

    def no_detecting(*args, **kwargs):
        raise AssertionError("detected again instead of reading the cache")

    monkeypatch.setattr(faces, "detect_faces", no_detecting)
    second = faces.detect_dataset(paths, "haar", progress=False)
    assert second.equals(first)
    with pytest.raises(AssertionError, match="detected again"):  # other settings: another cache
        faces.detect_dataset(paths, "haar", min_neighbors=3, progress=False)


def test_sequential_over_a_dataset_uses_haar_only_where_hog_found_nothing(tmp_path, tmp_cache, astronaut):
    astro, blank, _ = _photo_folder(tmp_path, astronaut)
    table = faces.detect_dataset([astro, blank], "sequential", progress=False)
    assert set(faces.faces_only(table)["found_by"]) == {"hog"}
    haar_cache = list((tmp_cache / "detections").glob("haar-*/*.json"))
    assert len(haar_cache) == 1  # only the blank photo went to Haar
    assert (table["detector"] == "sequential").all()


@contextmanager
def _read_only(folder):
    """``folder`` made read-only: chmod, or for root (whom chmod does not stop) the immutable flag."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        probe = folder / "probe"
        try:
            probe.touch()
        except OSError:
            yield folder
            return
        probe.unlink()
        pytest.skip("cannot make a folder read-only here (root without chattr)")
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_cache_that_cannot_be_written_stops_the_run(tmp_path, tmp_cache, astronaut):
    astro, blank, _ = _photo_folder(tmp_path, astronaut)
    folder = tmp_cache / "detections" / faces.detection_cache_name("hog")
    folder.mkdir(parents=True)
    with _read_only(folder):
        with pytest.raises(OSError):  # not "skipped": the photos are fine, the cache is not
            faces.detect_dataset([astro, blank], "hog", progress=False)
        assert list(folder.iterdir()) == []  # and nothing half-written was left


def test_a_full_disk_stops_the_run(tmp_path, tmp_cache, astronaut, monkeypatch):
    astro, _, _ = _photo_folder(tmp_path, astronaut)

    def disk_full(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(OSError, match="No space"):
        faces.detect_dataset([astro], "hog", progress=False)
    assert list((tmp_cache / "detections").rglob("*")) == [tmp_cache / "detections" / faces.detection_cache_name("hog")]


def test_an_unreadable_photo_is_still_skipped(tmp_path, tmp_cache, astronaut):
    astro, _, _ = _photo_folder(tmp_path, astronaut)
    table = faces.detect_dataset([astro, tmp_path / "gone.jpg"], "hog", progress=False)
    assert [p for p, _ in table.attrs["skipped"]] == [str(tmp_path / "gone.jpg")]


# --- checking against true boxes ---------------------------------------------------------------

def test_iou_and_matching():
    assert faces.iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert faces.iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert faces.iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    truth = [(0, 0, 10, 10), (20, 0, 30, 10)]
    # one hit, one box too far off (IoU 1/3), one box on nothing: 1 hit, 2 false, 1 missed
    assert faces.match_boxes(truth, [(0, 0, 10, 11), (25, 0, 35, 10), (50, 50, 60, 60)]) == (1, 2, 1)
    # two found boxes on one face: only one may claim it
    assert faces.match_boxes(truth[:1], [(0, 0, 10, 10), (0, 0, 10, 9)]) == (1, 1, 0)


def test_the_hand_checked_boxes_file_is_consistent():
    entries = json.loads(datasets.REAL_PHOTOS_JSON.read_text())["photos"]
    assert sum(len(e["boxes"]) for e in entries) == 12
    for entry in entries:
        for x0, y0, x1, y1 in entry["boxes"]:
            assert 0 <= x0 < x1 <= entry["width"] and 0 <= y0 < y1 <= entry["height"]
    astronaut = next(e for e in entries if e["source"] == "scikit-image")
    assert tuple(astronaut["boxes"][0]) == ASTRONAUT_FACE


def test_true_boxes_found_says_which_faces_were_hit():
    truth = [(0, 0, 10, 10), (20, 0, 30, 10), (40, 0, 50, 10)]
    assert faces.true_boxes_found(truth, [(41, 0, 50, 10), (0, 1, 10, 10)]) == [True, False, True]
    assert faces.true_boxes_found(truth, []) == [False, False, False]


def test_true_face_of_each_found_matches_each_box_once():
    import pandas as pd

    truth = pd.DataFrame({"path": ["a", "a", "b"], "x0": [0, 20, 0], "y0": [0, 0, 0], "x1": [10, 30, 10],
                          "y1": [10, 10, 10]}, index=[7, 8, 9])
    # In "a", two found boxes overlap the first true face; the better one takes it. "c" has no truth.
    found = pd.DataFrame({"path": ["a", "a", "a", "c"], "x0": [0, 1, 21, 0], "y0": [3, 0, 0, 0],
                          "x1": [10, 10, 30, 10], "y1": [10, 10, 10, 10]})
    matched = faces.true_face_of_each_found(found, truth)
    assert matched.isna().tolist() == [True, False, False, True]
    assert matched[1] == 7 and matched[2] == 8
