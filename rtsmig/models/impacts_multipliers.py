r"""Scalar multipliers of the impacts, as functions of the spatial parameter rho.

Every model with spillovers has, for regressor r with coefficient :math:`\beta_r`
and lag coefficient :math:`\theta_r` (zero when it has no lag),

.. math::
    S_r(\rho) = (I - \rho W)^{-1}(\beta_r I + \theta_r W),\qquad
    direct_r = \beta_r D_0 + \theta_r D_1,\qquad total_r = \beta_r T_0 + \theta_r T_1,

with :math:`A = I - \rho W` and the four multipliers

.. math::
    D_0 = \tfrac1n tr(A^{-1}),\quad D_1 = \tfrac1n tr(A^{-1}W),\quad
    T_0 = \tfrac1n \mathbf 1'A^{-1}\mathbf 1,\quad T_1 = \tfrac1n \mathbf 1'A^{-1}W\mathbf 1

(lag and sac: :math:`\theta_r = 0`; slx and durbin-error: :math:`\rho = 0`). A
:class:`Multipliers` evaluates the four, and their derivatives in rho, on a whole
vector of rho values at once, so that each simulated draw costs O(n) (exact) or
O(q) (power series) after a one-off set-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.polynomial import polynomial as P

from rtsmig.models.logdet import EigenLogDet, eigenvalues, symmetrising_scale

# Monte Carlo trace settings of the power series: fixed seed, so the same inputs
# give the same bytes.
MC_DRAWS = 50
MC_SEED = 20240601
MC_MAX_ORDER = 100
# The series stops at the first order q with |rho|^q below this.
SERIES_TOL = 1e-12
# Row sums equal to this relative tolerance count as constant (a row-standardised W).
ROW_SUM_TOL = 1e-12
# Draws evaluated at once in the exact path: bounds a (chunk x n) temporary.
CHUNK = 256


class Multiplier(Protocol):
    """One multiplier m(rho), vectorised over rho."""

    def value(self, rho: np.ndarray) -> np.ndarray:
        """m at each rho."""

    def slope(self, rho: np.ndarray) -> np.ndarray:
        """dm/drho at each rho."""


class SpectralSum:
    r"""Exact :math:`m(\rho) = Re\sum_i c_i \lambda_i^p / (1 - \rho\lambda_i)`.

    Notes
    -----
    .. math:: m'(\rho) = Re\sum_i c_i \lambda_i^{p+1} / (1 - \rho\lambda_i)^2

    The nodes :math:`\lambda_i` are eigenvalues of W (complex ones allowed), the
    weights :math:`c_i` are 1/n for a trace and the spectral weights of the vector
    of ones for a total.
    """

    def __init__(self, nodes: np.ndarray, weights: np.ndarray, power: int) -> None:
        self._nodes = nodes
        self._c = weights * nodes**power
        self._c1 = self._c * nodes

    def _apply(self, rho: np.ndarray, coefs: np.ndarray, square: bool) -> np.ndarray:
        rho = np.asarray(rho, dtype=float)
        out = np.empty(rho.shape)
        for start in range(0, rho.size, CHUNK):
            inv = 1.0 / (1.0 - rho[start : start + CHUNK, None] * self._nodes[None, :])
            out[start : start + CHUNK] = np.real((inv * inv if square else inv) @ coefs)
        return out

    def value(self, rho: np.ndarray) -> np.ndarray:
        return self._apply(rho, self._c, square=False)

    def slope(self, rho: np.ndarray) -> np.ndarray:
        return self._apply(rho, self._c1, square=True)


class PowerSeries:
    r"""Truncated power series :math:`m(\rho) = \sum_{j=0}^{q} a_j\rho^j` (Horner)."""

    def __init__(self, coefs: np.ndarray) -> None:
        self._coefs = np.asarray(coefs, dtype=float)
        self._slope = P.polyder(self._coefs)

    def value(self, rho: np.ndarray) -> np.ndarray:
        return P.polyval(np.asarray(rho, dtype=float), self._coefs)

    def slope(self, rho: np.ndarray) -> np.ndarray:
        return P.polyval(np.asarray(rho, dtype=float), self._slope)


class SolvedTotal:
    r"""Exact :math:`\tfrac1n\mathbf 1'A^{-1}W^p\mathbf 1` from one sparse LU of A per rho.

    Notes
    -----
    With :math:`x = A^{-1}W^p\mathbf 1`: :math:`m = \bar x` and
    :math:`m' = \tfrac1n \mathbf 1'A^{-1}WA^{-1}W^p\mathbf 1 = \overline{A^{-1}Wx}`.
    The fallback for a W neither similar to a symmetric matrix nor of constant
    row sums; O(fill) per rho.
    """

    def __init__(self, W: sp.sparray, power: int) -> None:
        self._W = sp.csc_array(W)
        rhs = np.ones(W.shape[0])
        self._rhs = self._W @ rhs if power else rhs

    def _solve(self, rho: float) -> tuple[spla.SuperLU, np.ndarray]:
        n = self._W.shape[0]
        lu = spla.splu(sp.csc_matrix(sp.identity(n, format="csc") - rho * self._W))
        return lu, lu.solve(self._rhs)

    def value(self, rho: np.ndarray) -> np.ndarray:
        return np.array([float(np.mean(self._solve(r)[1])) for r in np.atleast_1d(rho)])

    def slope(self, rho: np.ndarray) -> np.ndarray:
        out = []
        for r in np.atleast_1d(rho):
            lu, x = self._solve(r)
            out.append(float(np.mean(lu.solve(self._W @ x))))
        return np.array(out)


@dataclass(frozen=True)
class Multipliers:
    """The four multipliers (D0, D1, T0, T1) of one W, where rho may range, and how.

    ``probe_traces`` (power series only) holds each Monte Carlo probe's estimate
    of :math:`tr(W^j)/n`, j = 0..q+1, for :meth:`direct_mc_se`.
    """

    direct: tuple[Multiplier, Multiplier]
    total: tuple[Multiplier, Multiplier]
    bounds: tuple[float, float]
    description: str
    probe_traces: np.ndarray | None = None

    def values(self, rho: np.ndarray) -> np.ndarray:
        """(4, m) array of D0, D1, T0, T1 at each rho."""
        return np.stack([m.value(rho) for m in (*self.direct, *self.total)])

    def slopes(self, rho: np.ndarray) -> np.ndarray:
        """(4, m) array of their derivatives in rho."""
        return np.stack([m.slope(rho) for m in (*self.direct, *self.total)])

    def direct_mc_se(self, rho: float) -> np.ndarray:
        r"""Monte Carlo standard errors of (D0, D1) at ``rho``; zeros for exact multipliers.

        Notes
        -----
        The SD over the r probes of each probe's series, divided by :math:`\sqrt r`.
        """
        if self.probe_traces is None:
            return np.zeros(2)
        powers = rho ** np.arange(self.probe_traces.shape[1] - 1)
        d0 = self.probe_traces[:, :-1] @ powers
        d1 = self.probe_traces[:, 1:] @ powers
        r = self.probe_traces.shape[0]
        return np.array([np.std(d0, ddof=1), np.std(d1, ddof=1)]) / math.sqrt(r)


def constant_row_sum(W: sp.sparray) -> float | None:
    """The common row sum c of W (1 for a row-standardised W), or ``None``."""
    rows = np.asarray(W.sum(axis=1)).ravel()
    c = float(np.mean(rows))
    if float(np.max(np.abs(rows - c))) <= ROW_SUM_TOL * max(1.0, float(np.max(np.abs(rows)))):
        return c
    return None


def linear_multipliers(W: sp.sparray) -> Multipliers:
    r"""Multipliers of slx and durbin-error, which have no rho: the impacts are linear.

    Notes
    -----
    .. math:: D_0 = T_0 = 1,\qquad D_1 = tr(W)/n,\qquad T_1 = \mathbf 1'W\mathbf 1/n
    """
    n = W.shape[0]
    d1, t1 = float(W.diagonal().sum()) / n, float(W.sum()) / n
    return Multipliers(
        direct=(PowerSeries(np.array([1.0])), PowerSeries(np.array([d1]))),
        total=(PowerSeries(np.array([1.0])), PowerSeries(np.array([t1]))),
        bounds=(-math.inf, math.inf),
        description="exact: linear in the coefficients (direct = beta + theta tr(W)/n, "
        "total = beta + theta 1'W1/n)",
    )


def exact_multipliers(
    W: sp.sparray, eigen: EigenLogDet | None = None, spectral_totals: bool = True
) -> Multipliers:
    r"""Exact multipliers from the eigenvalues (and, for totals, eigenvectors) of W.

    Parameters
    ----------
    W : the weights matrix, dense-eigendecomposable (n up to about EIGEN_MAX_N).
    eigen : an engine already built for W, whose eigenvalues and bounds are reused.
    spectral_totals : decompose the totals spectrally (worth it for many rho
        values); otherwise a W without constant row sums gets sparse solves.

    Notes
    -----
    Direct: :math:`D_p = \frac1n\sum_i \omega_i^p/(1-\rho\omega_i)`. Totals, by the
    first case that applies:

    * constant row sums c (W row-standardised): :math:`W\mathbf 1 = c\mathbf 1`,
      so :math:`T_p = c^p/(1-\rho c)`;
    * W similar to a symmetric matrix, :math:`DW` symmetric for a positive
      diagonal D, so :math:`S = D^{1/2}WD^{-1/2} = Q\Lambda Q'` and
      :math:`T_p = \frac1n\sum_i a_i\lambda_i^p/(1-\rho\lambda_i)` with
      :math:`a = (Q'D^{-1/2}\mathbf 1)\circ(Q'D^{1/2}\mathbf 1)`, orthogonal Q
      keeping it exact to rounding;
    * otherwise :class:`SolvedTotal`.

    The parameter space is :math:`(1/\omega_{min}, 1/\omega_{max})` in the real
    parts, as :class:`~rtsmig.models.logdet.EigenLogDet`.
    """
    n = W.shape[0]
    c = constant_row_sum(W)
    scale = None if c is not None or not spectral_totals else symmetrising_scale(sp.csr_array(W))
    if scale is not None:
        omega, a = spectral_total_weights(W, scale)
        total = (SpectralSum(omega, a / n, 0), SpectralSum(omega, a / n, 1))
        how = "total from its eigenvectors"
    else:
        omega = eigen.eigenvalues if eigen is not None else eigenvalues(W)
        if c is not None:
            total = (SpectralSum(np.array([c]), np.ones(1), 0), SpectralSum(np.array([c]), np.ones(1), 1))
            how = "total from its constant row sums, 1/(1 - rho c)"
        else:
            total = (SolvedTotal(W, 0), SolvedTotal(W, 1))
            how = "total from sparse solves of (I - rho W)"
    weights = np.full(n, 1.0 / n)
    return Multipliers(
        direct=(SpectralSum(omega, weights, 0), SpectralSum(omega, weights, 1)),
        total=total,
        bounds=eigen.bounds if eigen is not None else eigen_bounds(omega),
        description=f"exact: direct from the eigenvalues of W, {how}",
    )


def spectral_total_weights(W: sp.sparray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigenvalues :math:`\lambda` and weights a with :math:`\mathbf 1'f(W)\mathbf 1 = \sum_i a_i f(\lambda_i)`.

    Notes
    -----
    For a W with :math:`DW` symmetric (``scale`` = the positive diagonal D, see
    :func:`~rtsmig.models.logdet.symmetrising_scale`): :math:`S = D^{1/2}WD^{-1/2}
    = Q\Lambda Q'` and :math:`a = (Q'D^{-1/2}\mathbf 1)\circ(Q'D^{1/2}\mathbf 1)`;
    the orthogonal Q keeps it exact to rounding.
    """
    root = np.sqrt(scale)
    S = (root[:, None] * W.toarray()) / root[None, :]
    omega, Q = la.eigh((S + S.T) / 2.0)
    return omega, (Q.T @ (1.0 / root)) * (Q.T @ root)


def eigen_bounds(omega: np.ndarray) -> tuple[float, float]:
    """``(1/min, 1/max)`` of the real parts; infinite on a side without eigenvalues."""
    real = np.real(omega)
    lo, hi = float(real.min()), float(real.max())
    return (1.0 / lo if lo < 0 else -math.inf, 1.0 / hi if hi > 0 else math.inf)


def series_bounds(W: sp.sparray) -> tuple[float, float]:
    r"""Where the power series converges for sure: :math:`|\rho| < 1/\max_i\sum_j|w_{ij}|`.

    The maximal absolute row sum bounds the spectral radius; it is 1 for a
    row-standardised W.
    """
    radius = float(np.max(np.abs(W).sum(axis=1)))
    return (-1.0 / radius, 1.0 / radius) if radius > 0 else (-math.inf, math.inf)


def series_order(rate: float) -> int:
    r"""Smallest q with ``rate**q < SERIES_TOL``, within [2, MC_MAX_ORDER].

    ``rate`` is :math:`|\rho|\,r` with r the maximal absolute row sum of W, which
    bounds the spectral radius, so the terms :math:`\rho^j tr(W^j)/n` and
    :math:`\rho^j\mathbf 1'W^j\mathbf 1/n` fall at least as fast as ``rate**j``.
    """
    if rate <= 0.0:
        return 2
    if rate >= 1.0:
        return MC_MAX_ORDER
    return int(min(MC_MAX_ORDER, max(2, math.ceil(math.log(SERIES_TOL) / math.log(rate)))))


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


def trace_multipliers(W: sp.sparray, order: int) -> Multipliers:
    r"""Multipliers from power series in rho truncated at ``order`` (large n).

    Notes
    -----
    .. math::
        D_0 = \sum_{j=0}^q \rho^j \frac{tr(W^j)}n,\quad
        D_1 = \sum_{j=0}^q \rho^j \frac{tr(W^{j+1})}n,\quad
        T_p = \sum_{j=0}^q \rho^j \frac{\mathbf 1'W^{j+p}\mathbf 1}n,

    with the traces of :func:`mc_traces` and :math:`\mathbf 1'W^j\mathbf 1`
    exact by repeated products; with constant row sums c the totals use the
    exact :math:`c^p/(1-\rho c)` instead. The traces are computed once, so a draw
    costs O(q).
    """
    probes = mc_traces(W, order + 1)
    traces = probes.mean(axis=0)
    total, how = series_totals(W, order)
    return Multipliers(
        direct=(PowerSeries(traces[:-1]), PowerSeries(traces[1:])),
        total=total,
        bounds=series_bounds(W),
        description=f"traces: power series in rho to order q = {order}, tr(W^j) exact for j <= 2 "
        f"and Monte Carlo above ({MC_DRAWS} probes, seed {MC_SEED}); {how}",
        probe_traces=probes,
    )


def series_totals(W: sp.sparray, order: int) -> tuple[tuple[Multiplier, Multiplier], str]:
    r"""(T0, T1) and how: exact :math:`c^p/(1-\rho c)` for constant row sums c, else the
    power series of the exact :math:`\mathbf 1'W^j\mathbf 1/n` to ``order``."""
    c = constant_row_sum(W)
    if c is not None:
        total = (SpectralSum(np.array([c]), np.ones(1), 0), SpectralSum(np.array([c]), np.ones(1), 1))
        return total, "total exact from the constant row sums, 1/(1 - rho c)"
    v, moments = np.ones(W.shape[0]), []
    for _ in range(order + 2):
        moments.append(float(np.mean(v)))
        v = W @ v
    total = (PowerSeries(np.array(moments[:-1])), PowerSeries(np.array(moments[1:])))
    return total, "total from exact 1'W^j 1 to the same order"


def mc_trace_inverse(W: sp.sparray, rho: float) -> float:
    r"""Monte Carlo estimate of :math:`tr((I-\rho W)^{-1}) = n D_0` (Barry and Pace 1999).

    Notes
    -----
    .. math:: tr((I-\rho W)^{-1}) = \sum_{j\ge0} \rho^j tr(W^j),

    truncated at :func:`series_order`; see :func:`mc_traces`.
    """
    engine = trace_multipliers(W, series_order(abs(rho) / series_bounds(W)[1]))
    return W.shape[0] * float(engine.direct[0].value(np.array([rho]))[0])
