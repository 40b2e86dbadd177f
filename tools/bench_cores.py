"""Time face detection of the same uncached demo photos on 1 core and on several, side by side.

    .venv/bin/python tools/bench_cores.py [--photos 200] [--detectors sequential mtcnn] [--jobs 1 2]

Each run detects the first N photos of the demo set into its own empty temporary cache (so
every photo is detected, none read back), with ``faces.detect_dataset(..., n_jobs=n)``; the
worker processes are started afresh for each run, so their start-up is in the time. Prints
the seconds of each run, its ratio to the first, and the load average before and after (a
busy machine gives slower and noisier figures). The cache of this repository is not touched.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd
from joblib.externals.loky import get_reusable_executor

from gle_utils import config, datasets, faces


def time_detection(paths: list[Path], detector: str, n_jobs: int) -> float:
    """Seconds to detect ``paths`` into an empty cache with ``n_jobs`` processes (workers started afresh)."""
    get_reusable_executor().shutdown(wait=True)
    with config.empty_cache("gle-bench-"):
        start = time.perf_counter()
        faces.detect_dataset(paths, detector, progress=False, n_jobs=n_jobs)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--detectors", nargs="+", default=["sequential", "mtcnn"])
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    args = parser.parse_args(argv)
    root = datasets.dataset_root("demo")
    paths = [root / p for p in pd.read_csv(root / "photos.csv").path[:args.photos]]
    print(f"{len(paths)} demo photos; cores this process may use: {len(os.sched_getaffinity(0))}; "
          f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    for detector in args.detectors:
        faces.load_detector(detector)  # loaded once in this process, as in a notebook
        first = None
        for n_jobs in args.jobs:
            seconds = time_detection(paths, detector, n_jobs)
            first = first or seconds
            print(f"{detector:11s} n_jobs={n_jobs}: {seconds:6.1f} s  ({seconds / first:.2f}x n_jobs={args.jobs[0]}; "
                  f"load average now {os.getloadavg()[0]:.2f})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
