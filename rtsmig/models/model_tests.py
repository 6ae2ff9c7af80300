r"""Tests between nested spatial models: likelihood ratio and Wald.

The Durbin model nests the lag model (:math:`\theta = 0`) and, through the common
factor restriction :math:`\theta = -\rho\beta`, the error model (Burridge 1981;
Anselin 1988); the Durbin error model nests the error model (:math:`\theta = 0`).
Wald tests need only the unrestricted fit, so the Durbin estimators report them;
likelihood-ratio tests need both fits (``rtsmig select``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg as la

from rtsmig.models.design import wx_term
from rtsmig.models.distributions import chi2_sf
from rtsmig.models.results import FitResult, TestResult


def wald_test(name: str, g: np.ndarray, G: np.ndarray, cov: np.ndarray, null: str) -> TestResult:
    r"""Wald test of :math:`g(\theta) = 0` with Jacobian G at the estimates.

    Notes
    -----
    .. math:: W = g'(G V G')^{-1} g \sim \chi^2_q,\quad q = \dim g
    """
    stat = float(g @ la.solve(G @ cov @ G.T, g, assume_a="sym"))
    q = g.size
    return TestResult(name, stat, float(chi2_sf(stat, q)), float(q), "chi2", null)


def durbin_wald_tests(
    x_names: Sequence[str], lagged: Sequence[str], params: np.ndarray, cov: np.ndarray, rho_index: int | None
) -> tuple[TestResult, ...]:
    r"""Wald tests of a Durbin model's lags: :math:`\theta = 0`, and (with rho) the common factor.

    Parameters
    ----------
    x_names : the names of ``params``' leading entries, with the ``W_x`` lags.
    lagged : the regressors that have a lag.
    params, cov : estimates and covariance (betas, thetas, then rho or lambda).
    rho_index : rho's position for the Durbin model; ``None`` for the Durbin error model.

    Notes
    -----
    Common factor: :math:`g_r = \theta_r + \rho\beta_r`, with Jacobian entries
    :math:`\partial g_r/\partial\theta_r = 1`, :math:`\partial g_r/\partial\beta_r = \rho`,
    :math:`\partial g_r/\partial\rho = \beta_r`.
    """
    if not lagged:
        return ()
    position = {name: i for i, name in enumerate(x_names)}
    beta_at = [position[x] for x in lagged]
    theta_at = [position[wx_term(x)] for x in lagged]
    G = np.zeros((len(lagged), params.size))
    G[np.arange(len(lagged)), theta_at] = 1.0
    terms = ", ".join(wx_term(x) for x in lagged)
    tests = [wald_test(f"Wald test ({terms} = 0)", params[theta_at], G, cov, f"{terms} = 0")]
    if rho_index is not None:
        rho = params[rho_index]
        g = params[theta_at] + rho * params[beta_at]
        Gc = G.copy()
        Gc[np.arange(len(lagged)), beta_at] = rho
        Gc[:, rho_index] = params[beta_at]
        tests.append(wald_test("Wald common factor test", g, Gc, cov, "W_x = -rho x: the error model"))
    return tuple(tests)


def lr_between(restricted: FitResult, unrestricted: FitResult, null: str) -> TestResult:
    r"""Likelihood-ratio test of a restricted model against the model that nests it.

    Notes
    -----
    .. math:: LR = 2(\ell_u - \ell_r) \sim \chi^2_q,

    q the difference in the number of estimated parameters (``fit["k"]``).
    Both models must be fitted to the same data by ML (OLS and SLX count too).
    """
    stat = 2.0 * (unrestricted.fit["loglik"] - restricted.fit["loglik"])
    q = unrestricted.fit["k"] - restricted.fit["k"]
    name = f"LR {unrestricted.name} vs {restricted.name}"
    return TestResult(name, stat, float(chi2_sf(stat, q)), float(q), "chi2", null)
