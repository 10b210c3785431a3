"""The built-in market: correlated prices that alternate trending and ranging regimes.

Pure numpy, no clock: it produces price steps on a fixed grid of ``step_ms`` market time,
so a seed fixes the whole path whatever the clock speed or the machine's timing.

Model, per step of ``dt`` (all symbols share one regime):

- shocks ``z`` are standard normal with pairwise correlation ``correlation`` (Cholesky);
- trending: ``r_i = d * s_i + sigma_i * z_i``, where ``d`` is the regime's signed drift
  (``trend_drift_per_day`` scaled to ``dt``) and ``s_i = vol_i / vol_0`` scales it per symbol;
- ranging: ``r_i = range_vol_factor * sigma_i * (z_i,t - theta * z_i,t-1)`` (an MA(1) with
  ``theta = range_reversion``): the price jitters but barely travels;
- regimes last an exponential time with means ``trend_mean_hours`` / ``range_mean_hours``;
- ``sigma_i = annual_vol_i * sqrt(dt / year)``; log prices accumulate ``r``;
- volume per step is Poisson with mean ``product.level_size / 20`` contracts.

Both regimes filter every symbol's shocks the same way, so step returns keep the target
correlation (about 0.8) in either regime.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from exchange.sim._products import SimProduct

__all__ = ["CorrelatedGenerator", "GeneratorParams"]

_YEAR_S = 365 * 86400


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratorParams:
    """Parameters of :class:`CorrelatedGenerator` (see the module docstring for the model)."""

    step_ms: int = 1000
    correlation: float = 0.8
    trend_drift_per_day: float = 0.05
    trend_mean_hours: float = 10.0
    range_mean_hours: float = 14.0
    range_reversion: float = 0.9
    range_vol_factor: float = 1.2
    history_hours: float = 31 * 24.0  # the bot keeps 30 days (its correlation window)


class CorrelatedGenerator:
    """A seeded source of correlated price steps (see the module docstring).

    Only the market thread (or a test) calls it; it is not thread-safe.
    """

    def __init__(
        self, products: Sequence[SimProduct], *, seed: int, params: GeneratorParams | None = None
    ) -> None:
        self.params = params or GeneratorParams()
        self.products = tuple(products)
        self.step_ns = self.params.step_ms * 1_000_000
        n = len(self.products)
        self._rng = np.random.default_rng(seed)
        corr = np.full((n, n), self.params.correlation) + np.eye(n) * (1 - self.params.correlation)
        self._chol = np.linalg.cholesky(corr)
        dt = self.params.step_ms / 1000
        vols = np.array([p.annual_vol for p in self.products])
        self._sigma = vols * math.sqrt(dt / _YEAR_S)
        self._drift_scale = vols / vols[0]
        self._drift = self.params.trend_drift_per_day * dt / 86400
        self._log = np.log([float(p.start_price) for p in self.products])
        self._z_prev = np.zeros(n)
        self._trending = False
        self._direction = 1.0
        self._left = self._duration()
        self._ticks = np.array([float(p.tick_size) for p in self.products])
        self._volume_mean = np.array([max(1.0, p.level_size / 20) for p in self.products])

    def begin(self, now_ns: int) -> int:
        """Return the market time of the first step: ``history_hours`` before ``now_ns``."""
        aligned = now_ns - now_ns % 60_000_000_000
        steps = int(self.params.history_hours * 3600 * 1000 / self.params.step_ms)
        return aligned - steps * self.step_ns

    def _duration(self) -> int:
        hours = self.params.trend_mean_hours if self._trending else self.params.range_mean_hours
        mean_steps = hours * 3600 * 1000 / self.params.step_ms
        return max(1, int(self._rng.exponential(mean_steps)))

    def take(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the next ``count`` steps: prices in ticks (int64) and volumes (float
        contracts), both shaped (count, n)."""
        n = len(self.products)
        returns = np.empty((count, n))
        done = 0
        while done < count:
            length = min(self._left, count - done)
            z = self._rng.standard_normal((length, n)) @ self._chol.T
            if self._trending:
                r = self._direction * self._drift * self._drift_scale + self._sigma * z
            else:
                lagged = np.vstack((self._z_prev, z[:-1]))
                r = (
                    self.params.range_vol_factor
                    * self._sigma
                    * (z - self.params.range_reversion * lagged)
                )
            returns[done : done + length] = r
            self._z_prev = z[-1]
            done += length
            self._left -= length
            if self._left == 0:
                self._trending = not self._trending
                self._direction = 1.0 if self._rng.random() < 0.5 else -1.0
                self._left = self._duration()
        path = self._log + np.cumsum(returns, axis=0)
        self._log = path[-1]
        volumes = self._rng.poisson(self._volume_mean, size=(count, n)).astype(np.float64)
        ticks = np.maximum(1, np.rint(np.exp(path) / self._ticks)).astype(np.int64)
        return ticks, volumes

    @property
    def trending(self) -> bool:
        """True while the current regime trends."""
        return self._trending

    def funding_rate_pct(self, index: int) -> Decimal:
        """The funding rate (in %) for the product at ``index`` at this moment.

        0.01 % baseline, plus 0.02 % in the trend's direction while trending, plus noise.
        """
        tilt = 0.02 * self._direction if self._trending else 0.0
        rate = 0.01 + tilt + float(self._rng.normal(0.0, 0.004)) * self._drift_scale[index]
        return Decimal(f"{max(-0.05, min(0.05, rate)):.6f}")
