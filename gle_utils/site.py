"""The course's website: a Jupyter Book of the committed, executed notebooks (none is run again).

    make site                       # or: .venv/bin/python tools/build_site.py
    # -> _build/html/index.html

The book's source is written afresh into ``_build/source/`` at each build, from what the
repository already holds, so that nothing is listed or set twice:

- its table of contents is ``course_pages()``: ``config.notebook_paths()`` (the list that
  tools/navigation.py links), with the closing notebook, the one that reads the others' saved
  outputs (it has a ``runner.READS_OUTPUTS`` parameter: 09), moved after the appendices, then
  ``notebooks/glossary.md``;
- its landing page is the README's front matter (``front_matter``);
- its Binder and Colab launch buttons are made from ``config.REPOSITORY``, the setting the
  badges are made from (``book_config``);
- each notebook is copied with its navigation and Colab-setup cells hidden (the book has its own
  previous/next links and launch buttons), and each figure gets a caption and an alt text
  (``figure_caption``).

The student versions (notebooks/student/) and the model answers (notebooks/answers/) stay out.
The build needs no network: no notebook is executed, no inventory, theme or template is fetched.
"""

import posixpath
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import yaml

from .config import NOTEBOOKS_DIR, REPO_ROOT, REPOSITORY, notebook_paths
from .runner import READS_OUTPUTS, parameter_names

__all__ = ["BUILD_DIR", "GLOSSARY", "HIDDEN_TAGS", "TRACEBACK", "book_config", "book_notebook", "build_site",
           "check_pages", "check_site", "course_pages", "figure_caption", "front_matter", "table_of_contents",
           "write_source"]

# Where `make site` writes: the book's source in source/, the website in html/ (git-ignored).
BUILD_DIR = REPO_ROOT / "_build"
# The last page of the book, after the notebooks.
GLOSSARY = "glossary.md"
# Cells the book hides: the notebooks' own navigation (the book has its previous/next links and
# launch buttons) and the Colab setup cell (it does nothing outside Colab).
HIDDEN_TAGS = ("navigation", "colab-setup")

# What Python prints above a traceback: a page that shows it shows an error, not a result.
TRACEBACK = "Traceback (most recent call last)"

# plots.save_fig("02_accuracy_by_face_size", fig): the name a figure is saved under.
_SAVED_AS = re.compile(r"save_fig\(\s*[\"']([^\"']+)[\"']")
# A badge: [![alt](image on another site)](link).
_BADGE = re.compile(r"\[!\[([^\]]*)\]\([^)]*\)\]\(([^)]*)\)")
# Words of a figure's name written as a reader writes them.
_WORDS = {"rgb": "RGB", "bgr": "BGR", "pca": "PCA", "table2": "Table 2"}


def course_pages(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The book's pages in the course's order.

    The notebooks of ``config.notebook_paths()`` (the numbered ones, then the appendices), with
    the closing notebook, one with a ``runner.READS_OUTPUTS`` parameter (09), moved after the
    appendices, then the glossary: 01-08, A1, 09, glossary.md.

    Parameters
    ----------
    folder : the course's notebooks.

    Raises
    ------
    ValueError : when the pages and the folder disagree (``check_pages``), naming each file.
    """
    notebooks = notebook_paths(Path(folder))
    closing = [path for path in notebooks if READS_OUTPUTS in parameter_names(path)]
    pages = [path for path in notebooks if path not in closing] + closing + [Path(folder) / GLOSSARY]
    check_pages(pages, folder)
    return pages


def check_pages(pages: list[Path], folder: Path = NOTEBOOKS_DIR) -> None:
    """Raise ValueError, naming each file, if a page is missing on disk or a notebook of ``folder``
    (its own files, not student/ or answers/) is not among the pages.

    >>> check_pages([Path("no/such/01_a.ipynb")], Path("no/such"))
    Traceback (most recent call last):
    ...
    ValueError: the book's table of contents and no/such disagree:
      01_a.ipynb: listed in the table of contents, missing on disk
    """
    missing = [f"{path.name}: listed in the table of contents, missing on disk" for path in pages
               if not Path(path).is_file()]
    unlisted = [f"{path.name}: in {Path(folder).name}/ but not in the table of contents (name it NN_name.ipynb, "
                f"or A1_name.ipynb for an appendix: config.notebook_paths finds those)"
                for path in sorted(Path(folder).glob("*.ipynb")) if path not in pages]
    if missing or unlisted:
        raise ValueError(f"the book's table of contents and {Path(folder).as_posix()} disagree:\n  "
                         + "\n  ".join(missing + unlisted))


def table_of_contents(pages: list[Path], root: Path = REPO_ROOT) -> dict:
    """The book's _toc.yml: the landing page ("index"), then each page by its path from ``root``.

    >>> table_of_contents([Path("/r/notebooks/01_a.ipynb"), Path("/r/notebooks/glossary.md")], Path("/r"))
    {'format': 'jb-book', 'root': 'index', 'chapters': [{'file': 'notebooks/01_a'}, {'file': 'notebooks/glossary'}]}
    """
    return {"format": "jb-book", "root": "index",
            "chapters": [{"file": Path(path).relative_to(root).with_suffix("").as_posix()} for path in pages]}


def front_matter(readme: str) -> str:
    """The README up to its first "## " heading, its badges turned into plain links: a badge is an
    image on another site, and a page read offline could not show it.

    >>> front_matter("# Title\\n[![Open in Colab](https://x/badge.svg)](https://colab/nb)\\n\\n## Setup\\nmore")
    '# Title\\n[Open in Colab](https://colab/nb)\\n'
    """
    return _BADGE.sub(r"[\1](\2)", readme.split("\n## ", 1)[0]).rstrip() + "\n"


def figure_caption(cell) -> str | None:
    """What a figure shows, from its cell: the caption in the cell's metadata
    (``mystnb.figure.caption``) if it has one, else the name ``plots.save_fig`` saves it under,
    in words; None for a cell that names neither.

    >>> import nbformat
    >>> figure_caption(nbformat.v4.new_code_cell('plots.save_fig("03_rgb_vs_bgr", fig)'))
    'RGB vs BGR (figures/03_rgb_vs_bgr.png)'
    """
    given = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
    if given:
        return given
    saved = _SAVED_AS.search(cell.source)
    if not saved:
        return None
    words = [_WORDS.get(word, word) for word in saved.group(1).split("_")[1:]]
    text = " ".join(words)
    return f"{text[:1].upper()}{text[1:]} (figures/{saved.group(1)}.png)"


def book_notebook(path: Path):
    """The notebook as the book shows it: its navigation and Colab-setup cells tagged
    ``remove-cell`` (the book leaves them out), and each cell that shows a figure given a caption
    and an alt text (``figure_caption``). Raises ValueError for a figure without either."""
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells):
        tags = cell.metadata.setdefault("tags", [])
        if set(HIDDEN_TAGS) & set(tags):
            tags.append("remove-cell")
        shows_figure = any(key.startswith("image/") for output in cell.get("outputs", [])
                           for key in output.get("data", {}))
        if not shows_figure:
            continue
        caption = figure_caption(cell)
        if caption is None:
            raise ValueError(f"{path.name}, cell {number}: a figure without a caption; save it with "
                             "plots.save_fig(name, fig) or give the cell the metadata mystnb.figure.caption")
        shown = cell.metadata.setdefault("mystnb", {})
        shown.setdefault("figure", {}).setdefault("caption", caption)
        shown.setdefault("image", {}).setdefault("alt", caption.split(" (figures/")[0])
    return notebook


def book_config(title: str, repository: str = REPOSITORY) -> dict:
    """The book's _config.yml: the notebooks shown as committed (never executed), launch buttons
    for Binder and Colab on ``repository`` (GitHub "owner/name"), nothing fetched at build time."""
    copyright_line = re.search(r"^Copyright \(c\) (.+)$", (REPO_ROOT / "LICENSE").read_text(), re.M)
    return {
        "title": title,
        "author": copyright_line.group(1).split(" ", 1)[1] if copyright_line else "",
        "copyright": copyright_line.group(1).split(" ", 1)[0] if copyright_line else "",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off"},
        "repository": {"url": f"https://github.com/{repository}", "branch": "main", "path_to_book": ""},
        "launch_buttons": {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com",
                           "notebook_interface": "jupyterlab", "thebe": False},
        "html": {"use_repository_button": True, "home_page_in_navbar": True, "use_multitoc_numbering": False},
        "latex": {"use_jupyterbook_latex": False},  # an HTML site only
        "parse": {"myst_enable_extensions": ["colon_fence"]},
        # intersphinx would fetch other projects' inventories: none is listed. Anchors for the
        # headings down to ### (the glossary's terms), as GitHub makes them: the notebooks link them.
        # The glossary's terms are ### under its # title, as GitHub shows them well: not a warning.
        # Markdown that a cell prints (09's table of results) is read as MyST, so its links to
        # other notebooks lead to their pages.
        "sphinx": {"config": {"intersphinx_mapping": {}, "myst_heading_anchors": 3, "nb_render_markdown_format": "myst",
                              "suppress_warnings": ["myst.domains", "myst.header"]}},
    }


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it already (Sphinx then rebuilds only what changed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def write_source(source: Path, folder: Path = NOTEBOOKS_DIR, readme: Path = REPO_ROOT / "README.md") -> list[Path]:
    """Write the book's source into ``source``, laid out as the repository is (index.md,
    notebooks/), so that a page's launch buttons open the repository's own notebook.

    Parameters
    ----------
    source : the folder to write (a file there that the book does not need is removed; a file
        that holds what it would be written with is left alone, so Sphinx rebuilds only the rest).
    folder : the course's notebooks (``course_pages``).
    readme : the README whose front matter is the landing page.

    Returns
    -------
    The files of the book's source: index.md, _toc.yml, _config.yml and the pages.
    """
    root = Path(folder).parent
    pages = course_pages(folder)
    landing = front_matter(readme.read_text()) + (
        "\n## The notebooks\n\nThe teacher's versions, executed, with their outputs and the exercises' solutions "
        "(the student versions are in `notebooks/student/` of the repository).\n\n```{tableofcontents}\n```\n")
    title = re.search(r"^# (.+)$", landing, re.M).group(1)
    files = {source / "index.md": landing,
             source / "_toc.yml": yaml.safe_dump(table_of_contents(pages, root), sort_keys=False),
             source / "_config.yml": yaml.safe_dump(book_config(title), sort_keys=False)}
    for page in pages:
        target = source / page.relative_to(root)
        files[target] = (nbformat.writes(book_notebook(page)) if page.suffix == ".ipynb" else page.read_text())
    for path, text in files.items():
        _write_if_changed(path, text)
    for path in [p for p in source.rglob("*") if p.is_file() and p not in files]:
        path.unlink()
    return sorted(files)


def build_site(output: Path = BUILD_DIR, quiet: bool = True) -> Path:
    """Build the book: its source into ``output``/source (``write_source``), the website into
    ``output``/html.

    Sphinx runs with warnings as errors, so a link to a missing page or heading fails the build.
    It reads the pages in one process: sphinx-external-toc loads an extension that does not say it
    is safe for parallel reading (the whole build takes seconds).

    Parameters
    ----------
    output : the folder to write (default ``_build/``, git-ignored).
    quiet : print only Sphinx's warnings, not its progress.

    Returns
    -------
    The website's folder (open its index.html).

    Raises
    ------
    ValueError : the table of contents and the notebooks' folder disagree, or a figure has no
        caption (each named).
    RuntimeError : Sphinx reported a warning or an error (printed above).
    """
    from jupyter_book.sphinx import build_sphinx  # Sphinx is imported only when a book is built

    output = Path(output).resolve()
    source = output / "source"
    write_source(source)
    html = output / "html"
    status = build_sphinx(source, html, noconfig=True, path_config=source / "_config.yml",
                          confoverrides={"external_toc_path": (source / "_toc.yml").as_posix(),
                                         "latex_individualpages": False},
                          warningiserror=True, keep_going=True, quiet=quiet)
    if status != 0:
        shutil.rmtree(html, ignore_errors=True)  # no half-built site left to be served
        raise RuntimeError(f"the book did not build ({status!r}); Sphinx's messages are above")
    return html


class _Page(HTMLParser):
    """What ``check_site`` reads of one HTML page: its links, images, ids and text."""

    def __init__(self):
        super().__init__()
        self.links, self.images, self.ids, self.text = [], [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids |= {attrs[key] for key in ("id", "name") if attrs.get(key)}
        if tag in ("a", "link") and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in ("img", "script") and attrs.get("src"):
            self.links.append(attrs["src"])
        if tag == "img":
            self.images.append(attrs)

    def handle_data(self, data):
        self.text.append(data)


def check_site(html: Path, start: str = "index.html") -> list[str]:
    """Crawl a website from one page along its own links, and list what is wrong with it.

    Links to other sites (launch buttons, the repository) are not followed: offline they cannot
    be reached.

    Parameters
    ----------
    html : the website's folder.
    start : the page to start from, relative to ``html``.

    Returns
    -------
    One line per problem, naming the page: a link to a file or an #anchor that is not there, an
    image without an alt text (or with its file name as one), a page that shows a raw traceback.
    Empty when the site is sound.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "index.html").write_text('<a href="a.html#top">A</a> <a href="gone.html">?</a>')
    >>> _ = (folder / "a.html").write_text('<h1 id="top">A</h1><img src="index.html" alt="">')
    >>> check_site(folder)
    ['index.html: link gone.html (no such file)', 'a.html: image index.html has no alt text']
    >>> shutil.rmtree(folder)
    """
    html = Path(html)
    pages = {}  # each page read once: name -> _Page

    def read(name: str) -> _Page:
        if name not in pages:
            pages[name] = _Page()
            pages[name].feed((html / name).read_text(errors="replace"))
        return pages[name]

    seen, queue, problems = {start}, [start], []
    while queue:
        name = queue.pop(0)
        page = read(name)
        for link in page.links:
            target, _, anchor = urlsplit(link)._replace(query="").geturl().partition("#")
            if urlsplit(link).scheme or link.startswith("//"):
                continue  # another site (launch buttons, the repository): not reachable offline
            path = posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(target))) if target else name
            if (html / path).is_dir():
                path = posixpath.join(path, "index.html")
            if not (html / path).is_file():
                problems.append(f"{name}: link {link} (no such file)")
                continue
            if path.endswith(".html"):
                if anchor and anchor not in read(path).ids:
                    problems.append(f"{name}: link {link} (no id {anchor!r} in {path})")
                if path not in seen:
                    seen.add(path)
                    queue.append(path)
        for image in page.images:
            alt = (image.get("alt") or "").strip()
            if not alt or alt == posixpath.basename(image.get("src", "")):
                problems.append(f"{name}: image {image.get('src')} has no alt text")
        if TRACEBACK in "".join(page.text):
            problems.append(f"{name}: shows a raw traceback ({TRACEBACK!r})")
    return problems
