"""Keep the navigation of the notebooks by script, not by hand.

    python tools/navigation.py           # write the links into every notebook and the README's index
    python tools/navigation.py --check   # exit 1 if any of them is out of date (tests use it)

Each notebook gets a first and a last markdown cell tagged "navigation" with links to the previous
notebook, the index (the README's list) and the next notebook. Appendices (``A1_*.ipynb``, ...)
stand outside that chain: their links go back to the notebook they extend (the last one named
in their "**Prerequisites:**" line) and to the index. The README's list of notebooks, between
the markers below, is written from each notebook's title (its first "# " heading), appendices last.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

from gle_utils.config import REPO_ROOT, notebook_paths

README = REPO_ROOT / "README.md"
START, END = "<!-- notebooks:start -->", "<!-- notebooks:end -->"


def title_of(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "navigation" not in cell.metadata.get("tags", []):
            match = re.search(r"^# (.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    raise ValueError("a notebook without a '# Title' heading")


def paper_part(notebook, width: int = 100) -> str:
    """What of the paper a notebook reproduces: its '**Paper:** ...' paragraph, shortened."""
    for cell in notebook.cells:
        match = re.search(r"^\*\*Paper:\*\*\s*(.+?)(?:\n\s*\n|\Z)", cell.source, re.M | re.S) \
            if cell.cell_type == "markdown" else None
        if match:
            text = " ".join(match.group(1).split())
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


def with_navigation(notebook, text: str):
    """The notebook with exactly one navigation cell at the top and one at the bottom."""
    cells = [c for c in notebook.cells if "navigation" not in c.metadata.get("tags", [])]
    make = lambda: nbformat.v4.new_markdown_cell(text, metadata={"tags": ["navigation"]})  # noqa: E731
    top, bottom = make(), make()
    top.id, bottom.id = "navigation-top", "navigation-bottom"
    notebook.cells = [top] + cells + [bottom]
    return notebook


def readme_index(paths: list[Path], notebooks: list) -> str:
    lines = [START, "", "| # | notebook | reproduces |", "|---|---|---|"]
    for path, notebook in zip(paths, notebooks):
        number = path.name.split("_", 1)[0]
        lines.append(f"| {number} | [{title_of(notebook)}](notebooks/{path.name}) | {paper_part(notebook)} |")
    return "\n".join(lines + ["", END])


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
        text = nbformat.writes(with_navigation(notebook, link)) + "\n"
        if path.read_text() != text:
            stale.append(path.name)
            if not args.check:
                path.write_text(text)
    readme = README.read_text()
    if START not in readme or END not in readme:
        print(f"README.md lacks the markers {START} ... {END}")
        return 1
    new_readme = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: readme_index(paths + appendix_paths, notebooks + appendices), readme, flags=re.S)
    if new_readme != readme:
        stale.append("README.md")
        if not args.check:
            README.write_text(new_readme)
    if args.check and stale:
        print("navigation out of date in: " + ", ".join(stale) + "\nrun: python tools/navigation.py")
        return 1
    if not args.check:
        print(f"navigation written ({len(stale)} file(s) changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
