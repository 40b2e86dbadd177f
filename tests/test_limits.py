"""The Binder-like limits of the benchmark: a hard memory cap that kills, and one core."""

import subprocess
import sys

import pytest

from gle_utils import limits

pytestmark = pytest.mark.skipif(limits.cap_available() is not None, reason=str(limits.cap_available()))

# A child process (as a notebook's kernel is) that holds ``mb`` megabytes, touched, then exits.
HOLD = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'b = bytearray({mb} * 2**20); print(len(b))'], check=True)"


def test_going_over_the_cap_is_a_kill_and_staying_under_is_not():
    over = limits.run_capped([sys.executable, "-c", HOLD.format(mb=400)], memory_gb=0.2,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert over.killed_at_cap and not over.ok
    under = limits.run_capped([sys.executable, "-c", HOLD.format(mb=60)], memory_gb=0.2, stdout=subprocess.DEVNULL)
    # Its peak counts this (large) test process's size at the fork too, so only the floor is known.
    assert under.ok and under.peak_gb > 0.06 and 0 < under.cpu_seconds <= under.seconds + 0.5


def test_the_command_and_its_children_run_on_the_cores_given(tmp_path):
    out = tmp_path / "cores.txt"
    code = f"import os; open({str(out)!r}, 'w').write(str(sorted(os.sched_getaffinity(0))))"
    run = limits.run_capped([sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {code!r}])"],
                            cores=(0,))
    assert run.ok and out.read_text() == "[0]"
