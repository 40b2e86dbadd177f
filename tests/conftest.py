"""Fixtures and hooks shared by the tests, and the one extra test nbval's notebook runs get."""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest


def pytest_configure(config):
    """Figures and trained models of every test, and of the notebooks nbval runs (their kernels
    inherit this process's environment), go to a temporary folder of this test process: a test
    never changes the repository's figures or replaces a model you trained. (Detections and
    features stay in the shared cache: they are keyed by file content, so what a test adds there
    is what a run would add.) Set before any test module imports gle_utils.config, which reads them."""
    config._gle_outputs = Path(tempfile.mkdtemp(prefix="gle-tests-"))
    os.environ["GLE_FIGURES_DIR"] = str(config._gle_outputs / "figures")
    os.environ["GLE_MODELS_DIR"] = str(config._gle_outputs / "models")
    if config.getoption("nbval_lax", default=False):
        from nbval.plugin import IPyNbCell

        IPyNbCell.compare_outputs = _compare_as_committed(IPyNbCell.compare_outputs)


def _compare_as_committed(compare_outputs):
    """nbval's comparison of a checked cell, on the run's outputs tidied as ``make run`` saves them
    (``runner.tidied_outputs``: progress bars dropped), since the committed outputs were saved so."""
    from gle_utils.runner import tidied_outputs  # imported here: after pytest_configure set its folders

    def compare(cell, test, ref, skip_compare=None):
        return compare_outputs(cell, tidied_outputs(test), ref, skip_compare)

    return compare


def pytest_unconfigure(config):
    shutil.rmtree(config._gle_outputs, ignore_errors=True)


class FiguresWritten(pytest.Item):
    """Run after a notebook's cells (nbval): every figure the notebook names in a
    ``save_fig("name")`` call was written."""

    def runtest(self):
        named = set(re.findall(r"save_fig\(\s*[\"']([\w-]+)[\"']", self.path.read_text()))
        written = {p.stem for p in Path(os.environ["GLE_FIGURES_DIR"]).rglob("*.png")}
        assert named <= written, f"figures named but not written: {sorted(named - written)}"

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::figures written"


def pytest_collection_modifyitems(session, items):
    """Each notebook nbval runs gets a last test, FiguresWritten; then the notebooks go first, in
    the series' order, then tests/test_notebooks.py (the series on GAF layouts, which reuses the
    notebooks' cache), then the unit tests. They are the longest part of `make test`, which runs
    test files in two processes (Makefile: ``-n 2 --dist loadfile --no-loadscope-reorder``): a
    notebook keeps one process while the other takes the next file. The sort is stable: the order
    inside each part is kept."""
    from gle_utils.config import notebook_paths  # imported here: after pytest_configure set its folders

    series = [path.name for path in notebook_paths()]
    last_of_notebook = {}
    for index, item in enumerate(items):
        if item.path.suffix == ".ipynb":
            last_of_notebook[item.parent] = index
    for parent, index in sorted(last_of_notebook.items(), key=lambda pair: -pair[1]):
        items.insert(index + 1, FiguresWritten.from_parent(parent, name="figures written"))

    def part(item):
        if item.path.suffix == ".ipynb":
            return (0, series.index(item.path.name) if item.path.name in series else len(series))
        return (1 if item.path.name == "test_notebooks.py" else 2, 0)

    items.sort(key=part)


@pytest.fixture(autouse=True)
def _notices_said_afresh():
    """``config.notice`` says each fallback once per process; each test starts as a new process."""
    from gle_utils import config
    config._NOTICES_GIVEN.clear()


@pytest.fixture
def outputs_in_tmp(tmp_path, monkeypatch):
    """Figures and trained models of one test go to its own temporary folder."""
    monkeypatch.setenv("GLE_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv("GLE_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path


@pytest.fixture(scope="session")
def tiny_ensemble(tmp_path_factory):
    """One tiny ensemble (a few demo photos, forests of 10 trees: test_pipeline.tiny_table and
    train_tiny), trained once per session and saved to a temporary folder. test_pipeline and
    test_predict share it. Returns (table, model, validation, saved folder)."""
    from test_pipeline import tiny_table, train_tiny

    table = tiny_table()
    model, validation = train_tiny(table)
    return table, model, validation, model.save(tmp_path_factory.mktemp("model") / "ensemble")


@pytest.fixture(scope="session")
def tiny_expression_model(tmp_path_factory):
    """The default model's recipe ("expression": MTCNN faces, the paper's members plus the
    zero-shot expression members) trained tiny like tiny_ensemble (test_pipeline.train_tiny_default) and
    saved once per session. test_pipeline and test_predict share it. Returns (table, model,
    validation, saved folder)."""
    from test_pipeline import tiny_table, train_tiny_default

    table = tiny_table()
    model, validation = train_tiny_default(table)
    return table, model, validation, model.save(tmp_path_factory.mktemp("model") / "expression")
