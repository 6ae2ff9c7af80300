r"""Approximate log-determinants for large n: Chebyshev (Pace–LeSage) and Monte Carlo (Barry–Pace).

Both write :math:`\log|I-\rho W| = \sum_i \log(1-\rho\omega_i)` and its
derivatives as expansions over the moments of :mod:`rtsmig.models.moments`,
computed once per W; a value of rho then costs O(degree), so the likelihood can
be maximised and the impacts simulated without touching W again.

Each engine reports its error at the estimate: a deterministic truncation
bound (the expansion stops at a finite degree) plus the Monte Carlo error of the
stochastic moments (three standard errors over the probes). The degree grows
until the truncation bound at the estimate is below :data:`TRUNCATION_TOL` per
region.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from rtsmig.errors import EstimationError
from rtsmig.models.extremes import check_not_empty, eigen_extremes
from rtsmig.models.logdet import symmetrising_scale
from rtsmig.models.moments import (
    ProbeMoments,
    chebyshev_nodes,
    ellipse_bound,
    interpolation_matrix,
    power_of_two,
)

START_DEGREE = 20
# The degree rises in steps of this many orders (each costs one sparse block product).
DEGREE_STEP = 5
# Moments up to this order are exact (from the sparse W^2), the rest Monte Carlo.
EXACT_ORDER = 4
MAX_DEGREE = 400
# Truncation error per region of log|I - rho W| (and its derivatives) that the degree must reach.
TRUNCATION_TOL = 1e-10
# Half-width of the reported Monte Carlo error, in standard errors over the probes.
MC_HALF_WIDTH = 3.0
# Derivative orders in rho of log(1 - rho w): 0 the log-determinant, 1 its score, 2 its curvature.
ORDERS = (0, 1, 2)


def default_probes(n: int) -> int:
    """Probes per moment: more where they are cheap (each costs one sparse product per degree)."""
    if n <= 50_000:
        return 64
    return 32 if n <= 250_000 else 16


class _MomentLogDet:
    """Shared machinery: moments, degree refinement, values and errors at rho."""

    name = ""
    basis = ""

    def __init__(self, W: sp.sparray, probes: int | None = None) -> None:
        check_not_empty(W)
        # Positive d with diag(d) W symmetric, or None; the solves of the traces reuse it.
        self.symmetric_scale = symmetrising_scale(sp.csr_array(W))
        self._check(self.symmetric_scale)
        self.extremes = eigen_extremes(W, self.symmetric_scale, lower=self.basis == "chebyshev")
        # A bound on the spectral radius: it scales the Taylor series' tails.
        self.radius = self.extremes.radius
        self.n = W.shape[0]
        self.moments = ProbeMoments(
            W, self.basis, probes or default_probes(self.n), EXACT_ORDER, interval=self._interval()
        )
        self.bounds = self._bounds()
        self._set_degree(START_DEGREE)

    def _check(self, scale: np.ndarray | None) -> None:
        """Refuse a W the expansion does not hold for (given its symmetrising scale)."""

    def _interval(self) -> tuple[float, float] | None:
        """Centre and half-width of the interval the basis is fitted on (``None``: no scaling)."""
        return None

    def _bounds(self) -> tuple[float, float]:
        """The parameter space where the expansion holds."""
        return self.extremes.bounds

    def _set_degree(self, degree: int) -> None:
        self.degree = degree
        self._probes = self.moments.per_probe(degree)
        self.mean_moments = self._probes.mean(axis=0)

    def coefficients(self, order: int, rho: np.ndarray) -> np.ndarray:
        """(len(rho), degree + 1) expansion coefficients of the order-th rho-derivative."""
        raise NotImplementedError

    def truncation(self, order: int, rho: float, degree: int | None = None) -> float:
        """Bound on the truncation error of the order-th derivative per region (at ``degree``)."""
        raise NotImplementedError

    def _sum(self, order: int, rho: float) -> float:
        return self.n * float(self.coefficients(order, np.array([rho]))[0] @ self.mean_moments)

    def __call__(self, rho: float) -> float:
        return self._sum(0, rho)

    def derivative(self, rho: float) -> float:
        return self._sum(1, rho)

    def second_derivative(self, rho: float) -> float:
        return self._sum(2, rho)

    def mc_se(self, order: int, rho: float) -> float:
        """Monte Carlo standard error of the order-th derivative (all regions)."""
        per_probe = self._probes @ self.coefficients(order, np.array([rho]))[0]
        return self.n * float(np.std(per_probe, ddof=1)) / math.sqrt(per_probe.size)

    def error_bound(self, order: int, rho: float) -> float:
        """Reported error of the order-th derivative: truncation bound + 3 Monte Carlo SEs."""
        return self.n * self.truncation(order, rho) + MC_HALF_WIDTH * self.mc_se(order, rho)

    def refine(self, rho: float) -> bool:
        """Raise the degree until the truncation at ``rho`` is below tolerance; True if it rose."""
        degree = self.degree
        while degree < MAX_DEGREE and max(self.truncation(k, rho, degree) for k in ORDERS) > TRUNCATION_TOL:
            degree = min(MAX_DEGREE, degree + DEGREE_STEP)
        if degree == self.degree:
            return False
        self._set_degree(degree)
        return True

    def accuracy(self, rho: float) -> dict:
        """What the result records about this engine at the estimate."""
        return {
            "degree": self.degree,
            "probes": self.moments.probes,
            "probe_seed": self.moments.seed,
            "exact_moments": len(self.moments.exact) - 1,
            "logdet_error_bound": self.error_bound(0, rho),
            "score_error_bound": self.error_bound(1, rho),
        }


class ChebyshevLogDet(_MomentLogDet):
    r"""Chebyshev expansion of the log-determinant (Pace and LeSage 2004), stochastic moments.

    Notes
    -----
    W is similar to a symmetric matrix, so its spectrum is real and lies in
    :math:`[\omega_{lo}, \omega_{hi}]` (:func:`~rtsmig.models.extremes.eigen_extremes`;
    :math:`[-1, 1]` for a row-standardised W). With centre
    :math:`c = (\omega_{lo}+\omega_{hi})/2`, half-width
    :math:`h = (\omega_{hi}-\omega_{lo})/2` and :math:`\tilde W = (W - cI)/h`,
    whose spectrum lies in [-1, 1], each eigenvalue is :math:`\omega(x) = c + hx`, and

    .. math:: \log|I-\rho W| = \sum_i f(\tilde\omega_i) \approx n\sum_{k=0}^m c_k(\rho)\,\mu_k,
        \qquad f(x) = \log(1 - \rho c - \rho h x),\quad \mu_k = tr\,T_k(\tilde W)/n,

    with :math:`c_k` the coefficients of the Chebyshev interpolant of f at m + 1
    Chebyshev points; the derivatives in rho expand :math:`-\omega(x)/(1-\rho\omega(x))`
    and :math:`-\omega(x)^2/(1-\rho\omega(x))^2` the same way. The truncation
    bound is :func:`~rtsmig.models.moments.ellipse_bound` (f is analytic off
    :math:`x^* = (1-\rho c)/(\rho h)`, outside [-1, 1] for every rho of the
    parameter space), exact for a W with real eigenvalues.
    """

    name = "chebyshev"
    basis = "chebyshev"

    def _check(self, scale: np.ndarray | None) -> None:
        if scale is None:
            raise EstimationError(
                "--logdet chebyshev needs a W similar to a symmetric matrix (e.g. contiguity or "
                "symmetric distance weights, row-standardised); use --logdet mc or lu for this W"
            )

    def _interval(self) -> tuple[float, float]:
        self.center, self.half_width = self.extremes.interval()
        return self.center, self.half_width

    def _set_degree(self, degree: int) -> None:
        super()._set_degree(degree)
        self._nodes = chebyshev_nodes(degree)
        self._M = interpolation_matrix(degree)

    def _functions(self, order: int, rho):
        # Written as 1 - rho c - (rho h) x so that with c = 0 (a row-standardised W) the
        # arithmetic is exactly that of 1 - (rho r) x, and the results do not move by a bit.
        c, h = self.center, self.half_width
        base, a = 1.0 - rho * c, rho * h
        if order == 0:
            return lambda x: np.log(base - a * x)
        if order == 1:
            return lambda x: -(c + h * x) / (base - a * x)
        return lambda x: -((c + h * x) ** 2) / (base - a * x) ** 2

    def coefficients(self, order: int, rho: np.ndarray) -> np.ndarray:
        rho = np.asarray(rho, dtype=float)[:, None]
        values = self._functions(order, rho)(self._nodes[None, :])
        return values @ self._M

    def truncation(self, order: int, rho: float, degree: int | None = None) -> float:
        a = rho * self.half_width
        if a == 0.0:  # f is then a polynomial of degree <= 2, interpolated exactly
            return 0.0
        singularity = (1.0 - rho * self.center) / a
        return ellipse_bound(self._functions(order, rho), singularity, degree or self.degree)


class MCLogDet(_MomentLogDet):
    r"""Taylor series of the log-determinant with Monte Carlo traces (Barry and Pace 1999).

    Notes
    -----
    .. math:: \log|I-\rho W| = -\sum_{j\ge1}\frac{\rho^j}{j}tr(W^j)
        \approx -n\sum_{j=1}^q \frac{(s\rho)^j}{j}\tilde t_j,\qquad \tilde t_j = tr((W/s)^j)/n,

    for :math:`|\rho| r < 1`, r a bound on the spectral radius of W
    (:func:`~rtsmig.models.extremes.eigen_extremes`; 1 for a row-standardised W).
    Since :math:`|t_j| = |\sum_i\omega_i^j|/n \le r^j`, the tail after q is at
    most :math:`\sum_{j>q} |a|^j/j` per region (a = rho r), and the derivatives'
    tails :math:`r\sum_{j>q}|a|^{j-1}` and :math:`r^2\sum_{j>q}(j-1)|a|^{j-2}`.
    The parameter space is that of W cut to where the series converges,
    :math:`|\rho| < 1/r`. The moments are of W/s, s the power of two nearest r
    (exact scaling; s = 1 for a row-standardised W), so that high powers of W
    neither overflow nor underflow.
    """

    name = "mc"
    basis = "power"

    def _bounds(self) -> tuple[float, float]:
        (lo, hi), (s_lo, s_hi) = self.extremes.bounds, self.extremes.series_bounds
        return (max(lo, s_lo), min(hi, s_hi))

    def _interval(self) -> tuple[float, float]:
        # Moments of W/s, s the power of two nearest the radius: W^j stays in range at
        # high degree whatever the scale of the weights (s = 1 for a row-standardised W).
        return 0.0, power_of_two(self.radius)

    def coefficients(self, order: int, rho: np.ndarray) -> np.ndarray:
        s = self.moments.scale
        rho = np.asarray(rho, dtype=float)[:, None] * s
        j = np.arange(self.degree + 1, dtype=float)[None, :]
        safe = np.where(j == 0, 1.0, j)
        if order == 0:
            out = -(rho**j) / safe
        elif order == 1:
            out = -(rho ** np.maximum(j - 1, 0)) * s
        else:
            out = -(j - 1) * rho ** np.maximum(j - 2, 0) * (s * s)
        return np.where(j == 0, 0.0, np.where((order == 2) & (j == 1), 0.0, out))

    def truncation(self, order: int, rho: float, degree: int | None = None) -> float:
        a = abs(rho) * self.radius
        if a >= 1.0:
            return math.inf
        degree = degree or self.degree
        j = np.arange(degree + 1, degree + 20_000, dtype=float)
        terms = (a**j / j, self.radius * a ** (j - 1), self.radius**2 * (j - 1) * a ** (j - 2))[order]
        return float(np.sum(terms))
