"""Binder, checked here: a fresh environment from binder/ alone runs notebooks under Binder's limits.

It takes longer than `make test` may (a fresh install of TensorFlow, then notebooks on one core),
so it runs only when asked: GLE_CHECK_BINDER=1 runs notebooks 01, 03 and 07 (the data, the face
features, the ensemble) as Binder's postBuild leaves them (no online weights); `bash
tools/check_binder.sh` runs the whole session.
"""

import os
import subprocess

import pytest

from gle_utils import limits
from gle_utils.config import REPO_ROOT


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("GLE_CHECK_BINDER") != "1", reason="set GLE_CHECK_BINDER=1 (about 10 minutes)")
@pytest.mark.skipif(limits.cap_available() is not None, reason=str(limits.cap_available()))
def test_a_fresh_binder_environment_runs_01_03_and_07_within_binders_limits():
    notebooks = [f"notebooks/{name}.ipynb" for name in ("01_data_overview", "03_face_features", "07_weighted_ensemble")]
    result = subprocess.run(["bash", "tools/check_binder.sh", *notebooks], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
