"""OLS diagnostics: spatial (Moran's I, LM tests) and non-spatial (JB, BP, KB, condition number).

Every trace involving W is computed from sparse products and k x k matrices,
never from a dense n x n matrix, so the tests scale with the number of links.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from rtsmig.models.distributions import chi2_sf, normal_sf
from rtsmig.models.inference import orthonormal_basis
from rtsmig.models.results import TestResult


def _trace_ab(A: np.ndarray, B: np.ndarray) -> float:
    """``tr(A B)`` without forming the product."""
    return float(np.sum(A * B.T))


def moran_residuals(
    resid: np.ndarray, X: np.ndarray, W: sp.sparray, xtx_inv: np.ndarray
) -> TestResult:
    r"""Moran's I of OLS residuals with its exact mean and variance under normality.

    Notes
    -----
    As spdep ``lm.morantest`` (Cliff and Ord 1981), with :math:`M = I - X(X'X)^{-1}X'`
    and :math:`S_0 = \sum_{ij} w_{ij}`:

    .. math::
        I = \frac{n}{S_0}\frac{e'We}{e'e},\quad
        E[I] = \frac{n}{S_0}\frac{tr(MW)}{n-k},\quad
        V[I] = \left(\frac{n}{S_0}\right)^2
        \frac{tr(MWMW') + tr(MWMW) + tr(MW)^2}{(n-k)(n-k+2)} - E[I]^2

    and :math:`z = (I - E[I]) / \sqrt{V[I]}` with a one-sided (greater) p-value.
    The traces expand into :math:`tr(WW)`, :math:`tr(WW')` and k x k products.
    """
    n, k = X.shape
    s0 = float(W.sum())
    WX = W @ X
    WtX = W.T @ X
    C = X.T @ WX  # X'WX
    tr_w = float(W.diagonal().sum())
    tr_ww = float(W.multiply(W.T).sum())
    tr_wwt = float(W.multiply(W).sum())
    tr_mw = tr_w - _trace_ab(xtx_inv, C)
    pwpw = _trace_ab(xtx_inv @ C, xtx_inv @ C)
    tr_mwmw = tr_ww - 2.0 * _trace_ab(xtx_inv, WtX.T @ WX) + pwpw
    tr_mwmwt = (
        tr_wwt
        - _trace_ab(xtx_inv, WtX.T @ WtX)
        - _trace_ab(xtx_inv, WX.T @ WX)
        + _trace_ab(xtx_inv @ C, xtx_inv @ C.T)
    )
    scale = n / s0
    value = scale * float(resid @ (W @ resid)) / float(resid @ resid)
    mean = scale * tr_mw / (n - k)
    var = scale**2 * (tr_mwmwt + tr_mwmw + tr_mw**2) / ((n - k) * (n - k + 2)) - mean**2
    z = (value - mean) / np.sqrt(var)
    return TestResult(
        name="Moran's I (residuals)",
        statistic=float(z),
        p_value=float(normal_sf(z)),
        distribution="normal",
        null="no spatial autocorrelation in the residuals (alternative: greater)",
        value=float(value),
    )


def lm_tests(
    y: np.ndarray,
    X: np.ndarray,
    W: sp.sparray,
    beta: np.ndarray,
    resid: np.ndarray,
    xtx_inv: np.ndarray,
) -> tuple[TestResult, ...]:
    r"""Lagrange multiplier tests for a spatial error and a spatial lag (Anselin 1988).

    Notes
    -----
    With :math:`\hat\sigma^2 = e'e/n`, :math:`T = tr(W'W + WW)`,
    :math:`d_\lambda = e'We/\hat\sigma^2`, :math:`d_\rho = e'Wy/\hat\sigma^2` and
    :math:`D = (WX\hat\beta)'M(WX\hat\beta)/\hat\sigma^2 + T`:

    .. math::
        LM_{err} = d_\lambda^2/T,\quad LM_{lag} = d_\rho^2/D,\quad
        RLM_{err} = \frac{(d_\lambda - T d_\rho / D)^2}{T(1 - T/D)},\quad
        RLM_{lag} = \frac{(d_\rho - d_\lambda)^2}{D - T},

    and :math:`SARMA = RLM_{lag} + LM_{err}` on 2 df, as spdep ``lm.LMtests``.
    """
    n = X.shape[0]
    sigma2 = float(resid @ resid) / n
    trace_t = float(W.multiply(W).sum() + W.multiply(W.T).sum())
    d_err = float(resid @ (W @ resid)) / sigma2
    d_lag = float(resid @ (W @ y)) / sigma2
    wxb = W @ (X @ beta)
    xt_wxb = X.T @ wxb
    mwxb = float(wxb @ wxb - xt_wxb @ xtx_inv @ xt_wxb)
    big_d = mwxb / sigma2 + trace_t
    lm_err = d_err**2 / trace_t
    rlm_lag = (d_lag - d_err) ** 2 / (big_d - trace_t)
    values = [
        ("LM error", lm_err, 1, "lambda = 0"),
        ("LM lag", d_lag**2 / big_d, 1, "rho = 0"),
        ("Robust LM error", (d_err - trace_t * d_lag / big_d) ** 2 / (trace_t * (1 - trace_t / big_d)), 1,
         "lambda = 0 (robust to rho)"),
        ("Robust LM lag", rlm_lag, 1, "rho = 0 (robust to lambda)"),
        ("SARMA", rlm_lag + lm_err, 2, "rho = 0 and lambda = 0"),
    ]
    return tuple(
        TestResult(name, float(stat), float(chi2_sf(stat, df)), float(df), "chi2", null)
        for name, stat, df, null in values
    )


def jarque_bera(resid: np.ndarray) -> TestResult:
    r"""Jarque-Bera normality test of the residuals, on 2 df.

    Notes
    -----
    With central moments :math:`m_j = \frac1n\sum e_i^j`, :math:`S = m_3/m_2^{3/2}`,
    :math:`K = m_4/m_2^2`: :math:`JB = n\,(S^2/6 + (K-3)^2/24)`.
    """
    n = resid.shape[0]
    m2, m3, m4 = (float(np.mean(resid**p)) for p in (2, 3, 4))
    jb = n * ((m3 / m2**1.5) ** 2 / 6.0 + (m4 / m2**2 - 3.0) ** 2 / 24.0)
    return TestResult("Jarque-Bera", float(jb), float(chi2_sf(jb, 2)), 2.0, "chi2", "normal errors")


def _explained_ss(g: np.ndarray, Z: np.ndarray) -> tuple[float, int]:
    """``g'P_Z g`` and the rank of Z, from a rank-revealing pivoted QR."""
    Q = orthonormal_basis(Z)
    proj = Q.T @ g
    return float(proj @ proj), Q.shape[1]


def breusch_pagan(resid: np.ndarray, X: np.ndarray) -> TestResult:
    r"""Breusch-Pagan heteroskedasticity test against the squared regressors (as spreg).

    Notes
    -----
    With :math:`g_i = e_i^2/\hat\sigma^2 - 1`, :math:`\hat\sigma^2 = e'e/n` and
    :math:`Z = X \odot X` (duplicate or dependent columns dropped),
    :math:`BP = \tfrac12 g'Z(Z'Z)^{-1}Z'g` on :math:`rank(Z) - 1` df.
    """
    e2 = resid**2
    g = e2 / e2.mean() - 1.0
    ess, rank = _explained_ss(g, X * X)
    bp = 0.5 * ess
    return TestResult(
        "Breusch-Pagan", bp, float(chi2_sf(bp, rank - 1)), float(rank - 1), "chi2", "homoskedastic errors"
    )


def koenker_bassett(resid: np.ndarray, X: np.ndarray) -> TestResult:
    r"""Koenker-Bassett (studentised Breusch-Pagan) test, robust to non-normal errors.

    Notes
    -----
    With :math:`g_i = e_i^2 - \bar{e^2}` and :math:`v = \frac1n\sum g_i^2`,
    :math:`KB = g'Z(Z'Z)^{-1}Z'g / v` on :math:`rank(Z) - 1` df, :math:`Z = X\odot X`.
    """
    e2 = resid**2
    g = e2 - e2.mean()
    ess, rank = _explained_ss(g, X * X)
    kb = ess / float(np.mean(g**2))
    return TestResult(
        "Koenker-Bassett", kb, float(chi2_sf(kb, rank - 1)), float(rank - 1), "chi2", "homoskedastic errors"
    )


def condition_number(X: np.ndarray) -> float:
    r"""Multicollinearity condition number of Belsley, Kuh and Welsch, as spreg.

    Notes
    -----
    With the columns of X scaled to unit length, :math:`\sqrt{\mu_{max}/\mu_{min}}`
    of the eigenvalues :math:`\mu` of :math:`X_s'X_s`.
    """
    Xs = X / np.linalg.norm(X, axis=0)
    mu = np.linalg.eigvalsh(Xs.T @ Xs)
    return float(np.sqrt(mu[-1] / mu[0]))
