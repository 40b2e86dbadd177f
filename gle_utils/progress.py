"""The progress bar of a long stage (detection, feature extraction), which says beforehand how long it takes.

A stage over a GAF-size dataset runs for minutes to hours, so ``StageProgress`` shows one tqdm bar
(photos done, rate, time left) and, when more than ``SAY_TIME_ABOVE`` photos are to do, prints
ONE line once the first few are done: how many photos there are to do and how long the stage
will take, projected from the rate of those first photos (never from a fixed constant: the rate
depends on the machine, the detector and the photos):

    detecting faces (sequential): 6467 photos to do, about 38 min in all (rate of the first 32: 2.8 photos/s)

The line changes from run to run, as a progress bar does, so ``runner.without_progress_bars``
drops it (``PROJECTION`` finds it) from the outputs a notebook saves.
"""

from __future__ import annotations

import re
import time

from tqdm import tqdm

__all__ = ["FIRST_PHOTOS", "PROJECTION", "SAY_TIME_ABOVE", "StageProgress", "duration_text", "projection_line"]

# The line is printed only when more photos than this are to do (a short stage needs no forecast).
SAY_TIME_ABOVE = 100
# The rate is measured over at least this many photos (or the first batch, if it is larger).
FIRST_PHOTOS = 20
# What ``projection_line`` writes, as a pattern (``runner`` drops such lines from saved outputs).
PROJECTION = re.compile(r": \d+ photos to do, about .+ in all \(rate of the first \d+: ")


def duration_text(seconds: float) -> str:
    """A duration as a person says it: "40 s", "12 min", "3.5 h".

    >>> duration_text(42), duration_text(720), duration_text(12600)
    ('42 s', '12 min', '3.5 h')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def projection_line(stage: str, todo: int, done: int, seconds: float) -> str:
    """The one line that says how long a stage takes: ``todo`` photos, of which the first
    ``done`` took ``seconds`` (the whole stage projected at that rate).

    >>> line = projection_line("detecting faces (hog)", 600, 30, 12.0)
    >>> line
    'detecting faces (hog): 600 photos to do, about 4 min in all (rate of the first 30: 2.5 photos/s)'
    >>> bool(PROJECTION.search(line))
    True
    """
    rate = done / seconds if seconds > 0 else float("inf")
    return (f"{stage}: {todo} photos to do, about {duration_text(todo / rate)} in all "
            f"(rate of the first {done}: {rate:.1f} photos/s)")


class StageProgress:
    """One progress bar over the ``total`` photos of a stage, and its one forecast line.

    Call ``update(n)`` each time n more photos are done (a photo, or a batch), and ``close()``
    at the end. The forecast is printed once, when at least ``FIRST_PHOTOS`` photos are done,
    if ``enabled`` and ``total`` > ``SAY_TIME_ABOVE``; nothing at all is shown when not
    ``enabled``. The rate includes what the first photos cost beyond their own work (loading a
    model, starting worker processes), so the forecast errs long rather than short.
    """

    def __init__(self, total: int, stage: str, enabled: bool = True):
        self.total, self.stage = total, stage
        # mininterval: a few progress updates, not hundreds, in a notebook's output
        self.bar = tqdm(total=total, desc=stage, unit="photo", disable=not enabled or not total, mininterval=3)
        self.done = 0
        self.start = time.perf_counter()
        self.to_say = enabled and total > SAY_TIME_ABOVE

    def update(self, n: int) -> None:
        self.done += n
        self.bar.update(n)
        if self.to_say and self.done >= min(FIRST_PHOTOS, self.total):
            self.to_say = False
            self.bar.write(projection_line(self.stage, self.total, self.done, time.perf_counter() - self.start))

    def close(self) -> None:
        self.bar.close()
