"""The one-factor maximum-likelihood factor model, as R's ``factanal(factors = 1)``.

The fit follows ``stats:::factanal.fit.mle`` step for step (Jöreskog 1967): for
given uniquenesses :math:`\\Psi` the loadings come from the top eigenpair of
:math:`\\Psi^{-1/2} R \\Psi^{-1/2}`, and :math:`\\Psi` is found by L-BFGS-B under the
bounds [0.005, 1] from factanal's start, scaling and tolerances, so the loadings
agree with R's to far better than 1e-4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from rtsmig.errors import EstimationError

# factanal's default `lower`: uniquenesses below it are a Heywood case.
LOWER = 0.005
# optim(control = list(parscale = 0.01)) in factanal: the optimiser sees Psi / 0.01.
_PARSCALE = 0.01
# optim's L-BFGS-B defaults as factanal uses them: lmm = 5, factr = 1e7, pgtol = 0, maxit = 100.
_OPTIONS = {"maxcor": 5, "ftol": 1e7 * np.finfo(float).eps, "gtol": 0.0, "maxiter": 100}


@dataclass(frozen=True)
class OneFactor:
    """A fitted one-factor model: standardised loadings and uniquenesses, item order kept.

    ``heywood`` marks uniquenesses on the lower bound (loadings near 1 or above).
    """

    loadings: np.ndarray
    uniquenesses: np.ndarray

    @property
    def heywood(self) -> np.ndarray:
        return self.uniquenesses <= LOWER * (1 + 1e-8)


def _top_loading(psi: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Loadings for given uniquenesses: sqrt(psi) * v1 * sqrt(max(e1 - 1, 0)) (factanal's FAout)."""
    sc = 1.0 / np.sqrt(psi)
    values, vectors = np.linalg.eigh(R * np.outer(sc, sc))
    return np.sqrt(psi) * vectors[:, -1] * np.sqrt(max(values[-1] - 1.0, 0.0))


def _objective(x: np.ndarray, R: np.ndarray) -> tuple[float, np.ndarray]:
    """factanal's FAfn and FAgr in the optimiser's scaled parameter x = psi / parscale."""
    psi = x * _PARSCALE
    sc = 1.0 / np.sqrt(psi)
    values = np.linalg.eigvalsh(R * np.outer(sc, sc))[:-1]  # all but the largest
    f = -(np.sum(np.log(values) - values) - 1.0 + R.shape[0])
    load = _top_loading(psi, R)
    grad = (load**2 + psi - np.diag(R)) / psi**2  # diag(load load' + Psi - R) / Psi^2
    return float(f), grad * _PARSCALE


def fit_one_factor(R: np.ndarray) -> OneFactor:
    """Fit the one-factor ML model to a correlation matrix of p >= 3 items.

    Parameters
    ----------
    R : (p, p) correlation matrix, positive definite.

    Returns
    -------
    OneFactor
        Loadings signed so that they sum positive (factanal's convention).

    Raises
    ------
    EstimationError
        A singular correlation matrix (collinear items) or no convergence.
    """
    p = R.shape[0]
    try:
        inv_diag = np.diag(np.linalg.inv(R))
    except np.linalg.LinAlgError as exc:
        raise EstimationError("the items' correlation matrix is singular") from exc
    if not np.all(np.isfinite(inv_diag)) or np.linalg.cond(R) > 1e12:
        raise EstimationError("the items' correlation matrix is singular")
    start = (1.0 - 0.5 / p) / inv_diag  # factanal's start, factors = 1
    result = minimize(
        _objective, start / _PARSCALE, args=(R,), jac=True, method="L-BFGS-B",
        bounds=[(LOWER / _PARSCALE, 1.0 / _PARSCALE)] * p, options=_OPTIONS,
    )
    if not result.success:
        raise EstimationError(f"the one-factor model did not converge ({result.message})")
    psi = result.x * _PARSCALE
    loadings = _top_loading(psi, R)
    if loadings.sum() < 0:
        loadings = -loadings
    return OneFactor(loadings=loadings, uniquenesses=psi)


def two_item_loadings(r12: float) -> OneFactor:
    """Two items: the model is not identified; assume equal loadings, lambda = sqrt(|r12|).

    A negative correlation gives the second item a negative loading (reverse coded?).
    """
    lam = np.sqrt(abs(r12))
    loadings = np.array([lam, np.copysign(lam, r12)])
    return OneFactor(loadings=loadings, uniquenesses=1.0 - loadings**2)
