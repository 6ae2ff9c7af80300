r"""Pieces shared by the ML lag and ML error estimators.

Both maximise a concentrated log-likelihood in one spatial parameter over the
parameter space of a :class:`~rtsmig.models.logdet.LogDet` engine, and both
take their standard errors from the analytic information matrix, which needs
traces of :math:`W A^{-1}` with :math:`A = I - \theta W`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg as la
from scipy import optimize

from rtsmig.errors import EstimationError
from rtsmig.models.distributions import chi2_sf
from rtsmig.models.inference import gaussian_loglik
from rtsmig.models.logdet import EIGEN_MAX_N, LogDet
from rtsmig.models.results import TestResult
from rtsmig.models.spec import FitSpec

# Distance from a bound of the parameter space at which an optimum counts as on it.
BOUND_TOL = 1e-6
XATOL = 1e-10
# Root tolerance of the polish on a central-difference score (engines without a derivative).
NUMERICAL_XTOL = 1e-13
# The SAC model's standard errors still use dense inverses (lag and error do not).
SAC_MAX_N = EIGEN_MAX_N
# Second-difference step of the concentrated log-likelihood, for the error bound of an estimate.
CURVATURE_STEP = 1e-4


def check_ml_options(spec: FitSpec, n: int, max_n: int | None = None) -> None:
    """Refuse robust SEs, and more than ``max_n`` regions where an estimator is dense."""
    if spec.robust:
        raise EstimationError(
            "robust standard errors are not available for ML estimation; "
            "drop --robust or use --method gmm"
        )
    if max_n is not None and n > max_n:
        raise EstimationError(
            f"ML estimation of the {spec.model} model is limited to {max_n:,} regions ({n:,} here); "
            "use --method gmm"
        )


def maximise(
    concentrated: Callable[[float], float],
    logdet: LogDet,
    score: Callable[[float], float] | None = None,
    name: str = "rho",
) -> float:
    r"""Maximise a concentrated log-likelihood over the engine's parameter space.

    Parameters
    ----------
    concentrated : :math:`\ell_c(\theta)` up to a constant.
    logdet : provides ``bounds``.
    score : :math:`\ell_c'(\theta)`, when cheap; otherwise a central difference
        of ``concentrated`` stands in. The optimum is polished to the root of the
        score with a bracketing root finder.
    name : the parameter's name in error messages.

    Raises
    ------
    EstimationError
        If the optimum lies within :data:`BOUND_TOL` of a bound.

    Notes
    -----
    Bounded Brent search (``xatol`` :data:`XATOL`); Brent's accuracy is limited
    to about :math:`\sqrt{\epsilon}|\theta|`, hence the polish on the score,
    :math:`\ell_c'(\hat\theta) = 0`: to machine precision with an analytic
    score, to about :math:`10^{-11}` with the numerical one. An approximate
    engine may then raise its degree for accuracy at the optimum
    (``logdet.refine``); the search is repeated until it no longer does.
    """
    theta = _maximise_once(concentrated, logdet, score, name)
    refine = getattr(logdet, "refine", None)
    while refine is not None and refine(theta):
        theta = _maximise_once(concentrated, logdet, score, name)
    return theta


def _maximise_once(
    concentrated: Callable[[float], float], logdet: LogDet, score: Callable[[float], float] | None, name: str
) -> float:
    lo, hi = logdet.bounds
    span = hi - lo
    # Stay off the bounds themselves, where log|I - theta W| is -inf.
    a, b = lo + 1e-9 * span, hi - 1e-9 * span
    res = optimize.minimize_scalar(
        lambda t: -concentrated(t), bounds=(a, b), method="bounded",
        options={"xatol": XATOL, "maxiter": 1000},
    )
    if not res.success:
        raise EstimationError(f"the search for {name} did not converge: {res.message}")
    theta = float(res.x)
    if theta - lo < BOUND_TOL or hi - theta < BOUND_TOL:
        raise EstimationError(
            f"{name} = {theta:.6g} is on its bound of the parameter space ({lo:.6g}, {hi:.6g}); "
            "the model is not identified with these data: check the weights or use --method gmm"
        )
    if score is None:
        score, xtol = _numerical_score(concentrated), NUMERICAL_XTOL
    else:
        xtol = 1e-15
    return _polish(score, theta, a, b, xtol)


def _numerical_score(concentrated: Callable[[float], float]) -> Callable[[float], float]:
    r"""Central difference of the concentrated log-likelihood, step :math:`h = 10^{-6}`.

    Notes
    -----
    .. math:: \ell_c'(\theta) \approx \frac{\ell_c(\theta+h) - \ell_c(\theta-h)}{2h}

    Truncation (:math:`h^2\ell_c^{(3)}/6`) and rounding (:math:`\epsilon|\ell_c|/h`)
    errors move its root by far less than Brent's tolerance.
    """
    h = 1e-6

    def score(theta: float) -> float:
        return (concentrated(theta + h) - concentrated(theta - h)) / (2.0 * h)

    return score


def _polish(score: Callable[[float], float], theta: float, a: float, b: float, xtol: float) -> float:
    """Root of the score near ``theta``; keep ``theta`` if the score does not change sign."""
    step = 1e-6 * max(1.0, abs(theta))
    left, right = max(a, theta - step), min(b, theta + step)
    s_left, s_right = score(left), score(right)
    if not (np.isfinite(s_left) and np.isfinite(s_right)) or s_left * s_right > 0:
        return theta
    return float(optimize.brentq(score, left, right, xtol=xtol, rtol=4 * np.finfo(float).eps))


def engine_accuracy(concentrated: Callable[[float], float], logdet: LogDet, theta: float, name: str) -> dict | None:
    r"""An approximate engine's error bounds at the estimate, and the bound they imply on it.

    Notes
    -----
    An error :math:`\delta` in the score moves the root by about
    :math:`\delta/|\ell_c''(\hat\theta)|`, with the curvature from a
    second difference of the concentrated log-likelihood.
    """
    accuracy = getattr(logdet, "accuracy", None)
    if accuracy is None:
        return None
    out = accuracy(theta)
    h = CURVATURE_STEP
    curvature = (concentrated(theta + h) - 2.0 * concentrated(theta) + concentrated(theta - h)) / (h * h)
    out[f"{name}_error_bound"] = out["score_error_bound"] / abs(curvature) if curvature else float("inf")
    return {key: (float(v) if isinstance(v, (float, np.floating)) else v) for key, v in out.items()}


def engine_meta(logdet: LogDet, accuracy: dict | None = None, relative_se: dict | None = None) -> dict:
    """The ``meta`` keys every ML estimator reports about its log-determinant engine and traces.

    ``eigen_extremes``: the extreme eigenvalues of W behind the parameter space
    (and the approximations' scale), how they were found and to what tolerance.
    """
    extremes = getattr(logdet, "extremes", None)
    return {
        "engine": logdet.name,
        "parameter_space": [float(b) for b in logdet.bounds],
        **({"eigen_extremes": extremes.meta()} if extremes is not None else {}),
        **({"logdet_accuracy": accuracy} if accuracy else {}),
        **({"traces_relative_se": relative_se} if relative_se else {}),
    }


def lr_test(y: np.ndarray, X: np.ndarray, loglik: float, terms: tuple[str, ...]) -> TestResult:
    r"""Likelihood-ratio test of the spatial parameters ``terms`` against OLS, on ``len(terms)`` df.

    Notes
    -----
    .. math:: LR = 2(\ell_{spatial} - \ell_{OLS})
    """
    beta, *_ = la.lstsq(X, y)
    resid = y - X @ beta
    stat = 2.0 * (loglik - gaussian_loglik(float(resid @ resid), y.shape[0]))
    df = len(terms)
    null = " = ".join(terms) + " = 0"
    return TestResult(f"LR test ({', '.join(terms)})", stat, float(chi2_sf(stat, df)), float(df), "chi2", null)


def ml_conventions(engine: str, model_param: str, traces: str = "exact (dense inverse)") -> dict[str, str]:
    """The ``meta["conventions"]`` shared by the ML estimators."""
    exact = engine in ("eigen", "lu", "cholesky")
    return {
        "sigma2": "SSE/n (ML estimate, no degrees-of-freedom correction)",
        "aic_bic": f"AIC = -2 loglik + 2p, BIC = -2 loglik + ln(n) p with p = k + 2 (the k betas, "
        f"{model_param} and sigma2), as R spatialreg; spreg counts fewer, so its AIC is lower",
        "se": "inverse of the analytic asymptotic information matrix (Anselin 1988), "
        f"as R spatialreg with method='eigen'; z statistics; traces: {traces}",
        "loglik": f"full Gaussian log-likelihood with an {'exact' if exact else 'approximate'} "
        f"log-determinant ({engine} engine"
        + ("" if exact else "; its error bounds at the estimate are in meta.logdet_accuracy") + ")",
    }
