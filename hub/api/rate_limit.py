"""A per-principal limit on distinct persons looked up per hour (agencies' status checks).

An agency asking about the same person twice costs one; the limit is on how
many different people one principal can learn about, which is what bulk
trawling would need. Subjects are kept as blind indexes only. The window is a
sliding hour. The count lives in this process: with several hub processes the
effective limit is per process (documented; a shared store is a later step).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Lock

HOUR = 3600.0


@dataclass
class DistinctSubjectLimiter:
    per_hour: int
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, OrderedDict[str, float]] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)

    def admit(self, principal: str, subject: str) -> bool:
        """Record the look-up and say whether it is within the limit."""
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault(principal, OrderedDict())
            while seen and next(iter(seen.values())) <= now - HOUR:
                seen.popitem(last=False)
            if subject in seen:
                seen.move_to_end(subject)
                seen[subject] = now
                return True
            if len(seen) >= self.per_hour:
                return False
            seen[subject] = now
            return True
