"""tools/bench_scale.py: the fitted exponent and the projections it prints (no stage is run here)."""

import pytest
from helpers import load_tool

bench = load_tool("bench_scale")


def test_the_fitted_exponent_is_the_log_log_slope():
    a, b = bench.fit_power([150, 300, 600], [3.0, 6.0, 12.0])  # linear: twice the photos, twice the time
    assert b == pytest.approx(1.0) and a * 600 == pytest.approx(12.0)
    _, quadratic = bench.fit_power([150, 300, 600], [1.0, 4.0, 16.0])
    assert quadratic == pytest.approx(2.0)


def test_the_table_projects_each_stage_to_each_dataset():
    timings = {n: {stage: n / 100 for stage in bench.STAGES} for n in (150, 300)}  # 10 ms a photo
    table = bench.scaling_table(timings)
    assert list(table.index) == list(bench.STAGES)
    assert table.loc["detection", "exponent"] == pytest.approx(1.0)
    assert table.loc["detection", "GAF 2.0"] == "65 s"  # 6467 photos at 10 ms
    assert table.loc["features", "GroupEmoW"] == "3 min"
