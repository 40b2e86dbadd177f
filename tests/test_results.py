"""gle_utils.results, which notebook 09 reads the series' results with: every result is found in
the committed notebooks, 09's saved table is up to date, the paper's figures are the project's,
a result that was not printed says "not run", and the runner runs 09 after the others."""

import json
import re

import nbformat
import pytest

from gle_utils import classifiers, metrics, results, runner
from gle_utils.config import NOTEBOOKS_DIR, notebook_paths

SERIES = [p for p in notebook_paths() if p.stem != "09_what_the_series_showed"]
CLOSING = NOTEBOOKS_DIR / "09_what_the_series_showed.ipynb"


def test_every_result_names_a_notebook_of_the_series_and_a_unique_key():
    stems = {p.stem for p in SERIES}
    assert {r.notebook for r in results.RESULTS} <= stems
    keys = [r.key for r in results.RESULTS]
    assert len(set(keys)) == len(keys)


def test_every_result_is_found_in_the_committed_notebooks():
    """If this fails, a notebook's result cell changed its id or its printed text: change the
    Result's cell or pattern (gle_utils/results.py), or the notebook, so that they meet again."""
    table = results.series_results(NOTEBOOKS_DIR)
    missing = table[table.here == results.NOT_RUN]
    assert missing.empty, "not found: " + "; ".join(f"{r.notebook} {r.result}" for r in missing.itertuples())


def test_the_saved_table_of_09_is_the_one_the_committed_notebooks_give():
    """If this fails, a notebook was re-executed after 09: re-execute 09 (a few seconds)."""
    notebook = nbformat.read(CLOSING, as_version=4)
    cell = next(c for c in notebook.cells if c.get("id") == "table")
    shown = [o.data["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {})]
    assert shown == [results.as_markdown(results.series_results(NOTEBOOKS_DIR))]


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"\d+\.\d+", text)]


def test_the_paper_and_code_figures_are_those_of_classifiers_and_metrics():
    by_key = {r.key: r for r in results.RESULTS}
    paper = classifiers.PAPER_TABLE2.set_index("features")["accuracy"]
    forests = classifiers.PAPER_TABLE2[classifiers.PAPER_TABLE2.model == "random_forest"].set_index("features")["accuracy"]
    order = ["vggface_rgb_avgpool", "vggface_rgb_fc7", "vggface_bgr_avgpool", "vggface_bgr_fc7"]
    assert _numbers(by_key["forests"].paper) == [forests[k] for k in order]
    assert _numbers(by_key["forests"].code) == [classifiers.AUTHORS_CODE_VAL[k] for k in order]
    assert _numbers(by_key["landmarks"].paper) == [forests["landmarks"]]
    assert _numbers(by_key["landmarks"].code) == [classifiers.AUTHORS_CODE_VAL["landmarks"]]
    assert _numbers(by_key["whole_image"].paper) == [paper["whole_image"]]
    assert _numbers(by_key["ensemble_test"].paper) == [classifiers.PAPER_TEST["ensemble"]]
    assert _numbers(by_key["centrist"].paper) == [paper["centrist"], classifiers.PAPER_TEST["CENTRIST baseline"]]
    assert _numbers(by_key["confusion"].paper) == list(metrics.PAPER_CONFUSION_DIAGONAL.values())


def _notebook(tmp_path, outputs: dict[str, str], dataset: str = "demo", name: str = "07_weighted_ensemble"):
    """A notebook file whose code cells (by id) printed the texts given, with a parameters cell."""
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(f'dataset = "{dataset}"')
    parameters.metadata.tags = ["parameters"]
    notebook.cells.append(parameters)
    for cell_id, text in outputs.items():
        cell = nbformat.v4.new_code_cell("print(...)", outputs=[nbformat.v4.new_output("stream", name="stdout", text=text)])
        cell.id = cell_id
        notebook.cells.append(cell)
    nbformat.write(notebook, tmp_path / f"{name}.ipynb")


def test_a_result_is_read_from_its_cell_and_a_skipped_one_is_not_run(tmp_path):
    test_result = next(r for r in results.RESULTS if r.key == "ensemble_test")
    printed = ("gaf TEST (90 photos), scored once. vggface_* = face-ID ResNet (offline stand-in for VGGFace)\n"
               "                       photos  accuracy\nall photos                 90     0.700\n")
    _notebook(tmp_path, {test_result.cell: printed}, dataset="gaf")
    here, data, figures = results.read_result(test_result, tmp_path)
    assert (here, figures) == ("0.700 (90 photos)", {"n": "90", "acc": "0.700"})
    assert data == "your GAF-layout folder test: people in neither train nor val"
    _notebook(tmp_path, {test_result.cell: "skipped: the test split is missing or unlabelled\n"})
    assert results.read_result(test_result, tmp_path) == (results.NOT_RUN, "-", {})
    _notebook(tmp_path, {"another-cell": printed})
    assert results.read_result(test_result, tmp_path)[0] == results.NOT_RUN


def test_run_settings_read_the_injected_dataset_and_the_identity_network_used():
    notebook = nbformat.v4.new_notebook()
    for source, tags in (('dataset = "demo"', ["parameters"]), ('dataset = "gaf"', ["injected-parameters"])):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata.tags = tags
        notebook.cells.append(cell)
    said = "'vggface_*' = VGGFace (VGG16, keras-vggface weights); whole_image = ...\n"
    notebook.cells.append(nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output("stream", name="stdout", text=said)]))
    assert results.run_settings(json.loads(nbformat.writes(notebook))) == {
        "data": "your GAF-layout folder", "identity": "VGGFace (VGG16, keras-vggface weights)"}


@pytest.mark.slow
def test_the_runner_runs_a_notebook_that_reads_the_others_after_them_and_gives_it_their_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GLE_FIGURES_DIR", str(tmp_path / "figures"))
    writer = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(3)\nprint('written')")])
    parameters = nbformat.v4.new_code_cell("notebooks_dir = None")
    parameters.metadata.tags = ["parameters"]
    reader = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(
        "import json, pathlib\nwriter = json.loads((pathlib.Path(notebooks_dir) / 'a_writer.ipynb').read_text())\n"
        "print(writer['cells'][0]['outputs'][0]['text'])")])
    for notebook, name in ((writer, "a_writer"), (reader, "b_reader")):
        notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    # The reader comes first in the list and two run at a time, yet it waits for the writer.
    failed = runner.run([tmp_path / "b_reader.ipynb", tmp_path / "a_writer.ipynb"], output_dir=tmp_path / "out", jobs=2)
    assert failed == []
    read = nbformat.read(tmp_path / "out" / "b_reader.ipynb", as_version=4)
    assert "written" in read.cells[-1].outputs[0].text
