"""Face stage: the detector registry, the detectors, crops, landmarks, the dataset runner and its cache.

The astronaut photo of scikit-image (one frontal face, public domain) is the face that must
be found; its hand-checked box is in data/real_photos/boxes.json.
"""

import errno
import inspect
import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import skimage.data
from PIL import Image

from gle_utils import boxes, config, datasets, faces
from gle_utils.faces import Face

ASTRONAUT_FACE = (175, 70, 265, 168)  # hand-checked, as in data/real_photos/boxes.json
HEAD_FACE = (75, 70, 165, 168)  # the same face in the `head` fixture
FAST_DETECTORS = ("hog", "haar", "sequential")


@pytest.fixture(scope="module")
def astronaut():
    return skimage.data.astronaut()


@pytest.fixture(scope="module")
def head(astronaut):
    """The top middle 256x256 of the astronaut photo, her face whole inside (at HEAD_FACE)."""
    return astronaut[:256, 100:356]


@pytest.fixture(scope="module")
def small_astronaut(astronaut):
    """The astronaut shrunk to 230x230, her face to about 44 pixels, and that face's true box."""
    small = cv2.resize(astronaut, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    return small, tuple(0.45 * v for v in ASTRONAUT_FACE)


@pytest.fixture(scope="module")
def mmod_on_small(small_astronaut):
    """What MMOD with its defaults finds in ``small_astronaut`` (one pass: 212k pixels upsampled)."""
    return faces.detect_mmod(small_astronaut[0])


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
    return max((boxes.iou(face.box, box) for face in found), default=0.0)


# --- the registry -----------------------------------------------------------------------------

@pytest.mark.parametrize("entry", list(faces.FACE_DETECTORS), ids=lambda entry: entry.name)
def test_every_registered_detector_says_what_it_is_and_has_settings(entry):
    assert entry.label and entry.about and entry.paper
    assert entry.weights is not None or entry.name == "sequential"  # it runs hog's and haar's
    assert entry.part.models and all(callable(load) for load in entry.part.models)
    image, *settings = inspect.signature(entry.part).parameters.values()
    assert image.default is inspect.Parameter.empty and settings  # a photo, then its settings
    assert faces.detector_settings(entry.name) == {p.name: p.default for p in settings}


def test_the_detectors_names_come_from_the_registry():
    assert faces.DETECTORS == tuple(entry.name for entry in faces.FACE_DETECTORS)
    assert [row["name"] for row in faces.FACE_DETECTORS.describe()] == list(faces.DETECTORS)
    assert faces.FACE_DETECTORS["mmod"].paper == faces.FACE_DETECTORS["mtcnn"].paper  # the Tiny Faces stand-ins


def test_the_cache_names_of_the_detectors_are_those_the_caches_were_written_under():
    """Every cache on disk is keyed by these names: a new default or version would silently recompute."""
    assert [faces.detection_cache_name(name) for name in faces.DETECTORS] == [
        "hog-upsample=1-v2", "haar-min_neighbors=4-scale_factor=1.3-v2", "sequential-upsample=1-v2",
        "mmod-max_pixels=600000-max_side=1024-upsample=1-v2", "mtcnn-min_face_size=20-threshold=0.8-v2"]
    assert faces.detection_cache_name("hog", upsample=2) == "hog-upsample=2-v2"


def test_an_unknown_detector_is_refused_with_the_names_to_choose_from(astronaut):
    message = f"unknown detector 'tinyfaces'; choose one of {faces.DETECTORS}"
    for call in (lambda: faces.detect_faces(astronaut, "tinyfaces"), lambda: faces.detector_settings("tinyfaces"),
                 lambda: faces.load_detector("tinyfaces"), lambda: faces.detect_dataset([], "tinyfaces")):
        with pytest.raises(ValueError) as error:
            call()
        assert str(error.value) == message


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


def test_boxes_are_rounded_and_clipped_to_the_image():
    raw = [(-20, -5, 50, 40, 1), (50, 50, 60, 60, 2.0), (9.6, 0.4, 20.2, 9.5, 3.0), (5, 5, 5.2, 9, 4.0)]
    # past the edges: clipped; wholly outside: dropped; fractions: rounded; less than a pixel wide: dropped
    assert faces.clip_to_image(raw, "x", (30, 40, 3)) == [Face(0, 0, 40, 30, 1.0, "x"), Face(10, 0, 20, 10, 3.0, "x")]


def test_bad_input_gives_a_clear_error(astronaut):
    with pytest.raises(ValueError, match="uint8"):
        faces.detect_hog(astronaut / 255.0)
    with pytest.raises(ValueError, match="shape"):
        faces.detect_hog(np.zeros((10, 10, 4), np.uint8))
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


def test_faces_come_in_reading_order_whatever_order_the_detector_gives(astronaut):
    """OpenCV's Haar cascade gathers candidates from several threads, so its order is not fixed
    (a CI machine once gave two faces swapped, and every per-face forest changed)."""
    face = astronaut[40:200, 140:300]
    shaded = [(face * k).astype(np.uint8) for k in (0.8, 0.65, 1.0, 0.5)]
    grid = np.concatenate([np.concatenate(shaded[:2], axis=1), np.concatenate(shaded[2:], axis=1)])  # 2x2 faces
    by_score = [f.box for f in faces.detect_hog(grid)]  # dlib's order: bottom left first
    assert len(by_score) == 4 and by_score != sorted(by_score)  # else this test shows nothing
    # Left column top to bottom, then the right column.
    assert [f.box[:2] for f in faces.detect_faces(grid, "hog")] == [(36, 36), (36, 196), (195, 36), (195, 196)]


def test_the_cnn_detectors_find_the_astronauts_face(astronaut, head):
    found = faces.detect_faces(astronaut, "mtcnn")
    assert best_iou(found, ASTRONAUT_FACE) >= 0.5
    assert_inside(found, astronaut)
    # MMOD on her head only, and not upsampled (her face is large, 98 px): a fraction of the time.
    found = faces.detect_faces(head, "mmod", upsample=0)
    assert best_iou(found, HEAD_FACE) >= 0.5
    assert_inside(found, head)
    half = astronaut[:, 220:]  # half the face off the edge: MTCNN still finds it
    found = faces.detect_mtcnn(half)
    assert found and found[0].x0 == 0
    assert_inside(found, half)
    assert faces.detect_mmod(np.zeros((8, 8), np.uint8)) == []  # too small for dlib's filters: no error


def test_compiled_mtcnn_gives_the_packages_boxes_bit_for_bit(astronaut, head):
    """faces compiles MTCNN's three networks into graphs for speed; the package's own eager
    MTCNN must find exactly the same boxes, scores and keypoints, on photos of several sizes."""
    from mtcnn import MTCNN

    eager = MTCNN()
    for image in (astronaut, head, astronaut[:, 220:], astronaut[::2, ::2]):
        settings = {"box_format": "xyxy", "output_type": "numpy", "min_face_size": 20, "threshold_onet": 0.8}
        np.testing.assert_array_equal(faces._mtcnn_model().detect_faces(image, **settings),
                                      eager.detect_faces(image, **settings))


def test_mmods_defaults_find_a_small_face_that_its_old_defaults_missed(small_astronaut, mmod_on_small):
    small, box = small_astronaut
    assert best_iou(mmod_on_small, box) >= 0.5
    assert best_iou(faces.detect_mmod(small, upsample=0, max_side=800), box) < 0.5


@pytest.mark.parametrize("detector", ["mtcnn"])  # "mmod" takes the same path, at 10x the time
def test_the_cnn_detectors_are_chosen_by_name_over_a_dataset(tmp_path, tmp_cache, astronaut, detector):
    astro, blank, _ = _photo_folder(tmp_path, astronaut)
    table = faces.detect_dataset([astro, blank], detector, progress=False)
    assert best_iou(faces.faces_of(table, astro), ASTRONAUT_FACE) >= 0.5
    assert (table["detector"] == detector).all() and table.attrs["skipped"] == []
    assert len(list((tmp_cache / "detections" / faces.detection_cache_name(detector)).iterdir())) == 2


def test_mmod_shrinks_large_images_and_scales_boxes_back(head):
    big = np.kron(head, np.ones((2, 2, 1), np.uint8))  # 512x512, the face at twice the size
    found = faces.detect_mmod(big, upsample=0, max_side=256)  # no upsampling: the face is large
    assert best_iou(found, tuple(2 * v for v in HEAD_FACE)) >= 0.5


def test_mmod_in_tiles_finds_the_face_of_one_pass(small_astronaut, mmod_on_small):
    small, box = small_astronaut
    tiled = faces.detect_mmod(small, max_pixels=100_000)  # pass 1, then four tiles of 156x156, upsampled
    assert best_iou(tiled, box) >= 0.5
    # The same face; its box may differ by one step of dlib's scale pyramid, which depends on the tile's size.
    assert len(tiled) == len(mmod_on_small) == 1 and boxes.iou(tiled[0].box, mmod_on_small[0].box) >= 0.5


def test_mmod_in_tiles_never_hands_dlib_more_than_max_pixels_and_keeps_each_face_once():
    """A stand-in for dlib: it "finds" each white square of the image it is handed, cut where the
    image ends, and only squares of 80 pixels or more once upsampled (as MMOD)."""
    handed = []

    def fake_mmod(image, upsample):
        handed.append(image.shape[0] * image.shape[1] * 4 ** upsample)
        n, _, stats, _ = cv2.connectedComponentsWithStats((image[..., 0] > 0).astype(np.uint8))
        return [((x, y, x + w, y + h), 1.0 + 0.01 * w) for x, y, w, h, _ in stats[1:n]
                if max(w, h) * 2 ** upsample >= faces.MMOD_SMALLEST_FACE]

    # A 900x600 image, upsampled once 2.16 M pixels: pass 1 (540k, finds the large square), then
    # 6 tiles of 341x355 (484k upsampled) in 2 rows (y 0-341, 259-600) and 3 columns
    # (x 0-355, 272-627, 545-900).
    image = np.zeros((600, 900, 3), np.uint8)
    squares = [(290, 250, 340, 300), (500, 100, 700, 300), (530, 520, 580, 570)]  # 50, 200, 50 px
    for x0, y0, x1, y1 in squares:
        image[y0:y1, x0:x1] = 255
    assert len(faces.tile_grid(600, 900, 600_000 // 4, faces.MMOD_SMALLEST_FACE)) == 6
    found = faces.mmod_in_tiles(image, 1, 600_000, fake_mmod)
    # Each square once, whole: the pieces that tiles cut off are dropped, the repeats merged.
    assert sorted(box for box, _ in found) == sorted(squares)
    assert len(handed) == 7 and max(handed) <= 600_000
    # A smaller budget: pass 1 too is shrunk (to 400k pixels), and the tiles overlap more.
    handed.clear()
    found = faces.mmod_in_tiles(image, 1, 400_000, fake_mmod)
    assert len(found) == 3 and all(max(boxes.iou(box, square) for box, _ in found) > 0.95 for square in squares)
    assert max(handed) <= 400_000


def test_the_tile_grid_covers_the_image_with_overlapping_tiles():
    for height, width, tile_pixels, overlap in ((709, 1024, 187_500, 80), (512, 512, 187_500, 80),
                                                (100, 3000, 40_000, 80), (1000, 1000, 60_000, 130)):
        tiles = faces.tile_grid(height, width, tile_pixels, overlap)
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
        faces.tile_grid(1000, 1000, 5_000, 80)


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


def _demo_photos(n: int) -> list[Path]:
    """The first n photos of the demo set (built on first use)."""
    root = datasets.dataset_root("demo")
    return [root / path for path in pd.read_csv(root / "photos.csv").path[:n]]


@pytest.mark.parametrize("detector", ["sequential", "mtcnn"])
def test_detection_on_two_cores_gives_the_table_of_one_core_photo_for_photo(tmp_path, monkeypatch, detector):
    photos = _demo_photos(10)  # 5 a worker: enough that the two workers are used
    tables, written = [], []
    for n_jobs in (1, 2):
        monkeypatch.setattr(config, "CACHE_DIR", tmp_path / f"cache{n_jobs}")  # an empty cache each
        tables.append(faces.detect_dataset(photos, detector, progress=False, n_jobs=n_jobs))
        written.append(sorted(p.relative_to(config.CACHE_DIR) for p in config.CACHE_DIR.rglob("*") if p.is_file()))
    one, two = tables
    assert list(dict.fromkeys(one["path"])) == [str(p) for p in photos]  # in the order asked for
    # The same rows in the same order; only the measured seconds differ from run to run.
    pd.testing.assert_frame_equal(one.drop(columns="seconds"), two.drop(columns="seconds"))
    assert written[0] == written[1] and all(p.suffix == ".json" for p in written[0])  # the workers wrote them


def test_a_few_photos_are_detected_in_this_process(tmp_path, tmp_cache, astronaut, monkeypatch):
    astro, blank, _ = _photo_folder(tmp_path, astronaut)
    monkeypatch.setattr(faces, "Parallel", None)  # starting worker processes would fail
    table = faces.detect_dataset([astro, blank], "hog", progress=False, n_jobs=2)
    assert best_iou(faces.faces_of(table, astro), ASTRONAUT_FACE) >= 0.5
    with pytest.raises(ValueError, match="n_jobs=0"):
        faces.detect_dataset([astro], "haar", progress=False, n_jobs=0)


def test_mtcnn_stays_in_this_process_unless_n_jobs_is_given(tmp_path, monkeypatch, capsys):
    """MTCNN's TensorFlow already uses every core: by default no worker processes are started,
    while "haar" (one thread) gets them. (The detections are not what is tested here: each
    photo is answered as unreadable, at once.)"""
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(faces, "Parallel", None)  # starting worker processes would fail
    monkeypatch.setattr(faces, "cpu_count", lambda: 2)  # two cores, whatever LOKY_MAX_CPU_COUNT says
    monkeypatch.setattr(faces, "_record_or_error",  # none cached; each detection answers at once
                        lambda path, *_, detect=True: f"{path}: not read in this test" if detect else None)
    photos = [tmp_path / f"photo{i}.jpg" for i in range(8)]
    faces.detect_dataset(photos, "mtcnn", progress=False)
    assert "not read in this test" in capsys.readouterr().out
    for detector, n_jobs in (("mtcnn", 2), ("haar", None)):
        with pytest.raises(TypeError):  # workers asked for (or the default): it tries to start them
            faces.detect_dataset(photos, detector, progress=False, n_jobs=n_jobs)


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


# --- the true boxes -----------------------------------------------------------------------------

def test_the_hand_checked_boxes_file_is_consistent():
    entries = json.loads(datasets.REAL_PHOTOS_JSON.read_text())["photos"]
    assert sum(len(e["boxes"]) for e in entries) == 12
    for entry in entries:
        for x0, y0, x1, y1 in entry["boxes"]:
            assert 0 <= x0 < x1 <= entry["width"] and 0 <= y0 < y1 <= entry["height"]
    astronaut = next(e for e in entries if e["source"] == "scikit-image")
    assert tuple(astronaut["boxes"][0]) == ASTRONAUT_FACE
