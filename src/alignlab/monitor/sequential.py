"""Sequential tests on a stream of 0/1 outcomes (was this response refused? toxic?).

:class:`BernoulliCusum` is Page's CUSUM for a shift of a Bernoulli rate from ``p0`` to
``p1 > p0``. Each outcome adds its log-likelihood ratio

    llr(x) = x·log(p1/p0) + (1 − x)·log((1 − p1)/(1 − p0))

to a statistic floored at zero; an alarm fires when the statistic reaches ``h``. Unlike a
fixed-window threshold it accumulates weak evidence, and unlike repeated fixed-n tests
it does not inflate the false alarm rate by peeking. ``h`` sets the trade-off: a larger
``h`` means fewer false alarms (the in-control average run length grows roughly like
``exp(h)``) and a longer detection delay.

:class:`CusumAlarm` turns alarms into a state, so an alert fires once per shift instead of
every few responses: the upward CUSUM (``p0`` → ``p1``) moves it to *firing*; from then on
a downward CUSUM (``p1`` → ``p0``, i.e. the same test on the complementary outcome) runs,
and its alarm moves it back to *resolved*. Resolving needs as much evidence of a return to
``p0`` as firing needed of a shift to ``p1``: that is the hysteresis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["BernoulliCusum", "CusumAlarm", "CusumStep"]


@dataclass(frozen=True)
class CusumStep:
    """The state after one outcome."""

    statistic: float
    alarm: bool
    n: int


@dataclass
class BernoulliCusum:
    """One-sided CUSUM detecting an increase of a Bernoulli rate.

    Attributes:
        p0: The in-control rate.
        p1: The out-of-control rate to detect (must exceed ``p0``).
        h: Decision threshold on the statistic.
    """

    p0: float
    p1: float
    h: float = 5.0
    statistic: float = field(default=0.0, init=False)
    n: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.p0 < self.p1 < 1.0:
            raise ValueError(f"need 0 < p0 < p1 < 1, got p0={self.p0}, p1={self.p1}")
        if self.h <= 0:
            raise ValueError(f"h must be positive, got {self.h}")
        self._up = math.log(self.p1 / self.p0)
        self._down = math.log((1.0 - self.p1) / (1.0 - self.p0))

    def update(self, outcome: bool) -> CusumStep:
        """Add one outcome; on an alarm the statistic restarts from zero."""
        self.n += 1
        self.statistic = max(0.0, self.statistic + (self._up if outcome else self._down))
        if self.statistic >= self.h:
            self.statistic = 0.0
            return CusumStep(self.h, True, self.n)
        return CusumStep(self.statistic, False, self.n)


@dataclass
class CusumAlarm:
    """A firing/resolved state driven by an upward and a downward Bernoulli CUSUM.

    Attributes:
        p0: The in-control rate.
        p1: The out-of-control rate (must exceed ``p0``).
        h: Decision threshold of both CUSUMs.
        firing: The current state.
    """

    p0: float
    p1: float
    h: float = 5.0
    firing: bool = False

    def __post_init__(self) -> None:
        self.up = BernoulliCusum(self.p0, self.p1, self.h)
        # A fall of the rate from p1 to p0 is a rise of the complementary rate from 1 - p1 to 1 - p0.
        self.down = BernoulliCusum(1.0 - self.p1, 1.0 - self.p0, self.h)
        self.n = 0

    def update(self, outcome: bool) -> bool | None:
        """Add one outcome; the new state (``True``: firing) when it changed, else ``None``."""
        self.n += 1
        if not self.firing:
            if self.up.update(outcome).alarm:
                self.firing = True
                self.down.statistic = 0.0
                return True
            return None
        if self.down.update(not outcome).alarm:
            self.firing = False
            self.up.statistic = 0.0
            return False
        return None
