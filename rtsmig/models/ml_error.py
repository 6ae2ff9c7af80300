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
    inverse_information,
    squared_correlation,
)
from rtsmig.models.logdet import LogDet
from rtsmig.models.logdet_engines import make_logdet
from rtsmig.models.ml import check_ml_options, engine_accuracy, engine_meta, lr_test, maximise, ml_conventions
from rtsmig.models.ml_traces import Traces, spatial_traces
from rtsmig.models.model_tests import durbin_wald_tests
from rtsmig.models.results import FitResult
from rtsmig.models.spec import SPATIAL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset


@dataclass(frozen=True)
class MLErrorEstimate:
    """Arrays of one ML error fit; ``cov`` covers (beta, lambda, sigma2) in that order.

    ``traces`` and ``accuracy`` as in :class:`~rtsmig.models.ml_lag.MLLagEstimate`.
    """

    beta: np.ndarray
    lam: float
    sigma2: float
    loglik: float
    resid: np.ndarray
    cov: np.ndarray
    traces: Traces
    accuracy: dict | None = None


class _ReducedError:
    r"""The error model's concentrated likelihood in O(k^3) per lambda, after one QR.

    Notes
    -----
    Every vector the likelihood needs at :math:`\lambda` is a combination of the
    columns of :math:`M = [X, WX, y, Wy] = QR`; with orthonormal Q,
    :math:`\|Mc\| = \|Rc\|` and least squares on the rows of R give the same
    betas and sums of squares as on the n rows of M, to rounding.
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, W: sp.sparray) -> None:
        self.k = X.shape[1]
        self.R = np.linalg.qr(np.column_stack([X, W @ X, y, W @ y]), mode="r")

    def fit(self, lam: float) -> tuple[np.ndarray, float, float]:
        """Betas, the SSE of the filtered residuals, and :math:`\varepsilon'Wu` at ``lam``."""
        k, R = self.k, self.R
        Xs = R[:, :k] - lam * R[:, k : 2 * k]
        ys = R[:, 2 * k] - lam * R[:, 2 * k + 1]
        beta, *_ = la.lstsq(Xs, ys)
        eps = ys - Xs @ beta
        wu = R[:, 2 * k + 1] - R[:, k : 2 * k] @ beta  # W y - W X beta
        return beta, float(eps @ eps), float(eps @ wu)

    def filtered_gram(self, lam: float) -> np.ndarray:
        r""":math:`X_\lambda'X_\lambda`."""
        Xs = self.R[:, : self.k] - lam * self.R[:, self.k : 2 * self.k]
        return Xs.T @ Xs


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
    Each evaluation works on the reduced problem of :class:`_ReducedError`.
    """
    n = y.shape[0]
    reduced = _ReducedError(y, X, W)

    def concentrated(lam: float) -> float:
        return -0.5 * n * np.log(reduced.fit(lam)[1] / n) + logdet(lam)

    def score(lam: float) -> float:
        _, ssr, eps_wu = reduced.fit(lam)
        return n * eps_wu / ssr + logdet.derivative(lam)

    has_score = logdet.derivative(0.0) is not None
    lam = maximise(concentrated, logdet, score if has_score else None, "lambda")
    beta, ssr, _ = reduced.fit(lam)
    sigma2 = ssr / n
    cov, traces = error_covariance(reduced.filtered_gram(lam), W, lam, sigma2, logdet)
    return MLErrorEstimate(
        beta=beta,
        lam=lam,
        sigma2=sigma2,
        loglik=gaussian_loglik(ssr, n, logdet(lam)),
        resid=y - X @ beta,
        cov=cov,
        traces=traces,
        accuracy=engine_accuracy(concentrated, logdet, lam, "lambda"),
    )


def error_covariance(
    gram: np.ndarray, W: sp.sparray, lam: float, sigma2: float, logdet: LogDet | None = None
) -> tuple[np.ndarray, Traces]:
    r"""Inverse of the block-diagonal information matrix of (beta, lambda, sigma2).

    Notes
    -----
    With :math:`B = W(I - \lambda W)^{-1}` and the Gram matrix
    :math:`X_\lambda'X_\lambda` of :math:`X_\lambda = X - \lambda W X` (Anselin 1988, p. 74):

    .. math::
        V(\hat\beta) = \sigma^2 (X_\lambda'X_\lambda)^{-1},\qquad
        V(\hat\lambda, \hat\sigma^2) = \begin{pmatrix}
        tr(B^2) + tr(B'B) & tr(B)/\sigma^2\\ tr(B)/\sigma^2 & n/(2\sigma^4)
        \end{pmatrix}^{-1}

    The traces come from :func:`~rtsmig.models.ml_traces.spatial_traces`.
    """
    n, k = W.shape[0], gram.shape[0]
    tr = spatial_traces(W, lam, logdet)
    info = np.array([[tr.tr_b2 + tr.tr_btb, tr.tr_b / sigma2], [tr.tr_b / sigma2, n / (2.0 * sigma2**2)]])
    cov = np.zeros((k + 2, k + 2))
    cov[:k, :k] = sigma2 * inverse_information(gram, "beta (the filtered X'X)")
    cov[k:, k:] = inverse_information(info, "(lambda, sigma2)")
    return cov, tr


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
    conventions = ml_conventions(logdet.name, term, est.traces.method)
    conventions["pseudo_r2"] = "squared correlation of y and the fitted X b (spreg ML_Error.pr2)"
    estimates = np.append(est.beta, est.lam)
    impacts, impacts_method = model_impacts(
        spec, data, estimates, est.cov[: k + 1, : k + 1], rho_index=None, logdet=logdet
    )
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
        covariance=est.cov[: k + 1, : k + 1],
        meta={
            "coef_test": "z",
            **({"impacts_method": impacts_method} if impacts_method else {}),
            **engine_meta(logdet, est.accuracy, est.traces.relative_se),
            "conventions": conventions,
        },
    )
