"""Inference shared by every estimator: covariances, coefficient rows, criteria.

Linear estimators (OLS and 2SLS) differ only in the "meat" of a sandwich, so
the covariance estimators are a registry keyed by name (``classical``, ``hc0``),
in the manner of linearmodels' ``COVARIANCE_ESTIMATORS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.linalg as la

from rtsmig.errors import EstimationError
from rtsmig.models.distributions import normal_ppf, normal_sf, t_ppf, t_sf
from rtsmig.models.results import Coefficient


def classical_covariance(Z: np.ndarray, resid: np.ndarray, sigma2: float) -> np.ndarray:
    r"""Homoskedastic covariance of a linear estimator.

    Notes
    -----
    .. math:: V = \sigma^2 (Z'Z)^{-1}

    where Z is the regressor matrix (OLS) or the projected regressors
    :math:`\hat Z = P_H Z` (2SLS) and :math:`\sigma^2` is chosen by the caller.
    """
    return sigma2 * np.linalg.inv(Z.T @ Z)


def hc0_covariance(Z: np.ndarray, resid: np.ndarray, sigma2: float) -> np.ndarray:
    r"""White (HC0) heteroskedasticity-consistent covariance; ``sigma2`` is unused.

    Notes
    -----
    .. math:: V = (Z'Z)^{-1} \left(\sum_i u_i^2 z_i z_i'\right) (Z'Z)^{-1}
    """
    bread = np.linalg.inv(Z.T @ Z)
    meat = (Z * resid[:, None] ** 2).T @ Z
    return bread @ meat @ bread


def check_information(info: np.ndarray, what: str) -> None:
    r"""Refuse an information (or Gram) matrix that is not finite or is numerically singular.

    ``what`` names the matrix for the message, e.g. ``"(beta, rho, sigma2)"``.

    Notes
    -----
    Singularity is judged on the scaled matrix :math:`D^{-1/2}\mathcal I D^{-1/2}`,
    :math:`D = \mathrm{diag}(\mathcal I)`, so that the units of y and X (which put
    :math:`\sigma^{-4}` beside :math:`X'X/\sigma^2`) do not count: it is singular when
    its rank, with numpy's tolerance (largest singular value times size times
    machine epsilon), is below its size.
    """
    if not np.all(np.isfinite(info)):
        raise EstimationError(
            f"the information matrix of {what} is not finite, so the standard errors are undefined: the "
            "model is not identified with these data; check the outcome and regressors for (near) constants"
        )
    scale = np.sqrt(np.abs(np.diag(info)))
    if np.any(scale == 0) or np.linalg.matrix_rank(info / np.outer(scale, scale)) < info.shape[0]:
        raise EstimationError(
            f"the information matrix of {what} is singular, so the standard errors are undefined: the "
            "parameters are not identified with these data; drop regressors, check the weights or use --method gmm"
        )


def inverse_information(info: np.ndarray, what: str) -> np.ndarray:
    """``la.inv(info)`` once :func:`check_information` has accepted it."""
    check_information(info, what)
    return la.inv(info)


COVARIANCE_ESTIMATORS: dict[str, Callable[[np.ndarray, np.ndarray, float], np.ndarray]] = {
    "classical": classical_covariance,
    "hc0": hc0_covariance,
}


def coefficient_table(
    names: Sequence[str],
    estimates: np.ndarray,
    cov: np.ndarray,
    ci_level: float,
    df: float | None = None,
) -> tuple[Coefficient, ...]:
    r"""One :class:`Coefficient` per estimate, with Wald statistics.

    Parameters
    ----------
    names, estimates : the terms and their point estimates.
    cov : covariance matrix of ``estimates``.
    ci_level : coverage of the confidence interval.
    df : residual degrees of freedom for a t reference distribution; ``None``
        uses the standard normal (z statistics).

    Notes
    -----
    .. math:: s_j = \sqrt{V_{jj}},\quad t_j = \hat\theta_j / s_j,\quad
       p_j = 2\,P(T > |t_j|),\quad \hat\theta_j \pm q_{(1+c)/2}\, s_j
    """
    se = np.sqrt(np.diag(cov))
    stat = estimates / se
    if df is None:
        p, q = 2.0 * normal_sf(np.abs(stat)), normal_ppf(0.5 + ci_level / 2.0)
    else:
        p, q = 2.0 * t_sf(np.abs(stat), df), t_ppf(0.5 + ci_level / 2.0, df)
    return tuple(
        Coefficient(
            term=str(name),
            estimate=float(b),
            std_error=float(s),
            statistic=float(z),
            p_value=float(pv),
            ci_low=float(b - q * s),
            ci_high=float(b + q * s),
        )
        for name, b, s, z, pv in zip(names, estimates, se, stat, p)
    )


def information_criteria(loglik: float, n: int, n_params: int) -> dict[str, float]:
    r"""AIC and BIC counting ``n_params`` estimated parameters.

    Notes
    -----
    .. math:: AIC = -2\ell + 2p, \qquad BIC = -2\ell + p \ln n
    """
    return {
        "aic": -2.0 * loglik + 2.0 * n_params,
        "bic": -2.0 * loglik + math.log(n) * n_params,
    }


def gaussian_loglik(sse: float, n: int, logdet: float = 0.0) -> float:
    r"""Gaussian log-likelihood at the ML variance :math:`\hat\sigma^2 = SSE/n`.

    Notes
    -----
    .. math:: \ell = -\frac n2\left(\ln 2\pi + \ln\hat\sigma^2 + 1\right) + \ln|J|

    with :math:`\ln|J|` the log-Jacobian (``log|I - rho W|`` in spatial models).
    """
    return -0.5 * n * (math.log(2.0 * math.pi) + math.log(sse / n) + 1.0) + logdet


def squared_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Squared Pearson correlation, the pseudo-R² of spreg (``pr2``)."""
    return float(np.corrcoef(a, b)[0, 1] ** 2)


def orthonormal_basis(M: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    r"""Orthonormal basis of the column space of M, dropping dependent columns.

    Notes
    -----
    Pivoted QR of M with unit-length columns; the rank counts the
    :math:`|R_{jj}| > rtol\,|R_{11}|`. The projection onto the columns of M is
    :math:`P_M v = Q_r Q_r' v`, whatever redundancy M has.
    """
    norms = np.linalg.norm(M, axis=0)
    Ms = M / np.where(norms > 0, norms, 1.0)  # an all-zero column stays zero and is dropped
    Q, R, _ = la.qr(Ms, mode="economic", pivoting=True)
    rank = int(np.sum(np.abs(np.diag(R)) > rtol * abs(R[0, 0])))
    return Q[:, :rank]
