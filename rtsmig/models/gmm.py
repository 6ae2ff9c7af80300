r"""GMM estimators: 2SLS for the lag model, Kelejian–Prucha GM for the error model.

The lag model is estimated by spatial two-stage least squares with instruments
:math:`H = [X, WX_1, W^2X_1]` (:math:`X_1` the non-constant columns), as spreg
``GM_Lag(w_lags=2)`` and R ``stsls(W2X=TRUE)``. The error model uses the
homoskedastic GM estimator of Kelejian and Prucha (1999), as R ``GMerrorsar``,
or with ``robust`` the heteroskedasticity-robust one of Arraiz, Drukker, Kelejian
and Prucha (2010) through spreg's ``BaseGM_Error_Het`` (kernels in
:mod:`rtsmig.models.gmm_error`). The SAC and GNS models are in
:mod:`rtsmig.models.gmm_combo`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from rtsmig.errors import EstimationError
from rtsmig.models.effects import model_impacts
from rtsmig.models.gmm_error import (
    GM_LAMBDA_BOUND,
    LinearGMMEstimate,
    gm_error_het_kernel,
    gm_error_kernel,
)
from rtsmig.models.inference import (
    COVARIANCE_ESTIMATORS,
    check_information,
    coefficient_table,
    orthonormal_basis,
    squared_correlation,
)
from rtsmig.models.results import FitResult
from rtsmig.models.spec import SPATIAL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset

__all__ = [
    "GM_LAMBDA_BOUND", "W_LAGS", "LinearGMMEstimate", "check_instruments_identify",
    "check_lag_identified", "fit_gm_error", "fit_gmm_lag", "gm_error_het_kernel",
    "gm_error_kernel", "lag_instruments", "stsls_kernel", "two_stage_least_squares",
]

W_LAGS = 2


def lag_instruments(X: np.ndarray, W: sp.sparray, w_lags: int = W_LAGS) -> np.ndarray:
    r"""Instruments :math:`[X, WX_1, \dots, W^{q}X_1]` for the endogenous :math:`Wy`."""
    lags, current = [], X[:, 1:]
    for _ in range(w_lags):
        current = W @ current
        lags.append(current)
    return np.column_stack([X, *lags])


def two_stage_least_squares(
    y: np.ndarray, Z: np.ndarray, Q: np.ndarray, covariance: str = "classical"
) -> LinearGMMEstimate:
    r"""2SLS of y on Z with instruments spanning the orthonormal columns Q (no checks).

    Notes
    -----
    With :math:`\hat Z = QQ'Z` the projection of Z on the instruments:

    .. math::
        \hat\delta = (\hat Z'\hat Z)^{-1}\hat Z'y,\qquad u = y - Z\hat\delta,\qquad
        s^2 = \frac{u'u}{n - p},

    p the columns of Z, with covariance :math:`s^2(\hat Z'\hat Z)^{-1}`
    (``classical``) or White's HC0 sandwich in :math:`\hat Z` and u (``hc0``).
    """
    Zhat = Q @ (Q.T @ Z)
    check_information(Zhat.T @ Zhat, "the 2SLS regressors (their projection on the instruments)")
    delta, *_ = np.linalg.lstsq(Zhat, y, rcond=None)
    fitted = Z @ delta
    resid = y - fitted
    sigma2 = float(resid @ resid) / (y.shape[0] - Z.shape[1])
    cov = COVARIANCE_ESTIMATORS[covariance](Zhat, resid, sigma2)
    return LinearGMMEstimate(delta, cov, resid, fitted, sigma2)


def stsls_kernel(
    y: np.ndarray, X: np.ndarray, W: sp.sparray, covariance: str = "classical"
) -> LinearGMMEstimate:
    r"""Spatial 2SLS of :math:`y = X\beta + \rho Wy + \varepsilon` (no checks).

    Notes
    -----
    :func:`two_stage_least_squares` with :math:`Z = [X, Wy]` and instruments
    :math:`H = [X, WX_1, W^2X_1]`, so :math:`s^2 = u'u/(n - (k+1))` and the
    covariance is :math:`s^2(\hat Z'\hat Z)^{-1}` (``classical``, R ``stsls``)
    or HC0 (``hc0``, ``robust=TRUE``). Redundant instruments leave the
    projection unchanged, so they are dropped.
    """
    Z = np.column_stack([X, W @ y])
    return two_stage_least_squares(y, Z, orthonormal_basis(lag_instruments(X, W)), covariance)


def check_instruments_identify(
    y: np.ndarray, X: np.ndarray, W: sp.sparray, Q: np.ndarray, what: str, remedy: str = "use --method ml"
) -> None:
    """Raise unless the instruments (orthonormal Q) predict part of Wy that X does not.

    ``what`` names the instruments beyond X and ``remedy`` the alternative, for the message.
    """
    wy_hat = Q @ (Q.T @ (W @ y))
    if orthonormal_basis(np.column_stack([X, wy_hat]), rtol=1e-7).shape[1] <= X.shape[1]:
        raise EstimationError(
            f"the instruments {what} do not identify rho: their spatial lags add nothing "
            f"to X; add a regressor that varies across neighbours or {remedy}"
        )


def check_lag_identified(y: np.ndarray, X: np.ndarray, W: sp.sparray) -> None:
    """Raise unless the instruments beyond X predict part of Wy that X does not."""
    check_instruments_identify(y, X, W, orthonormal_basis(lag_instruments(X, W)), "WX and W²X")


def fit_gmm_lag(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """Spatial 2SLS lag model with exact impacts (see :func:`stsls_kernel`)."""
    y, X, W = data.y, data.X, data.W
    n, k = X.shape
    check_lag_identified(y, X, W)
    est = stsls_kernel(y, X, W, "hc0" if spec.robust else "classical")
    impacts, impacts_method = model_impacts(spec, data, est.coef, est.cov, rho_index=k)
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


def gm_error_conventions(robust: bool) -> tuple[str, dict[str, str]]:
    """The engine name and the conventions of the GM error model, homoskedastic or robust."""
    common = {
        "k": "number of coefficients, the k betas and lambda; GMM has no loglik, AIC or BIC",
        "pseudo_r2": "squared correlation of y and the fitted X b (spreg GM_Error.pr2)",
    }
    if robust:
        return "spreg.BaseGM_Error_Het", {
            "estimator": "heteroskedasticity-robust GM of Arraiz, Drukker, Kelejian and Prucha "
            "(2010), spreg GM_Error_Het (one iteration); without --robust: homoskedastic KP99",
            "sigma2": "e'e/n of the spatially filtered residuals e = u - lambda W u",
            "se": "heteroskedasticity-robust GM covariance of (b, lambda), as spreg "
            "GM_Error_Het; z statistics",
            **common,
        }
    return "kp99", {
        "estimator": "homoskedastic Kelejian-Prucha (1999) GM, as R GMerrorsar: three moments "
        "of the OLS residuals, minimised exactly; with --robust: Arraiz et al. (2010)",
        "sigma2": "|u - lambda W u|^2/n, u the first-step OLS residuals (R GMerrorsar default "
        "legacy=FALSE); R legacy=TRUE and spreg GM_Error use SSE/n of the FGLS regression",
        "se": "betas: sigma2 (X_f'X_f)^-1 with X_f = X - lambda WX (R GMerrorsar default); "
        "lambda: sandwich variance of the KP99 moments under homoskedastic normal errors "
        "(Kelejian-Prucha 2004; R's se.lambda code uses W'W for W and gives a larger value, "
        "spreg none); z statistics",
        **common,
    }


def fit_gm_error(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """GM error model: homoskedastic KP99, or heteroskedasticity-robust with ``spec.robust``.

    See :func:`~rtsmig.models.gmm_error.gm_error_kernel` and
    :func:`~rtsmig.models.gmm_error.gm_error_het_kernel`.
    """
    n, k = data.X.shape
    kernel = gm_error_het_kernel if spec.robust else gm_error_kernel
    est = kernel(data.y, data.X, data.W)
    name, conventions = gm_error_conventions(spec.robust)
    meta = {"engine": name, "coef_test": "z", "conventions": conventions}
    if not spec.robust:
        meta["gm_sigma2"] = est.gm_sigma2
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
        meta=meta,
    )
