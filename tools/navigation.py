"""Keep the navigation of the notebooks by script, not by hand.

    python tools/navigation.py           # write the links and reading times into every notebook, and the README's index
    python tools/navigation.py --check   # exit 1 if any of them is out of date (tests use it)

Each notebook gets a first and a last markdown cell tagged "navigation" with links to the previous
notebook, the index (the README's list) and the next notebook; the first also has the badges that
open the notebook on Colab and Binder (``config.launch_links``, from ``config.REPOSITORY``, the
one setting every launch link comes from; the README's badges open the student version of 01). Appendices (``A1_*.ipynb``, ...)
stand outside that chain: their links go back to the notebook they extend (the last one named
in their "**Prerequisites:**" line) and to the index. The README's list of notebooks, between
the markers below, is written from each notebook's title (its first "# " heading), appendices last.

The course website (``make site``, gle_utils.site) takes its table of contents from the same list,
``config.notebook_paths()``, at build time, and hides the navigation cells written here: the book
has its own previous/next links and launch buttons.

It also writes each notebook's reading time, by one rule (``read_minutes``): the words of its
markdown and code cells (not their outputs, not the navigation cells, not the "**Time:**" sentence
itself, whose "to run, ..." part `make bench` rewrites) divided by ``WORDS_PER_MINUTE``, rounded up
to the next 5 minutes, into the "**Time:** about N min to read" line of its header.
"""

import argparse
import math
import re
import sys
from pathlib import Path

import nbformat

from gle_utils.config import REPO_ROOT, REPOSITORY, launch_links, notebook_paths

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/colab_setup.py, beside this file
from colab_setup import colab_cell_source  # noqa: E402

README = REPO_ROOT / "README.md"
START, END = "<!-- notebooks:start -->", "<!-- notebooks:end -->"
BADGES_START, BADGES_END = "<!-- launch:start -->", "<!-- launch:end -->"

# Reading speed of the rule (the README states it). Chosen so that the series keeps roughly the
# reading times it had when they were written by hand (10 to 25 min, which by this count of words
# were 146 to 295 words a minute): on those notebooks, 250 gave the same figure or 5 minutes more.
WORDS_PER_MINUTE = 250
READ_STEP = 5  # minutes: the reading time is rounded up to a multiple of this
# The header's time sentence: "**Time:** about N min to read; to run, ... ." (the README states the rule).
TIME_SENTENCE = re.compile(r"\*\*Time:\*\*.*?\)\.", re.S)
READ_NUMBER = re.compile(r"(\*\*Time:\*\* about )(\d+)( min to read)")


def words_to_read(notebook) -> int:
    """Words of the markdown and code cells a student reads: not outputs, not the navigation cells,
    not the "**Time:**" sentence (its "to run" part is rewritten by `make bench`)."""
    total = 0
    for cell in notebook.cells:
        if cell.cell_type not in ("markdown", "code") or "navigation" in cell.metadata.get("tags", []):
            continue
        total += len(TIME_SENTENCE.sub(" ", cell.source).split())
    return total


def read_minutes(notebook) -> int:
    """Minutes to read a notebook: its words / WORDS_PER_MINUTE, rounded up to the next READ_STEP.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("word " * 1251)])
    >>> read_minutes(nb)  # 1251 / 250 = 5.004 minutes, rounded up to 10
    10
    """
    minutes = words_to_read(notebook) / WORDS_PER_MINUTE
    return max(READ_STEP, READ_STEP * math.ceil(minutes / READ_STEP))


def with_read_time(notebook):
    """The notebook with its "**Time:** about N min to read" number written by ``read_minutes``
    (a notebook without that line is returned as it is)."""
    minutes = read_minutes(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and READ_NUMBER.search(cell.source):
            cell.source = READ_NUMBER.sub(lambda found: f"{found.group(1)}{minutes}{found.group(3)}", cell.source, count=1)
            break
    return notebook


def title_of(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "navigation" not in cell.metadata.get("tags", []):
            match = re.search(r"^# (.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    raise ValueError("a notebook without a '# Title' heading")


def paper_part(notebook, width: int = 100) -> str:
    """What of the paper a notebook reproduces: its '**Paper:** ...' paragraph, shortened, its links
    kept as plain text (they point from notebooks/, and a cut could split one)."""
    for cell in notebook.cells:
        match = re.search(r"^\*\*Paper:\*\*\s*(.+?)(?:\n\s*\n|\Z)", cell.source, re.M | re.S) \
            if cell.cell_type == "markdown" else None
        if match:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", " ".join(match.group(1).split()))
            return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " …"
    return ""


def navigation_text(paths: list[Path], titles: list[str], i: int) -> str:
    parts = []
    if i > 0:
        parts.append(f"[← {titles[i - 1]}]({paths[i - 1].name})")
    parts.append("[Index](../README.md#the-notebooks)")
    if i + 1 < len(paths):
        parts.append(f"[{titles[i + 1]} →]({paths[i + 1].name})")
    return " | ".join(parts)


def appendix_navigation_text(notebook, paths: list[Path], titles: list[str]) -> str:
    """An appendix's links: back to the notebook it extends, and the index."""
    parts = ["[Index](../README.md#the-notebooks)"]
    for cell in notebook.cells:
        match = re.search(r"^\*\*Prerequisites:\*\*(.*)$", cell.source, re.M) if cell.cell_type == "markdown" else None
        if match:
            numbers = re.findall(r"\b(\d\d)\b", match.group(1))
            extended = [i for i, path in enumerate(paths) if numbers and path.name[:2] == numbers[-1]]
            if extended:
                parts.insert(0, f"[← {titles[extended[0]]}]({paths[extended[0]].name})")
            break
    return " | ".join(parts)


def with_navigation(notebook, text: str, path: Path):
    """The notebook with exactly one navigation cell at the top (its links, then the badges
    that open it on Colab and Binder), one at the bottom (its links), and the Colab setup cell
    (``colab_setup.colab_cell_source``: it does nothing outside Colab) as its first code cell."""
    cells = [c for c in notebook.cells if not {"navigation", "colab-setup"} & set(c.metadata.get("tags", []))]
    source = colab_cell_source(REPOSITORY)
    # The cell as it is, once executed, if its code is current; else a new one.
    setup = next((c for c in notebook.cells if "colab-setup" in c.metadata.get("tags", []) and c.source == source),
                 nbformat.v4.new_code_cell(source, metadata={"tags": ["colab-setup"]}))
    setup.id = "colab-setup"
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    cells.insert(first_code, setup)
    make = lambda source: nbformat.v4.new_markdown_cell(source, metadata={"tags": ["navigation"]})  # noqa: E731
    top = make(f"{text}\n\n{launch_links(f'notebooks/{path.name}')}")
    bottom = make(text)
    top.id, bottom.id = "navigation-top", "navigation-bottom"
    notebook.cells = [top] + cells + [bottom]
    return notebook


def readme_index(paths: list[Path], notebooks: list) -> str:
    lines = [START, "", "| # | notebook | reproduces |", "|---|---|---|"]
    for path, notebook in zip(paths, notebooks):
        number = path.name.split("_", 1)[0]
        lines.append(f"| {number} | [{title_of(notebook)}](notebooks/{path.name}) | {paper_part(notebook)} |")
    return "\n".join(lines + ["", END])


def readme_badges(first: Path) -> str:
    """The README's launch badges: the STUDENT version of the first notebook (the teacher's
    versions, with the solutions, are one link away)."""
    student, teacher = f"notebooks/student/{first.name}", f"notebooks/{first.name}"
    return (f"{BADGES_START}\n{launch_links(student)}\n"
            f"<sub>Opens the student version of notebook {first.name[:2]} (exercises blank); the teacher's "
            f"version, with the solutions, is [{teacher}]({teacher}). Both badges are made from "
            f"`gle_utils.config.REPOSITORY`, one setting, by `tools/navigation.py`"
            + (" (set it to this repository's GitHub owner/name once it is published)" if REPOSITORY == "OWNER/REPO" else "")
            + f".</sub>\n{BADGES_END}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    paths = notebook_paths(appendices=False)
    notebooks = [nbformat.read(p, as_version=4) for p in paths]
    titles = [title_of(nb) for nb in notebooks]
    appendix_paths = [p for p in notebook_paths() if p not in paths]
    appendices = [nbformat.read(p, as_version=4) for p in appendix_paths]
    links = [navigation_text(paths, titles, i) for i in range(len(paths))]
    links += [appendix_navigation_text(notebook, paths, titles) for notebook in appendices]
    stale = []
    for path, notebook, link in zip(paths + appendix_paths, notebooks + appendices, links):
        text = nbformat.writes(with_read_time(with_navigation(notebook, link, path))) + "\n"
        if path.read_text() != text:
            stale.append(path.name)
            if not args.check:
                path.write_text(text)
    readme = README.read_text()
    if START not in readme or END not in readme:
        print(f"README.md lacks the markers {START} ... {END}")
        return 1
    new_readme = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: readme_index(paths + appendix_paths, notebooks + appendices), readme, flags=re.S)
    new_readme = re.sub(re.escape(BADGES_START) + ".*?" + re.escape(BADGES_END), lambda _: readme_badges(paths[0]),
                        new_readme, flags=re.S)
    if new_readme != readme:
        stale.append("README.md")
        if not args.check:
            README.write_text(new_readme)
    if args.check and stale:
        print("navigation or reading time out of date in: " + ", ".join(stale) + "\nrun: python tools/navigation.py")
        return 1
    if not args.check:
        print(f"navigation written ({len(stale)} file(s) changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
