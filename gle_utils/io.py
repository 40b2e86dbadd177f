"""One image reader for the whole project.

``read_image(path)`` turns any image file a user might have into the same thing: an
RGB ``uint8`` array of shape (height, width, 3), upright (EXIF orientation applied), no
larger than ``MAX_SIDE`` pixels on its longest side. Whatever goes wrong, it raises one
error type, ``ImageReadError``, with the file name and the reason. ``check_image(path)`` runs
the same checks without keeping the pixels (``datasets.load_gaf`` uses it to list bad files).

Files the project writes go through ``atomic_path`` (never half-written); a saved scikit-learn
model is read back with ``load_skops``, which unpickles nothing and trusts only ``TRUSTED_TYPES``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "MAX_SIDE", "TRUSTED_TYPES", "ImageReadError", "as_rgb_array",
           "atomic_path", "check_image", "file_digest", "is_image_name", "load_skops", "read_image",
           "resize_longest_side"]

# Images are shrunk (keeping their aspect ratio) so that the longest side is at most this.
# GAF photos are at most a few thousand pixels wide; 2048 keeps faces of 20 px and more
# detectable while bounding the memory of one image to 12 MB.
MAX_SIDE = 2048

# A file whose header claims more pixels than this is refused before it is decoded
# (a "decompression bomb": a tiny file that would expand to gigabytes of memory).
# This is the limit that applies: Pillow's own check warns above Image.MAX_IMAGE_PIXELS
# (89,478,485) and raises above twice that; read_image silences the warning, so files between
# the two are judged by MAX_PIXELS, and anything Pillow refuses is above MAX_PIXELS anyway.
MAX_PIXELS = 100_000_000
assert MAX_PIXELS < 2 * (Image.MAX_IMAGE_PIXELS or float("inf")), "Pillow would refuse first"

# The file names a folder scan takes for images (``is_image_name``: datasets.load_gaf, predict on a
# folder): the formats read_image reads, each one checked by tests/test_io.py. A file named
# otherwise is still read when it is named directly; in a folder it is listed as skipped.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".avif", ".ico")


class ImageReadError(Exception):
    """A file that cannot be read as an image: missing, empty, truncated, not an image, too big."""


def _to_rgb_uint8(img: Image.Image) -> np.ndarray:
    """Any Pillow mode -> RGB uint8. Transparency is laid over white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and 32-bit greyscale: stretch the file's own range onto 0..255.
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or values.max() > 255 else 255.0
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


@contextmanager
def _opened(path: Path):
    """The file opened by Pillow after the checks every reader needs; any failure becomes an
    ``ImageReadError`` that names the file and the reason."""
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow's warning sits below MAX_PIXELS: our own check below is the one that applies.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ImageReadError(
                        f"{path}: its header claims {width}x{height} pixels, more than "
                        f"MAX_PIXELS={MAX_PIXELS:,}; refused as a possible decompression bomb")
                if width < 1 or height < 1:
                    raise ImageReadError(f"{path}: the image has no pixels ({width}x{height})")
                yield img
    except ImageReadError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageReadError(f"{path}: more than MAX_PIXELS={MAX_PIXELS:,} pixels; refused as a possible "
                             f"decompression bomb ({error})") from error
    except UnidentifiedImageError as error:
        raise ImageReadError(f"{path}: not a readable image ({error})") from error
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as error:
        raise ImageReadError(f"{path}: the image data is damaged or truncated ({error})") from error


def read_image(path: str | Path, max_side: int = MAX_SIDE) -> np.ndarray:
    """Read an image file as an upright RGB uint8 array, longest side at most ``max_side``.

    Handles every format of ``IMAGE_SUFFIXES`` (JPEG, PNG, BMP, GIF, TIFF, WebP, AVIF, ICO) and
    whatever else Pillow opens; greyscale, RGBA, palette, CMYK and 16-bit images;
    EXIF orientation. Raises ``ImageReadError`` for anything that is not a readable image
    (missing, empty, truncated, not an image, more than ``MAX_PIXELS`` pixels).
    """
    path = Path(path)
    with _opened(path) as img:
        # For big JPEGs, let the decoder shrink by a power of two while decoding.
        if max(img.size) > 2 * max_side:
            img.draft("RGB", (max_side, max_side))
        img.load()
        img = ImageOps.exif_transpose(img)
        if max(img.size) > max_side:
            scale = max_side / max(img.size)
            new_size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
            img = img.resize(new_size, Image.Resampling.LANCZOS)
        return _to_rgb_uint8(img)


def check_image(path: str | Path) -> None:
    """Raise ``ImageReadError`` when ``read_image(path)`` would; return None otherwise.

    Decodes the whole file (a truncated JPEG is only found by reading to its end), but JPEGs
    at an eighth of their size, so checking a folder costs a fraction of reading it.
    """
    path = Path(path)
    with _opened(path) as img:
        img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
        img.load()


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes (read in 1 MB blocks): what caches are keyed by."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_image_name(path: str | Path) -> bool:
    """True when the file name ends with one of ``IMAGE_SUFFIXES`` (in any case)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def resize_longest_side(image: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink (never enlarge) so that the longest side is at most ``max_side``, keeping the
    aspect ratio (area interpolation, which averages rather than skips pixels)."""
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def as_rgb_array(image) -> np.ndarray:
    """An image array as the detectors and networks want it: RGB uint8 (H, W, 3), contiguous.

    Greyscale (H, W) or (H, W, 1) is repeated over three channels. Anything else (floats,
    four channels, a vector) is refused with a ValueError that says what to pass instead.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image (values 0..255), got dtype {image.dtype}; "
                         "io.read_image() gives the right kind")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB (H, W, 3) or greyscale (H, W) image, got shape {image.shape}")
    return np.ascontiguousarray(image)


@contextmanager
def atomic_path(path: str | Path):
    """Write a file or folder under a temporary name, then move it into place in one step.

        with atomic_path(target) as tmp:
            np.save(tmp, array)          # or tmp.mkdir() and fill a folder

    A reader never sees half of it: if the block fails, the temporary is removed and
    ``path`` is left as it was; errors (disk full, no permission) are raised, never hidden.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        if path.is_dir() and tmp.is_dir():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


# The types a saved scikit-learn model may hold beyond what skops trusts by default: the only
# ones ``load_skops`` accepts (a file that needs any other type is refused, not loaded). The
# trees of a forest, and the Platt scaling of the CENTRIST baseline's SVM.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree", "sklearn.calibration._CalibratedClassifier",
                 "sklearn.calibration._SigmoidCalibration"]


def load_skops(path: str | Path):
    """A scikit-learn model saved with ``skops.io.dump``, trusting only skops's defaults and
    ``TRUSTED_TYPES``; a file that needs anything else is refused with the types it asked for."""
    import skops.io  # imported here: it loads scikit-learn, seconds that reading a photo does not need

    untrusted = [t for t in skops.io.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise ValueError(f"{path}: refused, it holds types that are not trusted: {untrusted}")
    return skops.io.load(path, trusted=TRUSTED_TYPES)
