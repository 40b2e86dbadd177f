"""Time every notebook, cold and warm, and measure the peak memory of its kernel (`make bench`).

    python tools/benchmark.py                          # every notebook; writes the README's table
    python tools/benchmark.py notebooks/01_*.ipynb     # some notebooks (the README is left alone)
    python tools/benchmark.py --warm-only              # skip the cold pass (uses your cache)
    python tools/benchmark.py --binder                 # Binder's path and limits (make bench-binder)
    python tools/benchmark.py --binder notebooks/03_*.ipynb   # only those notebooks, same limits
    python tools/benchmark.py --binder --online notebooks/03_*.ipynb   # with the online weights (simulated)

Cold: the series runs on an empty cache that holds only what a clean clone's `make data`
puts there (the demo set and the package downloads), so every detection, feature and model is
computed, as in a first `make run`. Warm: the same series again, on the cache the cold pass
filled. Each notebook runs as `make run` runs it (tools/run_notebooks.py), into a temporary
folder: the repository, its figures and your cache are not touched (the warm-only pass reads
and fills your cache, which is keyed by content).

Run on every notebook, it also rewrites each notebook's "**Time:**" line from the same figures
(and the student versions, which copy it), so the series' headers never quote an older run.

--binder: what a student on mybinder.org meets, here, under Binder's limits (``gle_utils.limits``:
a hard 2 GB memory cap that kills, one core): binder/postBuild, then every notebook in order,
on the cache postBuild and the notebooks before it filled (as in a student's session), in a
fresh cache and a Keras home that holds no online weights, as on Binder (its postBuild does not
fetch them); then ``predict``'s first call, in a fresh cache of its own that holds only the
demo set, so that it trains from nothing. A step killed at
the cap is that step's failure; the others still run. The README's Binder table is rewritten
from it. With --online as well, the same steps run with VGGFace and ImageNet VGG16 present as
simulated files (``gle_utils.simulate``: true sizes, RANDOM values), so ``auto`` picks them:
what the paper's networks cost on Binder's core (backbone="vggface" there, or a one-core
machine that has the weights). That table is printed, not written.

Peak memory is the largest resident set of any process of the run: the kernel, or a
subprocess the notebook starts (A1 builds VGGFace in one). It comes from the kernel's own
accounting (wait4), so it is exact, not sampled. The extraction overhead is what appendix A1
measures: the whole path (read, align, network, cache) against the bare compiled network.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from gle_utils import config, limits, simulate
from gle_utils.exercises import course_notebooks, write_students

# What a clean clone's `make data` leaves in the cache; everything else is computed by the notebooks.
CLEAN_CLONE_CACHE = ("demo", "packages", "real_photos")
README_START, README_END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
BINDER_START, BINDER_END = "<!-- binder:start -->", "<!-- binder:end -->"
# Binder's limits (mybinder.org: about 2 GB of memory, killed above; about one core), and the
# targets a class hour sets: each step of a student's session within its minutes.
BINDER_MEMORY_GB, BINDER_CORES = 2.0, (0,)
TARGET_MINUTES = {"postBuild": 10, "predict": 5, "notebook": 10}
# A notebook header's "**Time:** about 20 min to read; to run, ... ." sentence: the part after "to run, ".
TIME_LINE = re.compile(r"(\*\*Time:\*\* about \d+ min to read; to run, ).*?\)\.", re.S)


def run_one(notebook: Path, output_dir: Path, env: dict) -> tuple[float, float]:
    """Execute one notebook in its own process; (wall seconds, peak resident GB of any of its processes)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(config.REPO_ROOT / "tools" / "run_notebooks.py"), str(notebook),
                                "--output-dir", str(output_dir)], env=env, stdout=subprocess.DEVNULL)
    # wait4's maxrss covers the process and every descendant it waited for (the kernel included).
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{notebook.name} failed; run `python tools/run_notebooks.py {notebook}` to see why")
    return seconds, usage.ru_maxrss / 2**20  # KiB -> GiB


def extraction_overhead(executed: Path) -> str:
    """Appendix A1's own measurement: "overhead of the path: N%"."""
    if not executed.is_file():
        return "not measured"
    notebook = nbformat.read(executed, as_version=4)
    text = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    found = re.search(r"overhead of the path:\s*(-?\d+\s*%)", text)
    return found.group(1).replace(" ", "") if found else "not found in appendix A1's output"


def run_series(notebooks: list[Path], cache: Path, work: Path, label: str) -> dict[str, tuple[float, float]]:
    env = dict(os.environ, GLE_CACHE_DIR=str(cache), GLE_MODELS_DIR=str(work / "models"))
    results = {}
    for notebook in notebooks:
        seconds, gib = run_one(notebook, work / label, env)
        results[notebook.stem] = (seconds, gib)
        print(f"{label:5} {notebook.stem:32} {seconds:6.0f} s  {gib:5.2f} GB", flush=True)
    return results


def table(notebooks, cold, warm, overhead) -> str:
    rows = ["| notebook | cold | warm | peak memory (kernel) |", "|---|---:|---:|---:|"]
    for notebook in notebooks:
        name = notebook.stem
        cold_s = f"{cold[name][0]:.0f} s" if name in cold else "-"
        memory = max(result[name][1] for result in (cold, warm) if name in result)
        rows.append(f"| {name} | {cold_s} | {warm[name][0]:.0f} s | {memory:.2f} GB |")
    total_cold = f"{sum(s for s, _ in cold.values()):.0f} s" if cold else "-"
    rows.append(f"| all | {total_cold} | {sum(s for s, _ in warm.values()):.0f} s | |")
    return ("\n".join(rows) + f"\n\nExtraction overhead against the bare network, in this benchmark's own run of "
            f"appendix A1: {overhead} (A1 prints the figure of the run saved in it; on a shared 2-core machine "
            "it moves widely from run to run). "
            f"Written by `make bench` (tools/benchmark.py) on {time.strftime('%Y-%m-%d')}, "
            f"{os.cpu_count()} CPU cores.")


def write_readme(text: str, start: str = README_START, end: str = README_END) -> None:
    readme = config.REPO_ROOT / "README.md"
    content = readme.read_text()
    if start not in content or end not in content:
        raise SystemExit(f"README.md lacks the markers {start} ... {end} of this table")
    before, rest = content.split(start, 1)
    _, after = rest.split(end, 1)
    readme.write_text(f"{before}{start}\n{text}\n{end}{after}")
    print(f"README.md: the table between {start} and {end} rewritten")


def binder_steps(notebooks: list[Path], work: Path, whole_session: bool) -> list[tuple[str, str, list[str]]]:
    """(name, kind, command) of each step of a Binder session, in order: postBuild's features,
    the notebooks, predict's first call; only the notebooks unless ``whole_session``."""
    python = sys.executable
    photo = sorted((config.CACHE_DIR / "demo").glob("*/val/*/*.jpg"))[:1]
    steps = [(path.stem, "notebook", [python, str(config.REPO_ROOT / "tools" / "run_notebooks.py"), str(path),
                                      "--output-dir", str(work / "binder")]) for path in notebooks]
    if not whole_session:
        return steps
    return ([("binder/postBuild", "postBuild", ["bash", str(config.REPO_ROOT / "binder" / "postBuild")])]
            + steps + [("predict: first call", "predict", [python, "-m", "gle_utils.predict", *map(str, photo)])])


def binder(notebooks: list[Path], whole_session: bool = True, online: bool = False) -> tuple[list[str], str]:
    """Every step of a Binder session under Binder's limits, with the online weights present as
    simulated files if ``online``; -> (the steps that failed or were killed at the cap, the table)."""
    why_not = limits.cap_available()
    if why_not:
        raise SystemExit(f"--binder needs a memory cap: {why_not}")
    # On one core, wall time is CPU time plus waiting; on a busy machine it is also other
    # processes' turns, so the target is judged on CPU time, the time of a core of one's own.
    rows = [f"| step | CPU time (1 core) | wall time | peak memory | within {BINDER_MEMORY_GB:.0f} GB | target |",
            "|---|---:|---:|---:|---|---|"]
    with tempfile.TemporaryDirectory(prefix="gle-binder-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, **simulate.environment(work / "binder-home", weights=online))
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # postBuild's pip and python
        failed = []
        for name, kind, command in binder_steps(notebooks, work, whole_session):
            run = limits.run_capped(command, BINDER_MEMORY_GB, BINDER_CORES, env=env, stdout=subprocess.DEVNULL,
                                    cwd=config.REPO_ROOT)
            if not run.ok:
                failed.append(name)
            minutes = TARGET_MINUTES[kind]
            state = "killed at the cap" if run.killed_at_cap else ("yes" if run.ok else f"failed (exit {run.exit_code})")
            met = "met" if run.ok and run.cpu_seconds <= 60 * minutes else "NOT met"
            rows.append(f"| {name} | {run.cpu_seconds / 60:.1f} min | {run.seconds / 60:.1f} min | {run.peak_gb:.2f} GB | "
                        f"{state} | {met} (at most {minutes} min) |")
            print(rows[-1], flush=True)
    weights = ("simulated VGGFace and ImageNet VGG16 weights present (RANDOM values, true sizes)" if online
               else "no online weights, as Binder's postBuild leaves it (the offline backbone and stand-in)")
    return failed, ("\n".join(rows) + f"\n\nWritten by `make bench-binder` (tools/benchmark.py --binder"
            f"{' --online' if online else ''}) on {time.strftime('%Y-%m-%d')}: {weights}, a fresh cache, a hard "
            f"{BINDER_MEMORY_GB:.0f} GB memory cap and {len(BINDER_CORES)} core, on a machine with "
            f"{os.cpu_count()} CPU cores (load average {os.getloadavg()[0]:.1f} at the end).")


def write_time_lines(notebooks, cold, warm) -> None:
    """Each notebook's "**Time:**" line from this run's figures; then the student versions again."""
    for path in notebooks:
        (cold_s, cold_gb), (warm_s, warm_gb) = cold[path.stem], warm[path.stem]
        measured = (f"{warm_s:.0f} s with a warm cache and {cold_s:.0f} s cold, at most "
                    f"{max(cold_gb, warm_gb):.1f} GB of memory (`make bench` on the 2-core reference machine, "
                    f"{time.strftime('%Y-%m-%d')}; cold = the series run in order from an empty cache, so this "
                    "notebook's share of the detections and features).")
        notebook = nbformat.read(path, as_version=4)
        headers = [cell for cell in notebook.cells if cell.cell_type == "markdown" and TIME_LINE.search(cell.source)]
        if not headers:
            print(f"{path.name}: no '**Time:** about N min to read; to run, ...' line to rewrite")
            continue
        headers[0].source = TIME_LINE.sub(lambda found: found.group(1) + measured, headers[0].source, count=1)
        nbformat.write(notebook, path)
    write_students(course_notebooks())
    print("notebooks: Time lines rewritten (and notebooks/student/)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook, NN_*.ipynb then A*_*.ipynb")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold pass; run on your cache")
    parser.add_argument("--binder", action="store_true", help="Binder's path and limits (see above)")
    parser.add_argument("--online", action="store_true", help="with --binder: the online weights present (simulated)")
    args = parser.parse_args(argv)
    everything = not args.notebooks
    notebooks = [p.resolve() for p in args.notebooks] or config.notebook_paths()
    if args.binder:
        failed, text = binder(notebooks, whole_session=everything, online=args.online)
        print("\n" + text)
        if everything and not args.online:
            write_readme(text, BINDER_START, BINDER_END)
        if failed:
            print(f"failed or killed at the cap: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0

    with tempfile.TemporaryDirectory(prefix="gle-bench-") as tmp:
        work = Path(tmp)
        cold = {}
        if args.warm_only:
            cache = config.CACHE_DIR
        else:
            cache = work / "cache"
            cache.mkdir()
            for name in CLEAN_CLONE_CACHE:
                if (config.CACHE_DIR / name).exists():
                    (cache / name).symlink_to((config.CACHE_DIR / name).resolve())
            cold = run_series(notebooks, cache, work, "cold")
        warm = run_series(notebooks, cache, work, "warm")
        overhead = extraction_overhead(work / "warm" / "A1_speed_and_memory.ipynb")

    text = table(notebooks, cold, warm, overhead)
    print("\n" + text)
    if everything and not args.warm_only:
        write_readme(text)
        write_time_lines(notebooks, cold, warm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
