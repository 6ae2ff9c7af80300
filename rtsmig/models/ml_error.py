r"""Maximum-likelihood spatial error model :math:`y = X\beta + u,\ u = \lambda W u + \varepsilon`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from rtsmig.models.effects import model_impacts
from rtsmig.models.inference import (
    coefficient_table,
    gaussian_loglik,
    information_criteria,
    squared_correlation,
)
from rtsmig.models.logdet import LogDet, make_logdet
from rtsmig.models.ml import check_ml_options, dense_traces, lr_test, maximise, ml_conventions
from rtsmig.models.model_tests import durbin_wald_tests
from rtsmig.models.results import FitResult
from rtsmig.models.spec import SPATIAL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset


@dataclass(frozen=True)
class MLErrorEstimate:
    """Arrays of one ML error fit; ``cov`` covers (beta, lambda, sigma2) in that order."""

    beta: np.ndarray
    lam: float
    sigma2: float
    loglik: float
    resid: np.ndarray
    cov: np.ndarray


def _filtered_fit(
    lam: float, y: np.ndarray, Wy: np.ndarray, X: np.ndarray, WX: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:

    """GLS step at ``lam``: the betas and the filtered residuals ``(I - lam W) u``."""
    ys, Xs = y - lam * Wy, X - lam * WX
    beta, *_ = la.lstsq(Xs, ys)
    return beta, ys - Xs @ beta


def ml_error_kernel(y: np.ndarray, X: np.ndarray, W: sp.sparray, logdet: LogDet) -> MLErrorEstimate:
    r"""Estimate the error model by concentrated maximum likelihood (no checks).

    Notes
    -----
    With :math:`y_\lambda = y - \lambda W y`, :math:`X_\lambda = X - \lambda W X`,
    :math:`\beta(\lambda)` their least-squares fit and :math:`S(\lambda)` its SSE,

    .. math::
        \ell_c(\lambda) = -\frac n2 \ln\frac{S(\lambda)}{n} + \ln|I - \lambda W|,
        \qquad \hat\sigma^2 = S(\hat\lambda)/n.

    By the envelope theorem the score is
    :math:`\ell_c'(\lambda) = n\,\varepsilon'Wu/S(\lambda) - tr(W(I-\lambda W)^{-1})`,
    with :math:`u = y - X\beta(\lambda)` and :math:`\varepsilon = u - \lambda W u`.
    """
    n = y.shape[0]
    Wy, WX = W @ y, W @ X

    def concentrated(lam: float) -> float:
        _, eps = _filtered_fit(lam, y, Wy, X, WX)
        return -0.5 * n * np.log(float(eps @ eps) / n) + logdet(lam)

    def score(lam: float) -> float:
        beta, eps = _filtered_fit(lam, y, Wy, X, WX)
        u = y - X @ beta
        return n * float(eps @ (W @ u)) / float(eps @ eps) + logdet.derivative(lam)

    has_score = logdet.derivative(0.0) is not None
    lam = maximise(concentrated, logdet, score if has_score else None, "lambda")
    beta, eps = _filtered_fit(lam, y, Wy, X, WX)
    ssr = float(eps @ eps)
    sigma2 = ssr / n
    return MLErrorEstimate(
        beta=beta,
        lam=lam,
        sigma2=sigma2,
        loglik=gaussian_loglik(ssr, n, logdet(lam)),
        resid=y - X @ beta,
        cov=error_covariance(X - lam * WX, W, lam, sigma2),
    )


def error_covariance(Xs: np.ndarray, W: sp.sparray, lam: float, sigma2: float) -> np.ndarray:
    r"""Inverse of the block-diagonal information matrix of (beta, lambda, sigma2).

    Notes
    -----
    With :math:`B = W(I - \lambda W)^{-1}` and :math:`X_\lambda = X - \lambda W X`
    (Anselin 1988, p. 74):

    .. math::
        V(\hat\beta) = \sigma^2 (X_\lambda'X_\lambda)^{-1},\qquad
        V(\hat\lambda, \hat\sigma^2) = \begin{pmatrix}
        tr(B^2) + tr(B'B) & tr(B)/\sigma^2\\ tr(B)/\sigma^2 & n/(2\sigma^4)
        \end{pmatrix}^{-1}
    """
    n, k = Xs.shape
    tr_b, tr_b2, tr_btb, _ = dense_traces(W, lam)
    info = np.array([[tr_b2 + tr_btb, tr_b / sigma2], [tr_b / sigma2, n / (2.0 * sigma2**2)]])
    cov = np.zeros((k + 2, k + 2))
    cov[:k, :k] = sigma2 * la.inv(Xs.T @ Xs)
    cov[k:, k:] = la.inv(info)
    return cov


def fit_ml_error(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """ML error model (Durbin error model given [X, WX]) with SEs and fit statistics.

    See :func:`ml_error_kernel`. The Durbin error model has impacts (beta direct,
    theta spillover); the plain error model has none.
    """
    n, k = data.X.shape
    check_ml_options(spec, n)
    logdet = make_logdet(data.W, engine)
    est = ml_error_kernel(data.y, data.X, data.W, logdet)
    term = SPATIAL_TERMS["error"]
    conventions = ml_conventions(logdet.name, term)
    conventions["pseudo_r2"] = "squared correlation of y and the fitted X b (spreg ML_Error.pr2)"
    estimates = np.append(est.beta, est.lam)
    impacts, impacts_method = model_impacts(spec, data, estimates, est.cov[: k + 1, : k + 1], rho_index=None)
    return FitResult(
        spec=spec,
        coefficients=coefficient_table((*data.x_names, term), estimates, est.cov[: k + 1, : k + 1], spec.ci_level),
        fit={
            "n": float(n),
            "k": float(k + 2),
            "loglik": est.loglik,
            **information_criteria(est.loglik, n, k + 2),
            "pseudo_r2": squared_correlation(data.y, data.y - est.resid),
            "sigma2": est.sigma2,
        },
        diagnostics=(
            lr_test(data.y, data.X, est.loglik, (term,)),
            *durbin_wald_tests(data.x_names, spec.wx_names, estimates, est.cov[: k + 1, : k + 1], None),
        ),
        impacts=impacts,
        weights=data.weights_label,
        meta={
            "engine": logdet.name,
            "coef_test": "z",
            **({"impacts_method": impacts_method} if impacts_method else {}),
            "parameter_space": [float(b) for b in logdet.bounds],
            "conventions": conventions,
        },
    )
