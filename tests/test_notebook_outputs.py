"""The committed notebooks' outputs are what a student reads: no log lines, no progress bars,
no absolute paths of the machine that ran them.

(These read the committed files; the last tests check gle_utils.runner, which writes them.)
"""

import re
from collections import Counter

import nbformat
import pytest

from gle_utils import runner
from gle_utils.config import notebook_paths

NOTEBOOKS = notebook_paths()

# TensorFlow's start-up lines, tqdm's ipywidgets warning, and paths that only exist on one machine.
FORBIDDEN = ["oneDNN", "absl", "IProgress", "/root/", "/home/", "/tmp/", "/work/", "~/"]
MAX_STDERR_LINES = 20
# The lines that say a fallback ran (no VGGFace weights, no ImageNet weights: config.notice).
NOTICE = re.compile(r"not on this machine|offline backbone|offline stand-in|not available offline", re.I)


def output_texts(notebook):
    """(cell number, stream name or MIME type, text) for every text output; images are skipped."""
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                yield number, output.name, output.text
            elif output.output_type == "error":
                yield number, "error", "\n".join(output.traceback)
            else:
                for mime, value in output.get("data", {}).items():
                    if mime.startswith("text/"):
                        yield number, mime, value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_outputs_have_no_logs_and_no_absolute_paths(path):
    notebook = nbformat.read(path, as_version=4)
    found = [f"cell {number} ({kind}): {word!r} in {line.strip()[:120]!r}"
             for number, kind, text in output_texts(notebook)
             for line in text.splitlines() for word in FORBIDDEN if word in line]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_outputs_have_little_stderr(path):
    notebook = nbformat.read(path, as_version=4)
    # A progress bar redraws itself with \r: each redraw counts as a line.
    lines = [line for _, kind, text in output_texts(notebook) if kind == "stderr"
             for line in re.split(r"[\r\n]", text) if line.strip()]
    assert len(lines) <= MAX_STDERR_LINES, (f"{len(lines)} lines of stderr (at most {MAX_STDERR_LINES}); "
                                            "the first: " + "\n".join(lines[:10]))


def printed_lines(notebook):
    """(cell number, line) for every line a cell printed or returned as plain text."""
    for number, kind, text in output_texts(notebook):
        if kind in ("stdout", "stderr", "error", "text/plain"):  # text/html repeats text/plain
            for line in text.splitlines():
                yield number, line.strip()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_fallback_notice_is_said_once_per_notebook(path):
    notebook = nbformat.read(path, as_version=4)
    cells = {}
    for number, line in printed_lines(notebook):
        if NOTICE.search(line):
            cells.setdefault(line, []).append(number)
    repeated = [f"{len(numbers)} times (cells {', '.join(map(str, numbers))}): {line[:120]!r}"
                for line, numbers in cells.items() if len(numbers) > 1]
    assert not repeated, "the same notice line more than once:\n" + "\n".join(repeated)


def test_the_notice_test_catches_a_repeated_line_and_lets_two_different_notices_pass():
    line = "The ImageNet VGG16 weights are not on this machine, so the whole-image member is the offline stand-in."
    other = "VGGFace's weights are not on this machine, so this run uses the offline backbone 'faceid-resnet'."
    def lines(*texts):
        cells = [nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output("stream", name="stdout", text=t)])
                 for t in texts]
        return Counter(line for _, line in printed_lines(nbformat.v4.new_notebook(cells=cells)) if NOTICE.search(line))
    assert max(lines(line + "\n", other + "\n").values()) == 1
    assert lines(line + "\n", "3 photos\n" + line + "\n")[line] == 2


def test_a_photo_cell_loses_its_images_and_keeps_its_text(tmp_path):
    notebook = nbformat.v4.new_notebook()
    image = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    printed = nbformat.v4.new_output("stream", name="stdout", text="Predicted: Positive (0.81)\n")
    cell = nbformat.v4.new_code_cell("show(photos)", outputs=[image, printed, image])
    cell.metadata["tags"] = ["shows-photos"]
    notebook.cells = [cell, nbformat.v4.new_code_cell("plot()", outputs=[image])]
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    runner.tidy(path)
    photos, plot = nbformat.read(path, as_version=4).cells
    assert [o.text for o in photos.outputs] == [runner.PHOTO_NOTE + "Predicted: Positive (0.81)\n"]
    assert plot.outputs[0].data["image/png"] == "iVBORw0KGgo="  # a cell not tagged keeps its figure


def test_make_run_saves_no_progress_bars_and_keeps_everything_else():
    bars = "faces:   0%|          | 0/3 [00:00<?, ?it/s]\rfaces: 100%|██████████| 3/3 [00:00<00:00, 9.1it/s]\n"
    keras = "3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 12ms/step\n"
    assert runner.without_progress_bars(bars + "3 photos\n" + keras) == "3 photos\n"
    text = "accuracy 50% | 3/4 right\n\nworking...\rdone\n"
    assert runner.without_progress_bars(text) == "accuracy 50% | 3/4 right\n\ndone\n"


def test_a_failing_notebook_is_reported_and_the_others_still_run(tmp_path, monkeypatch, capsys):
    """A notebook that raises is named, and the one after it still runs (one at a time here; two at a
    time, as `make run` runs them, each is run and reported the same way)."""
    monkeypatch.setenv("GLE_FIGURES_DIR", str(tmp_path / "figures"))  # run() sets it for an output folder
    for name, code in (("broken", "raise ValueError('a bad cell')"), ("fine", "print(6 * 7)")):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    failed = runner.run([tmp_path / "broken.ipynb", tmp_path / "fine.ipynb"], output_dir=tmp_path / "out", jobs=1)
    assert failed == ["broken.ipynb"]
    assert "failed: broken.ipynb" in capsys.readouterr().err
    fine = nbformat.read(tmp_path / "out" / "fine.ipynb", as_version=4)
    assert [output.text for output in fine.cells[0].outputs] == ["42\n"]
