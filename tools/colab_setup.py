"""Set the course up on Google Colab, right after ``git clone`` (only the standard library: the
project is not installed yet when this runs).

    python tools/colab_setup.py                  # on Colab; elsewhere it says so and does nothing
    GLE_SIMULATE_COLAB=1 python tools/colab_setup.py   # the simulation (tools/check_pythons.py --colab)

On Colab it

1. installs the project from the clone (``pip install -e``) with pyproject.toml's version RANGES,
   never requirements.txt's exact pins. Colab's own TensorFlow, numpy and pandas stay: pip keeps an
   installed version that lies inside a range, and before installing this script asks pip what it
   would install (``pip install --dry-run --report``) and stops, changing nothing, if that would
   replace one of the three (``--allow-replacing`` goes on anyway; the runtime must then restart);
2. builds the offline demo set (``python -m gle_utils.demo``);
3. fetches the weights, as binder/postBuild does: ``python -m gle_utils.backbones`` (VGGFace and the
   offline backbone's) and Keras's ImageNet VGG16; a failure there is not fatal (the notebooks then
   use their offline stand-ins and say so).

It writes what it did to data/cache/colab_setup.json; a second run with the same pyproject.toml
(the next notebook of the same Colab session) skips the work. The notebooks' first cell calls it:
``colab_cell_source()`` below writes that cell's code (tools/navigation.py inserts it).
"""

from __future__ import annotations

import argparse
import codecs
import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["PROTECTED", "REPO_ROOT", "SIMULATE_VARIABLE", "colab_cell_source", "installed_versions", "main",
           "normalize", "on_colab", "planned_installs", "replacements", "setup"]

# The repository root (this file is tools/colab_setup.py).
REPO_ROOT = Path(__file__).resolve().parent.parent

# Colab's preinstalled packages that the install must never replace: Colab's kernel has often
# imported them already, and a replaced TensorFlow or numpy under a running kernel breaks it.
PROTECTED = ("tensorflow", "numpy", "pandas")

# Forces the Colab path on any machine: for the simulation only (tools/check_pythons.py --colab).
SIMULATE_VARIABLE = "GLE_SIMULATE_COLAB"

# What a finished setup left: read by a second run to skip the work.
STATE_FILE = Path("data") / "cache" / "colab_setup.json"


# What binder/postBuild runs for the whole-image member's weights; a failure is one line, not a traceback.
FETCH_IMAGENET_VGG16 = """\
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
try:
    keras.applications.VGG16(include_top=False, weights="imagenet")
except Exception as error:
    raise SystemExit(f"ImageNet VGG16 weights not fetched: {error}")
print("ImageNet VGG16 weights: ready")
"""


def normalize(name: str) -> str:
    """A distribution's name as pip compares it (PEP 503): 'Scikit_Learn' -> 'scikit-learn'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def on_colab(environ=None, modules=None) -> bool:
    """True in a Colab runtime: its kernel has imported ``google.colab``, and Colab sets
    ``COLAB_RELEASE_TAG`` in the environment of every process it starts; or when the simulation
    switch ``GLE_SIMULATE_COLAB=1`` is set."""
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    return ("google.colab" in modules or bool(environ.get("COLAB_RELEASE_TAG"))
            or environ.get(SIMULATE_VARIABLE, "") not in ("", "0"))


def installed_versions(python: str | Path = sys.executable) -> dict[str, str]:
    """{normalized name: version} of every distribution ``python`` sees, read in a fresh process
    (this one may have imported the old versions)."""
    code = ("import json, importlib.metadata as m\n"
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions() if d.metadata['Name']}))")
    found = json.loads(subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout)
    return {normalize(name): version for name, version in found.items()}


def planned_installs(repo: str | Path, python: str | Path = sys.executable) -> dict[str, str]:
    """{normalized name: version} of what ``pip install -e repo`` would install, asked of pip
    without changing anything (``--dry-run --report``). An installed version that satisfies its
    range is not in it: pip keeps it."""
    # The report goes to a file: on stdout, pip colours it when a Jupyter kernel asks for colours.
    with tempfile.TemporaryDirectory() as folder:
        report_file = Path(folder) / "report.json"
        command = [str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report_file),
                   "--disable-pip-version-check", "--no-color", "-e", str(repo)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not report_file.is_file():
            raise SystemExit(f"pip cannot install {repo} here:\n{result.stderr.strip()[-3000:]}")
        report = json.loads(report_file.read_text())
    return {normalize(item["metadata"]["name"]): item["metadata"]["version"] for item in report["install"]}


def replacements(planned: dict[str, str], before: dict[str, str],
                 protected: tuple[str, ...] = PROTECTED) -> dict[str, tuple[str, str]]:
    """{name: (installed version, version pip would put instead)} for each protected package that
    is installed and that the plan replaces."""
    return {name: (before[name], planned[name]) for name in protected if name in before and name in planned}


def _ranges(repo: Path) -> dict[str, str]:
    """{normalized name: 'name>=x,<y'} of pyproject.toml's dependencies (for messages only)."""
    text = (repo / "pyproject.toml").read_text()
    found = re.findall(r'"([A-Za-z0-9_.\-]+)([<>=!~][^"]*)"', text)
    return {normalize(name): name + spec for name, spec in found}


def _run(what: str, command: list[str], cwd: Path, required: bool = True) -> bool:
    """Run one step, its output shown as it comes; False (or SystemExit when ``required``) if it failed."""
    print(f"--- {what}", flush=True)
    start = time.perf_counter()
    # The output is read and printed here as it comes: a kernel (Colab's) shows what this process
    # prints, not always what a child writes to the terminal. Raw, so that a progress bar's "\r"
    # redraws its line instead of adding one.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        for chunk in iter(lambda: process.stdout.read1(1 << 16), b""):
            sys.stdout.write(decoder.decode(chunk))
            sys.stdout.flush()
    ok = process.returncode == 0
    print(f"--- {what}: {'done' if ok else 'FAILED'} ({time.perf_counter() - start:.0f} s)", flush=True)
    if not ok and required:
        raise SystemExit(f"Colab setup stopped: {what} failed (its output is above).")
    return ok


def _fingerprint(repo: Path) -> str:
    return hashlib.sha256((repo / "pyproject.toml").read_bytes()).hexdigest()


def setup(repo: str | Path = REPO_ROOT, python: str | Path = sys.executable, allow_replacing: bool = False,
          fetch: bool = True) -> dict:
    """Install the clone ``repo`` into ``python``'s environment, build the demo set and fetch the
    weights; return what it did (also written to data/cache/colab_setup.json)."""
    repo = Path(repo).resolve()
    state_file = repo / STATE_FILE
    if state_file.is_file():
        state = json.loads(state_file.read_text())
        if state.get("pyproject_sha256") == _fingerprint(repo) and state.get("python") == str(python):
            print("Colab setup: already done in this session (data/cache/colab_setup.json); nothing to do.")
            return state
    start = time.perf_counter()
    before = installed_versions(python)
    print("Colab setup: asking pip what installing the course would change ...", flush=True)
    planned = planned_installs(repo, python)
    replaced = replacements(planned, before)
    if replaced:
        ranges = _ranges(repo)
        lines = [f"  {name}: Colab has {old}, pip would install {new} (pyproject.toml: {ranges.get(name, name)})"
                 for name, (old, new) in replaced.items()]
        message = "Installing the course would replace Colab's own packages:\n" + "\n".join(lines)
        if not allow_replacing:
            raise SystemExit(message + "\nNothing was changed. Run again with --allow-replacing to go on "
                             "anyway, then Runtime > Restart session and run this cell again.")
        print(message + "\n--allow-replacing: going on; restart the session afterwards.")
    upgraded = {name: (before[name], version) for name, version in planned.items()
                if name in before and name != "gle-utils"}
    added = sorted(name for name in planned if name not in before)
    print(f"Colab setup: {len(added)} packages to add, {len(upgraded)} to change"
          + (": " + ", ".join(f"{n} {a} -> {b}" for n, (a, b) in sorted(upgraded.items())) if upgraded else ""))
    _run("pip install -e (pyproject.toml's ranges; a few minutes, quiet)",
         [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-color", "--quiet", "-e",
          str(repo)], repo)
    after = installed_versions(python)
    changed = {name: (before[name], after.get(name)) for name in PROTECTED
               if name in before and after.get(name) != before[name]}
    if changed:
        raise SystemExit(f"pip replaced Colab's packages after all: {changed}")
    _run("the demo set (python -m gle_utils.demo)", [str(python), "-m", "gle_utils.demo"], repo)
    weights = {}
    if fetch:
        weights["backbones"] = _run("the backbones' weights (python -m gle_utils.backbones)",
                                    [str(python), "-m", "gle_utils.backbones"], repo, required=False)
        weights["imagenet_vgg16"] = _run("Keras's ImageNet VGG16 weights (the whole-image member)",
                                         [str(python), "-c", FETCH_IMAGENET_VGG16], repo, required=False)
        if not all(weights.values()):
            print("Some weights were not fetched: the notebooks use their offline stand-ins there and say so.")
    state = {"pyproject_sha256": _fingerprint(repo), "python": str(python),
             "kept": {name: before[name] for name in PROTECTED if name in before},
             "added": added, "upgraded": {n: list(v) for n, v in upgraded.items()}, "weights": weights,
             "seconds": round(time.perf_counter() - start, 1)}
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=1) + "\n")
    print(f"Colab setup: done in {state['seconds']:.0f} s; kept Colab's "
          + ", ".join(f"{n} {v}" for n, v in state["kept"].items()))
    return state


def _use_in_this_process(repo: Path, upgraded: dict) -> None:
    """Make the fresh install importable from the running kernel (an editable install is only
    seen by processes started after it), and say when an upgraded package was imported already."""
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    importlib.invalidate_caches()
    from importlib.metadata import packages_distributions

    modules = {normalize(dist): module for module, dists in packages_distributions().items() for dist in dists}
    stale = sorted(name for name in upgraded if modules.get(name, name.replace("-", "_")) in sys.modules)
    if stale:
        print(f"Already imported by this kernel and upgraded just now: {', '.join(stale)}. "
              "Runtime > Restart session, then run this cell again.")


def colab_cell_source(repository: str = "OWNER/REPO") -> str:
    """The code of every notebook's first cell: nothing outside Colab; on Colab, clone
    https://github.com/<repository> (once per session) into /content, run this setup, and go to
    the clone's notebooks/ folder. ``repository``: the GitHub "owner/name"."""
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+", repository):
        raise ValueError(f"repository must be a GitHub 'owner/name', got {repository!r}")
    name = repository.split("/")[1]
    return (
        "# On Google Colab only: get the course and set it up (a few minutes, once per session).\n"
        "# Elsewhere this cell does nothing.\n"
        "import os, subprocess, sys\n"
        "if 'google.colab' in sys.modules or os.environ.get('COLAB_RELEASE_TAG'):\n"
        f"    clone = os.path.join(os.environ.get('GLE_COLAB_HOME', '/content'), {name!r})\n"
        "    if not os.path.isdir(clone):\n"
        f"        subprocess.run(['git', 'clone', '--depth', '1', 'https://github.com/{repository}', clone], check=True)\n"
        "    sys.path.insert(0, os.path.join(clone, 'tools'))\n"
        "    import colab_setup\n"
        "    colab_setup.main([])\n"
        "    os.chdir(os.path.join(clone, 'notebooks'))\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="the clone to install (default: this one)")
    parser.add_argument("--allow-replacing", action="store_true",
                        help="install even if that replaces Colab's TensorFlow, numpy or pandas")
    parser.add_argument("--no-weights", action="store_true", help="skip fetching the weights")
    args = parser.parse_args(argv)
    if not on_colab():
        print(f"Not on Colab: nothing to do (set {SIMULATE_VARIABLE}=1 to simulate it).")
        return 0
    state = setup(args.repo, allow_replacing=args.allow_replacing, fetch=not args.no_weights)
    if __name__ != "__main__":  # imported by the notebook's first cell: the kernel itself
        _use_in_this_process(Path(args.repo).resolve(), state.get("upgraded", {}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
