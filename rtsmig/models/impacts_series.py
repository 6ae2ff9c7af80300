r"""Impact multipliers as power series in rho (large n): where they converge, to which order.

.. math::
    D_0 = \sum_{j\ge0} \rho^j \frac{tr(W^j)}n,\quad
    D_1 = \sum_{j\ge0} \rho^j \frac{tr(W^{j+1})}n,\quad
    T_p = \sum_{j\ge0} \rho^j \frac{\mathbf 1'W^{j+p}\mathbf 1}n

converge for :math:`|\rho| < 1/R`, R the spectral radius of W (from
:func:`~rtsmig.models.extremes.eigen_extremes`; 1 for a row-standardised W), and
their terms fall as :math:`(|\rho|R)^j`. The moments are of :math:`W/s`, s the
power of two nearest R, with the series in :math:`s\rho`: dividing by a power of
two is exact, and :math:`W^j` neither overflows nor underflows at high orders
for a W far from row-standardised (for which s = 1, and nothing changes).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from rtsmig.models.extremes import EigenExtremes, eigen_extremes
from rtsmig.models.impacts_multipliers import Multiplier, Multipliers, PowerSeries, SpectralSum, constant_row_sum
from rtsmig.models.logdet import symmetrising_scale
from rtsmig.models.moments import max_row_sum, power_of_two

# Monte Carlo trace settings of the power series: fixed seed, so the same inputs
# give the same bytes.
MC_DRAWS = 50
MC_SEED = 20240601
MC_MAX_ORDER = 100
# The exact totals cost one sparse product per order, so their series may run longer.
TOTALS_MAX_ORDER = 3000
# The series stops at the first order q with |rho|^q below this.
SERIES_TOL = 1e-12


def series_bounds(W: sp.sparray, extremes: EigenExtremes | None = None) -> tuple[float, float]:
    r"""Where the power series converges for sure: :math:`|\rho| < 1/R`, R a bound on the spectral radius.

    R comes from ``extremes`` (computed here if not given, see
    :func:`~rtsmig.models.extremes.eigen_extremes`); for a row-standardised W it is
    the maximal absolute row sum, 1.
    """
    if extremes is None:
        if max_row_sum(W) <= 0:
            return (-math.inf, math.inf)
        extremes = eigen_extremes(W, symmetrising_scale(sp.csr_array(W)), lower=False)
    return extremes.series_bounds


def series_order(rate: float, cap: int = MC_MAX_ORDER) -> int:
    r"""Smallest q with ``rate**q < SERIES_TOL``, within [2, ``cap``].

    ``rate`` is :math:`|\rho|\,R` with R a bound on the spectral radius of W
    (:func:`series_bounds`), so the terms :math:`\rho^j tr(W^j)/n` and
    :math:`\rho^j\mathbf 1'W^j\mathbf 1/n` fall at least as fast as ``rate**j``.
    """
    if rate <= 0.0:
        return 2
    if rate >= 1.0:
        return cap
    return int(min(cap, max(2, math.ceil(math.log(SERIES_TOL) / math.log(rate)))))


def _scale(W: sp.sparray, extremes: EigenExtremes | None) -> tuple[float, sp.sparray]:
    """s, the power of two nearest the spectral radius, and W/s (W itself when s = 1)."""
    s = power_of_two(1.0 / series_bounds(W, extremes)[1]) if max_row_sum(W) > 0 else 1.0
    return s, (W if s == 1.0 else W / s)


def mc_traces(W: sp.sparray, order: int) -> np.ndarray:
    r"""Per-probe estimates of :math:`tr(W^j)/n`, j = 0..order, shape (probes, order + 1).

    Notes
    -----
    :math:`tr(W^0) = n`, :math:`tr(W)` and :math:`tr(W^2) = \sum_{ij} w_{ij}w_{ji}`
    are exact (the same in every row); above, probe s estimates
    :math:`tr(W^j)/n` by :math:`u_s'W^ju_s / u_s'u_s` with fixed-seed standard
    normal :math:`u_s` (Barry and Pace 1999), so their mean over the
    :data:`MC_DRAWS` probes is the Hutchinson estimate.
    """
    n = W.shape[0]
    exact = [1.0, float(W.diagonal().sum()) / n, float(W.multiply(W.T).sum()) / n]
    out = np.empty((MC_DRAWS, order + 1))
    out[:, : min(3, order + 1)] = exact[: order + 1]
    U = np.random.default_rng(MC_SEED).standard_normal((n, MC_DRAWS))
    norms = np.sum(U * U, axis=0)
    V = W @ (W @ U)
    for j in range(3, order + 1):
        V = W @ V
        out[:, j] = np.sum(U * V, axis=0) / norms
    return out


def trace_multipliers(
    W: sp.sparray, order: int, extremes: EigenExtremes | None = None, total_order: int | None = None
) -> Multipliers:
    r"""Multipliers from power series in rho truncated at ``order`` (large n).

    Notes
    -----
    :math:`D_0, D_1` from the traces of :func:`mc_traces` (of W/s, see the module
    notes), :math:`T_p` from :func:`series_totals` to ``total_order`` (default
    ``order``). The traces are computed once, so a draw costs O(q). ``extremes``
    (of W, if already known) give the bounds and s.
    """
    s, Ws = _scale(W, extremes)
    probes = mc_traces(Ws, order + 1)
    traces = probes.mean(axis=0)
    total, how = series_totals(W, order if total_order is None else total_order, extremes)
    return Multipliers(
        direct=(PowerSeries(traces[:-1], s), PowerSeries(traces[1:], s, s)),
        total=total,
        bounds=series_bounds(W, extremes),
        description=f"traces: power series in rho to order q = {order}, tr(W^j) exact for j <= 2 "
        f"and Monte Carlo above ({MC_DRAWS} probes, seed {MC_SEED}); {how}",
        probe_traces=probes,
        probe_scale=s,
    )


def series_totals(
    W: sp.sparray, order: int, extremes: EigenExtremes | None = None
) -> tuple[tuple[Multiplier, Multiplier], str]:
    r"""(T0, T1) and how: exact :math:`c^p/(1-\rho c)` for constant row sums c, else the
    power series of the exact :math:`\mathbf 1'W^j\mathbf 1/n` to ``order`` (of W/s, see the
    module notes; ``extremes`` give s)."""
    c = constant_row_sum(W)
    if c is not None:
        total = (SpectralSum(np.array([c]), np.ones(1), 0), SpectralSum(np.array([c]), np.ones(1), 1))
        return total, "total exact from the constant row sums, 1/(1 - rho c)"
    s, Ws = _scale(W, extremes)
    v, moments = np.ones(W.shape[0]), []
    for _ in range(order + 2):
        moments.append(float(np.mean(v)))
        v = Ws @ v
    total = (PowerSeries(np.array(moments[:-1]), s), PowerSeries(np.array(moments[1:]), s, s))
    return total, f"total from exact 1'W^j 1 to order {order}"


def totals_order(rate: float) -> int:
    """The order of the exact totals' series at ``rate`` (up to :data:`TOTALS_MAX_ORDER`)."""
    return series_order(rate, TOTALS_MAX_ORDER)


def mc_trace_inverse(W: sp.sparray, rho: float) -> float:
    r"""Monte Carlo estimate of :math:`tr((I-\rho W)^{-1}) = n D_0` (Barry and Pace 1999).

    Notes
    -----
    .. math:: tr((I-\rho W)^{-1}) = \sum_{j\ge0} \rho^j tr(W^j),

    truncated at :func:`series_order`; see :func:`mc_traces`.
    """
    engine = trace_multipliers(W, series_order(abs(rho) / series_bounds(W)[1]))
    return W.shape[0] * float(engine.direct[0].value(np.array([rho]))[0])
