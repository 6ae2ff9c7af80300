"""Ordinary least squares: a pure kernel and the wrapper that builds a FitResult."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as la

from rtsmig.models import diagnostics as diag
from rtsmig.models.effects import model_impacts
from rtsmig.models.inference import (
    COVARIANCE_ESTIMATORS,
    coefficient_table,
    gaussian_loglik,
    information_criteria,
)
from rtsmig.models.results import FitResult
from rtsmig.models.spec import FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset


@dataclass(frozen=True)
class OLSEstimate:
    """Arrays of one OLS fit (no names, no checks)."""

    beta: np.ndarray
    resid: np.ndarray
    xtx_inv: np.ndarray
    cov: np.ndarray
    sse: float
    sigma2: float


def ols_kernel(y: np.ndarray, X: np.ndarray, covariance: str = "classical") -> OLSEstimate:
    r"""Least squares by a QR factorisation; X must have full column rank.

    Notes
    -----
    With :math:`X = QR`,

    .. math:: \hat\beta = R^{-1} Q'y, \qquad (X'X)^{-1} = R^{-1} R^{-\top},
       \qquad s^2 = \frac{e'e}{n-k}

    and the covariance is :math:`s^2 (X'X)^{-1}` (``classical``) or White's HC0.
    """
    n, k = X.shape
    Q, R = np.linalg.qr(X)
    beta = la.solve_triangular(R, Q.T @ y)
    r_inv = la.solve_triangular(R, np.eye(k))
    xtx_inv = r_inv @ r_inv.T
    resid = y - X @ beta
    sse = float(resid @ resid)
    sigma2 = sse / (n - k)
    if covariance == "classical":
        cov = sigma2 * xtx_inv  # same as the registry's, without re-inverting X'X
    else:
        cov = COVARIANCE_ESTIMATORS[covariance](X, resid, sigma2)
    return OLSEstimate(beta, resid, xtx_inv, cov, sse, sigma2)


def fit_ols(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    r"""OLS with classical (or HC0) SEs, fit statistics and, given W, spatial diagnostics.

    Notes
    -----
    :math:`\ell` is the Gaussian log-likelihood at :math:`SSE/n`; AIC and BIC
    count the k betas and :math:`\sigma` (``k + 1`` parameters, as R's
    ``logLik.lm``).
    """
    y, X = data.y, data.X
    n, k = X.shape
    est = ols_kernel(y, X, "hc0" if spec.robust else "classical")
    loglik = gaussian_loglik(est.sse, n)
    sst = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - est.sse / sst
    fit = {
        "n": float(n),
        "k": float(k + 1),
        "loglik": loglik,
        **information_criteria(loglik, n, k + 1),
        "r2": r2,
        "adj_r2": 1.0 - (1.0 - r2) * (n - 1) / (n - k),
        "sigma2": est.sigma2,
        "sigma2_ml": est.sse / n,
        "condition_number": diag.condition_number(X),
    }
    tests = [
        diag.jarque_bera(est.resid),
        diag.breusch_pagan(est.resid, X),
        diag.koenker_bassett(est.resid, X),
    ]
    if data.W is not None:
        tests = [
            diag.moran_residuals(est.resid, X, data.W, est.xtx_inv),
            *diag.lm_tests(y, X, data.W, est.beta, est.resid, est.xtx_inv),
            *tests,
        ]
    se_source = "White HC0 sandwich" if spec.robust else "s^2 (X'X)^-1 with s^2 = SSE/(n-k)"
    # SLX (OLS on [X, WX]) has impacts: beta direct, theta spillover.
    impacts, impacts_method = model_impacts(spec, data, est.beta, est.cov, rho_index=None)
    return FitResult(
        spec=spec,
        coefficients=coefficient_table(data.x_names, est.beta, est.cov, spec.ci_level, df=n - k),
        fit=fit,
        diagnostics=tuple(tests),
        impacts=impacts,
        weights=data.weights_label,
        covariance=est.cov,
        meta={
            "engine": "qr",
            "coef_test": "t",
            **({"impacts_method": impacts_method} if impacts_method else {}),
            "conventions": {
                "sigma2": "SSE/(n-k); sigma2_ml = SSE/n is the ML variance used in loglik",
                "aic_bic": "AIC = -2 loglik + 2p, BIC = -2 loglik + ln(n) p with p = k + 1 "
                "(the k betas and sigma), as R logLik.lm",
                "se": se_source + f"; t statistics on n-k = {n - k} df",
                "diagnostics": "LM tests and Moran's I of residuals as spdep lm.LMtests / "
                "lm.morantest; JB, BP and KB as spreg (BP and KB on the squared regressors)",
            },
        },
    )
