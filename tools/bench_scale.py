"""How each stage's time and memory grow with the number of photos, and what that means for GAF.

    .venv/bin/python tools/bench_scale.py [--sizes 150 300 600 1200] [--notebooks 150 300]
                                          [--online 150 300] [--plot figures/scale.png] [--seed 22]
    .venv/bin/python tools/bench_scale.py --forest-rows    (why the forests grow faster than linearly)
    .venv/bin/python tools/bench_scale.py --sizes 300 1200 --notebooks --repeats 2 --stages "detection (mtcnn)" ...
                                          (some stages again, to tell growth from the machine's noise)

For each size N, a GAF-layout folder of N synthetic group photos is built from the demo generator
with another seed than the demo set's (``demo.build_demo``: new photos, none in any cache); half
of them are train photos, a quarter val, a quarter test, as in the demo set. Each stage then runs
on it in a fresh process, in an empty cache of that size's own (the stages after detection read
what the stages before cached, as in a real run):

    detection (sequential), detection (mtcnn), landmarks, identity features (faceid-resnet),
    expression features (both expression networks), pooling (every face set read back and
    pooled per photo), forests (the paper's five face forests, 300 trees), whole image (the
    offline member, fitted on every photo), ensemble (a model trained on the smallest size,
    scoring all N photos: every member's vote, features cached)

Each process first loads its models (and starts its detection workers) on 12 photos of another
seed, untimed; then it times its stage and reports the peak memory of the process and its
workers (``ru_maxrss`` of the process and of its largest worker, models included). ``--online``
runs, at the sizes it names, the stages whose networks differ on the online path again, with
simulated weights of the true shapes (``gle_utils.simulate``: VGGFace for the identity features,
the ImageNet VGG16 head, trained as the series trains it, for the whole image).
``--notebooks`` runs the whole series (``runner.run``, the code of ``make run DATASET=gaf``) on
the folders of those sizes, one notebook at a time, each in a fresh process.

Each stage's time is fitted as a * N**b (b, the log-log slope: 1 is linear) and projected to
GAF 2.0, GAF 3.0 and GroupEmoW. The series' projection is the sum of its notebooks' fits; the
online path adds, to it, what the online networks cost more where the series runs them (see
``ONLINE_USES``). ``--plot`` draws time against N on log-log axes, one line per stage. The load
average is printed with the figures: a busy machine gives slower, noisier ones. Nothing is
written into the repository or its cache, except the ``--plot`` file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gle_utils import config, demo, runner, simulate
from gle_utils.progress import duration_text

# The sizes to project to: photos in each dataset.
DATASETS = {"GAF 2.0": 6467, "GAF 3.0": 15000, "GroupEmoW": 15894}
STAGES = ("detection (sequential)", "detection (mtcnn)", "landmarks", "identity features",
          "expression features", "pooling", "forests", "whole image", "ensemble")
# The stages whose networks differ on the online path, and how often the series runs each on
# (a share of) a dataset's photos with the online networks: the identity features on the
# sequential detector's faces (03, then cached) and on MTCNN's (07's ablation); the whole-image
# member fitted on the train photos (half) by 07's two pipelines (sequential and MTCNN).
ONLINE_USES = {"identity features": [1.0, 1.0], "whole image": [0.5, 0.5]}
WARM_UP_PHOTOS = 12
N_TREES = 300


# --- one stage, in a process of its own -------------------------------------------------------

def _photos(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "photos.csv").assign(path=lambda t: [str(folder / p) for p in t.path])


def _stage(name: str, online: bool, model_dir: Path | None):
    """The function that runs stage ``name`` on a photo table (the models load on its first call)."""
    from gle_utils import backbones, classifiers, faces, features, metrics, pipeline, scene

    identity = "vggface" if online else "faceid-resnet"
    if name.startswith("detection"):
        detector = name.split("(")[1].rstrip(")")
        return lambda photos: faces.detect_dataset(photos.path, detector, progress=False)
    if name == "landmarks":
        return lambda photos: features.extract_landmarks(photos.path, progress=False)
    if name == "identity features":
        net = backbones.get_backbone(identity)
        return lambda photos: features.extract_faces(photos.path, net, progress=False)
    if name == "expression features":
        nets = [backbones.get_backbone(n) for n in pipeline.EXPRESSION_MEMBERS]
        return lambda photos: [features.extract_faces(photos.path, net, progress=False) for net in nets]
    if name == "pooling":
        net = backbones.get_backbone(identity)

        def pooling(photos):
            inputs = pipeline.photo_inputs(photos.path, net, progress=False, expression=tuple(pipeline.EXPRESSION_MEMBERS))
            inputs.member_inputs()
            return inputs
        return pooling
    if name == "forests":
        net = backbones.get_backbone(identity)

        def forests(photos):
            inputs = pipeline.photo_inputs(photos.path, net, progress=False)
            y = metrics.class_names(photos.label)
            sets = {"landmarks": (inputs.face_sets["landmarks"], y[inputs.face_photo])}
            for set_name, X in inputs.member_inputs().items():
                if set_name in net.paper_feature_sets.values():
                    found = ~np.isnan(X).any(axis=1)
                    sets[set_name] = (X[found], y[found])
            return [classifiers.random_forest(N_TREES, n_jobs=-1).fit(X, y) for X, y in sets.values()]
        return forests
    if name == "whole image":
        # The series' settings (the head only, 5 epochs), not the paper's 30 epochs of fine-tuning.
        model = scene.whole_image_model("vgg16" if online else "offline", verbose=False, **pipeline.WHOLE_IMAGE_SETTINGS)
        return lambda photos: model.fit(list(photos.path), metrics.class_names(photos.label))
    if name == "ensemble":
        model = pipeline.GroupEmotionModel.load(model_dir)
        return lambda photos: model.predict_proba(model.inputs(photos.path))
    raise ValueError(f"unknown stage {name!r}; choose one of {STAGES}")


def _run_stage(name: str, folder: Path, warm_up: Path, online: bool, model_dir: Path | None) -> dict:
    """Time stage ``name`` on ``folder`` after a warm-up on ``warm_up`` (which computes, for the
    warm-up photos, what the stage reads from the stages before it); its peak memory. For
    "pooling", also the faces and the bytes a face's feature sets hold."""
    run = _stage(name, online, model_dir)
    run(_photos(warm_up))
    start = time.perf_counter()
    found = run(_photos(folder))
    seconds = time.perf_counter() - start
    peak_kib = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    result = {"seconds": seconds, "peak_bytes": peak_kib * 1024}
    if name == "pooling":
        result |= {"faces": len(found.faces),
                   "bytes_per_face": sum(rows.nbytes for rows in found.face_sets.values()) / len(found.faces)}
    return result


def _in_process(arguments: list[str], env: dict) -> dict:
    """Run this script's ``--stage`` mode (or a notebook) in a fresh process; its JSON answer."""
    done = subprocess.run([sys.executable, __file__, *arguments], env={**os.environ, **env},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run_notebook(notebook: Path, folder: Path, output_dir: Path) -> dict:
    """One notebook of the series on ``folder`` (GAF layout), as ``make run DATASET=gaf`` runs it."""
    start = time.perf_counter()
    failed = runner.run([notebook], dataset="gaf", data_dir=folder, output_dir=output_dir)
    seconds = time.perf_counter() - start
    if failed:
        raise RuntimeError(f"{notebook.name} failed on {folder}")
    return {"seconds": seconds, "peak_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}


# --- fits and tables --------------------------------------------------------------------------

def fit_power(sizes, seconds) -> tuple[float, float]:
    """(a, b) of seconds = a * size**b, fitted on a log-log scale (b is the slope).

    >>> a, b = fit_power([100, 200, 400], [2.0, 4.0, 8.0])
    >>> round(a, 3), round(b, 3)
    (0.02, 1.0)
    """
    slope, intercept = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return float(np.exp(intercept)), float(slope)


def projected(a: float, b: float, n: float) -> float:
    """a * n**b: a fitted stage's seconds (or bytes) at n photos."""
    return a * n ** b


def scaling_table(results: dict[str, dict[int, dict]], datasets: dict[str, int] = DATASETS) -> pd.DataFrame:
    """One row per stage: its seconds and peak GB at each size, the fitted exponents of time (all
    sizes, and from 300 photos on where there are two such sizes), and each dataset's projection.
    The projection follows the fit from 300 photos on where there is one: the growth measured
    nearest to a dataset's size (the smallest sizes carry fixed costs, and a stage whose growth
    steepens, as the forests' does, would be projected too short by a fit over all sizes)."""
    rows = []
    for stage, by_size in results.items():
        sizes = sorted(by_size)
        seconds = [by_size[n]["seconds"] for n in sizes]
        row = {f"N={n}": f"{s:.1f} s, {by_size[n]['peak_bytes'] / 1e9:.2f} GB" for n, s in zip(sizes, seconds)}
        if len(sizes) >= 2:
            a, b = fit_power(sizes, seconds)
            row["exponent"] = round(b, 2)
            large = [n for n in sizes if n >= 300]
            if len(large) >= 2:
                a, b = fit_power(large, [by_size[n]["seconds"] for n in large])
                row["exponent from 300"] = round(b, 2)
            row |= {name: duration_text(projected(a, b, n)) for name, n in datasets.items()}
        rows.append({"stage": stage, **row})
    return pd.DataFrame(rows).set_index("stage")


def exponents_by_repeat(repeats: list[dict[str, dict[int, dict]]], small: int, large: int) -> pd.DataFrame:
    """One row per stage: its exponent of time from ``small`` to ``large`` photos in each repeat
    (``--repeats``), and against the faces where the repeat ran "pooling" (which counts them): the
    synthetic photos hold more faces as N grows."""
    rows = {}
    for index, offline in enumerate(repeats, 1):
        faces = offline.get("pooling", {})
        for stage, by_size in offline.items():
            ratio = by_size[large]["seconds"] / by_size[small]["seconds"]
            rows.setdefault(stage, {})[f"repeat {index}"] = round(float(np.log(ratio) / np.log(large / small)), 2)
            if faces:
                more_faces = faces[large]["faces"] / faces[small]["faces"]
                rows[stage][f"repeat {index}, per face"] = round(float(np.log(ratio) / np.log(more_faces)), 2)
    return pd.DataFrame(rows).T


def memory_growth(results: dict[str, dict[int, dict]], small: int, large: int) -> pd.DataFrame:
    """Each stage's peak memory at ``small`` and ``large`` photos, its growth, and the bound it
    should stay within: the feature arrays of the faces added (faces x the bytes a face's sets
    hold, which the "pooling" stage reports)."""
    pooling = results["pooling"]
    bound = (pooling[large]["faces"] - pooling[small]["faces"]) * pooling[small]["bytes_per_face"]
    rows = []
    for stage, by_size in results.items():
        growth = by_size[large]["peak_bytes"] - by_size[small]["peak_bytes"]
        rows.append({"stage": stage, f"peak at {small}": f"{by_size[small]['peak_bytes'] / 1e9:.2f} GB",
                     f"peak at {large}": f"{by_size[large]['peak_bytes'] / 1e9:.2f} GB",
                     "growth": f"{growth / 1e6:+.0f} MB", "bound": f"{bound / 1e6:.0f} MB",
                     "within": growth <= bound})
    return pd.DataFrame(rows).set_index("stage")


def series_projection(notebooks: dict[str, dict[int, dict]], offline: dict[str, dict[int, dict]],
                      online: dict[str, dict[int, dict]], datasets: dict[str, int] = DATASETS) -> pd.DataFrame:
    """The whole series' projected time (the sum of its notebooks' fits) and peak memory (the
    largest notebook's, fitted the same way), offline and on the online path (``ONLINE_USES``)."""
    rows = []
    for name, n in datasets.items():
        seconds = sum(projected(*fit_power(sorted(t), [t[k]["seconds"] for k in sorted(t)]), n)
                      for t in notebooks.values())
        peak = max(projected(*fit_power(sorted(t), [t[k]["peak_bytes"] for k in sorted(t)]), n)
                   for t in notebooks.values())
        row = {"dataset": name, "photos": n, "offline: time": duration_text(seconds), "offline: peak": f"{peak / 1e9:.1f} GB"}
        if online:
            extra, online_peak = 0.0, peak
            for stage, shares in ONLINE_USES.items():
                fits = [fit_power(sorted(t), [t[k][key] for k in sorted(t)])
                        for t in (online[stage], offline[stage]) for key in ("seconds", "peak_bytes")]
                for share in shares:
                    extra += projected(*fits[0], n * share) - projected(*fits[2], n * share)
                online_peak = max(online_peak, projected(*fits[1], n))
            row |= {"online: time": duration_text(seconds + extra), "online: peak": f"{online_peak / 1e9:.1f} GB"}
        rows.append(row)
    return pd.DataFrame(rows).set_index("dataset")


def plot(results: dict[str, dict[str, dict[int, dict]]], path: Path) -> Path:
    """Seconds against photos on log-log axes, one line per stage (dashed: the online path; the
    notebooks are in the tables only)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    for kind, style in (("offline", "-o"), ("online", "--s")):
        for stage, by_size in results.get(kind, {}).items():
            sizes = sorted(by_size)
            ax.plot(sizes, [by_size[n]["seconds"] for n in sizes], style, label=f"{stage} ({kind})"
                    if kind != "offline" else stage, markersize=4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    sizes = sorted({n for kind in ("offline", "online") for by_size in results.get(kind, {}).values() for n in by_size})
    ax.set_xticks(sizes, [str(n) for n in sizes], minor=False)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("photos (N)")
    ax.set_ylabel("seconds")
    ax.set_title("Time of each stage against the number of photos (log-log: slope 1 is linear)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: no line is hidden
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


# --- why the forests grow faster ---------------------------------------------------------------

def forest_rows(X: np.ndarray, y: np.ndarray, sizes=(200, 400, 800, 1600), n_trees: int = N_TREES,
                seed: int = config.SEED) -> pd.DataFrame:
    """The authors' classifier (``classifiers.random_forest``) fitted on ``sizes`` rows drawn from
    ``X``, ``y``: the seconds of the fit (the faster of two), its trees' mean depth (each tree's
    deepest leaf) and mean number of leaves, and the exponent of time against rows from the size
    before. A fully grown tree sorts the rows of every node it splits, so it costs about rows x
    depth x log(rows): the exponent stays near 1 only while the depth stays put."""
    from gle_utils import classifiers

    if max(sizes) > len(X):
        raise ValueError(f"{len(X)} rows; sizes up to {max(sizes)} asked for")
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        pick = rng.choice(len(X), size=n, replace=False)
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            forest = classifiers.random_forest(n_trees, seed, n_jobs=-1).fit(X[pick], y[pick])
            seconds.append(time.perf_counter() - start)
        trees = [tree for per_class in forest[-1].estimators_ for tree in per_class.estimators_]
        rows.append({"rows": n, "seconds": min(seconds), "mean depth": np.mean([t.get_depth() for t in trees]),
                     "mean leaves": np.mean([t.get_n_leaves() for t in trees])})
    table = pd.DataFrame(rows).set_index("rows")
    table["exponent from the size before"] = np.log(table.seconds).diff() / np.log(table.index.to_series()).diff()
    return table


def demo_landmark_rows() -> tuple[np.ndarray, np.ndarray]:
    """The landmark member's rows on the demo set: each face's landmark distances, and its photo's label."""
    from gle_utils import datasets, features

    photos = datasets.load_dataset("demo")
    found = features.extract_landmarks(photos.path, progress=False)
    label_of = dict(zip(photos.path.astype(str), photos.label))
    return found.sets["landmarks"], np.array([label_of[str(path)] for path in found.faces.path])


# --- the command line -------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[150, 300, 600, 1200])
    parser.add_argument("--notebooks", nargs="*", type=int, default=[150, 300],
                        help="sizes at which the whole series runs (none: skip)")
    parser.add_argument("--online", nargs="*", type=int, default=[],
                        help="sizes at which the online networks run too, simulated (default: none)")
    parser.add_argument("--plot", type=Path, default=None, help="write the log-log plot there")
    parser.add_argument("--seed", type=int, default=22, help="the photos' seed (the demo set's is 2017)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES), metavar="STAGE",
                        help="the offline stages to run, quoted (default: all); a stage computes, inside its "
                             "time, what it reads from a stage before it that is left out")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run the offline stages this many times, each time in fresh caches, the sizes "
                             "smallest first, then largest first (a drift of the machine's speed shows)")
    parser.add_argument("--forest-rows", action="store_true",
                        help="only fit the landmark member's forest on 200 to 1600 of the demo set's faces: time, depth, leaves")
    parser.add_argument("--stage", help=argparse.SUPPRESS)         # the worker process's modes
    parser.add_argument("--notebook", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warm-up", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        print(json.dumps(_run_stage(args.stage, args.folder, args.warm_up, os.environ.get("GLE_SIMULATE_ONLINE") == "1",
                                    args.model_dir)))
        return 0
    if args.notebook:
        print(json.dumps(_run_notebook(args.notebook, args.folder, args.output_dir)))
        return 0
    if args.forest_rows:
        print(f"cores: {len(os.sched_getaffinity(0))}; {N_TREES} trees a forest, one forest per class")
        print(forest_rows(*demo_landmark_rows()).round(2).to_string())
        return 0

    print(f"cores: {len(os.sched_getaffinity(0))}; load average before: {os.getloadavg()[0]:.2f}", flush=True)
    sizes = sorted(set(args.sizes) | set(args.notebooks) | set(args.online))
    results = {"offline": {s: {} for s in args.stages}, "online": {}, "notebooks": {}}
    repeats = [results["offline"]] + [{s: {} for s in args.stages} for _ in range(args.repeats - 1)]
    with tempfile.TemporaryDirectory(prefix="gle-scale-") as scratch:
        scratch = Path(scratch)
        warm_up = demo.build_demo(scratch / "warm-up", seed=args.seed + 1, n_photos=WARM_UP_PHOTOS)
        folders = {n: demo.build_demo(scratch / f"n{n}", seed=args.seed, n_photos=n) for n in sizes}
        caches = {n: scratch / f"cache-n{n}" for n in sizes}
        shared = {"GLE_MODELS_DIR": str(scratch / "models"), "GLE_FIGURES_DIR": str(scratch / "figures")}
        model_dir = scratch / "model"
        settings = simulate.environment(scratch / "online") if args.online else {}
        for repeat, offline in enumerate(repeats):
            for n in sorted(args.sizes, reverse=repeat % 2 == 1):
                env = {**shared, "GLE_CACHE_DIR": str(caches[n]) + (f"-{repeat}" if repeat else "")}
                for stage in args.stages:
                    if stage == "ensemble" and not model_dir.exists():  # trained once, on the smallest size
                        _train(folders[min(args.sizes)], model_dir, env)
                    offline[stage][n] = _in_process(
                        ["--stage", stage, "--folder", str(folders[n]), "--warm-up", str(warm_up),
                         "--model-dir", str(model_dir)], env)
                    print(f"{f'repeat {repeat + 1}: ' if repeat else ''}N={n} {stage}: {offline[stage][n]['seconds']:.1f} s, "
                          f"{offline[stage][n]['peak_bytes'] / 1e9:.2f} GB "
                          f"(load average {os.getloadavg()[0]:.2f})", flush=True)
        for n in sorted(args.online):
            env = {**shared, "GLE_CACHE_DIR": str(caches[n])}
            for stage in ONLINE_USES:
                found = _in_process(["--stage", stage, "--folder", str(folders[n]), "--warm-up", str(warm_up)],
                                    {**settings, **env})
                results["online"].setdefault(stage, {})[n] = found
                print(f"N={n} {stage} (online, simulated): {found['seconds']:.1f} s, "
                      f"{found['peak_bytes'] / 1e9:.2f} GB", flush=True)
        for n in sorted(args.notebooks):
            env = {**shared, "GLE_CACHE_DIR": str(scratch / f"notebook-cache-n{n}")}
            for notebook in config.notebook_paths():
                found = _in_process(["--notebook", str(notebook), "--folder", str(folders[n]),
                                     "--output-dir", str(scratch / f"out-n{n}")], env)
                results["notebooks"].setdefault(notebook.stem, {})[n] = found
                print(f"N={n} {notebook.stem}: {found['seconds']:.0f} s, {found['peak_bytes'] / 1e9:.2f} GB", flush=True)
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 30):
        for kind in ("offline", "online", "notebooks"):
            if results[kind]:
                print(f"\n{kind}:\n{scaling_table(results[kind])}")
        if len(repeats) > 1:
            print(f"\nexponent from {min(args.sizes)} to {max(args.sizes)} photos, each repeat:\n"
                  f"{exponents_by_repeat(repeats, min(args.sizes), max(args.sizes))}")
        if {600, 1200} <= set(args.sizes) and "pooling" in args.stages:
            pooling = results["offline"]["pooling"]
            print(f"\npeak memory from 600 to 1200 photos ({pooling[1200]['faces'] - pooling[600]['faces']} more faces, "
                  f"{pooling[600]['bytes_per_face']:.0f} bytes of features a face):\n"
                  f"{memory_growth(results['offline'], 600, 1200)}")
        if len(args.notebooks) >= 2:
            print(f"\nthe whole series:\n{series_projection(results['notebooks'], results['offline'], results['online'])}")
    print(json.dumps(results | {"repeats": repeats[1:]}))  # every figure, for the README and a later plot
    if args.plot:
        print(f"wrote {plot(results, args.plot)}")
    return 0


def _train(folder: Path, model_dir: Path, env: dict) -> None:
    """Train the ensemble stage's model on ``folder`` (untimed), in a process of its own."""
    code = ("import sys; from pathlib import Path; from gle_utils import datasets, pipeline; "
            "model, _ = pipeline.train(datasets.load_dataset('gaf', sys.argv[1], verbose=False), "
            "backbone='faceid-resnet', whole_image='offline', n_trees=300, n_jobs=-1, progress=False); "
            "model.save(Path(sys.argv[2]))")
    subprocess.run([sys.executable, "-c", code, str(folder), str(model_dir)], env={**os.environ, **env}, check=True,
                   capture_output=True)


if __name__ == "__main__":
    raise SystemExit(main())
