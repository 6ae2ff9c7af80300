"""Edge cases of the GS2SLS, ML SAC, trace and selection code that the main model tests do not reach.

Each test checks a property against an independent computation (a closed form, a dense
inverse, the definition of a statistic); the docstrings name the planted change each catches.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from models_fixtures import X, columbus_dataset, columbus_w, spec

from rtsmig.models.gmm import W_LAGS, lag_instruments
from rtsmig.models.gmm_combo import GNS_W_LAGS, combo_estimate, fit_gmm_gns, gns_design, gs2sls_het_kernel
from rtsmig.models.logdet import symmetrising_scale
from rtsmig.models.logdet_approx import default_probes
from rtsmig.models.ml_sac import _newton_polish, _numerical_score
from rtsmig.models.ml_traces import _hutchinson, dense_traces, trace_probes
from rtsmig.models.selection import lm_path, recommend


@pytest.fixture(scope="module")
def data():
    return columbus_dataset()


# --- GS2SLS ------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:::spreg.*")
def test_robust_gs2sls_residuals_are_y_minus_the_fitted_regression(data):
    """The het kernel's ``resid`` is y - [X, Wy] delta and ``fitted`` its complement (catches resid=None)."""
    pytest.importorskip("spreg")
    y, Xd, W = data.y, data.X, data.W
    est = gs2sls_het_kernel(y, Xd, W, lag_instruments(Xd, W, W_LAGS))
    delta = est.coef[:-1]  # betas and rho; lambda is last
    expected = y - np.column_stack([Xd, W @ y]) @ delta
    assert est.resid is not None
    np.testing.assert_allclose(est.resid, expected, rtol=0, atol=1e-10 * np.abs(y).max())
    np.testing.assert_allclose(est.fitted + est.resid, y, rtol=0, atol=1e-12 * np.abs(y).max())


def test_gns_delta_method_total_impact_se_matches_closed_form(data):
    """With row-standardised W the GNS total impact is (b + t)/(1 - rho); its delta-method SE is
    sqrt(g'Vg) over (b, t, rho) of the GS2SLS covariance (catches coefficients and covariance
    handed to the impacts with different lengths)."""
    gns = spec("gns", "gmm", impacts_se="delta")
    result = fit_gmm_gns(gns, data)
    Xd, names, base = gns_design(gns, data)
    est = combo_estimate(gns, data.y, Xd, data.W, lag_instruments(Xd[:, base], data.W, GNS_W_LAGS), "", "")
    p = Xd.shape[1]
    rho = est.coef[p]
    for name in X:
        i, j = names.index(name), names.index(f"W_{name}")
        b, t = est.coef[i], est.coef[j]
        total = (b + t) / (1.0 - rho)
        g = np.array([1.0 / (1.0 - rho), 1.0 / (1.0 - rho), (b + t) / (1.0 - rho) ** 2])
        idx = [i, j, p]
        se = math.sqrt(g @ est.cov[np.ix_(idx, idx)] @ g)
        impact = result.impact(name, "total")
        assert math.isclose(impact.estimate, total, rel_tol=1e-10)
        assert math.isclose(impact.std_error, se, rel_tol=1e-8)


# --- ML SAC: numerical score and Newton polish ----------------------------------------------


def _quadratic(optimum: np.ndarray):
    """A concave quadratic in (rho, lambda) with its maximum at ``optimum``: value, score, Hessian."""
    A = np.array([[2.0, 0.3], [0.3, 1.0]])

    def value(t):
        d = np.asarray(t) - optimum
        return -0.5 * float(d @ A @ d)

    def score(t):
        return -A @ (np.asarray(t) - optimum)

    return value, score, -A


def test_newton_polish_reaches_an_interior_maximum():
    """On a quadratic one Newton step lands on the maximum; the returned Hessian is the quadratic's."""
    optimum = np.array([0.3, -0.2])
    _, score, hess = _quadratic(optimum)
    theta, H = _newton_polish(score, np.array([0.1, 0.1]), -0.9, 0.9)
    np.testing.assert_allclose(theta, optimum, atol=1e-10)
    np.testing.assert_allclose(H, hess, atol=1e-8)


def test_newton_polish_never_steps_outside_the_search_box():
    """A Newton step that leaves the box in one coordinate only is refused: the point stays put
    (catches `or` -> `and` in the box check)."""
    _, score, _ = _quadratic(np.array([0.5, 2.0]))  # lambda's optimum lies beyond b = 0.9
    start = np.array([0.1, 0.1])
    theta, _ = _newton_polish(score, start, -0.9, 0.9)
    assert np.all((theta > -0.9) & (theta < 0.9))
    np.testing.assert_array_equal(theta, start)


def test_numerical_score_inside_is_the_central_difference_away_from_the_edge():
    """With ``inside`` and both steps finite, the score is the central difference: the analytic
    gradient to about eps|f|/h (catches a broken finiteness test of the upward step)."""
    value, score, _ = _quadratic(np.array([0.3, -0.2]))
    point = np.array([0.1, 0.25])
    for inside in (False, True):
        np.testing.assert_allclose(_numerical_score(value, inside=inside)(point), score(point), atol=1e-8)


def test_numerical_score_inside_is_one_sided_at_the_edge():
    """Within a step of where the likelihood turns -inf, ``inside`` uses the backward difference:
    error h|f''|/2 = 1e-6 for -rho^2; the central difference there is not finite."""

    def value(t):
        return -float(t[0] ** 2 + t[1] ** 2) if t[0] < 0.5 else -np.inf

    point = np.array([0.5 - 5e-7, 0.1])
    exact = np.array([-2.0 * point[0], -2.0 * point[1]])
    np.testing.assert_allclose(_numerical_score(value, inside=True)(point), exact, atol=1e-5)
    assert not np.isfinite(_numerical_score(value)(point)[0])


# --- stochastic traces ---------------------------------------------------------------------


def test_hutchinson_traces_agree_with_dense_and_name_their_solver():
    """Both solvers give the dense traces within 5 reported standard errors, agree with each
    other to the solve tolerance, and the method text names the one used (catches a changed name)."""
    W = sp.csr_array(columbus_w())
    theta = 0.4
    tr_b, tr_b2, tr_btb, _ = dense_traces(W, theta)
    exact = {"tr_b": tr_b, "tr_b2": tr_b2, "tr_btb": tr_btb}
    scale = symmetrising_scale(W)
    assert scale is not None  # row-standardised contiguity is similar to a symmetric matrix
    cg = _hutchinson(W, theta, None, need_b=True, scale=scale)
    gmres = _hutchinson(W, theta, None, need_b=True, scale=None)
    for key, value in exact.items():
        assert abs(cg[key] - value) <= 5 * cg["relative_se"][key] * abs(value) + 1e-12, key
        assert math.isclose(cg[key], gmres[key], rel_tol=1e-6), key
    assert cg["method"].endswith("by conjugate gradients")
    assert gmres["method"].endswith("by GMRES")


def test_trace_probes_step_down_where_the_logdet_probes_do():
    """32 probes up to 50 000 regions, 16 up to and including 250 000, 8 above: the same
    inclusive 250 000 threshold as the log-determinant's probes (catches `<=` -> `<`)."""
    assert [trace_probes(n) for n in (10, 50_000, 50_001, 250_000, 250_001)] == [32, 32, 16, 16, 8]
    for n in (250_000, 250_001):
        assert (trace_probes(n) == 16) == (default_probes(n) == 32)


# --- specification search --------------------------------------------------------------------


def _ols_with_robust(stat_err: float, stat_lag: float, p: float):
    """An OLS result with both plain LM tests significant and the given robust statistics."""
    def test(name, p_value, stat=1.0):
        return SimpleNamespace(name=name, p_value=p_value, statistic=stat)

    return SimpleNamespace(diagnostics=[
        test("LM error", 0.01), test("LM lag", 0.01),
        test("Robust LM error", p, stat_err), test("Robust LM lag", p, stat_lag),
    ])


@pytest.mark.parametrize("p", [0.01, 0.5])
def test_robust_lm_tie_goes_to_the_lag_model(p):
    """Anselin's rule picks the larger robust statistic; only a strictly larger LM error picks the
    error model, so an exact tie stays with lag (pins the tie-break: catches `>` -> `>=`)."""
    steps, model = lm_path(_ols_with_robust(3.0, 3.0, p), alpha=0.05)
    assert model == "lag" and steps[-1].leads_to == "lag"
    assert lm_path(_ols_with_robust(3.0 + 1e-9, 3.0, p), alpha=0.05)[1] == "error"


@pytest.mark.parametrize(("lm", "rejected"), [
    ("lag", {"lag": True, "error": False, "slx": False}),
    ("error", {"lag": False, "error": True, "slx": False}),
])
def test_disagreeing_paths_recommend_durbin_even_when_rho_is_not_significant(lm, rejected):
    """The LM path points to a model the Durbin path rejects: Elhorst's rule falls back to the
    Durbin model; OLS is only for an LM path that found nothing (catches `and` -> `or`)."""
    model, reason = recommend(lm, rejected)
    assert model == "durbin"
    assert "paths disagree" in reason
