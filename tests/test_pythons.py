"""Other Pythons and Colab: tools/check_pythons.py and tools/colab_setup.py.

The quick tests check the tools' parts. The real checks install TensorFlow afresh in a new virtual
environment per Python (each takes many minutes, more than `make test` may), so they are marked
slow AND run only when asked:

    GLE_CHECK_PYTHONS=1 .venv/bin/python -m pytest -m slow tests/test_pythons.py
"""

import ast
import os
import subprocess
import sys

import pytest
from helpers import load_tool

from gle_utils.config import REPO_ROOT

check_pythons = load_tool("check_pythons")
colab_setup = load_tool("colab_setup")

ASKED = os.environ.get("GLE_CHECK_PYTHONS") == "1"
NOT_ASKED = "set GLE_CHECK_PYTHONS=1 (a fresh TensorFlow install per Python: many minutes each)"


# ---- the ranges ------------------------------------------------------------------------------------

def test_lower_bounds_are_the_ranges_oldest_versions():
    assert check_pythons.lower_bounds(["numpy>=2.2.6,<3", "keras >= 3.12.4, <3.16", "pkg[extra]>=1.0"]) == [
        "numpy==2.2.6", "keras==3.12.4", "pkg==1.0"]


def test_a_requirement_without_a_lower_bound_is_refused():
    with pytest.raises(ValueError, match="no lower bound"):
        check_pythons.lower_bounds(["numpy<3"])


def test_the_floor_of_pyproject_covers_every_dependency_and_the_notebooks_extra():
    ranges = check_pythons.dependency_ranges(extras=("notebooks",))
    floor = check_pythons.lower_bounds(ranges)
    assert len(floor) == len(ranges)
    assert {pin.split("==")[0] for pin in floor} >= {"tensorflow", "numpy", "pandas", "papermill", "ipykernel"}


# ---- finding Pythons, reporting ----------------------------------------------------------------------

def test_find_python_takes_the_newest_patch_and_none_when_pyenv_lacks_it(tmp_path):
    for version in ("3.12.1", "3.12.10", "3.13.0"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "python").touch()
    (tmp_path / "3.12-dev" / "bin").mkdir(parents=True)
    assert check_pythons.find_python("3.12", [tmp_path]) == tmp_path / "3.12.10" / "bin" / "python"
    assert check_pythons.find_python("3.1", [tmp_path]) is None
    assert check_pythons.find_python("3.10", [tmp_path]) is None


def test_a_python_that_pyenv_lacks_is_skipped_with_a_message(monkeypatch, capsys):
    monkeypatch.setattr(check_pythons, "find_python", lambda version: None)
    result = check_pythons.check_python("3.10")
    assert result.skipped == "pyenv has no Python 3.10 here" and not result.ok
    assert "Python 3.10: not in pyenv here, skipped" in capsys.readouterr().out
    assert "| 3.10 | pyenv has no Python 3.10 here |" in check_pythons.markdown_table([result])


def test_the_table_gives_each_steps_outcome_and_time():
    Step, Result = check_pythons.Step, check_pythons.Result
    good = Result("3.12", "/py", [Step("venv", True, 3), Step("install", True, 100.4), Step("predict", True, 20)],
                  {"tensorflow": "2.21.0", "numpy": "2.4.6", "pillow": "13.0.0"})
    bad = Result("3.13", "/py", [Step("venv", True, 3), Step("install", False, 50, "no wheel")])
    table = check_pythons.markdown_table([good, bad])
    assert "| 3.12 | tensorflow 2.21.0, numpy 2.4.6 | ok 100 s | ok 20 s | 123 s |" in table
    assert "| 3.13 | - | FAILED 50 s | – | 53 s |" in table
    assert good.ok and not bad.ok


# ---- Colab: the first cell and the setup script ---------------------------------------------------------

def test_the_colab_cell_clones_the_named_repository_and_runs_the_setup():
    source = check_pythons.colab_setup.colab_cell_source("someone/gle-course")
    compile(source, "first cell", "exec")
    assert "https://github.com/someone/gle-course" in source and "'gle-course'" in source
    assert "colab_setup.main" in source and "notebooks" in source
    assert "OWNER/REPO" in colab_setup.colab_cell_source()


def test_the_simulation_puts_the_setup_cell_first_once(tmp_path):
    import nbformat

    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                                   nbformat.v4.new_code_cell("x = 1")]), path)
    cell = colab_setup.colab_cell_source("someone/gle-course")
    check_pythons.with_first_cell(path, cell)
    check_pythons.with_first_cell(path, cell)
    cells = nbformat.read(path, as_version=4).cells
    assert [c.source for c in cells] == [cell, "# Title", "x = 1"]


@pytest.mark.parametrize("bad", ["", "owner", "a/b/c", "owner/na me", "owner/x'; import os"])
def test_the_colab_cell_refuses_what_is_not_an_owner_slash_name(bad):
    with pytest.raises(ValueError):
        colab_setup.colab_cell_source(bad)


def test_the_colab_cell_does_nothing_outside_colab(tmp_path):
    cell = colab_setup.colab_cell_source("someone/gle-course")
    env = {k: v for k, v in os.environ.items() if k not in ("COLAB_RELEASE_TAG", colab_setup.SIMULATE_VARIABLE)}
    env["GLE_COLAB_HOME"] = str(tmp_path)
    code = cell + "\nimport os; print(os.getcwd())\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path)  # no chdir
    assert list(tmp_path.iterdir()) == []  # no clone


def test_colab_is_detected_by_its_module_its_variable_or_the_simulation_switch():
    assert not colab_setup.on_colab({}, {})
    assert colab_setup.on_colab({}, {"google.colab": object()})
    assert colab_setup.on_colab({"COLAB_RELEASE_TAG": "release-colab_20261201"}, {})
    assert colab_setup.on_colab({"GLE_SIMULATE_COLAB": "1"}, {})
    assert not colab_setup.on_colab({"GLE_SIMULATE_COLAB": "0", "COLAB_RELEASE_TAG": ""}, {})


def test_the_setup_script_needs_only_the_standard_library():
    """It runs right after `git clone`, before anything of the project is installed."""
    tree = ast.parse((REPO_ROOT / "tools" / "colab_setup.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported - set(sys.stdlib_module_names) == set()


def test_the_setup_script_does_nothing_outside_colab():
    env = {k: v for k, v in os.environ.items() if k not in ("COLAB_RELEASE_TAG", colab_setup.SIMULATE_VARIABLE)}
    result = subprocess.run([sys.executable, "-I", str(REPO_ROOT / "tools" / "colab_setup.py")], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0 and "Not on Colab: nothing to do" in result.stdout


def test_replacements_are_the_protected_packages_pip_would_change():
    before = {"numpy": "2.3.5", "pandas": "3.0.6", "tensorflow": "2.20.0", "pillow": "12.0.0"}
    planned = {"numpy": "2.4.6", "pillow": "13.0.0", "dlib-bin": "20.0.1.post1"}
    assert colab_setup.replacements(planned, before) == {"numpy": ("2.3.5", "2.4.6")}
    assert colab_setup.replacements({"tensorflow": "2.21.0"}, {}) == {}  # not installed: nothing replaced
    assert colab_setup.normalize("Scikit_Learn") == "scikit-learn"


def test_the_setup_stops_before_installing_anything_that_would_replace_colabs_numpy(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('dependencies = ["numpy>=9.0,<10"]\n')
    monkeypatch.setattr(colab_setup, "installed_versions", lambda python: {"numpy": "2.3.5"})
    monkeypatch.setattr(colab_setup, "planned_installs", lambda repo, python: {"numpy": "9.1.0", "gle-utils": "0.1.0"})
    ran = []
    monkeypatch.setattr(colab_setup, "_run", lambda *args, **kwargs: ran.append(args))
    with pytest.raises(SystemExit, match=r"numpy: Colab has 2.3.5, pip would install 9.1.0 \(pyproject.toml: numpy>=9.0,<10\)"):
        colab_setup.setup(tmp_path, python="python")
    assert ran == []


# ---- the real checks (slow, and only when asked) ---------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not ASKED, reason=NOT_ASKED)
@pytest.mark.parametrize("version", check_pythons.PYTHONS)
def test_the_course_installs_with_the_ranges_and_runs_notebook_01_and_predict(version):
    result = check_pythons.check_python(version)
    if result.skipped:
        pytest.skip(result.skipped)
    failed = [f"{s.name}:\n{s.detail}" for s in result.steps if not s.ok]
    assert result.ok, f"Python {version} ({result.versions}): " + "\n".join(failed + result.notes)


@pytest.mark.slow
@pytest.mark.skipif(not ASKED, reason=NOT_ASKED)
def test_the_oldest_versions_the_ranges_allow_run_notebook_01_and_predict():
    result = check_pythons.check_python(check_pythons.PYTHONS[0], floor=True)
    if result.skipped:
        pytest.skip(result.skipped)
    assert result.ok, "\n".join(f"{s.name}:\n{s.detail}" for s in result.steps if not s.ok)


@pytest.mark.slow
@pytest.mark.skipif(not ASKED, reason=NOT_ASKED)
def test_the_colab_simulation_keeps_colabs_packages_and_runs_01_and_03():
    result = check_pythons.check_colab()
    if result.skipped:
        pytest.skip(result.skipped)
    assert result.ok, "\n".join([f"{s.name}:\n{s.detail}" for s in result.steps if not s.ok] + result.notes)
