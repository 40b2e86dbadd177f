"""How the face stages' time grows with the number of photos, and what that means for GAF.

    .venv/bin/python tools/bench_scale.py [--sizes 150 300 600] [--seed 22] [--n-jobs N]

For each size N, a GAF-layout folder of N synthetic group photos is built from the demo
generator with another seed than the demo set's (``demo.build_demo``: new photos, none in any
cache), and timed into an empty temporary cache: detection (the paper's "sequential" detector),
landmarks, and the offline deep features ("faceid-resnet"); the models are loaded, and the
detection workers started, on 12 other photos first, untimed. Each stage's time is fitted as
a * N**b over the sizes (b, the log-log slope: 1 is linear), and projected to the sizes of GAF
2.0, GAF 3.0 and GroupEmoW. The load average is printed with the figures: a busy machine gives
slower, noisier ones. Nothing is written into the repository or its cache.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gle_utils import backbones, config, demo, faces, features
from gle_utils.progress import duration_text

# The sizes to project to: photos in each dataset.
DATASETS = {"GAF 2.0": 6467, "GAF 3.0": 15000, "GroupEmoW": 15894}
STAGES = ("detection", "landmarks", "features")


def time_stages(folder: Path, n_jobs: int | None = None) -> dict[str, float]:
    """Seconds of each stage over the photos of ``folder`` (a demo-layout folder), in an empty cache."""
    paths = [str(folder / p) for p in pd.read_csv(folder / "photos.csv").path]
    net = backbones.get_backbone("faceid-resnet")
    seconds = {}
    with config.empty_cache("gle-scale-cache-"):
        for stage, run in (("detection", lambda: faces.detect_dataset(paths, progress=False, n_jobs=n_jobs)),
                           ("landmarks", lambda: features.extract_landmarks(paths, progress=False)),
                           ("features", lambda: features.extract_faces(paths, net, progress=False))):
            start = time.perf_counter()
            run()  # landmarks and features read the detections cached by the stage before
            seconds[stage] = time.perf_counter() - start
    return seconds


def fit_power(sizes, seconds) -> tuple[float, float]:
    """(a, b) of seconds = a * size**b, fitted on a log-log scale (b is the slope).

    >>> a, b = fit_power([100, 200, 400], [2.0, 4.0, 8.0])
    >>> round(a, 3), round(b, 3)
    (0.02, 1.0)
    """
    slope, intercept = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return float(np.exp(intercept)), float(slope)


def scaling_table(timings: dict[int, dict[str, float]]) -> pd.DataFrame:
    """One row a stage: its seconds at each size, the fitted exponent, and the projected time of each dataset."""
    sizes = sorted(timings)
    rows = []
    for stage in STAGES:
        seconds = [timings[n][stage] for n in sizes]
        row = {f"N={n}": f"{s:.1f} s" for n, s in zip(sizes, seconds)}
        if len(sizes) >= 2:
            a, b = fit_power(sizes, seconds)
            row["exponent"] = round(b, 2)
            row |= {name: duration_text(a * n ** b) for name, n in DATASETS.items()}
        rows.append({"stage": stage, **row})
    return pd.DataFrame(rows).set_index("stage")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[150, 300, 600])
    parser.add_argument("--seed", type=int, default=22, help="the photos' seed (the demo set's is 2017)")
    parser.add_argument("--n-jobs", type=int, default=None, help="detection processes (default: every core)")
    args = parser.parse_args(argv)
    print(f"cores: {len(os.sched_getaffinity(0))}; load average before: {os.getloadavg()[0]:.2f}", flush=True)
    timings = {}
    with tempfile.TemporaryDirectory(prefix="gle-scale-photos-") as scratch:
        # Once untimed, on 12 photos of another seed: the models load, and the workers start, outside the timings.
        time_stages(demo.build_demo(Path(scratch) / "warm-up", seed=args.seed + 1, n_photos=12), args.n_jobs)
        for n in sorted(args.sizes):
            folder = demo.build_demo(Path(scratch) / f"n{n}", seed=args.seed, n_photos=n)
            timings[n] = time_stages(folder, args.n_jobs)
            print(f"N={n}: " + ", ".join(f"{stage} {s:.1f} s" for stage, s in timings[n].items())
                  + f" (load average {os.getloadavg()[0]:.2f})", flush=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(scaling_table(timings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
