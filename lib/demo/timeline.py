"""When the demo's filers filed: times inside the 2020 self-inspection phase, a few late.

The store stamps rows with its clock; the demo seeds through a store opened with a
``FilingClock`` and sets the clock before each filer's batch, so boards show a realistic
campaign (most filed before the deadline, some late) instead of everything filed "today".
"""

from __future__ import annotations

import datetime as dt
import random
import zlib

#: Share of filers who file after the form's deadline.
LATE_SHARE = 0.1


class FilingClock:
    """A settable clock for a store: returns the time last set (advancing a second per call)."""

    def __init__(self, start: dt.datetime):
        self._now = start

    def set(self, when: dt.datetime) -> None:
        self._now = when

    def __call__(self) -> dt.datetime:
        now = self._now
        self._now += dt.timedelta(seconds=1)
        return now


def filing_time(account: str, deadline: dt.date, opens: dt.date, *, seed: int) -> dt.datetime:
    """A filer's filing time: a working hour between ``opens`` and ``deadline``, or 1-6 days late.

    Deterministic for (account, seed), whatever the hash seed of the process.

    >>> t = filing_time("provider_001", dt.date(2020, 9, 18), dt.date(2020, 9, 7), seed=2020)
    >>> t == filing_time("provider_001", dt.date(2020, 9, 18), dt.date(2020, 9, 7), seed=2020)
    True
    >>> dt.date(2020, 9, 7) <= t.date() <= dt.date(2020, 9, 24)
    True
    """
    rng = random.Random(zlib.crc32(f"{seed}:{account}".encode()))
    if rng.random() < LATE_SHARE:
        day = deadline + dt.timedelta(days=rng.randint(1, 6))
    else:
        day = opens + dt.timedelta(days=rng.randint(0, (deadline - opens).days))
    return dt.datetime.combine(day, dt.time(9)) + dt.timedelta(minutes=rng.randint(0, 510))
