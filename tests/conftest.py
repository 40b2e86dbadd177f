"""Fixtures shared by several test files."""

import importlib.util
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items):
    """The notebook runs (tests/test_notebooks.py) first: they are the longest part of `make test`,
    which gives them one of its two processes while the other takes the unit tests (Makefile:
    ``-n 2 --dist loadfile --no-loadscope-reorder``). A stable sort: the order inside each part is kept."""
    items.sort(key=lambda item: item.path.name != "test_notebooks.py")


@pytest.fixture(scope="session")
def run_notebooks():
    """tools/run_notebooks.py as a module: the tests execute notebooks the way `make run` does."""
    spec = importlib.util.spec_from_file_location("run_notebooks", REPO_ROOT / "tools" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def outputs_in_tmp(tmp_path, monkeypatch):
    """Figures and trained models go to a temporary folder, so a test never changes the repository
    or replaces a model you trained. (Detections and features stay in the shared cache: they are
    keyed by file content, so what a test adds there is what a run would add.)"""
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
