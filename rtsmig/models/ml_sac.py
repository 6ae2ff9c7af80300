r"""Maximum-likelihood SAC (SARAR) model :math:`y = \rho W y + X\beta + u,\ u = \lambda W u + \varepsilon`.

Both spatial parameters share one W, so one log-determinant engine serves both,
and the concentrated log-likelihood is maximised over the engine's parameter
space in :math:`(\rho, \lambda)` jointly: a coarse grid picks the basin (the SAC
likelihood can have several local maxima), L-BFGS-B climbs it and Newton steps
on the score polish the optimum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy import optimize

from rtsmig.errors import EstimationError
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
from rtsmig.models.ml import BOUND_TOL, SAC_MAX_N, check_ml_options, engine_meta, lr_test, ml_conventions
from rtsmig.models.ml_traces import dense_traces
from rtsmig.models.results import FitResult
from rtsmig.models.spec import MODEL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset

# Points per axis of the starting grid; a few dozen evaluations of the concentrated likelihood.
GRID_POINTS = 7
# Newton polish: at most this many steps, each kept only if it shrinks the score.
NEWTON_MAX_STEPS = 20
# Central-difference steps: the score (engines without a derivative) and its Jacobian.
SCORE_STEP = 1e-6
HESSIAN_STEP = 1e-4
# A climb that leaves the score at this fraction of its starting size or more has stalled.
STALL_RATIO = 0.1

Vector = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class MLSACEstimate:
    r"""Arrays of one ML SAC fit; ``cov`` covers (beta, rho, lambda, sigma2) in that order.

    ``resid`` are the innovations :math:`\varepsilon`; ``fitted`` is ``y - resid``
    = :math:`X\beta + \rho W y + \lambda W u`, as R's ``fitted.values``.
    """

    beta: np.ndarray
    rho: float
    lam: float
    sigma2: float
    loglik: float
    resid: np.ndarray
    fitted: np.ndarray
    cov: np.ndarray


class _Profile:
    r"""The GLS step and the concentrated log-likelihood at :math:`(\rho, \lambda)`.

    Precomputes Wy, WWy and WX once and remembers log-determinants; with
    :math:`A = I - \rho W` and :math:`B = I - \lambda W`,
    :math:`BAy = y - (\rho+\lambda)Wy + \rho\lambda WWy`.
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, W: sp.sparray, logdet: LogDet) -> None:
        self.y, self.X, self.W, self.logdet = y, X, W, logdet
        self.Wy = W @ y
        self.WWy = W @ self.Wy
        self.WX = W @ X
        self._logdets: dict[float, float] = {}

    def log_jacobian(self, theta: float) -> float:
        """``logdet(theta)``, memoised: the grid and the coordinate-wise differences revisit values."""
        key = float(theta)
        if key not in self._logdets:
            self._logdets[key] = self.logdet(key)
        return self._logdets[key]

    def gls(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""The betas and the innovations :math:`B(Ay - X\beta)` at ``theta`` = (rho, lambda)."""
        rho, lam = theta
        ys = self.y - (rho + lam) * self.Wy + rho * lam * self.WWy
        Xs = self.X - lam * self.WX
        beta, *_ = la.lstsq(Xs, ys)
        return beta, ys - Xs @ beta

    def concentrated(self, theta: np.ndarray) -> float:
        _, eps = self.gls(theta)
        n = eps.shape[0]
        return -0.5 * n * np.log(float(eps @ eps) / n) + self.log_jacobian(theta[0]) + self.log_jacobian(theta[1])

    def score(self, theta: np.ndarray) -> np.ndarray:
        """Analytic gradient of :meth:`concentrated` (needs ``logdet.derivative``)."""
        rho, lam = theta
        beta, eps = self.gls(theta)
        n, ssr = eps.shape[0], float(eps @ eps)
        u = self.y - rho * self.Wy - self.X @ beta
        d_rho = n * float(eps @ (self.Wy - lam * self.WWy)) / ssr + self.logdet.derivative(rho)
        d_lam = n * float(eps @ (self.W @ u)) / ssr + self.logdet.derivative(lam)
        return np.array([d_rho, d_lam])


def ml_sac_kernel(y: np.ndarray, X: np.ndarray, W: sp.sparray, logdet: LogDet) -> MLSACEstimate:
    r"""Estimate the SAC model by concentrated maximum likelihood (no checks).

    Notes
    -----
    With :math:`A = I - \rho W`, :math:`B = I - \lambda W`, :math:`\beta(\rho,\lambda)`
    the least-squares fit of :math:`BAy` on :math:`BX` and :math:`S(\rho,\lambda)` its SSE,

    .. math::
        \ell_c(\rho,\lambda) = -\frac n2 \ln\frac{S}{n} + \ln|A| + \ln|B|,
        \qquad \hat\sigma^2 = S(\hat\rho,\hat\lambda)/n.

    By the envelope theorem, with :math:`u = Ay - X\beta` and :math:`\varepsilon = Bu`,

    .. math::
        \frac{\partial\ell_c}{\partial\rho} = \frac{n\,\varepsilon'BWy}{S} - tr(WA^{-1}),\qquad
        \frac{\partial\ell_c}{\partial\lambda} = \frac{n\,\varepsilon'Wu}{S} - tr(WB^{-1}).
    """
    n = y.shape[0]
    profile = _Profile(y, X, W, logdet)
    has_score = logdet.derivative(0.0) is not None
    score = profile.score if has_score else _numerical_score(profile.concentrated)
    theta = maximise_2d(profile.concentrated, score, logdet, numerical=not has_score)
    rho, lam = float(theta[0]), float(theta[1])
    beta, eps = profile.gls(theta)
    ssr = float(eps @ eps)
    sigma2 = ssr / n
    return MLSACEstimate(
        beta=beta,
        rho=rho,
        lam=lam,
        sigma2=sigma2,
        loglik=gaussian_loglik(ssr, n, logdet(rho) + logdet(lam)),
        resid=eps,
        fitted=y - eps,
        cov=sac_covariance(X, W, beta, rho, lam, sigma2),
    )


def maximise_2d(
    concentrated: Callable[[np.ndarray], float], score: Vector, logdet: LogDet, numerical: bool = False
) -> np.ndarray:
    r"""Maximise :math:`\ell_c(\rho, \lambda)` over the engine's parameter space in both.

    Raises
    ------
    EstimationError
        If the optimum lies within :data:`~rtsmig.models.ml.BOUND_TOL` of a bound,
        or the polished point is not a maximum.

    Notes
    -----
    Start at the best point of a :data:`GRID_POINTS` :math:`^2` grid, climb with
    L-BFGS-B, then take Newton steps :math:`\theta \leftarrow \theta - H^{-1}g`
    with :math:`H` a central difference of the score :math:`g`. A step is kept
    only while it shrinks :math:`\|g\|`, so the polish stops at the score's
    noise floor: machine precision with an analytic score, about
    :math:`10^{-10}` in :math:`\theta` with a numerical one. If a ``numerical``
    score is still a tenth of its size at the start, a difference step that
    crossed the edge of the space stalled the climb; it is repeated from there
    with one-sided steps at the edge.
    """
    lo, hi = logdet.bounds
    span = hi - lo
    # Stay off the bounds themselves, where log|I - theta W| is -inf.
    a, b = lo + 1e-9 * span, hi - 1e-9 * span
    start = _grid_start(concentrated, logdet)
    theta, hessian = _climb_and_polish(concentrated, score, start, (lo, hi), (a, b))
    if numerical and _stalled(score, start, theta):
        # An infinite score where a difference step crossed the edge of the space (the
        # cholesky engine is -inf beyond it) stopped the climb, and the polish could not
        # mend it: climb again with one-sided steps there.
        inside = _numerical_score(concentrated, inside=True)
        theta, hessian = _climb_and_polish(concentrated, inside, theta, (lo, hi), (a, b), score)
    if np.any(la.eigvalsh(hessian) >= 0):
        raise EstimationError(
            f"the search for rho and lambda stopped at ({theta[0]:.6g}, {theta[1]:.6g}), which is "
            "not a maximum of the likelihood: check the weights or use --method gmm"
        )
    return theta


def _climb_and_polish(
    concentrated: Callable[[np.ndarray], float], score: Vector, start: np.ndarray,
    bounds: tuple[float, float], box: tuple[float, float], polish: Vector | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """L-BFGS-B from ``start``, the bound check, and the Newton polish (on ``polish``, default ``score``)."""
    (lo, hi), (a, b) = bounds, box
    theta, message = _climb(concentrated, score, start, a, b)
    if not np.all(np.isfinite(theta)):
        raise EstimationError(f"the search for rho and lambda did not converge: {message}")
    for name, value in zip(MODEL_TERMS["sac"], theta):
        if value - lo < BOUND_TOL or hi - value < BOUND_TOL:
            raise EstimationError(
                f"{name} = {value:.6g} is on its bound of the parameter space ({lo:.6g}, {hi:.6g}); "
                "the model is not identified with these data: check the weights or use --method gmm"
            )
    return _newton_polish(polish or score, theta, a, b)


def _climb(
    concentrated: Callable[[np.ndarray], float], score: Vector, start: np.ndarray, a: float, b: float
) -> tuple[np.ndarray, str]:
    """L-BFGS-B from ``start`` within [a, b] in both parameters: the point and the optimiser's message."""
    res = optimize.minimize(
        lambda t: -concentrated(t), start, jac=lambda t: -score(t),
        method="L-BFGS-B", bounds=[(a, b)] * 2,
        options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 1000},
    )
    # res.success is not required: near a numerical score's noise floor the line search
    # stops "abnormally" at a good point; the polish and the Hessian check judge it.
    return np.asarray(res.x, dtype=float), str(res.message)


def _stalled(score: Vector, start: np.ndarray, theta: np.ndarray) -> bool:
    """Whether the climb and polish left the score at a tenth or more of its size at the start."""
    g = score(theta)
    return not np.all(np.isfinite(g)) or np.linalg.norm(g) >= STALL_RATIO * np.linalg.norm(score(start))


def _grid_start(concentrated: Callable[[np.ndarray], float], logdet: LogDet) -> np.ndarray:
    """The best (rho, lambda) on a grid of cell midpoints of the parameter space."""
    lo, hi = logdet.bounds
    levels = lo + (hi - lo) * (np.arange(GRID_POINTS) + 0.5) / GRID_POINTS
    values = [[concentrated(np.array([r, m])) for m in levels] for r in levels]
    i, j = np.unravel_index(int(np.nanargmax(values)), (GRID_POINTS, GRID_POINTS))
    return np.array([levels[i], levels[j]])


def _numerical_score(concentrated: Callable[[np.ndarray], float], inside: bool = False) -> Vector:
    r"""Central-difference gradient, step :data:`SCORE_STEP` (engines without a derivative).

    Notes
    -----
    .. math:: g_i(\theta) \approx \frac{\ell_c(\theta + h e_i) - \ell_c(\theta - h e_i)}{2h}

    Rounding (:math:`\epsilon|\ell_c|/h`) dominates truncation at this step.
    With ``inside``, where a step leaves the parameter space (the search box
    reaches to within :math:`10^{-9}` of it; the cholesky engine is
    :math:`-\infty` beyond) the one-sided difference from inside stands in.
    """
    h = SCORE_STEP

    def partial(theta: np.ndarray, step: np.ndarray) -> float:
        up, down = concentrated(theta + step), concentrated(theta - step)
        if not inside or (np.isfinite(up) and np.isfinite(down)):
            return (up - down) / (2.0 * h)
        mid = concentrated(theta)
        return (mid - down) / h if np.isfinite(down) else (up - mid) / h

    def score(theta: np.ndarray) -> np.ndarray:
        return np.array([partial(theta, s) for s in h * np.eye(2)])

    return score


def _newton_polish(score: Vector, theta: np.ndarray, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps on the score from ``theta``; returns the point and the Hessian there."""

    def hessian(t: np.ndarray) -> np.ndarray:
        steps = HESSIAN_STEP * np.eye(2)
        H = np.column_stack([(score(t + s) - score(t - s)) / (2.0 * HESSIAN_STEP) for s in steps])
        return (H + H.T) / 2.0

    g, H = score(theta), hessian(theta)
    for _ in range(NEWTON_MAX_STEPS):
        candidate = theta - la.solve(H, g)
        if np.any(candidate <= a) or np.any(candidate >= b):
            break
        g_new = score(candidate)
        if not np.linalg.norm(g_new) < np.linalg.norm(g):
            break  # at the score's noise floor (or diverging): keep the better point
        theta, g = candidate, g_new
        H = hessian(theta)
    return theta, H


def sac_covariance(
    X: np.ndarray, W: sp.sparray, beta: np.ndarray, rho: float, lam: float, sigma2: float
) -> np.ndarray:
    r"""Inverse of the analytic information matrix of (beta, rho, lambda, sigma2).

    Notes
    -----
    With :math:`A = I - \rho W`, :math:`B = I - \lambda W`, :math:`W_A = WA^{-1}`,
    :math:`W_B = WB^{-1}`, :math:`X_\lambda = BX` and :math:`v = BW_AX\beta`
    (LeSage's ``sac.m``, as R spatialreg's ``sacsarlm`` with method="eigen"):

    .. math::
        \mathcal I = \begin{pmatrix}
        X_\lambda'X_\lambda/\sigma^2 & X_\lambda'v/\sigma^2 & 0 & 0\\
        \cdot & tr(W_A^2) + tr(W_A'W_A) + v'v/\sigma^2 & tr(W_BW_A) + tr(W_B'W_A) & tr(W_A)/\sigma^2\\
        \cdot & \cdot & tr(W_B^2) + tr(W_B'W_B) & tr(W_B)/\sigma^2\\
        \cdot & \cdot & \cdot & n/(2\sigma^4)
        \end{pmatrix}

    spatialreg writes the general two-W form, with :math:`BW_AB^{-1}` where
    :math:`W_A` stands here; with one W, B, :math:`A^{-1}` and W commute, so the
    two agree.
    """
    n, k = X.shape
    tr_a, tr_a2, tr_ata, a_inv = dense_traces(W, rho)
    tr_b, tr_b2, tr_btb, b_inv = dense_traces(W, lam)
    WA, WB = np.asarray(W @ a_inv), np.asarray(W @ b_inv)  # sparse times dense
    Xs = X - lam * (W @ X)
    v = W @ (a_inv @ (X @ beta))
    v = v - lam * (W @ v)
    info = np.zeros((k + 3, k + 3))
    info[:k, :k] = Xs.T @ Xs / sigma2
    info[:k, k] = info[k, :k] = Xs.T @ v / sigma2
    info[k, k] = tr_a2 + tr_ata + float(v @ v) / sigma2
    info[k, k + 1] = info[k + 1, k] = float(np.sum(WB * WA.T) + np.sum(WB * WA))
    info[k + 1, k + 1] = tr_b2 + tr_btb
    info[k, k + 2] = info[k + 2, k] = tr_a / sigma2
    info[k + 1, k + 2] = info[k + 2, k + 1] = tr_b / sigma2
    info[k + 2, k + 2] = n / (2.0 * sigma2**2)
    return inverse_information(info, "(beta, rho, lambda, sigma2)")


def fit_ml_sac(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """ML SAC model with SEs, fit statistics and exact impacts (see :func:`ml_sac_kernel`)."""
    W = data.W
    n, k = data.X.shape
    check_ml_options(spec, n, SAC_MAX_N)
    if engine in ("chebyshev", "mc"):
        raise EstimationError(f"--logdet {engine} is not available for the sac model; use eigen, cholesky or lu")
    logdet = make_logdet(W, "eigen" if engine in (None, "auto") else engine)
    est = ml_sac_kernel(data.y, data.X, W, logdet)
    terms = MODEL_TERMS["sac"]
    # The error process leaves the mean (I - rho W)^-1 X beta alone: the lag's impacts at the SAC rho.
    impacts, impacts_method = model_impacts(
        spec, data, np.append(est.beta, [est.rho, est.lam]), est.cov[: k + 2, : k + 2], rho_index=k,
        eigen=logdet if isinstance(logdet, EigenLogDet) else None, logdet=logdet,
    )
    return FitResult(
        spec=spec,
        coefficients=coefficient_table(
            (*data.x_names, *terms), np.append(est.beta, [est.rho, est.lam]),
            est.cov[: k + 2, : k + 2], spec.ci_level,
        ),
        fit={
            "n": float(n),
            "k": float(k + 3),
            "loglik": est.loglik,
            **information_criteria(est.loglik, n, k + 3),
            "pseudo_r2": squared_correlation(data.y, data.X @ est.beta + est.rho * (W @ data.y)),
            "sigma2": est.sigma2,
        },
        impacts=impacts,
        diagnostics=(lr_test(data.y, data.X, est.loglik, terms),),
        weights=data.weights_label,
        meta={
            "coef_test": "z",
            "impacts_method": impacts_method,
            **engine_meta(logdet),
            "conventions": sac_conventions(logdet.name),
        },
    )


def sac_conventions(engine: str) -> dict[str, str]:
    """``meta["conventions"]``: the ML ones, with two spatial parameters."""
    conventions = ml_conventions(engine, "rho, lambda")
    conventions["aic_bic"] = (
        "AIC = -2 loglik + 2p, BIC = -2 loglik + ln(n) p with p = k + 3 (the k betas, rho, "
        "lambda and sigma2), as R spatialreg"
    )
    conventions["se"] = (
        "inverse of the analytic asymptotic information matrix (LeSage's sac.m), "
        "as R spatialreg sacsarlm with method='eigen'; z statistics"
    )
    conventions["parameter_space"] = "rho and lambda each range over the engine's parameter space of W"
    conventions["fitted"] = "y minus the innovations: X b + rho W y + lambda W u, as R's fitted.values"
    conventions["pseudo_r2"] = (
        "squared correlation of y and X b + rho W y (spreg GM_Combo.pr2; "
        "the lambda W u part of the fitted values left out)"
    )
    return conventions
