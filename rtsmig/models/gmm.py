r"""GMM estimators: 2SLS for the lag model, Kelejian–Prucha GM for the error model.

The lag model is estimated by spatial two-stage least squares with instruments
:math:`H = [X, WX_1, W^2X_1]` (:math:`X_1` the non-constant columns), as spreg
``GM_Lag(w_lags=2)`` and R ``stsls(W2X=TRUE)``. The error model uses the
heteroskedasticity-robust GM estimator of Arraiz, Drukker, Kelejian and Prucha
(2010) with spreg's ``BaseGM_Error_Het`` as the backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from rtsmig.errors import EstimationError
from rtsmig.models.impacts import lag_impacts
from rtsmig.models.inference import (
    COVARIANCE_ESTIMATORS,
    coefficient_table,
    orthonormal_basis,
    squared_correlation,
)
from rtsmig.models.results import FitResult
from rtsmig.models.spec import SPATIAL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset

W_LAGS = 2
# spreg's GM optimiser confines lambda to [-0.99, 0.99].
GM_LAMBDA_BOUND = 0.99


@dataclass(frozen=True)
class LinearGMMEstimate:
    """Arrays of a GMM fit: ``coef`` is the betas followed by the spatial parameter."""

    coef: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    fitted: np.ndarray
    sigma2: float


def lag_instruments(X: np.ndarray, W: sp.sparray, w_lags: int = W_LAGS) -> np.ndarray:
    r"""Instruments :math:`[X, WX_1, \dots, W^{q}X_1]` for the endogenous :math:`Wy`."""
    lags, current = [], X[:, 1:]
    for _ in range(w_lags):
        current = W @ current
        lags.append(current)
    return np.column_stack([X, *lags])


def stsls_kernel(
    y: np.ndarray, X: np.ndarray, W: sp.sparray, covariance: str = "classical"
) -> LinearGMMEstimate:
    r"""Spatial 2SLS of :math:`y = X\beta + \rho Wy + \varepsilon` (no checks).

    Notes
    -----
    With :math:`Z = [X, Wy]` and :math:`\hat Z = P_H Z`:

    .. math::
        \hat\delta = (\hat Z'\hat Z)^{-1}\hat Z'y,\qquad u = y - Z\hat\delta,\qquad
        s^2 = \frac{u'u}{n - (k+1)},

    with covariance :math:`s^2(\hat Z'\hat Z)^{-1}` (``classical``, R ``stsls``)
    or White's HC0 sandwich in :math:`\hat Z` and u (``hc0``, ``robust=TRUE``).
    Redundant instruments leave :math:`P_H` unchanged, so they are dropped.
    """
    n = y.shape[0]
    Z = np.column_stack([X, W @ y])
    Q = orthonormal_basis(lag_instruments(X, W))
    Zhat = Q @ (Q.T @ Z)
    delta, *_ = np.linalg.lstsq(Zhat, y, rcond=None)
    fitted = Z @ delta
    resid = y - fitted
    sigma2 = float(resid @ resid) / (n - Z.shape[1])
    cov = COVARIANCE_ESTIMATORS[covariance](Zhat, resid, sigma2)
    return LinearGMMEstimate(delta, cov, resid, fitted, sigma2)


def check_lag_identified(y: np.ndarray, X: np.ndarray, W: sp.sparray) -> None:
    """Raise unless the instruments beyond X predict part of Wy that X does not."""
    Q = orthonormal_basis(lag_instruments(X, W))
    wy_hat = Q @ (Q.T @ (W @ y))
    if orthonormal_basis(np.column_stack([X, wy_hat]), rtol=1e-7).shape[1] <= X.shape[1]:
        raise EstimationError(
            "the instruments WX and W²X do not identify rho: their spatial lags add nothing "
            "to X; add a regressor that varies across neighbours or use --method ml"
        )


def fit_gmm_lag(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """Spatial 2SLS lag model with exact impacts (see :func:`stsls_kernel`)."""
    y, X, W = data.y, data.X, data.W
    n, k = X.shape
    check_lag_identified(y, X, W)
    est = stsls_kernel(y, X, W, "hc0" if spec.robust else "classical")
    rho = float(est.coef[-1])
    impacts, impacts_method = lag_impacts(W, rho, data.x_names[1:], est.coef[1:k])
    se = (
        "White HC0 sandwich in the projected regressors and 2SLS residuals (R stsls robust=TRUE)"
        if spec.robust
        else "s^2 (Zhat'Zhat)^-1 with s^2 = SSE/(n-k-1) (R stsls; spreg sig2n_k=True)"
    )
    return FitResult(
        spec=spec,
        coefficients=coefficient_table(
            (*data.x_names, SPATIAL_TERMS["lag"]), est.coef, est.cov, spec.ci_level
        ),
        fit={
            "n": float(n),
            "k": float(k + 1),
            "pseudo_r2": squared_correlation(y, est.fitted),
            "sigma2": est.sigma2,
        },
        impacts=impacts,
        weights=data.weights_label,
        meta={
            "engine": "2sls",
            "coef_test": "z",
            "impacts_method": impacts_method,
            "conventions": {
                "sigma2": "SSE/(n-k-1): k betas and rho (R stsls; spreg GM_Lag sig2n_k=True)",
                "k": "number of coefficients, the k betas and rho; GMM has no loglik, AIC or BIC",
                "se": se + "; z statistics",
                "instruments": "X, WX, W²X (lags of the non-constant columns)",
                "pseudo_r2": "squared correlation of y and the fitted X b + rho W y "
                "(spreg GM_Lag.pr2)",
            },
        },
    )


def gm_error_het_kernel(y: np.ndarray, X: np.ndarray, W: sp.sparray) -> LinearGMMEstimate:
    r"""Heteroskedasticity-robust GM error model via spreg ``BaseGM_Error_Het`` (no checks).

    Notes
    -----
    Arraiz et al. (2010): OLS residuals give an initial :math:`\tilde\lambda` from
    the moments :math:`E[\varepsilon'A_1\varepsilon] = 0` and
    :math:`E[\varepsilon'W\varepsilon] = 0` with
    :math:`A_1 = W'W - diag(W'W)`; one step of FGLS on
    :math:`(I - \lambda W)` then an efficiently weighted GM step give
    :math:`\hat\lambda`; the covariance is heteroskedasticity-robust. spreg's
    defaults: one iteration, no step 1c. ``sigma2`` is
    :math:`\hat\varepsilon'\hat\varepsilon/n` of the filtered residuals.
    """
    # Imported here: spreg takes seconds to import and only this estimator needs it.
    from spreg.error_sp_het import BaseGM_Error_Het

    reg = BaseGM_Error_Het(y.reshape(-1, 1), X, sp.csr_matrix(W))
    coef = np.asarray(reg.betas, dtype=float).ravel()
    resid = np.asarray(reg.u, dtype=float).ravel()
    filtered = np.asarray(reg.e_filtered, dtype=float).ravel()
    return LinearGMMEstimate(
        coef=coef,
        cov=np.asarray(reg.vm, dtype=float),
        resid=resid,
        fitted=y - resid,
        sigma2=float(filtered @ filtered) / y.shape[0],
    )


def fit_gm_error(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """Kelejian–Prucha heteroskedasticity-robust GM error model (see :func:`gm_error_het_kernel`)."""
    n, k = data.X.shape
    est = gm_error_het_kernel(data.y, data.X, data.W)
    lam = float(est.coef[-1])
    if abs(lam) >= GM_LAMBDA_BOUND - 1e-6:
        raise EstimationError(
            f"lambda = {lam:.6g} is on its bound (±{GM_LAMBDA_BOUND}) of the GM search; "
            "the error model is not identified with these data: check the weights"
        )
    return FitResult(
        spec=spec,
        coefficients=coefficient_table(
            (*data.x_names, SPATIAL_TERMS["error"]), est.coef, est.cov, spec.ci_level
        ),
        fit={
            "n": float(n),
            "k": float(k + 1),
            "pseudo_r2": squared_correlation(data.y, est.fitted),
            "sigma2": est.sigma2,
        },
        weights=data.weights_label,
        meta={
            "engine": "spreg.BaseGM_Error_Het",
            "coef_test": "z",
            "conventions": {
                "sigma2": "e'e/n of the spatially filtered residuals e = u - lambda W u",
                "k": "number of coefficients, the k betas and lambda; GMM has no loglik, "
                "AIC or BIC",
                "se": "heteroskedasticity-robust GM covariance of Arraiz et al. (2010), "
                "as spreg GM_Error_Het (already robust, so --robust changes nothing); "
                "z statistics",
                "pseudo_r2": "squared correlation of y and the fitted X b (spreg GM_Error_Het.pr2)",
            },
        },
    )
