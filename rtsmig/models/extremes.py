r"""The extreme eigenvalues of W, computed once per engine: the parameter space and the expansions' scale.

:math:`I - \rho W` is singular exactly where :math:`1/\rho` is an eigenvalue of W,
so the parameter space of a spatial parameter is
:math:`(1/\omega_{min}, 1/\omega_{max})` in the real (parts of the) eigenvalues,
the Chebyshev expansion of the log-determinant is fitted on
:math:`[\omega_{min}, \omega_{max}]`, and a power series in :math:`\rho W`
converges for :math:`|\rho| < 1/R`, R the spectral radius. The largest
absolute row sum r bounds them all, but loosely unless W is row-standardised:
binary contiguity of 2,875 counties has r = 20 and extremes -3.93 and 6.86.

How :func:`eigen_extremes` finds them:

- **row-standardised W** (non-negative, every non-empty row summing to 1): the
  largest eigenvalue is 1 and r = 1 bounds the smallest; the interval (-1, 1)
  (R spatialreg's default for such W) is kept exactly, nothing is computed;
- **W similar to a symmetric matrix** (:math:`DW` symmetric): Lanczos on the
  symmetric form :math:`S = D^{1/2}WD^{-1/2}` (same spectrum), both ends from one
  run, stopped when each extreme Ritz pair's residual, or its distance to the
  row-sum bound, is below :data:`EXTREMES_TOL` times the spectral radius;
- **any other W**: Arnoldi (``scipy.sparse.linalg.eigs``) for the eigenvalues of
  largest and smallest real part; where it does not converge the row-sum bound
  stands in for that end, and the method says so.

Each estimate is widened outward by its residual :math:`\|Sx - \theta x\|`
(an eigenvalue lies within it of :math:`\theta`; the extreme Ritz values of
Lanczos lie inside the spectrum, so the widened value bounds it), then capped by
the row-sum bound, which always holds. A non-negative W with constant row sums
c has the largest eigenvalue c exactly (:math:`W\mathbf 1 = c\mathbf 1`, and the
row sums bound the spectral radius), so that end is not estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from rtsmig.errors import EstimationError
from rtsmig.models.moments import max_row_sum

# Relative residual (to the spectral radius) at which the iterations stop; the
# parameter space is then at most this much narrower than the true one.
EXTREMES_TOL = 1e-4
# Lanczos steps between convergence checks, and the most it takes.
CHECK_EVERY = 10
LANCZOS_MAX_STEPS = 3000
# Arnoldi: eigenvalues asked for (the extreme is taken among them: with one, ARPACK can
# settle on a complex pair whose real part is just short of the largest), Krylov
# dimension and the most restarts.
ARNOLDI_K = 6
ARNOLDI_NCV = 30
ARNOLDI_MAXITER = 300
# Up to this many regions the dense eigenvalues are cheaper than any iteration.
DENSE_EXTREMES_MAX_N = 100
# Fixed seed of the start vector: the same W gives the same bytes.
EXTREMES_SEED = 20261124
# Row sums within this relative tolerance count as equal (rounding of the weights).
ROW_SUM_TOL = 1e-12
# The least widening, relative to the spectral radius: rounding of the residuals themselves.
MARGIN_FLOOR = 1e-10


@dataclass(frozen=True)
class EigenExtremes:
    """Outer bounds on the real spectrum of W and on its spectral radius, and how they were found.

    ``lo`` <= every real (part of an) eigenvalue <= ``hi``; ``radius`` >= every
    modulus. ``margin`` is how far each estimate was widened (zero where exact),
    ``tolerance`` the relative residual the iteration stopped at (0 if exact).
    """

    lo: float
    hi: float
    radius: float
    method: str
    tolerance: float = 0.0
    margin: tuple[float, float] = (0.0, 0.0)

    @property
    def bounds(self) -> tuple[float, float]:
        """The parameter space ``(1/lo, 1/hi)``."""
        return (1.0 / self.lo, 1.0 / self.hi)

    @property
    def series_bounds(self) -> tuple[float, float]:
        """Where a power series in ``rho W`` converges: ``(-1/radius, 1/radius)``."""
        return (-1.0 / self.radius, 1.0 / self.radius)

    def interval(self) -> tuple[float, float]:
        """Centre and half-width of ``[lo, hi]``, the interval the Chebyshev expansion is fitted on."""
        return 0.5 * (self.lo + self.hi), 0.5 * (self.hi - self.lo)

    def meta(self) -> dict:
        """What a result records (``meta["eigen_extremes"]``)."""
        return {
            "min": float(self.lo),
            "max": float(self.hi),
            "spectral_radius": float(self.radius),
            "margin": [float(m) for m in self.margin],
            "tolerance": float(self.tolerance),
            "method": self.method,
        }


def check_not_empty(W: sp.sparray) -> float:
    """The largest absolute row sum r of W; refuse a W without links."""
    r = max_row_sum(W)
    if r <= 0:
        raise EstimationError("the weights matrix is empty: no region has a neighbour")
    return r


def dense_extremes(values: np.ndarray) -> EigenExtremes:
    """The extremes from all eigenvalues of W (the eigen engine's): exact."""
    real = np.real(values)
    return EigenExtremes(
        float(real.min()), float(real.max()), float(np.max(np.abs(values))),
        "all eigenvalues of the dense W (exact)",
    )


def eigen_extremes(W: sp.sparray, scale: np.ndarray | None, lower: bool = True) -> EigenExtremes:
    r"""The extremes of W (see the module notes).

    Parameters
    ----------
    W : the weights matrix.
    scale : a positive d with ``diag(d) W`` symmetric
        (:func:`~rtsmig.models.logdet.symmetrising_scale`), or ``None``.
    lower : whether the smallest eigenvalue is needed; a power series needs only
        the spectral radius, and without ``lower`` a W not similar to a
        symmetric matrix is spared one Arnoldi run (``lo`` is then ``-radius``).

    Raises
    ------
    EstimationError
        If W is empty.
    """
    # r and the row sums from W as given: the same arithmetic as the row-sum bound always had.
    r = check_not_empty(W)
    sums = np.asarray(np.abs(W).sum(axis=1)).ravel()
    W = sp.csr_array(W)
    nonnegative = bool(W.data.min() >= 0)
    if nonnegative and _all_close(sums[sums > 0], 1.0):
        return EigenExtremes(
            -r, r, r, "row-standardised W: largest eigenvalue 1 (the row sums), smallest bounded by -1 "
            "(the row sums; the interval (-1, 1) R spatialreg uses for such W)",
        )
    # W 1 = c 1 with c the largest row sum: c is the largest eigenvalue and the spectral radius.
    exact_top = nonnegative and _all_close(sums, r)
    if W.shape[0] <= DENSE_EXTREMES_MAX_N:
        from rtsmig.models.logdet import eigenvalues  # logdet builds its engines on this module

        found = dense_extremes(eigenvalues(W))
        if exact_top:
            found = replace(found, hi=r, radius=r, method=found.method + "; largest eigenvalue exact (constant row sums)")
    elif scale is not None:
        found = _symmetric_extremes(W, scale, r, exact_top)
    else:
        found = _general_extremes(W, r, exact_top, nonnegative, lower)
    return _both_signs(found, r)


def _both_signs(found: EigenExtremes, r: float) -> EigenExtremes:
    """The row-sum bound for an end without eigenvalues of its sign (the space is unbounded there)."""
    if found.lo < 0.0 < found.hi:
        return found
    lo, hi = (found.lo if found.lo < 0.0 else -r), (found.hi if found.hi > 0.0 else r)
    return replace(
        found, lo=lo, hi=hi, radius=max(found.radius, -lo, hi),
        method=found.method + "; no eigenvalue of one sign: the row sums bound that end",
    )


def _all_close(values: np.ndarray, target: float) -> bool:
    return values.size > 0 and float(np.max(np.abs(values - target))) <= ROW_SUM_TOL * max(1.0, abs(target))


def _symmetric_extremes(W: sp.csr_array, scale: np.ndarray, r: float, exact_top: bool) -> EigenExtremes:
    """Lanczos on the symmetric form, both ends widened by their residuals and capped by r."""
    root = np.sqrt(scale)
    S = W if np.all(scale == 1.0) else sp.csr_array((root[:, None] * W) / root[None, :])
    (lo, r_lo), (hi, r_hi), steps, converged = lanczos_extremes(S, EXTREMES_TOL, LANCZOS_MAX_STEPS, r)
    floor = MARGIN_FLOOR * max(abs(lo), abs(hi))
    r_lo, r_hi = max(r_lo, floor), max(r_hi, floor)
    lo_used = max(lo - r_lo, -r)
    hi_used = r if exact_top else min(hi + r_hi, r)
    how = f"Lanczos on the symmetric form D^1/2 W D^-1/2, {steps} steps"
    if not converged:
        how += " (the limit, before the tolerance was reached)"
    how += ", each end widened by its Ritz residual and capped by the largest row sum"
    if exact_top:
        how += "; largest eigenvalue exact (constant row sums)"
    return EigenExtremes(
        lo_used, hi_used, min(max(-lo_used, hi_used), r), how, EXTREMES_TOL,
        (lo - lo_used, 0.0 if exact_top else hi_used - hi),
    )


def lanczos_extremes(
    S: sp.sparray, tol: float, max_steps: int, cap: float = math.inf
) -> tuple[tuple, tuple, int, bool]:
    r"""Smallest and largest eigenvalues of a symmetric S, each with its Ritz residual.

    Parameters
    ----------
    S : symmetric. tol : relative residual at which an end has converged.
    max_steps : the most Lanczos steps.
    cap : a known bound on the spectral radius (the largest row sum): an end
        whose Ritz value is within ``tol`` of it needs no more steps, since the
        extreme Ritz values lie inside the spectrum.

    Returns
    -------
    (lo, residual), (hi, residual), steps taken, and whether both ends converged.

    Notes
    -----
    Plain Lanczos, :math:`\beta_{k+1}q_{k+1} = Sq_k - \alpha_kq_k - \beta_kq_{k-1}`
    from a fixed-seed random :math:`q_1`, without reorthogonalisation: only
    eigenvalues are wanted, and loss of orthogonality only duplicates converged
    Ritz values (Paige), so three vectors suffice at any n. The residual of the
    Ritz pair :math:`(\theta, Q_ky)` of the tridiagonal :math:`T_k` is
    :math:`\beta_{k+1}|y_k|`. ARPACK's restarted Lanczos (``eigsh``) needs far more
    products on the clustered spectrum of a large lattice.
    """
    n = S.shape[0]
    q = np.random.default_rng(EXTREMES_SEED).standard_normal(n)
    q /= np.linalg.norm(q)
    q_prev, beta = np.zeros(n), 0.0
    alphas: list[float] = []
    betas: list[float] = []
    for k in range(1, max_steps + 1):
        w = S @ q
        w -= beta * q_prev
        alpha = float(q @ w)
        w -= alpha * q
        beta = float(np.linalg.norm(w))
        alphas.append(alpha)
        betas.append(beta)
        if k % CHECK_EVERY == 0 or k >= n or beta == 0.0:
            (lo, r_lo), (hi, r_hi) = _ritz_ends(alphas, betas)
            size = max(abs(lo), abs(hi))
            if beta <= 1e-12 * size:  # an invariant subspace: its Ritz values are exact
                return (lo, 0.0), (hi, 0.0), k, True
            if min(r_lo, cap + lo) <= tol * size and min(r_hi, cap - hi) <= tol * size:
                return (lo, r_lo), (hi, r_hi), k, True
        q_prev, q = q, w / beta
    (lo, r_lo), (hi, r_hi) = _ritz_ends(alphas, betas)
    return (lo, r_lo), (hi, r_hi), max_steps, False


def _ritz_ends(alphas: list[float], betas: list[float]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The extreme Ritz values of the tridiagonal and their residuals."""
    k = len(alphas)
    d, e = np.array(alphas), np.array(betas[:-1])
    out = []
    for index in (0, k - 1):
        value, vector = la.eigh_tridiagonal(d, e, select="i", select_range=(index, index))
        out.append((float(value[0]), betas[-1] * abs(float(vector[-1, 0]))))
    return out[0], out[1]


def _general_extremes(W: sp.csr_array, r: float, exact_top: bool, nonnegative: bool, lower: bool) -> EigenExtremes:
    """Arnoldi for the largest and smallest real parts (and the largest modulus if W has negative entries)."""
    notes = []
    if exact_top:
        hi, r_hi, x = r, 0.0, None
        notes.append("largest eigenvalue exact (constant row sums)")
    else:
        hi, r_hi, x = _arnoldi(W, "LR", r, notes)
    hi_used = min(hi + r_hi, r)
    bound = perron_upper_bound(W, x) if nonnegative and x is not None else math.inf
    if math.isfinite(bound):  # a rigorous top end, whatever Arnoldi converged to
        hi_used = min(max(bound, hi), r)
        notes.append("largest eigenvalue bounded above by Collatz-Wielandt on the Arnoldi vector")
    if nonnegative:  # Perron-Frobenius: the largest real eigenvalue is the spectral radius
        radius = hi_used
    else:
        top, r_top, _ = _arnoldi(W, "LM", r, notes, modulus=True)
        radius = min(top + r_top, r)
    if lower:
        lo, r_lo, _ = _arnoldi(W, "SR", -r, notes)
        lo_used = max(lo - r_lo, -r)
    else:
        lo, lo_used = -radius, -radius
        notes.append("smallest not computed (only the spectral radius is needed), -radius stands in")
    if lo_used >= 0.0:  # no negative eigenvalue found: the row sums bound that end
        lo, lo_used = -r, -r
    if not nonnegative:  # every eigenvalue's modulus is at most the radius: both ends bound it from below
        radius = min(max(radius, hi_used, -lo_used), r)
    how = "Arnoldi (ARPACK eigs) for the largest and smallest real parts, each widened by its residual " \
          "and capped by the largest row sum"
    return EigenExtremes(
        lo_used, hi_used, radius, "; ".join([how, *notes]), EXTREMES_TOL, (lo - lo_used, hi_used - hi)
    )


def _arnoldi(
    W: sp.csr_array, which: str, fallback: float, notes: list[str], modulus: bool = False
) -> tuple[float, float, np.ndarray | None]:
    """One extreme eigenvalue (real part, or modulus), its residual and its vector; ``fallback`` if Arnoldi fails."""
    theta, x = _arnoldi_pair(W, which)
    if theta is None:
        side = {"LR": "largest real part", "SR": "smallest real part", "LM": "largest modulus"}[which]
        notes.append(f"Arnoldi did not converge for the {side}: the row-sum bound {fallback:g} stands in")
        return fallback, 0.0, None
    residual = float(np.linalg.norm(W @ x - theta * x) / np.linalg.norm(x))
    residual = max(residual, MARGIN_FLOOR * abs(theta))
    return (abs(theta) if modulus else theta.real), residual, x


def _arnoldi_pair(W: sp.csr_array, which: str) -> tuple[complex | None, np.ndarray | None]:
    """The most extreme of ARNOLDI_K Ritz pairs for ``which`` (LR, SR or LM), or ``(None, None)``."""
    v0 = np.random.default_rng(EXTREMES_SEED).standard_normal(W.shape[0])
    try:
        values, vectors = spla.eigs(
            W, k=min(ARNOLDI_K, W.shape[0] - 2), which=which, tol=EXTREMES_TOL, v0=v0, ncv=ARNOLDI_NCV,
            maxiter=ARNOLDI_MAXITER,
        )
    except spla.ArpackNoConvergence:
        return None, None
    key = {"LR": values.real, "SR": -values.real, "LM": np.abs(values)}[which]
    best = int(np.argmax(key))
    return complex(values[best]), vectors[:, best]


def perron_upper_bound(W: sp.csr_array, x: np.ndarray) -> float:
    r"""Collatz–Wielandt: :math:`\rho(W) \le \max_i (W|x|)_i / |x|_i` for a non-negative W and any
    positive vector; ``inf`` when some entry of ``|x|`` is zero.

    With x near the Perron vector the bound is tight, and it holds whatever Arnoldi converged
    to: the top end of a non-negative W's spectrum needs no trust in the residual.
    """
    v = np.abs(np.asarray(x))
    if not np.all(v > 0.0):
        return math.inf
    return float(np.max((W @ v) / v))
