"""The course website (``make site``, gle_utils.site) checked in a real browser; the citation file,
the changelog and the version.

The site is built once for this file, into a temporary folder, with every connection to another
machine refused (a fetch at build time fails the test). A local server on 127.0.0.1 serves it, and
headless Chromium (Debian's package ``chromium``, driven over the Chrome DevTools protocol with
websocket-client; nothing is downloaded) opens the landing page and two notebook pages. Each must
render (a screenshot that is not blank), show its title, show every image (naturalWidth > 0), give
every notebook figure a caption, fetch nothing from another host and show no traceback. The whole
site is crawled along its own links (``site.check_site``): files and #anchors, alt texts,
tracebacks.
"""

import base64
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from urllib.request import urlopen

import nbformat
import pytest
from PIL import Image

import gle_utils
from gle_utils import site
from gle_utils.config import CACHE_DIR, REPO_ROOT, REPOSITORY

# Debian's Chromium; tests/test_site.py needs it (`make browser` installs it, as root).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL_HINT = "install Debian's chromium package: `make browser` (as root), or `sudo apt-get install chromium`"
# The pages opened in the browser: the landing page and two notebooks with many figures.
BROWSER_PAGES = ["index.html", "notebooks/02_face_detection.html", "notebooks/07_weighted_ensemble.html"]
# cffconvert (the CITATION.cff checker) needs jsonschema < 4, older than the project's: it is
# installed apart, into the cache, and run without the project's packages.
CFFCONVERT = "cffconvert==2.0.0"


# ---------------------------------------------------------------------------------------------
# The build, offline
# ---------------------------------------------------------------------------------------------

def _is_local(host) -> bool:
    return str(host) in ("localhost", "::1", "") or str(host).startswith("127.")


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """The site, built once for this file with every connection to another host refused."""
    attempts = []
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        if isinstance(address, tuple) and not _is_local(address[0]):
            attempts.append(address)
            raise OSError(f"the site's build tried to reach {address}")
        return real_connect(sock, address)

    def lookup(host, *args, **kwargs):
        if not _is_local(host):
            attempts.append(host)
            raise socket.gaierror(f"the site's build tried to look up {host}")
        return real_lookup(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket, "getaddrinfo", lookup)
        built = site.build_site(tmp_path_factory.mktemp("site"))
    assert attempts == [], f"the build reached for the network: {attempts}"
    return built


@pytest.fixture(scope="module")
def server(html):
    """The site served on 127.0.0.1 (a free port); yields its base URL."""
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(html)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


# ---------------------------------------------------------------------------------------------
# Headless Chromium over the DevTools protocol
# ---------------------------------------------------------------------------------------------

class Chromium:
    """Headless Chromium with one tab, driven over the Chrome DevTools protocol: JSON messages on a
    websocket (https://chromedevtools.github.io/devtools-protocol/). Every host but 127.0.0.1
    resolves to nothing, so a page that needs another site shows it."""

    def __init__(self, executable: str, profile: Path):
        import websocket  # websocket-client

        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--window-size=1280,900",
             "--disable-dev-shm-usage",  # a container's small /dev/shm would crash the renderer
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"  # Chromium writes the port it chose here
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError(f"{executable} did not start its DevTools server")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        tabs = json.load(urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        tab = next(t for t in tabs if t["type"] == "page")
        self.socket = websocket.create_connection(tab["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.events, self.last_id = [], 0
        self.call("Page.enable")
        self.call("Network.enable")

    def call(self, method: str, **params):
        """Send one command and return its result; the events that arrive meanwhile are kept."""
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def open(self, url: str) -> None:
        """Go to ``url`` and wait for its load event (images, scripts and styles loaded)."""
        self.events = []
        self.call("Page.navigate", url=url)
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            self.events.append(json.loads(self.socket.recv()))

    def requested(self) -> list[str]:
        """The URLs the page asked for since it was opened."""
        return [event["params"]["request"]["url"] for event in self.events
                if event.get("method") == "Network.requestWillBeSent"]

    def evaluate(self, script: str):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.call("Runtime.evaluate", expression=script, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page's script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self) -> Image.Image:
        return Image.open(io.BytesIO(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])))

    def close(self) -> None:
        if getattr(self, "socket", None):
            self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail(f"the site's browser test needs headless Chromium, which is not installed: {INSTALL_HINT}")
    chromium = Chromium(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


# What the page shows, read once it has loaded: every image decoded (lazy ones too), the figures
# of notebook cells without a caption, the title and the text.
PAGE_REPORT = """(async () => {
  const images = [...document.images];
  for (const image of images) image.loading = "eager";
  await Promise.all(images.map(image => image.decode().catch(() => null)));
  return {
    images: images.map(image => ({src: image.currentSrc || image.src, width: image.naturalWidth,
                                  alt: image.getAttribute("alt")})),
    uncaptioned: [...document.querySelectorAll(".cell_output img")]
      .filter(image => !image.closest("figure")?.querySelector("figcaption")).map(image => image.src),
    heading: document.querySelector("h1")?.innerText ?? "",
    text: document.body.innerText,
  };
})()"""


def _plain(text: str) -> str:
    """``text`` with the typographic quotes that Sphinx writes (smartquotes) as typed."""
    return text.translate(str.maketrans("‘’“”", "''\"\""))


def _page_title(page: str) -> str:
    """The first "# " heading of the notebook (or the README, for the landing page) behind a page."""
    source = REPO_ROOT / ("README.md" if page == "index.html" else page.replace(".html", ".ipynb"))
    text = source.read_text() if source.suffix == ".md" else "\n".join(
        cell.source for cell in nbformat.read(source, as_version=4).cells if cell.cell_type == "markdown"
        and "navigation" not in cell.metadata.get("tags", []))
    return re.search(r"^# (.+)$", text, re.M).group(1).strip()


@pytest.mark.parametrize("page", BROWSER_PAGES)
def test_a_page_renders_in_chromium_with_every_image_and_nothing_from_another_host(page, server, browser):
    browser.open(server + page)
    report = browser.evaluate(PAGE_REPORT)
    shot = browser.screenshot().convert("L")
    darkest, lightest = shot.getextrema()
    assert lightest - darkest > 100, f"{page}: the screenshot is blank (grey levels {darkest}-{lightest})"
    assert _plain(report["heading"]).rstrip("#").strip() == _page_title(page), f"{page}: its title is not shown"
    broken = [image["src"] for image in report["images"] if image["width"] == 0]
    assert broken == [], f"{page}: images that did not load: {broken}"
    assert page == "index.html" or report["images"], f"{page}: no figure shown"
    assert report["uncaptioned"] == [], f"{page}: figures without a caption: {report['uncaptioned']}"
    elsewhere = [url for url in browser.requested() if not url.startswith(server) and not url.startswith("data:")]
    assert elsewhere == [], f"{page}: asked another host for {elsewhere}"
    assert site.TRACEBACK not in report["text"], f"{page}: shows a raw traceback"


def test_every_link_of_the_site_leads_to_a_page_and_an_anchor_and_every_image_has_an_alt_text(html):
    problems = site.check_site(html)
    assert problems == [], "\n".join(problems)
    reached = {path.relative_to(html).as_posix() for path in html.rglob("notebooks/*.html")}
    wanted = {f"notebooks/{page.with_suffix('.html').name}" for page in site.course_pages()}
    assert reached == wanted, "the book's pages are not the course's"


def test_the_book_follows_the_course_and_leaves_out_the_student_versions_and_the_answers(html):
    listed = re.findall(r"file: notebooks/(\S+)", (html.parent / "source" / "_toc.yml").read_text())
    assert listed == [page.stem for page in site.course_pages()]
    numbered = [name for name in listed if name[:2].isdigit()]
    assert listed[-1] == "glossary" and listed[-2] == numbered[-1] == "09_what_the_series_showed", listed
    assert listed[:-2] == numbered[:-1] + [name for name in listed if name.startswith("A")], "01-08, then A1"
    assert not list(html.rglob("*student*")) and not list(html.rglob("*answers*"))


def test_the_launch_buttons_are_made_from_the_repository_setting(html):
    page = (html / "notebooks" / "02_face_detection.html").read_text()
    assert f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/02_face_detection.ipynb" in page
    assert f"https://mybinder.org/v2/gh/{REPOSITORY}/main?urlpath=lab/tree/notebooks/02_face_detection.ipynb" in page


# ---------------------------------------------------------------------------------------------
# Bad input: the table of contents and the folder disagree; a figure without a caption
# ---------------------------------------------------------------------------------------------

def test_a_notebook_left_out_of_the_table_of_contents_fails_with_its_name(tmp_path):
    for name in ("01_a.ipynb", "extra.ipynb", "glossary.md"):
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / name) if name.endswith(".ipynb") \
            else (tmp_path / name).write_text("# Glossary\n")
    with pytest.raises(ValueError, match=r"extra\.ipynb: in .* but not in the table of contents"):
        site.course_pages(tmp_path)


def test_a_page_listed_but_missing_on_disk_fails_with_its_name(tmp_path):
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "01_a.ipynb")
    with pytest.raises(ValueError, match=r"glossary\.md: listed in the table of contents, missing on disk"):
        site.course_pages(tmp_path)


def test_a_figure_without_a_caption_fails_with_the_notebook_and_the_cell(tmp_path):
    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    cells = [nbformat.v4.new_code_cell('plots.save_fig("01_class_shares", fig)', outputs=[png]),
             nbformat.v4.new_code_cell("plt.plot([1, 2])", outputs=[png])]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "01_a.ipynb")
    with pytest.raises(ValueError, match=r"01_a\.ipynb, cell 1: a figure without a caption"):
        site.book_notebook(tmp_path / "01_a.ipynb")
    cells[1].metadata["mystnb"] = {"figure": {"caption": "A line"}}
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "01_a.ipynb")
    shown = site.book_notebook(tmp_path / "01_a.ipynb").cells
    assert shown[0].metadata.mystnb == {"figure": {"caption": "Class shares (figures/01_class_shares.png)"},
                                        "image": {"alt": "Class shares"}}
    assert shown[1].metadata.mystnb["image"] == {"alt": "A line"}


def test_a_broken_link_fails_with_the_page_and_the_link(tmp_path):
    (tmp_path / "index.html").write_text('<a href="notebooks/a.html">A</a>')
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "a.html").write_text('<a href="../index.html#nowhere">home</a> <a href="b.html">B</a>')
    assert site.check_site(tmp_path) == ["notebooks/a.html: link ../index.html#nowhere (no id 'nowhere' in index.html)",
                                         "notebooks/a.html: link b.html (no such file)"]


# ---------------------------------------------------------------------------------------------
# Alt texts, citation, changelog, version
# ---------------------------------------------------------------------------------------------

def test_every_image_of_the_readme_has_an_alt_text():
    readme = (REPO_ROOT / "README.md").read_text()
    empty = re.findall(r"!\[\s*\]\(([^)]*)\)", readme) + re.findall(r"<img(?![^>]*\balt=\"[^\"]+\")[^>]*>", readme)
    assert empty == [], f"README images without an alt text: {empty}"


def test_the_version_is_written_once_in_pyproject_and_the_changelog_describes_it():
    wanted = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert gle_utils.__version__ == version("gle-utils") == wanted, (
        "the installed metadata is older than pyproject.toml: run `make setup`")
    assert not re.search(r"__version__\s*=\s*[\"']\d", (REPO_ROOT / "gle_utils" / "__init__.py").read_text()), (
        "gle_utils/__init__.py writes a version number: it reads pyproject.toml's from the metadata")
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[?{re.escape(wanted)}\]?", changelog, re.M), f"CHANGELOG.md has no section for {wanted}"
    citation = (REPO_ROOT / "CITATION.cff").read_text()
    assert re.search(rf"^version: \"?{re.escape(wanted)}\"?$", citation, re.M), "CITATION.cff names another version"
    assert f"repository-code: \"https://github.com/{REPOSITORY}\"" in citation, (
        "CITATION.cff's repository-code is not config.REPOSITORY's")


def _cffconvert() -> list[str]:
    """The command that runs cffconvert, installed once into the cache (its own folder, run with
    python -S so that none of the project's packages is seen)."""
    target = CACHE_DIR / "tools" / CFFCONVERT.replace("==", "-")
    if not (target / ".installed").is_file():
        shutil.rmtree(target, ignore_errors=True)
        # (--no-warn-conflicts: pip would compare the folder with the project's own packages)
        installed = subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q",
                                    "--no-warn-conflicts", "--target", str(target), CFFCONVERT],
                                   capture_output=True, text=True)
        assert installed.returncode == 0, f"pip could not install {CFFCONVERT}:\n{installed.stderr}"
        (target / ".installed").write_text(CFFCONVERT + "\n")
    return [sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); "
            "from cffconvert.cli.cli import cli; sys.exit(cli())"]


def test_citation_cff_passes_cffconvert_validate():
    result = subprocess.run(_cffconvert() + ["--validate", "--infile", str(REPO_ROOT / "CITATION.cff")],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 0, (result.stdout + result.stderr)[:2000]  # (the schema follows the error)
    assert "valid according to schema" in result.stdout, result.stdout
