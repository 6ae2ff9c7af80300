r"""Maximum-likelihood spatial lag model :math:`y = \rho W y + X\beta + \varepsilon`."""

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
    inverse_information,
    squared_correlation,
)
from rtsmig.models.logdet import EigenLogDet, LogDet
from rtsmig.models.logdet_engines import make_logdet
from rtsmig.models.ml import check_ml_options, engine_accuracy, engine_meta, lr_test, maximise, ml_conventions
from rtsmig.models.ml_traces import Traces, spatial_traces
from rtsmig.models.model_tests import durbin_wald_tests
from rtsmig.models.results import FitResult
from rtsmig.models.spec import SPATIAL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset


@dataclass(frozen=True)
class MLLagEstimate:
    """Arrays of one ML lag fit; ``cov`` covers (beta, rho, sigma2) in that order.

    ``traces`` says how the information matrix's traces were computed;
    ``accuracy`` holds an approximate engine's error bounds (``None`` if exact).
    """

    beta: np.ndarray
    rho: float
    sigma2: float
    loglik: float
    resid: np.ndarray
    fitted: np.ndarray
    cov: np.ndarray
    traces: Traces
    accuracy: dict | None = None


def ml_lag_kernel(y: np.ndarray, X: np.ndarray, W: sp.sparray, logdet: LogDet) -> MLLagEstimate:
    r"""Estimate the lag model by concentrated maximum likelihood (no checks).

    Notes
    -----
    With :math:`e_0 = M y`, :math:`e_1 = M W y` (:math:`M` the OLS residual maker)
    and :math:`S(\rho) = (e_0 - \rho e_1)'(e_0 - \rho e_1)`,

    .. math::
        \ell_c(\rho) = -\frac n2 \ln\frac{S(\rho)}{n} + \ln|I - \rho W|,\qquad
        \hat\beta = b_0 - \hat\rho b_1,\qquad \hat\sigma^2 = S(\hat\rho)/n,

    where :math:`b_0, b_1` regress y and Wy on X. The score
    :math:`\ell_c'(\rho) = n\,e_1'(e_0 - \rho e_1)/S(\rho) - tr(W(I-\rho W)^{-1})`
    polishes the optimum when the engine gives the trace cheaply.
    """
    n = y.shape[0]
    Wy = W @ y
    coefs, *_ = la.lstsq(X, np.column_stack([y, Wy]))
    b0, b1 = coefs[:, 0], coefs[:, 1]
    e0, e1 = y - X @ b0, Wy - X @ b1
    s00, s01, s11 = float(e0 @ e0), float(e0 @ e1), float(e1 @ e1)

    def sse(rho: float) -> float:
        return s00 - 2.0 * rho * s01 + rho * rho * s11

    def concentrated(rho: float) -> float:
        return -0.5 * n * np.log(sse(rho) / n) + logdet(rho)

    def score(rho: float) -> float:
        return n * (s01 - rho * s11) / sse(rho) + logdet.derivative(rho)

    has_score = logdet.derivative(0.0) is not None
    rho = maximise(concentrated, logdet, score if has_score else None, "rho")
    beta = b0 - rho * b1
    resid = e0 - rho * e1
    ssr = float(resid @ resid)
    sigma2 = ssr / n
    cov, traces = lag_covariance(X, W, beta, rho, sigma2, logdet)
    return MLLagEstimate(
        beta=beta,
        rho=rho,
        sigma2=sigma2,
        loglik=gaussian_loglik(ssr, n, logdet(rho)),
        resid=resid,
        fitted=y - resid,
        cov=cov,
        traces=traces,
        accuracy=engine_accuracy(concentrated, logdet, rho, "rho"),
    )


def lag_covariance(
    X: np.ndarray, W: sp.sparray, beta: np.ndarray, rho: float, sigma2: float, logdet: LogDet | None = None
) -> tuple[np.ndarray, Traces]:

    r"""Inverse of the analytic information matrix of (beta, rho, sigma2).

    Notes
    -----
    With :math:`A = I - \rho W`, :math:`B = W A^{-1}` and :math:`v = B X\beta`
    (Anselin 1988, p. 65):

    .. math::
        \mathcal I = \begin{pmatrix}
        X'X/\sigma^2 & X'v/\sigma^2 & 0\\
        v'X/\sigma^2 & tr(B^2) + tr(B'B) + v'v/\sigma^2 & tr(B)/\sigma^2\\
        0 & tr(B)/\sigma^2 & n/(2\sigma^4)
        \end{pmatrix}

    The traces and :math:`v` come from :func:`~rtsmig.models.ml_traces.spatial_traces`.
    """
    n, k = X.shape
    tr = spatial_traces(W, rho, logdet, extra=X @ beta)
    v = np.ravel(tr.b_extra)
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = X.T @ X / sigma2
    info[:k, k] = info[k, :k] = X.T @ v / sigma2
    info[k, k] = tr.tr_b2 + tr.tr_btb + float(v @ v) / sigma2
    info[k, k + 1] = info[k + 1, k] = tr.tr_b / sigma2
    info[k + 1, k + 1] = n / (2.0 * sigma2**2)
    return inverse_information(info, "(beta, rho, sigma2)"), tr


def fit_ml_lag(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """ML lag model (Durbin model given [X, WX]) with SEs, fit statistics and impacts.

    See :func:`ml_lag_kernel`; the impacts follow the model (``spec.model``).
    """
    W = data.W
    n, k = data.X.shape
    check_ml_options(spec, n)
    logdet = make_logdet(W, engine)
    est = ml_lag_kernel(data.y, data.X, W, logdet)
    term = SPATIAL_TERMS["lag"]
    estimates = np.append(est.beta, est.rho)
    impacts, impacts_method = model_impacts(
        spec, data, estimates, est.cov[: k + 1, : k + 1], rho_index=k,
        eigen=logdet if isinstance(logdet, EigenLogDet) else None, logdet=logdet,
    )
    conventions = ml_conventions(logdet.name, term, est.traces.method)
    conventions["pseudo_r2"] = (
        "squared correlation of y and the fitted X b + rho W y (spreg ML_Lag.pr2)"
    )
    return FitResult(
        spec=spec,
        coefficients=coefficient_table(
            (*data.x_names, term), estimates, est.cov[: k + 1, : k + 1], spec.ci_level
        ),
        fit={
            "n": float(n),
            "k": float(k + 2),
            "loglik": est.loglik,
            **information_criteria(est.loglik, n, k + 2),
            "pseudo_r2": squared_correlation(data.y, est.fitted),
            "sigma2": est.sigma2,
        },
        impacts=impacts,
        diagnostics=(
            lr_test(data.y, data.X, est.loglik, (term,)),
            *durbin_wald_tests(data.x_names, spec.wx_names, estimates, est.cov[: k + 1, : k + 1], k),
        ),
        weights=data.weights_label,
        covariance=est.cov[: k + 1, : k + 1],
        meta={
            "coef_test": "z",
            "impacts_method": impacts_method,
            **engine_meta(logdet, est.accuracy, est.traces.relative_se),
            "conventions": conventions,
        },
    )
