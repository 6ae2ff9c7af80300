r"""Impact multipliers from an approximate log-determinant engine's moments (large n).

The direct multipliers are spectral sums, the same moments the Chebyshev or
Monte Carlo log-determinant already holds expand them: with
:math:`D_1(\rho) = \tfrac1n\sum_i \omega_i/(1-\rho\omega_i) = -\tfrac1n\partial_\rho\log|I-\rho W|`,

.. math::
    D_1' = -\tfrac1n\partial^2_\rho\log|I-\rho W|,\qquad
    D_0 = \tfrac1n\sum_i \frac1{1-\rho\omega_i} = 1 + \rho D_1,\qquad D_0' = D_1 + \rho D_1',

so a simulated draw costs O(degree) and W is not touched again.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from rtsmig.models.impacts_multipliers import Multipliers
from rtsmig.models.impacts_series import series_bounds, series_totals, totals_order


class _D1:
    """:math:`D_1` and its slope from the engine's expansion of the log-determinant's derivatives."""

    def __init__(self, engine) -> None:
        self._engine = engine

    def value(self, rho: np.ndarray) -> np.ndarray:
        return -(self._engine.coefficients(1, np.atleast_1d(rho)) @ self._engine.mean_moments)

    def slope(self, rho: np.ndarray) -> np.ndarray:
        return -(self._engine.coefficients(2, np.atleast_1d(rho)) @ self._engine.mean_moments)


class _D0:
    def __init__(self, d1: _D1) -> None:
        self._d1 = d1

    def value(self, rho: np.ndarray) -> np.ndarray:
        rho = np.atleast_1d(rho)
        return 1.0 + rho * self._d1.value(rho)

    def slope(self, rho: np.ndarray) -> np.ndarray:
        rho = np.atleast_1d(rho)
        return self._d1.value(rho) + rho * self._d1.slope(rho)


def moment_multipliers(W: sp.sparray, engine, rho_max: float) -> Multipliers:
    """Multipliers for rho up to ``rho_max`` in absolute value, the engine refined to serve them.

    The direct part holds over the engine's parameter space; the totals' power
    series where it converges, :math:`|\rho| < 1/R` (R from the engine's extremes).
    """
    engine.refine(rho_max)
    d1 = _D1(engine)
    s_lo, s_hi = series_bounds(W, engine.extremes)
    total, how = series_totals(W, totals_order(rho_max / s_hi), engine.extremes)
    return Multipliers(
        direct=(_D0(d1), d1),
        total=total,
        bounds=(max(s_lo, engine.bounds[0]), min(s_hi, engine.bounds[1])),
        description=f"direct from the {engine.name} log-determinant's moments (degree {engine.degree}, "
        f"{engine.moments.probes} probes, seed {engine.moments.seed}, moments up to order "
        f"{len(engine.moments.exact) - 1} exact); {how}",
    )
