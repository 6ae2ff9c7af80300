r"""Stochastic spectral moments of W: the traces behind every large-n spectral sum.

Everything the ML estimators and the impacts need from W at large n is a sum
over its eigenvalues :math:`\omega_i`, :math:`\sum_i f(\omega_i) = tr\,f(W)`:
the log-determinant (:math:`f = \log(1-\rho\omega)`), its derivatives, and the
impact multipliers (:math:`f = 1/(1-\rho\omega)`, ...). Expanding f in a
polynomial basis :math:`\{P_k\}` turns each sum into :math:`\sum_k c_k\,tr P_k(W)`,
so one set of *moments* :math:`\mu_k = tr P_k(W)/n` serves them all.

Two bases:

- ``chebyshev``: :math:`P_k = T_k((W - cI)/h)`, Chebyshev polynomials of W
  mapped from an interval :math:`[c - h, c + h]` that holds its real spectrum
  onto [-1, 1] (Pace and LeSage 2004; Han, Malioutov and Shin 2015): the
  extreme eigenvalues of :mod:`rtsmig.models.extremes`, or by default
  :math:`[-r, r]`, r the largest absolute row sum, which bounds the spectral
  radius. Needs a W similar to a symmetric matrix.
- ``power``: :math:`P_k = W^k`, the Taylor moments of Barry and Pace (1999);
  any W.

The low orders are exact (:math:`tr W` and :math:`tr W^2 = \sum w_{ij}w_{ji}`;
with ``exact_order=4`` also :math:`tr W^3` and :math:`tr W^4` from the sparse
:math:`W^2`); the higher ones are Hutchinson estimates
:math:`z'P_k(W)z/n` over fixed-seed Rademacher probes z, built by the
three-term (or one-term) recurrence on an n x p block, one sparse product per
order. Taking the exact low orders out removes most of the estimates' variance,
which comes from the large off-diagonal entries of the first powers of W.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from numpy.polynomial import chebyshev as C

# Fixed seed of the probes: the same inputs give the same bytes.
PROBE_SEED = 20261123
BASES = ("chebyshev", "power")


def max_row_sum(W: sp.sparray) -> float:
    """The largest absolute row sum of W: a bound on its spectral radius (1 if row-standardised)."""
    return float(np.max(np.abs(W).sum(axis=1)))


def power_of_two(x: float) -> float:
    """The power of two nearest ``x`` > 0 in ratio: dividing by it is exact, and 1 for x near 1."""
    return 2.0 ** round(math.log2(x))


def rademacher(n: int, probes: int, seed: int) -> np.ndarray:
    """An n x probes block of fixed-seed random signs (Hutchinson probes: z'z = n exactly)."""
    return np.random.default_rng(seed).integers(0, 2, size=(n, probes)).astype(float) * 2.0 - 1.0


def exact_power_traces(W: sp.csr_array, order: int) -> np.ndarray:
    r""":math:`tr(W^j)/n` for j = 0..order (order 2 or 4), exactly.

    Notes
    -----
    :math:`tr(W^{a+b}) = \sum_{ij} (W^a)_{ij} (W^b)_{ji}`, so the sparse
    :math:`W^2` gives the traces up to the fourth power.
    """
    n = W.shape[0]
    traces = [float(n), float(W.diagonal().sum()), float(W.multiply(W.T).sum())]
    if order >= 4:
        W2 = sp.csr_array(W @ W)
        traces += [float(W2.multiply(W.T).sum()), float(W2.multiply(W2.T).sum())]
    return np.array(traces[: order + 1]) / n


class ProbeMoments:
    """Per-probe moment estimates, shape (probes, degree + 1), extendable to higher degree.

    Parameters
    ----------
    W : the weights matrix (CSR).
    basis : ``chebyshev`` (of ``(W - center I) / scale``) or ``power`` (of ``W / scale``).
    probes : number of Rademacher probes.
    exact_order : moments up to this order are exact, the same in every row.
    seed : seed of the probes.
    interval : ``chebyshev``: ``(center, scale)``, the centre and half-width of an
        interval holding the spectrum of W; default ``(0, r)``, r the largest
        absolute row sum. ``power``: ``(0, s)``, s a power of two that keeps high
        powers of W in range (default 1).
    """

    def __init__(
        self, W: sp.sparray, basis: str, probes: int, exact_order: int = 2, seed: int = PROBE_SEED,
        interval: tuple[float, float] | None = None,
    ) -> None:
        if basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, not {basis!r}")
        self.basis = basis
        self.center, self.scale = 0.0, 1.0
        if basis == "chebyshev":
            self.center, self.scale = interval if interval is not None else (0.0, max_row_sum(W))
        elif interval is not None:  # power: moments of W / s, s a power of two (exact)
            self.scale = interval[1]
        shifted = W if self.center == 0.0 else W - self.center * sp.identity(W.shape[0], format="csr")
        if basis == "chebyshev":
            self._W = sp.csr_array(shifted / self.scale)
        else:
            self._W = sp.csr_array(W if self.scale == 1.0 else W / self.scale)
        self.n = W.shape[0]
        self.probes = probes
        self.seed = seed
        self.exact = self._exact_moments(exact_order)
        self._Z = rademacher(self.n, probes, seed)
        self._prev: np.ndarray | None = None
        self._last = self._Z  # never written in place
        self._rows = [np.full(probes, 1.0)]  # z'z/n = 1 for Rademacher probes

    def _exact_moments(self, order: int) -> np.ndarray:
        powers = exact_power_traces(self._W, order)
        if self.basis == "power":
            return powers
        # T_k as a polynomial in x: tr T_k(W) = sum_j a_kj tr(W^j).
        return np.array([C.cheb2poly(np.eye(k + 1)[k]) @ powers[: k + 1] for k in range(order + 1)])

    @property
    def degree(self) -> int:
        return len(self._rows) - 1

    def extend(self, degree: int) -> None:
        """Compute the estimates up to ``degree``: one sparse block product per new order."""
        while self.degree < degree:
            nxt = self._W @ self._last
            if self.basis == "chebyshev" and self._prev is not None:
                nxt *= 2.0  # in place: at a million regions a pass over the block costs a product
                nxt -= self._prev
            self._prev, self._last = self._last, nxt
            self._rows.append(np.einsum("ij,ij->j", self._Z, nxt) / self.n)

    def per_probe(self, degree: int | None = None) -> np.ndarray:
        """(probes, degree + 1) estimates, the exact low orders in place of their estimates."""
        degree = self.degree if degree is None else degree
        self.extend(degree)
        out = np.stack(self._rows[: degree + 1], axis=1)
        k = min(len(self.exact), degree + 1)
        out[:, :k] = self.exact[:k]
        return out

    def release(self) -> None:
        """Drop the n x p blocks once no further degree is needed (memory at large n)."""
        self._prev = self._last = self._Z = None  # type: ignore[assignment]


def chebyshev_nodes(degree: int) -> np.ndarray:
    """The degree + 1 Chebyshev points of the first kind, cos(pi (j + 1/2) / (degree + 1))."""
    return np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))


def interpolation_matrix(degree: int) -> np.ndarray:
    r"""M with ``coefficients = values_at_nodes @ M`` for the Chebyshev interpolant.

    Notes
    -----
    With :math:`\theta_j = \pi(j+\tfrac12)/(m+1)`,
    :math:`c_k = \tfrac{2}{m+1}\sum_j f(\cos\theta_j)\cos(k\theta_j)`, halved for k = 0.
    """
    theta = np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1)
    M = np.cos(np.outer(theta, np.arange(degree + 1))) * (2.0 / (degree + 1))
    M[:, 0] /= 2.0
    return M


def ellipse_bound(f, singularity: float, degree: int, points: int = 256) -> float:
    r"""Bound on :math:`\max_{[-1,1]}|f - p_m|` for the degree-m Chebyshev interpolant p_m.

    Parameters
    ----------
    f : vectorised complex function, analytic inside every Bernstein ellipse that
        excludes the real ``singularity`` (``abs(singularity) > 1``).
    singularity : where f stops being analytic.
    degree : m.

    Notes
    -----
    Trefethen (2013, *Approximation Theory and Approximation Practice*, Thm 8.2):
    if f is analytic in the open Bernstein ellipse :math:`E_R` (foci ±1,
    semi-axis sum R) and :math:`|f| \le M` there,
    :math:`\|f - p_m\| \le 4MR^{-m}/(R-1)`. The ellipse through the singularity
    has :math:`R^* = |s| + \sqrt{s^2-1}`; the bound is minimised over R on a
    grid in :math:`(1, R^*)`, with M the maximum of |f| over points of the
    ellipse (the maximum modulus principle puts it on the boundary; for the
    functions here it sits on the real axis, at the point nearest the
    singularity, which the grid contains).
    """
    s = abs(singularity)
    if not np.isfinite(s):
        return 0.0
    r_star = s + np.sqrt(s * s - 1.0)
    radii = 1.0 + (r_star - 1.0) * np.linspace(0.02, 0.98, 49)
    theta = np.linspace(0.0, 2.0 * np.pi, points, endpoint=False)
    best = np.inf
    for R in radii:
        z = 0.5 * (R * np.exp(1j * theta) + np.exp(-1j * theta) / R)
        M = float(np.max(np.abs(f(z))))
        best = min(best, 4.0 * M * R ** (-degree) / (R - 1.0))
    return best
