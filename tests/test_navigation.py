"""The notebooks' reading times (one rule, tools/navigation.py) and their links (every relative
link of a notebook, teacher's or student's, leads to a file that exists, and an anchor into a
markdown file to one of its headings).

The reading-time tests work on copies in a temporary folder: they never write a notebook of the
repository.
"""

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import load_tool

from gle_utils.config import NOTEBOOKS_DIR, REPO_ROOT, notebook_paths

navigation = load_tool("navigation")


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s) for s in sources])


def test_read_minutes_is_words_over_the_speed_rounded_up_to_five():
    speed = navigation.WORDS_PER_MINUTE
    assert navigation.read_minutes(_notebook("word " * 10)) == 5  # never less than 5
    assert navigation.read_minutes(_notebook("word " * (5 * speed))) == 5
    assert navigation.read_minutes(_notebook("word " * (5 * speed + 1))) == 10
    assert navigation.read_minutes(_notebook("word " * (12 * speed))) == 15


def test_read_minutes_counts_markdown_and_code_but_not_outputs_navigation_or_the_time_sentence():
    speed = navigation.WORDS_PER_MINUTE
    notebook = _notebook("**Time:** about 5 min to read; to run, " + "many words " * speed * 10 + "(measured).")
    notebook.cells.append(nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output(
        "stream", name="stdout", text="printed " * speed * 10)]))
    notebook.cells.append(nbformat.v4.new_markdown_cell("link " * speed * 10, metadata={"tags": ["navigation"]}))
    assert navigation.words_to_read(notebook) == 3  # "x", "=", "1"
    notebook.cells.append(nbformat.v4.new_code_cell("code " * speed * 6))
    assert navigation.read_minutes(notebook) == 10


def test_with_read_time_writes_the_number_and_keeps_the_rest_of_the_line():
    line = "**Time:** about 40 min to read; to run, 6 s with a warm cache (`make bench`, 2026-11-29)."
    notebook = navigation.with_read_time(_notebook("# 01 · Title", line, "word " * 2000))
    assert notebook.cells[1].source == line.replace("about 40 min", "about 10 min")


def test_check_fails_when_a_reading_time_is_off_and_passes_once_written(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for path in notebook_paths():
        shutil.copy(path, folder / path.name)
    shutil.copy(REPO_ROOT / "README.md", tmp_path / "README.md")
    monkeypatch.setattr(navigation, "notebook_paths", lambda appendices=True: notebook_paths(folder, appendices))
    monkeypatch.setattr(navigation, "README", tmp_path / "README.md")
    monkeypatch.setattr(sys, "argv", ["navigation.py"])
    assert navigation.main() == 0  # write mode, on the copies: links, index and reading times
    monkeypatch.setattr(sys, "argv", ["navigation.py", "--check"])
    assert navigation.main() == 0
    first = notebook_paths(folder)[0]
    notebook = nbformat.read(first, as_version=4)
    minutes = navigation.read_minutes(notebook)
    for cell in notebook.cells:
        cell.source = cell.source.replace(f"about {minutes} min to read", f"about {minutes + 5} min to read")
    nbformat.write(notebook, first)
    capsys.readouterr()
    assert navigation.main() == 1
    assert first.name in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)")
LINKED = notebook_paths() + sorted((NOTEBOOKS_DIR / "student").glob("*.ipynb"))


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a markdown heading: lower case, punctuation dropped, spaces -> hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors_of(markdown_file: Path) -> set[str]:
    return {github_anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.+?)\s*#*$", markdown_file.read_text(), re.M)}


def test_github_anchor():
    assert github_anchor("Balanced accuracy") == "balanced-accuracy"
    assert github_anchor("IoU") == "iou"
    assert github_anchor("One-vs-rest") == "one-vs-rest"
    assert github_anchor("The notebooks") == "the-notebooks"


@pytest.mark.parametrize("path", LINKED, ids=[f"{p.parent.name}/{p.stem}" for p in LINKED])
def test_every_relative_link_leads_to_a_file_and_an_anchor_to_a_heading(path):
    notebook = nbformat.read(path, as_version=4)
    broken = []
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        for target in LINK.findall(cell.source):
            file, _, anchor = target.partition("#")
            if not file or re.match(r"^[a-z][a-z0-9+.-]*:", file, re.I):
                continue  # an anchor in this notebook, or a URL
            linked = (path.parent / file).resolve()
            if not linked.is_file():
                broken.append(f"cell {number}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors_of(linked):
                broken.append(f"cell {number}: {target} (no heading with that anchor in {linked.name})")
    assert not broken, "\n".join(broken)
