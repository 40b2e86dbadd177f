"""Install the course with pyproject.toml's version RANGES (never requirements.txt's pins) in a fresh
virtual environment on each Python that pyenv has here, and check that it works there; or simulate
Colab. Each run takes minutes (a fresh TensorFlow each time), so `make test` does not run it:

    python tools/check_pythons.py                   # Pythons 3.10, 3.12, 3.13 (each that pyenv has)
    python tools/check_pythons.py 3.12              # one of them
    python tools/check_pythons.py --floor 3.10      # every dependency at its range's LOWER bound
    python tools/check_pythons.py --colab           # Colab-like (make check-colab): see check_colab()
    ... --json results.json                         # also write the results

Per Python: a fresh venv in a temporary folder, ``pip install -e <a clone of this repository>[notebooks]``
(the ranges; the extra adds papermill and ipykernel), ``import gle_utils`` (and what it imports), the
demo set (``python -m gle_utils.demo`` in a temporary cache that starts with copies of data/cache/'s
demo/ and packages/, so it only checks the manifest), notebook 01 (tools/run_notebooks.py, into a
temporary folder) and ``python -m gle_utils.predict`` on one demo photo. predict's first call would
train its default model on all 450 train and val photos (about 10 minutes on 2 busy cores), so by
default a quick model is trained in that venv first (the "paper" recipe, HOG, 20 trees, 10 photos
per class and split: under a minute), saved, and predict loads it with ``--model-dir``;
``--predict default`` times predict's own first call instead. The clone is of the last commit:
uncommitted changes are not checked.

A Python that pyenv lacks is skipped with a message. tests/test_pythons.py runs this when
GLE_CHECK_PYTHONS=1 is set (pytest -m slow).
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path


def _load_colab_setup():
    """tools/colab_setup.py (the setup the Colab simulation runs), loaded from its file: sys.path
    stays as it was."""
    spec = importlib.util.spec_from_file_location("colab_setup", Path(__file__).resolve().parent / "colab_setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab_setup = _load_colab_setup()

__all__ = ["COLAB_PYTHON", "COLAB_PREINSTALLED", "PYTHONS", "REPORTED", "Result", "Step", "check_colab",
           "check_python", "dependency_ranges", "find_python", "lower_bounds", "main", "markdown_table",
           "with_first_cell"]

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = REPO_ROOT / "pyproject.toml"

# The Pythons the README promises beside 3.11 (the one `make setup` uses).
PYTHONS = ("3.10", "3.12", "3.13")

# The packages whose resolved versions each result reports.
REPORTED = ("tensorflow", "keras", "numpy", "pandas", "scikit-learn", "scipy", "h5py", "dlib-bin", "pillow",
            "opencv-python-headless", "scikit-image", "matplotlib", "skops", "mtcnn")

# Colab's Python, and what the simulation preinstalls as Colab's own: versions other than
# requirements.txt's pins (the previous minor releases) but inside pyproject.toml's ranges.
COLAB_PYTHON = "3.12"
COLAB_PREINSTALLED = ("tensorflow==2.20.0", "keras==3.14.0", "numpy==2.3.5", "pandas==3.0.6")
# Also in Colab's image: a Jupyter kernel (the notebooks run in it) and, here, papermill to run them.
COLAB_KERNEL = ("ipykernel", "papermill")

# The quick model predict loads (check_python's predict="quick"): trained and saved in the venv.
QUICK_MODEL = """\
import sys, time
from gle_utils import pipeline
from gle_utils.datasets import load_dataset
start = time.perf_counter()
table = load_dataset("demo", verbose=False)
small = table[table["split"].isin(["train", "val"])].groupby(["split", "label"]).head(10)
model, _ = pipeline.train_model(small, "paper", detector="hog", n_trees=20, progress=False)
model.save(sys.argv[1])
print(f"quick model: {len(small)} photos, trained and saved in {time.perf_counter() - start:.0f} s")
"""

NOTEBOOK_01 = "notebooks/01_data_overview.ipynb"
NOTEBOOK_03 = "notebooks/03_face_features.ipynb"


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""  # the end of the output when it failed, or a short note


@dataclass
class Result:
    label: str  # "3.12", "3.10 (floor)", "colab 3.12"
    python: str | None
    steps: list[Step] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.skipped is None and bool(self.steps) and all(step.ok for step in self.steps)

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


# ---- what pyproject.toml asks for ----------------------------------------------------------------


def _clean_up(work: Path, keep, result) -> None:
    """Remove a check's temporary folder, or (with --keep) say where it was kept."""
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        result.notes.append(f"kept in {work}")

def dependency_ranges(pyproject: Path = PYPROJECT, extras: tuple[str, ...] = ()) -> list[str]:
    """pyproject.toml's dependencies (and those of ``extras``), as written: 'numpy>=2.2.6,<3', ..."""
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    found = list(project["dependencies"])
    for extra in extras:
        found += project.get("optional-dependencies", {})[extra]
    return found


def lower_bounds(requirements: list[str]) -> list[str]:
    """'name==lower' for each requirement with a '>=' bound: the oldest versions the ranges allow,
    which ``--floor`` installs. A requirement without a lower bound is an error: a range must have one."""
    pins = []
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*)", requirement)
        name, spec = match.group(1), match.group(2)
        lower = re.search(r">=\s*([^,;\s]+)", spec)
        if lower is None:
            raise ValueError(f"{requirement!r} has no lower bound (>=)")
        pins.append(f"{name}=={lower.group(1)}")
    return pins


# ---- finding Pythons and running steps -----------------------------------------------------------

def find_python(version: str, roots: list[Path] | None = None) -> Path | None:
    """The newest pyenv Python ``version`` (e.g. "3.12" -> ~/.pyenv/versions/3.12.1/bin/python), or None."""
    if roots is None:
        roots = [Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"]
    candidates = []
    for root in roots:
        for folder in Path(root).glob(f"{version}.*"):
            python = folder / "bin" / "python"
            patch = folder.name[len(version) + 1:]
            if python.exists() and patch.isdigit():
                candidates.append((int(patch), python))
    return max(candidates)[1] if candidates else None


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_step(name: str, command: list[str], *, cwd: Path, env: dict, log: Path, timeout: float = 3600) -> Step:
    """Run ``command``; its output goes to ``log``; a Step with the time and, on failure, the output's end."""
    print(f"  {name} ...", flush=True)
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        output, ok = result.stdout + result.stderr, result.returncode == 0
    except subprocess.TimeoutExpired as error:
        output, ok = f"{error.stdout or ''}{error.stderr or ''}\nTIMED OUT after {timeout:.0f} s", False
    seconds = time.perf_counter() - start
    with open(log, "a") as handle:
        handle.write(f"\n===== {name}: {' '.join(map(str, command))}\n{output}")
    print(f"  {name}: {'ok' if ok else 'FAILED'} ({seconds:.0f} s)", flush=True)
    return Step(name, ok, round(seconds, 1), "" if ok else _tail(output))


def installed(python: Path, names: tuple[str, ...] = REPORTED) -> dict[str, str]:
    """{name: version} of ``names`` in the environment of ``python`` (absent ones left out)."""
    versions = colab_setup.installed_versions(python)
    return {name: versions[name] for name in names if name in versions}


def clone_repository(dest: Path, source: Path = REPO_ROOT) -> Path:
    """A local ``git clone`` of ``source``'s last commit: what a user gets from GitHub."""
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(source), str(dest)], check=True)
    return dest


def temporary_cache(dest: Path, reuse: tuple[str, ...] = ("demo", "packages")) -> Path:
    """A GLE_CACHE_DIR that starts with COPIES of data/cache's ``reuse`` folders (the demo set is
    keyed by content, so its build only checks the manifest); copies, so that no run here can
    write into the shared cache."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in reuse:
        source = REPO_ROOT / "data" / "cache" / name
        if source.is_dir():
            shutil.copytree(source, dest / name, symlinks=True)
    return dest


def demo_photo(cache: Path) -> Path:
    """One photo of the demo set's test split (the first by name)."""
    photos = sorted((cache / "demo").glob("*/test/*/*.jpg")) + sorted((cache / "demo").glob("*/test/*/*.png"))
    if not photos:
        raise FileNotFoundError(f"no demo photo under {cache / 'demo'}")
    return photos[0]


def _environment(cache: Path | None, work: Path) -> dict:
    """The environment of every step: nothing from this shell's venv, the user's Keras folder
    replaced by an empty one, and the cache (when given) in ``cache``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "GLE_CACHE_DIR", "GLE_MODELS_DIR",
                        "GLE_FIGURES_DIR", "KERAS_HOME", "COLAB_RELEASE_TAG", colab_setup.SIMULATE_VARIABLE)}
    env["KERAS_HOME"] = str(work / "keras")
    env["MPLBACKEND"] = "Agg"
    if cache is not None:
        env["GLE_CACHE_DIR"] = str(cache)
    return env


def _venv(python: Path, dest: Path, env: dict, log: Path) -> Step:
    return run_step("venv", [str(python), "-m", "venv", str(dest)], cwd=dest.parent, env=env, log=log)


IMPORT_CHECK = ("import gle_utils, gle_utils.pipeline, gle_utils.predict, gle_utils.backbones, gle_utils.faces\n"
                "import tensorflow, keras, dlib, cv2, mtcnn, skops, sklearn, skimage, seaborn, h5py\n"
                "print('imported gle_utils; tensorflow', tensorflow.__version__, 'keras', keras.__version__)\n")


def _notebook(venv_python: Path, notebooks: list[str], clone: Path, out: Path, env: dict, log: Path,
              name: str) -> Step:
    step = run_step(name, [str(venv_python), "tools/run_notebooks.py", *notebooks, "--output-dir", str(out)],
                    cwd=clone, env=env, log=log)
    if step.ok:  # run_notebooks fails on an error; check the executed copies hold none
        import nbformat

        for notebook in notebooks:
            executed = nbformat.read(out / Path(notebook).name, as_version=4)
            errors = [o for c in executed.cells if c.cell_type == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                step.ok, step.detail = False, f"{notebook}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    return step


# ---- the checks -----------------------------------------------------------------------------------

def check_python(version: str, *, floor: bool = False, source: Path = REPO_ROOT, keep: Path | None = None,
                 predict: str = "quick", python: Path | None = None) -> Result:
    """Install the clone with the ranges (``floor``: every dependency at its lower bound) on pyenv's
    Python ``version`` in a fresh venv; import, build the demo, run notebook 01, predict one photo
    (``predict``: "quick" with a quick model trained first, "default" predict's own first call)."""
    label = f"{version} (floor)" if floor else version
    python = python or find_python(version)
    if python is None:
        print(f"Python {version}: not in pyenv here, skipped")
        return Result(label, None, skipped=f"pyenv has no Python {version} here")
    print(f"Python {label}: {python}", flush=True)
    work = Path(tempfile.mkdtemp(prefix=f"gle-py{version}-", dir=keep))
    result = Result(label, str(python))
    try:
        log = work / "log.txt"
        clone = clone_repository(work / "repo", source)
        cache = temporary_cache(work / "cache")
        env = _environment(cache, work)
        venv = work / "venv"
        bin_python = venv / "bin" / "python"
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        result.steps.append(_venv(python, venv, env, log))
        command = [str(bin_python), "-m", "pip", "install", "--disable-pip-version-check", "-e",
                   f"{clone}[notebooks]"]
        if floor:
            constraints = work / "floor.txt"
            constraints.write_text("\n".join(lower_bounds(dependency_ranges(clone / "pyproject.toml",
                                                                            ("notebooks",)))) + "\n")
            command += ["-c", str(constraints)]
        if result.steps[-1].ok:
            result.steps.append(run_step("install", command, cwd=work, env=env, log=log, timeout=3600))
        if not result.steps[-1].ok:
            result.notes.append(_why_not_installable(result.steps[-1].detail))
            return result
        result.versions = installed(bin_python)
        if floor:  # pip must have installed exactly the lower bounds
            everything = colab_setup.installed_versions(bin_python)
            wrong = [f"{pin} (got {everything.get(colab_setup.normalize(pin.split('==')[0]))})"
                     for pin in constraints.read_text().split()
                     if everything.get(colab_setup.normalize(pin.split("==")[0])) != pin.split("==")[1]]
            result.steps.append(Step("floor versions", not wrong, 0.0, ", ".join(wrong)))
        steps = [("import", [str(bin_python), "-c", IMPORT_CHECK]),
                 ("demo", [str(bin_python), "-m", "gle_utils.demo"])]
        for name, step_command in steps:
            result.steps.append(run_step(name, step_command, cwd=clone, env=env, log=log))
            if not result.steps[-1].ok:
                return result
        result.steps.append(_notebook(bin_python, [NOTEBOOK_01], clone, work / "out", env, log, "notebook 01"))
        command = [str(bin_python), "-m", "gle_utils.predict", str(demo_photo(cache))]
        if predict == "quick":
            folder = work / "quick_model"
            result.steps.append(run_step("quick model", [str(bin_python), "-c", QUICK_MODEL, str(folder)],
                                         cwd=clone, env=env, log=log))
            if not result.steps[-1].ok:
                return result
            command += ["--model-dir", str(folder)]
        result.steps.append(run_step("predict", command, cwd=clone, env=env, log=log))
        if result.steps[-1].ok:
            answer = [line for line in log.read_text().splitlines() if "[model " in line]
            result.notes.append("predict: " + (answer[-1].split(": ", 1)[-1].strip()[:160] if answer
                                               else "(no answer line)"))
        return result
    finally:
        _clean_up(work, keep, result)


def _why_not_installable(output: str) -> str:
    """The package pip could not find for this Python, from its error output."""
    match = re.search(r"(?:No matching distribution found for|Could not find a version that satisfies the "
                      r"requirement) ([^\s(]+)", output)
    return (f"no installable release of {match.group(1)} for this Python within its range" if match
            else "pip failed (see the step's output)")


def with_first_cell(notebook: Path, source: str) -> Path:
    """Put a code cell with ``source`` first in ``notebook`` (a copy in a temporary clone), as
    tools/navigation.py will in the course; a notebook that has it already is left as it is."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    first = next((c for c in nb.cells if c.cell_type == "code"), None)
    if first is None or "colab_setup" not in first.source:
        nb.cells.insert(0, nbformat.v4.new_code_cell(source))
        nbformat.write(nb, notebook)
    return notebook


def _papermill(venv_python: Path, notebook: Path, out: Path, env: dict, log: Path, name: str) -> list[Step]:
    """Run ``notebook`` with papermill in the venv's own kernel (its first cell is the setup cell);
    two Steps: that first cell, from papermill's per-cell times, and the whole notebook."""
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    target = out / notebook.name
    step = run_step(name, [str(venv_python), "-m", "papermill", str(notebook), str(target), "-k", "python3",
                           "--cwd", str(notebook.parent), "--no-progress-bar"], cwd=notebook.parent, env=env, log=log)
    if not target.exists():
        return [step]
    executed = nbformat.read(target, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if errors and step.ok:
        step.ok, step.detail = False, f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
    first = code[0]
    text = "".join(o.get("text", "") for o in first.get("outputs", []) if o.get("output_type") == "stream")
    with open(log, "a") as handle:
        handle.write(f"\n===== {name}, its first cell's output:\n{text}\n")
    first_ok = not any(o.get("output_type") == "error" for o in first.get("outputs", []))
    seconds = float(first.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
    note = "skipped: done before" if "already done" in text else ""
    return [Step(f"{name}: setup cell", first_ok, round(seconds, 1), note or ("" if first_ok else _tail(text))), step]


def check_colab(*, source: Path = REPO_ROOT, keep: Path | None = None, python: Path | None = None,
                preinstalled: tuple[str, ...] = COLAB_PREINSTALLED) -> Result:
    """The Colab simulation: a fresh venv on Python 3.12 with ``preinstalled`` (Colab's own
    TensorFlow, Keras, numpy and pandas, at versions other than the pins) and a Jupyter kernel, a
    clone of the repository where the first cell puts it (/content, here a temporary folder), and
    notebooks 01 then 03 run by papermill in that venv's kernel with Colab's environment variable
    set, each with the setup cell (``colab_setup.colab_cell_source``) first: in 01 it installs with
    the ranges, builds the demo set (from nothing: its packages are downloaded) and tries the
    weights (GitHub and Keras's downloads fail here, not fatally); in 03 it finds that done. The
    clone exists already, as after the cell's ``git clone`` (GitHub is not reachable here).
    TensorFlow, numpy and pandas must be unchanged after 01."""
    label = f"colab {COLAB_PYTHON}"
    python = python or find_python(COLAB_PYTHON)
    if python is None:
        print(f"Python {COLAB_PYTHON}: not in pyenv here, Colab simulation skipped")
        return Result(label, None, skipped=f"pyenv has no Python {COLAB_PYTHON} here")
    work = Path(tempfile.mkdtemp(prefix="gle-colab-", dir=keep))
    result = Result(label, str(python))
    try:
        log = work / "log.txt"
        content = work / "content"  # Colab's /content
        content.mkdir()
        env = _environment(None, work)
        venv = work / "venv"
        bin_python = venv / "bin" / "python"
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        result.steps.append(_venv(python, venv, env, log))
        pip = [str(bin_python), "-m", "pip", "install", "--disable-pip-version-check"]
        result.steps.append(run_step("Colab's packages", pip + [*preinstalled, *COLAB_KERNEL],
                                     cwd=work, env=env, log=log))
        if not result.steps[-1].ok:
            return result
        before = colab_setup.installed_versions(bin_python)
        clone = clone_repository(content / "REPO", source)
        cell = colab_setup.colab_cell_source("OWNER/REPO")
        colab_env = dict(env, COLAB_RELEASE_TAG="simulated", GLE_COLAB_HOME=str(content))
        out = work / "out"
        first = with_first_cell(clone / NOTEBOOK_01, cell)
        result.steps += _papermill(bin_python, first, out, colab_env, log, "notebook 01")
        after = colab_setup.installed_versions(bin_python)
        result.versions = {name: after[name] for name in REPORTED if name in after}
        kept = {name: (before.get(name), after.get(name)) for name in ("tensorflow", "keras", "numpy", "pandas")}
        changed = {name: pair for name, pair in kept.items() if pair[0] != pair[1]}
        result.notes.append("before -> after: " + ", ".join(f"{n} {a} -> {b}" for n, (a, b) in kept.items()))
        others = sorted(f"{n} {before[n]} -> {after.get(n)}" for n in before if after.get(n) != before[n])
        result.notes.append("every preinstalled package that changed: " + (", ".join(others) or "none"))
        result.steps.insert(-1, Step("TensorFlow, numpy, pandas kept",
                                     not any(n in changed for n in colab_setup.PROTECTED), 0.0,
                                     "" if not changed else f"changed: {changed}"))
        state = clone / colab_setup.STATE_FILE
        if state.is_file():
            done = json.loads(state.read_text())
            result.notes.append(f"setup: {done['seconds']:.0f} s, kept {done['kept']}, added {len(done['added'])} "
                                f"packages, upgraded {done['upgraded'] or 'none'}, weights {done['weights']}")
        if all(step.ok for step in result.steps):
            result.steps += _papermill(bin_python, with_first_cell(clone / NOTEBOOK_03, cell), out, colab_env, log,
                                       "notebook 03")
        return result
    finally:
        _clean_up(work, keep, result)


# ---- reporting ------------------------------------------------------------------------------------

def markdown_table(results: list[Result]) -> str:
    """One row per result: the Python, what pip resolved, each step's outcome and time."""
    names = []
    for result in results:
        names += [s.name for s in result.steps if s.name not in names and s.name != "venv"]
    rows = ["| " + " | ".join(["Python", "resolved", *names, "total"]) + " |",
            "|---|---|" + "---|" * len(names) + "---:|"]
    for result in results:
        if result.skipped:
            rows.append("| " + " | ".join([result.label, result.skipped, *[""] * len(names), ""]) + " |")
            continue
        resolved = ", ".join(f"{n} {v}" for n, v in result.versions.items()
                             if n in ("tensorflow", "keras", "numpy", "pandas", "scikit-learn"))
        cells = []
        for name in names:
            step = result.step(name)
            cells.append("–" if step is None else f"{'ok' if step.ok else 'FAILED'} {step.seconds:.0f} s")
        total = sum(s.seconds for s in result.steps if not s.name.endswith(": setup cell"))  # in its notebook's
        rows.append(f"| {result.label} | {resolved or '-'} | " + " | ".join(cells) + f" | {total:.0f} s |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("versions", nargs="*", help=f"Python versions (default: {', '.join(PYTHONS)})")
    parser.add_argument("--floor", action="store_true", help="install every dependency at its lower bound")
    parser.add_argument("--colab", action="store_true", help="the Colab simulation instead (Python 3.12)")
    parser.add_argument("--predict", choices=("quick", "default"), default="quick",
                        help="quick (default): predict with a quick model trained first in the venv; "
                             "default: time predict's own first call (it trains its default model, minutes)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folders under this folder")
    parser.add_argument("--json", type=Path, default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    if args.colab:
        results = [check_colab(keep=args.keep)]
    else:
        results = [check_python(v, floor=args.floor, keep=args.keep, predict=args.predict)
                   for v in (args.versions or PYTHONS)]
    print()
    print(markdown_table(results))
    for result in results:
        for note in result.notes:
            print(f"{result.label}: {note}")
        for step in result.steps:
            if not step.ok:
                print(f"\n{result.label}, {step.name} FAILED:\n{step.detail}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"ok": r.ok} for r in results], indent=1) + "\n")
    return 0 if all(r.ok or r.skipped for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
