"""tools/bench_scale.py: the fitted exponent, the tables and projections it prints (no stage is run here)."""

import numpy as np
import pytest
from helpers import load_tool

bench = load_tool("bench_scale")


def _measured(seconds_per_photo: float, bytes_per_photo: float, sizes=(150, 300, 600)) -> dict:
    """What one stage would report: linear time and linear memory above 1 GB of models."""
    return {n: {"seconds": n * seconds_per_photo, "peak_bytes": 1e9 + n * bytes_per_photo} for n in sizes}


def test_the_fitted_exponent_is_the_log_log_slope():
    a, b = bench.fit_power([150, 300, 600], [3.0, 6.0, 12.0])  # linear: twice the photos, twice the time
    assert b == pytest.approx(1.0) and a * 600 == pytest.approx(12.0)
    _, quadratic = bench.fit_power([150, 300, 600], [1.0, 4.0, 16.0])
    assert quadratic == pytest.approx(2.0)


def test_the_table_projects_each_stage_to_each_dataset():
    results = {"detection (sequential)": _measured(0.01, 0), "landmarks": _measured(0.1, 0)}
    results["landmarks"][600]["seconds"] *= 4  # super-linear from 300 on
    table = bench.scaling_table(results)
    assert list(table.index) == list(results)
    assert table.loc["detection (sequential)", "exponent"] == pytest.approx(1.0)
    assert table.loc["detection (sequential)", "GAF 2.0"] == "65 s"  # 6467 photos at 10 ms
    assert table.loc["landmarks", "exponent from 300"] == pytest.approx(3.0)
    # projected with the growth from 300 on (30 s at 300, 240 s at 600), not the milder fit over all sizes
    assert table.loc["landmarks", "GAF 2.0"] == bench.duration_text(240 * (6467 / 600) ** 3)
    assert table.loc["detection (sequential)", "N=150"] == "1.5 s, 1.00 GB"


def test_memory_growth_is_held_against_the_feature_arrays_of_the_faces_added():
    results = {"pooling": _measured(0.01, 0), "features": _measured(0.01, 1e6)}
    for n, faces in ((150, 450), (300, 900), (600, 1800)):
        results["pooling"][n] |= {"faces": faces, "bytes_per_face": 1e5}
    growth = bench.memory_growth(results, 300, 600)
    assert growth.loc["pooling", "within"] and growth.loc["pooling", "bound"] == "90 MB"  # 900 faces x 100 kB
    assert not growth.loc["features", "within"]  # 300 MB more for 900 faces: a leak


def test_the_series_projection_adds_what_the_online_networks_cost_more():
    notebooks = {"03": _measured(0.1, 0), "07": _measured(0.2, 0)}
    offline = {stage: _measured(0.1, 0) for stage in bench.ONLINE_USES}
    online = {stage: _measured(0.3, 0) for stage in bench.ONLINE_USES}
    table = bench.series_projection(notebooks, offline, online, datasets={"ten thousand": 10_000})
    assert table.loc["ten thousand", "offline: time"] == bench.duration_text(0.3 * 10_000)
    extra = sum(0.2 * 10_000 * share for shares in bench.ONLINE_USES.values() for share in shares)
    assert table.loc["ten thousand", "online: time"] == bench.duration_text(0.3 * 10_000 + extra)


def test_the_forest_rows_table_gives_time_depth_and_the_growth_between_sizes():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 6)), np.array(["Positive", "Neutral", "Negative"] * 26 + ["Positive"] * 2)
    table = bench.forest_rows(X, y, sizes=(20, 40, 80), n_trees=3)
    assert list(table.index) == [20, 40, 80] and (table.seconds > 0).all()
    assert np.isnan(table["exponent from the size before"].iloc[0]) and table["exponent from the size before"].iloc[1:].notna().all()
    assert table["mean leaves"].iloc[-1] > table["mean leaves"].iloc[0] >= 2  # random labels: the trees grow with the rows
    with pytest.raises(ValueError, match="80 rows"):
        bench.forest_rows(X, y, sizes=(100,), n_trees=3)


def test_each_repeat_gives_its_exponent_per_photo_and_per_face():
    first = {"landmarks": _measured(0.01, 0, sizes=(300, 1200)), "pooling": _measured(0.001, 0, sizes=(300, 1200))}
    first["pooling"][300]["faces"], first["pooling"][1200]["faces"] = 800, 3200 * 2  # twice the faces a photo at 1200
    second = {"landmarks": _measured(0.01, 0, sizes=(300, 1200))}
    second["landmarks"][1200]["seconds"] *= 2  # slower at 1200 this time
    table = bench.exponents_by_repeat([first, second], 300, 1200)
    assert table.loc["landmarks", "repeat 1"] == pytest.approx(1.0)
    assert table.loc["landmarks", "repeat 1, per face"] == pytest.approx(np.log(4) / np.log(8), abs=0.01)
    assert table.loc["landmarks", "repeat 2"] == pytest.approx(1.5)
    assert "repeat 2, per face" not in table.columns  # the second repeat did not count the faces
