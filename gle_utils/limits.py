"""Run a command within a small machine's limits: a hard memory cap and a few CPU cores.

mybinder.org gives a session about 2 GB of memory, and kills the kernel that goes over, and
about one core. ``run_capped`` gives a command (and every process it starts: a notebook's
kernel) the same: a memory cgroup whose limit the kernel enforces by killing, as Binder's
container does, and a CPU affinity of the cores given (as ``taskset -c 0``).

The cgroup is the v1 memory controller (``/sys/fs/cgroup/memory``), or cgroup v2
(``/sys/fs/cgroup`` with ``memory.max``); making one needs write access there (root, or a
delegated folder). ``cap_available()`` says whether this machine allows it, and why not.
Page cache counts against the cap, as on Binder; the kernel reclaims it before it kills.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CappedRun", "cap_available", "run_capped"]

_V1 = Path("/sys/fs/cgroup/memory")
_V2 = Path("/sys/fs/cgroup")
_NAMES = itertools.count()


@dataclass
class CappedRun:
    """What one capped command did."""

    seconds: float  # wall time
    cpu_seconds: float  # CPU time (user + system) of the command and the processes it waited for
    # The largest resident set of the command or any process it waited for. The kernel counts a
    # forked child from the size of the process that forked it, so this is never below the
    # caller's own size at the start (about 0.3 GB for tools/benchmark.py).
    peak_gb: float
    exit_code: int  # the command's; negative: killed by that signal
    killed_at_cap: bool  # the kernel killed a process of it for going over the memory cap

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.killed_at_cap


def _controller() -> tuple[Path, str, str] | None:
    """(root folder, limit file, kill counter file) of a memory controller we may write to, or None."""
    if (_V1 / "memory.limit_in_bytes").exists() and os.access(_V1, os.W_OK):
        return _V1, "memory.limit_in_bytes", "memory.oom_control"
    if (_V2 / "cgroup.controllers").exists() and os.access(_V2, os.W_OK) \
            and "memory" in (_V2 / "cgroup.subtree_control").read_text():
        return _V2, "memory.max", "memory.events"
    return None


def cap_available() -> str | None:
    """None if ``run_capped`` can cap memory here, else why not (one line)."""
    if _controller() is None:
        return ("no writable memory cgroup (/sys/fs/cgroup/memory or /sys/fs/cgroup with the memory "
                "controller): run as root on a machine with cgroups, or in a container with a memory limit")
    return None


def _kills(group: Path, counter: str) -> int:
    """How many processes the kernel has killed in ``group`` for going over its limit."""
    for line in (group / counter).read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            return int(value)
    return 0


def run_capped(command: list[str], memory_gb: float = 2.0, cores: tuple[int, ...] = (0,),
               env: dict | None = None, **popen) -> CappedRun:
    """Run ``command`` with at most ``memory_gb`` of memory and only ``cores``; wait for it.

    Parameters
    ----------
    command : list of str
        The program and its arguments.
    memory_gb : float
        The hard cap (GiB) for the command and every process it starts; swap is not allowed
        either, where the controller can forbid it.
    cores : tuple of int
        The CPU cores it may run on.
    env : dict, optional
        Its environment (default: this process's).
    **popen
        More arguments of ``subprocess.Popen`` (stdout, cwd, ...).

    Returns
    -------
    CappedRun
        Time, peak memory, exit code, and whether it was killed at the cap.

    Raises
    ------
    RuntimeError
        Where no memory cgroup can be made (``cap_available`` says why).
    """
    controller = _controller()
    if controller is None:
        raise RuntimeError(cap_available())
    root, limit_file, counter = controller
    group = root / f"gle-capped-{os.getpid()}-{next(_NAMES)}"
    group.mkdir()
    try:
        limit = str(int(memory_gb * 2**30))
        (group / limit_file).write_text(limit)
        for no_swap in ("memory.memsw.limit_in_bytes", "memory.swap.max"):  # v1 (needs swap accounting), v2
            if (group / no_swap).exists():
                (group / no_swap).write_text(limit if no_swap.endswith("bytes") else "0")

        def enter_limits():  # in the child, before it runs the command: it and its children inherit both
            (group / "cgroup.procs").write_text(str(os.getpid()))
            os.sched_setaffinity(0, cores)

        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, preexec_fn=enter_limits, **popen)
        _, status, usage = os.wait4(process.pid, 0)  # maxrss covers the processes it waited for
        seconds = time.perf_counter() - start
        exit_code = os.waitstatus_to_exitcode(status)
        killed = _kills(group, counter) > 0 or exit_code == -signal.SIGKILL
        return CappedRun(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 2**20, exit_code, killed)
    finally:
        for _ in range(50):  # the kernel frees a group once its last process is gone
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)
