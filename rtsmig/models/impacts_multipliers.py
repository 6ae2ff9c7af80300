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
    r"""Truncated power series :math:`m(\rho) = f\sum_{j=0}^{q} a_j(s\rho)^j` (Horner).

    ``scale`` s and ``factor`` f (default 1) let the coefficients be those of
    :math:`W/s`, s a power of two near the spectral radius, so that high powers
    of W neither overflow nor underflow.
    """

    def __init__(self, coefs: np.ndarray, scale: float = 1.0, factor: float = 1.0) -> None:
        self._coefs = np.asarray(coefs, dtype=float)
        self._slope = P.polyder(self._coefs)
        self._scale, self._factor = scale, factor

    def value(self, rho: np.ndarray) -> np.ndarray:
        return self._factor * P.polyval(np.asarray(rho, dtype=float) * self._scale, self._coefs)

    def slope(self, rho: np.ndarray) -> np.ndarray:
        return (self._factor * self._scale) * P.polyval(np.asarray(rho, dtype=float) * self._scale, self._slope)


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
    of :math:`tr((W/s)^j)/n`, j = 0..q+1, s = ``probe_scale``, for :meth:`direct_mc_se`.
    """

    direct: tuple[Multiplier, Multiplier]
    total: tuple[Multiplier, Multiplier]
    bounds: tuple[float, float]
    description: str
    probe_traces: np.ndarray | None = None
    probe_scale: float = 1.0

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
        powers = (rho * self.probe_scale) ** np.arange(self.probe_traces.shape[1] - 1)
        d0 = self.probe_traces[:, :-1] @ powers
        d1 = self.probe_scale * (self.probe_traces[:, 1:] @ powers)
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


# The power series live in rtsmig.models.impacts_series; they are still importable from here.
_SERIES_NAMES = (
    "MC_DRAWS", "MC_MAX_ORDER", "MC_SEED", "SERIES_TOL", "mc_trace_inverse", "mc_traces",
    "series_bounds", "series_order", "series_totals", "trace_multipliers",
)


def __getattr__(name: str):
    if name in _SERIES_NAMES:
        from rtsmig.models import impacts_series  # it builds on this module: import on first use

        return getattr(impacts_series, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
