r"""Generalised moments for the spatial error process :math:`u = \lambda W u + \varepsilon`.

Kelejian and Prucha (1999) estimate :math:`\lambda` from three quadratic moments
of consistent residuals of the regression; this module holds those moments, their
exact minimisation, the variance of :math:`\hat\lambda`, and the two error-model
kernels: homoskedastic (KP99, as R spatialreg ``GMerrorsar``) and
heteroskedasticity-robust (Arraiz, Drukker, Kelejian and Prucha 2010, through
spreg's ``BaseGM_Error_Het``). The SAC and GNS estimators of
:mod:`rtsmig.models.gmm_combo` reuse the moments on 2SLS residuals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from rtsmig.errors import EstimationError
from rtsmig.models.extremes import eigen_extremes
from rtsmig.models.inference import inverse_information
from rtsmig.models.logdet import symmetrising_scale

# spreg's GM optimiser confines lambda to [-0.99, 0.99].
GM_LAMBDA_BOUND = 0.99
# Imaginary part below which a root of the moment objective's derivative counts as real.
_ROOT_IMAG_TOL = 1e-9


@dataclass(frozen=True)
class LinearGMMEstimate:
    """Arrays of a GMM fit: ``coef`` is the betas followed by the spatial parameter(s).

    ``gm_sigma2`` is the :math:`\\sigma^2` that solves the KP99 moment equations
    alongside :math:`\\lambda` (NaN for estimators without it).
    """

    coef: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    fitted: np.ndarray
    sigma2: float
    gm_sigma2: float = math.nan


@dataclass(frozen=True)
class KPMoments:
    r"""The KP99 moment equations :math:`g = G\,(\lambda, \lambda^2, \sigma^2)'` of residuals u."""

    G: np.ndarray
    g: np.ndarray


def kp_moments(u: np.ndarray, W: sp.sparray) -> KPMoments:
    r"""The three Kelejian–Prucha (1999) moment equations of the residuals u.

    Notes
    -----
    With :math:`\bar u = Wu`, :math:`\bar{\bar u} = W^2u` and
    :math:`\varepsilon = u - \lambda\bar u`, the moments
    :math:`E[\varepsilon'\varepsilon/n] = \sigma^2`,
    :math:`E[\varepsilon'W'W\varepsilon/n] = \sigma^2 tr(W'W)/n` and
    :math:`E[\varepsilon'W\varepsilon/n] = 0` read :math:`g = G(\lambda, \lambda^2, \sigma^2)'` with

    .. math::
        g = \frac1n\begin{pmatrix} u'u \\ \bar u'\bar u \\ u'\bar u\end{pmatrix},\qquad
        G = \frac1n\begin{pmatrix}
        2u'\bar u & -\bar u'\bar u & n\\
        2\bar{\bar u}'\bar u & -\bar{\bar u}'\bar{\bar u} & tr(W'W)\\
        u'\bar{\bar u} + \bar u'\bar u & -\bar u'\bar{\bar u} & 0
        \end{pmatrix}.
    """
    n = u.shape[0]
    wu = W @ u
    wwu = W @ wu
    tr_wtw = float(sp.csr_array(W).multiply(W).sum())
    G = np.array([
        [2.0 * (u @ wu), -(wu @ wu), n],
        [2.0 * (wwu @ wu), -(wwu @ wwu), tr_wtw],
        [u @ wwu + wu @ wu, -(wu @ wwu), 0.0],
    ]) / n
    g = np.array([u @ u, wu @ wu, u @ wu]) / n
    return KPMoments(G, g)


def lambda_search_bound(W: sp.sparray) -> float:
    r"""Half-width :math:`1/R` of the search interval, R the spectral radius of W.

    :math:`I - \lambda W` is non-singular for :math:`|\lambda| < 1/R`: the interval
    :math:`(-1, 1)` of a row-standardised W (R = 1, nothing computed). For other W the
    largest absolute row sum would understate the space (binary contiguity of the
    shipped counties: 1/20 against 1/6.86), so R comes from
    :func:`~rtsmig.models.extremes.eigen_extremes`, as the ML engines' bounds do.
    """
    W = sp.csr_array(W)
    return 1.0 / eigen_extremes(W, symmetrising_scale(W), lower=False).radius


def solve_kp_moments(m: KPMoments, bound: float = 1.0) -> tuple[float, float]:
    r"""The :math:`(\lambda, \sigma^2)` minimising :math:`\|G(\lambda,\lambda^2,\sigma^2)' - g\|^2`.

    Returns
    -------
    lambda, sigma2 : the minimiser over :math:`|\lambda| \le` ``bound``.

    Raises
    ------
    EstimationError
        If the minimum lies on the bound of the search interval.

    Notes
    -----
    :math:`\sigma^2` enters linearly, so it is profiled out: with :math:`M` the
    projection orthogonal to the third column :math:`G_3`, :math:`c = Mg`,
    :math:`a = MG_1`, :math:`b = MG_2`, the objective is the quartic

    .. math:: f(\lambda) = \|c - a\lambda - b\lambda^2\|^2,

    whose stationary points are the real roots of the cubic
    :math:`2b'b\lambda^3 + 3a'b\lambda^2 + (a'a - 2b'c)\lambda - a'c`. The minimum
    over the interval is found exactly (no optimiser tolerance), then
    :math:`\sigma^2 = G_3'(g - G_1\lambda - G_2\lambda^2)/G_3'G_3`. R's
    ``GMerrorsar`` and ``gstsls`` minimise the same objective with ``nlminb``;
    the quartic has other minima outside the parameter space, hence the interval.
    """
    G, g = m.G, m.g
    g3 = G[:, 2]
    M = np.eye(3) - np.outer(g3, g3) / (g3 @ g3)
    c, a, b = M @ g, M @ G[:, 0], M @ G[:, 1]

    def objective(lam: float) -> float:
        r = c - a * lam - b * lam * lam
        return float(r @ r)

    roots = np.roots([2.0 * (b @ b), 3.0 * (a @ b), a @ a - 2.0 * (b @ c), -(a @ c)])
    inside = [float(r.real) for r in roots if abs(r.imag) <= _ROOT_IMAG_TOL and abs(r.real) < bound]
    lam = min([*inside, -bound, bound], key=objective)
    if abs(lam) >= bound:
        raise EstimationError(
            f"lambda = {lam:.6g} is on its bound (±{bound:.6g}) of the GM search; the "
            "error process is not identified with these data: check the weights"
        )
    sigma2 = float(g3 @ (g - G[:, 0] * lam - G[:, 1] * lam * lam) / (g3 @ g3))
    return lam, sigma2


def kp_lambda_variance(m: KPMoments, lam: float, sigma2: float, W: sp.sparray) -> float:
    r"""Asymptotic variance of the KP99 :math:`\hat\lambda` under homoskedastic normal errors.

    Notes
    -----
    The estimator minimises :math:`\|m(\theta)\|^2`, :math:`m = G\,(\lambda, \lambda^2,
    \sigma^2)' - g`, over :math:`\theta = (\lambda, \sigma^2)`; its sandwich variance is

    .. math::
        V = (D'D)^{-1} D'\Psi D (D'D)^{-1},\qquad D = [G_1 + 2\lambda G_2,\ G_3],\qquad
        \Psi_{rs} = \frac{2\sigma^4}{n^2} tr(A_rA_s),

    with :math:`A_r \in \{I, W'W, (W+W')/2\}` the (symmetrised) matrices of the three
    quadratic moments, whose covariance is :math:`2\sigma^4 tr(A_rA_s)` for normal
    :math:`\varepsilon`. Profiling :math:`\sigma^2` out leaves the two moments
    :math:`A_1 = (W'W - n^{-1}tr(W'W) I)/\sqrt{1 + (n^{-1}tr(W'W))^2}` and
    :math:`A_2 = W`, so this equals the Kelejian–Prucha (2004) formula R's
    ``GMerrorsar`` cites; R's code instead uses :math:`W'W` for :math:`A_2` and sums
    of all entries for two of the traces, which overstates the SE (about 2.5 times on
    Columbus; a Monte Carlo check in tests/test_models_gmm.py calibrates this one).
    The estimation of :math:`\beta` in the residuals is ignored, as in R.
    """
    n = W.shape[0]
    Wc = sp.csr_array(W)
    quad = (sp.identity(n, format="csr"), sp.csr_array(Wc.T @ Wc), sp.csr_array((Wc + Wc.T) / 2.0))
    traces = np.array([[float(A.multiply(B).sum()) for B in quad] for A in quad])  # A, B symmetric
    psi = 2.0 * sigma2**2 * traces / n**2
    D = np.column_stack([m.G[:, 0] + 2.0 * lam * m.G[:, 1], m.G[:, 2]])
    bread = inverse_information(D.T @ D, "the GM moments' derivatives in lambda and sigma2")
    return float((bread @ D.T @ psi @ D @ bread)[0, 0])


def gm_error_kernel(y: np.ndarray, X: np.ndarray, W: sp.sparray) -> LinearGMMEstimate:
    r"""Homoskedastic Kelejian–Prucha (1999) GM error model (no checks).

    Notes
    -----
    OLS residuals :math:`\tilde u` give :math:`\hat\lambda` by :func:`solve_kp_moments`;
    then feasible GLS, OLS of :math:`y - \hat\lambda Wy` on
    :math:`X_f = X - \hat\lambda WX`, gives :math:`\hat\beta`. As R's ``GMerrorsar``
    (default ``legacy=FALSE``):

    .. math::
        s^2 = \|\tilde u - \hat\lambda W\tilde u\|^2/n,\qquad
        V(\hat\beta) = s^2 (X_f'X_f)^{-1},

    and :math:`V(\hat\lambda)` from :func:`kp_lambda_variance`. ``resid`` is
    :math:`y - X\hat\beta` and ``fitted`` :math:`X\hat\beta`.
    """
    n = y.shape[0]
    b_ols, *_ = la.lstsq(X, y)
    u = y - X @ b_ols
    m = kp_moments(u, W)
    lam, gm_sigma2 = solve_kp_moments(m, lambda_search_bound(W))
    Xf = X - lam * (W @ X)
    beta, *_ = la.lstsq(Xf, y - lam * (W @ y))
    filtered = u - lam * (W @ u)
    sigma2 = float(filtered @ filtered) / n
    cov = la.block_diag(
        sigma2 * inverse_information(Xf.T @ Xf, "beta (the filtered X'X)"), kp_lambda_variance(m, lam, sigma2, W)
    )
    fitted = X @ beta
    return LinearGMMEstimate(
        coef=np.append(beta, lam), cov=cov, resid=y - fitted, fitted=fitted,
        sigma2=sigma2, gm_sigma2=gm_sigma2,
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
    :math:`\hat\lambda`; the covariance of :math:`(\hat\beta, \hat\lambda)` is
    heteroskedasticity-robust. spreg's defaults: one iteration, no step 1c.
    ``sigma2`` is :math:`\hat\varepsilon'\hat\varepsilon/n` of the filtered residuals.
    """
    # Imported here: spreg takes seconds to import and only the robust estimators need it.
    from spreg.error_sp_het import BaseGM_Error_Het

    reg = BaseGM_Error_Het(y.reshape(-1, 1), X, sp.csr_matrix(W))
    coef = np.asarray(reg.betas, dtype=float).ravel()
    check_gm_bound(float(coef[-1]), "lambda")
    resid = np.asarray(reg.u, dtype=float).ravel()
    filtered = np.asarray(reg.e_filtered, dtype=float).ravel()
    return LinearGMMEstimate(
        coef=coef,
        cov=np.asarray(reg.vm, dtype=float),
        resid=resid,
        fitted=y - resid,
        sigma2=float(filtered @ filtered) / y.shape[0],
    )


def check_gm_bound(value: float, term: str) -> None:
    """Raise if spreg's GM search left ``term`` on its bound (±:data:`GM_LAMBDA_BOUND`)."""
    if abs(value) >= GM_LAMBDA_BOUND - 1e-6:
        raise EstimationError(
            f"{term} = {value:.6g} is on its bound (±{GM_LAMBDA_BOUND}) of the GM search; "
            "the model is not identified with these data: check the weights"
        )
