"""GM error, SAC and GNS estimators against R spatialreg, spreg 1.9 and simulated data.

R (tests/reference/columbus.json): ``error_gm`` is GMerrorsar (homoskedastic KP99),
``sac_gstsls`` is gstsls. Our GM step minimises the KP99 objective exactly, so the
agreement is set by R's nlminb: measured 3.4e-10 relative at worst (lambda of
error_gm), 1.1e-8 for the small lambda (-0.017) of sac_gstsls; the acceptance
tolerance is 1e-4. spreg's homoskedastic GM step stops at L-BFGS-B's tolerance
(about 1e-5 in lambda), so those comparisons check that our lambda minimises the
same objective at least as well and that everything downstream of lambda agrees
to rounding; the robust (het) variants call spreg's own classes and agree exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math

import libpysal
import numpy as np
import pytest
import scipy.sparse as sp
from models_fixtures import X, columbus_dataset, columbus_w, libpysal_w, reference, rel_err, spec

from rtsmig.dataset import Dataset
from rtsmig.errors import EstimationError
from rtsmig.models import FitResult
from rtsmig.models.design import with_spatial_lags
from rtsmig.models.gmm import fit_gm_error, lag_instruments, two_stage_least_squares
from rtsmig.models.gmm_combo import filtered_2sls, fit_gmm_gns, fit_gmm_sac
from rtsmig.models.gmm_error import KPMoments, gm_error_kernel, kp_moments, solve_kp_moments
from rtsmig.models.impacts import lag_impacts
from rtsmig.models.inference import orthonormal_basis

spreg = pytest.importorskip("spreg")
pytestmark = pytest.mark.filterwarnings("ignore:::spreg.*")

RTOL_R = 1e-9  # measured at most 3.4e-10 (R's nlminb stops there)
RTOL_R_SMALL_LAMBDA = 1e-7  # sac_gstsls lambda = -0.017: 1.1e-8 relative, 1.8e-10 absolute
RTOL_EXACT = 1e-9  # the same computation as spreg (het variants; homoskedastic given lambda)
SPREG_LAMBDA_ATOL = 1e-4  # spreg's L-BFGS-B lambda: measured within 3e-6 here
N = 49


@pytest.fixture(scope="module")
def data() -> Dataset:
    return columbus_dataset()


@pytest.fixture(scope="module")
def arrays(data):
    return data.y.reshape(-1, 1), data.X[:, 1:], libpysal_w()


def quietly(factory, *args, **kwargs):
    """Build a spreg model without its printed progress."""
    with contextlib.redirect_stdout(io.StringIO()):
        return factory(*args, **kwargs)


def rows(result: FitResult) -> dict:
    return {c.term: c for c in result.coefficients}


def profiled_objective(m: KPMoments, lam: float) -> float:
    """The KP99 objective at lambda, minimised over sigma² (independent of the solver's algebra)."""
    theta = np.array([lam, lam * lam])
    r = m.g - m.G[:, :2] @ theta
    s2 = (m.G[:, 2] @ r) / (m.G[:, 2] @ m.G[:, 2])
    return float(np.sum((r - m.G[:, 2] * s2) ** 2))


# --- the error model: R GMerrorsar --------------------------------------------------------


def test_error_gm_matches_r(data):
    ref, result = reference()["error_gm"], fit_gm_error(spec("error", "gmm"), data)
    by_term = rows(result)
    for term, value in ref["coef"].items():
        assert rel_err(by_term[term].estimate, value) <= RTOL_R, term
        assert rel_err(by_term[term].std_error, ref["se"][term]) <= RTOL_R, term
    assert rel_err(by_term["lambda"].estimate, ref["lambda"]) <= RTOL_R
    assert rel_err(result.fit["sigma2"], ref["sigma2"]) <= RTOL_R
    assert rel_err(result.meta["gm_sigma2"], ref["gm_sigma2"]) <= RTOL_R
    assert [c.term for c in result.coefficients] == ["(Intercept)", *X, "lambda"]
    assert result.meta["coef_test"] == "z" and result.meta["engine"] == "kp99"
    assert not {"loglik", "aic", "bic"} & set(result.fit) and result.fit["k"] == 4


def test_error_gm_legacy_differs_only_in_sigma2(data):
    """R legacy=TRUE: s² = SSE/n of the FGLS regression instead of the filtered OLS residuals."""
    ref, result = reference()["error_gm_legacy"], fit_gm_error(spec("error", "gmm"), data)
    by_term = rows(result)
    lam, beta = by_term["lambda"].estimate, np.array([by_term[t].estimate for t in ref["coef"]])
    W, y, Xm = data.W, data.y, data.X
    fgls_resid = (y - lam * (W @ y)) - (Xm - lam * (W @ Xm)) @ beta
    legacy_s2 = float(fgls_resid @ fgls_resid) / N
    assert rel_err(legacy_s2, ref["sigma2"]) <= RTOL_R
    scale = math.sqrt(legacy_s2 / result.fit["sigma2"])
    for term, value in ref["coef"].items():
        assert rel_err(by_term[term].estimate, value) <= RTOL_R
        assert rel_err(by_term[term].std_error * scale, ref["se"][term]) <= RTOL_R
    # R scales its lambda SE by s² too, so legacy / default is the same ratio squared.
    ratio = ref["lambda_se"] / reference()["error_gm"]["lambda_se"]
    assert math.isclose(ratio, scale**2, rel_tol=1e-9)


def kp_two_moment_se(W: np.ndarray, u: np.ndarray, lam: float, s2: float, r_code: bool) -> float:
    """Dense Kelejian–Prucha (2004) SE of lambda from moments A1 (centred W'W) and A2 = W.

    ``r_code`` reproduces R GMerrorsar's se.lambda as coded: W'W in place of A2, and
    sums of all entries of the products in place of two of the traces.
    """
    n = W.shape[0]
    a = np.trace(W.T @ W) / n
    c = 1.0 / math.sqrt(1.0 + a * a)
    wu, wwu = W @ u, W @ (W @ u)
    J = np.array([
        [2 * c * (wwu @ wu - a * wu @ u), -c * (wwu @ wwu - a * wu @ wu)],
        [wwu @ u + wu @ wu, -(wwu @ wu)],
    ]) / n
    j1 = J @ np.array([1.0, 2.0 * lam])
    S1 = c * (W.T @ W - a * np.eye(n))
    S1 = S1 + S1.T
    S2 = 2 * W.T @ W if r_code else W + W.T
    if r_code:
        t = [np.trace(S1 @ S1), np.sum(S2.T @ S1), np.sum(S2.T @ S2)]
    else:
        t = [np.trace(S1 @ S1), np.trace(S1 @ S2), np.trace(S2 @ S2)]
    phi = s2 * s2 / (2 * n) * np.array([[t[0], t[1]], [t[1], t[2]]])
    return math.sqrt((j1 @ phi @ j1) / (j1 @ j1) ** 2 / n)


def test_error_gm_lambda_se_and_why_r_differs(data):
    """Ours is the KP (2004) formula; R's 0.427 comes from the same formula as R codes it."""
    result = fit_gm_error(spec("error", "gmm"), data)
    lam, s2 = rows(result)["lambda"].estimate, result.fit["sigma2"]
    W = columbus_w().toarray()
    b, *_ = np.linalg.lstsq(data.X, data.y, rcond=None)
    u = data.y - data.X @ b
    assert math.isclose(rows(result)["lambda"].std_error, kp_two_moment_se(W, u, lam, s2, False), rel_tol=1e-10)
    r_se = reference()["error_gm"]["lambda_se"]
    assert rel_err(kp_two_moment_se(W, u, lam, s2, True), r_se) <= RTOL_R
    assert rows(result)["lambda"].std_error < r_se / 2


def test_error_gm_lambda_se_is_calibrated():
    """Monte Carlo: the mean SE of lambda matches the spread of its estimates (R's is ~2x)."""
    w = libpysal.weights.lat2W(15, 15)
    w.transform = "r"
    W = sp.csr_array(w.sparse)
    n = W.shape[0]
    rng = np.random.default_rng(20240601)
    Xs = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
    filt = np.linalg.inv(np.eye(n) - 0.4 * W.toarray())
    estimates, ses = [], []
    for _ in range(300):
        y = Xs @ np.array([1.0, 1.0, -1.0]) + filt @ rng.standard_normal(n)
        est = gm_error_kernel(y, Xs, W)
        estimates.append(est.coef[-1])
        ses.append(math.sqrt(est.cov[-1, -1]))
    assert 0.85 < np.mean(ses) / np.std(estimates) < 1.2


def test_error_gm_agrees_with_spreg_gm_error(data, arrays):
    """spreg GM_Error: the same moments, lambda to its optimiser's tolerance, R's legacy SEs."""
    reference_fit = quietly(spreg.GM_Error, *arrays[:2], w=arrays[2])
    result = fit_gm_error(spec("error", "gmm"), data)
    coef = np.array([c.estimate for c in result.coefficients])
    lam_spreg = float(reference_fit.betas[-1, 0])
    assert abs(coef[-1] - lam_spreg) < SPREG_LAMBDA_ATOL
    b, *_ = np.linalg.lstsq(data.X, data.y, rcond=None)
    m = kp_moments(data.y - data.X @ b, data.W)
    assert profiled_objective(m, coef[-1]) <= profiled_objective(m, lam_spreg)
    np.testing.assert_allclose(coef[:-1], reference_fit.betas[:-1, 0], rtol=1e-5)


def test_error_gm_robust_is_spreg_het(data, arrays):
    reference_fit = quietly(spreg.GM_Error_Het, *arrays[:2], w=arrays[2])
    result = fit_gm_error(spec("error", "gmm", robust=True), data)
    np.testing.assert_allclose([c.estimate for c in result.coefficients], reference_fit.betas.ravel(), rtol=1e-12)
    np.testing.assert_allclose([c.std_error for c in result.coefficients], reference_fit.std_err, rtol=1e-12)
    assert result.meta["engine"] == "spreg.BaseGM_Error_Het"
    assert "Arraiz" in result.meta["conventions"]["estimator"]


def test_kp_solver_refuses_a_minimum_on_the_bound():
    G = np.array([[0.5, -0.4, 1.0], [0.3, -0.2, 0.8], [0.25, -0.1, 0.0]])
    m = KPMoments(G, G @ np.array([1.5, 2.25, 1.0]))  # exact solution lambda = 1.5
    assert math.isclose(solve_kp_moments(m, bound=2.0)[0], 1.5, rel_tol=1e-10)
    with pytest.raises(EstimationError, match="lambda = .* is on its bound"):
        solve_kp_moments(m, bound=1.0)


# --- SAC: R gstsls ------------------------------------------------------------------------


def test_sac_gstsls_matches_r(data):
    ref, result = reference()["sac_gstsls"], fit_gmm_sac(spec("sac", "gmm"), data)
    by_term = rows(result)
    for term, value in ref["coef"].items():
        assert rel_err(by_term[term].estimate, value) <= RTOL_R, term
        assert rel_err(by_term[term].std_error, ref["se"][term]) <= RTOL_R, term
    assert rel_err(by_term["rho"].estimate, ref["rho"]) <= RTOL_R
    assert rel_err(by_term["rho"].std_error, ref["rho_se"]) <= RTOL_R
    assert rel_err(by_term["lambda"].estimate, ref["lambda"]) <= RTOL_R_SMALL_LAMBDA
    assert rel_err(result.fit["sigma2"], ref["sigma2"]) <= RTOL_R
    assert [c.term for c in result.coefficients] == ["(Intercept)", *X, "rho", "lambda"]
    lam = by_term["lambda"]
    assert all(math.isnan(v) for v in (lam.std_error, lam.statistic, lam.p_value, lam.ci_low, lam.ci_high))
    assert "lambda_se" in result.meta["conventions"] and result.fit["k"] == 5


def test_sac_impacts_are_the_lag_impacts_at_rho(data):
    result = fit_gmm_sac(spec("sac", "gmm"), data)
    by_term = rows(result)
    expected, _ = lag_impacts(data.W, by_term["rho"].estimate, X, np.array([by_term[t].estimate for t in X]))
    assert [(i.variable, i.effect) for i in result.impacts] == [(i.variable, i.effect) for i in expected]
    for got, want in zip(result.impacts, expected):
        assert math.isclose(got.estimate, want.estimate, rel_tol=1e-12)


# --- spreg: homoskedastic GM_Combo, het GM_Combo_Het --------------------------------------

SPREG_OPTIONS = {"sac": {"w_lags": 2}, "gns": {"w_lags": 2, "slx_lags": 1}}
FITS = {"sac": fit_gmm_sac, "gns": fit_gmm_gns}


@pytest.mark.parametrize("model", ["sac", "gns"])
def test_homoskedastic_matches_spreg_gm_combo(data, arrays, model):
    """Given spreg's lambda the filtered 2SLS is spreg's to rounding; our lambda fits the moments better."""
    reference_fit = quietly(spreg.GM_Combo, *arrays[:2], w=arrays[2], **SPREG_OPTIONS[model])
    result = FITS[model](spec(model, "gmm"), data)
    Xd = data.X if model == "sac" else with_spatial_lags(data.X, data.x_names, data.W, X)[0]
    Z = np.column_stack([Xd, data.W @ data.y])
    Q = orthonormal_basis(lag_instruments(data.X, data.W, 2 if model == "sac" else 3))
    lam_spreg = float(reference_fit.betas[-1, 0])
    at_spreg = filtered_2sls(data.y, Z, data.W, Q, lam_spreg)
    p = Z.shape[1]
    np.testing.assert_allclose(at_spreg.coef[:p], reference_fit.betas[:p, 0], rtol=RTOL_EXACT)
    # spreg's sigma² divides by n, R's (ours) by n - p.
    spreg_se = np.sqrt(np.diag(at_spreg.cov[:p, :p]) * (N - p) / N)
    np.testing.assert_allclose(spreg_se, reference_fit.std_err[:p], rtol=RTOL_EXACT)
    lam = result.coefficients[-1].estimate
    m = kp_moments(two_stage_least_squares(data.y, Z, Q).resid, data.W)
    assert abs(lam - lam_spreg) < SPREG_LAMBDA_ATOL
    assert profiled_objective(m, lam) <= profiled_objective(m, lam_spreg)
    np.testing.assert_allclose([c.estimate for c in result.coefficients], reference_fit.betas.ravel(), rtol=1e-4)


@pytest.mark.parametrize("model", ["sac", "gns"])
def test_robust_matches_spreg_gm_combo_het(data, arrays, model):
    reference_fit = quietly(spreg.GM_Combo_Het, *arrays[:2], w=arrays[2], **SPREG_OPTIONS[model])
    result = FITS[model](spec(model, "gmm", robust=True), data)
    np.testing.assert_allclose([c.estimate for c in result.coefficients], reference_fit.betas.ravel(), rtol=RTOL_EXACT)
    np.testing.assert_allclose([c.std_error for c in result.coefficients], reference_fit.std_err, rtol=RTOL_EXACT)
    assert math.isclose(result.fit["pseudo_r2"], reference_fit.pr2, rel_tol=RTOL_EXACT)
    assert result.meta["engine"] == "spreg.BaseGM_Combo_Het"


def test_gns_terms_and_prebuilt_design(data):
    """fit() hands the estimator [X, WX] already; a plain dataset gets the same result."""
    plain = fit_gmm_gns(spec("gns", "gmm"), data)
    Xd, names = with_spatial_lags(data.X, data.x_names, data.W, X)
    prebuilt = fit_gmm_gns(spec("gns", "gmm"), dataclasses.replace(data, X=Xd, x_names=names))
    assert [c.term for c in plain.coefficients] == ["(Intercept)", *X, "W_INC", "W_HOVAL", "rho", "lambda"]
    assert plain.to_dict() == prebuilt.to_dict()
    assert plain.fit["k"] == 7


def test_gns_with_some_regressors_lagged(data):
    """HOVAL unlagged: theta = 0, so its impacts are the lag impacts of its beta."""
    result = fit_gmm_gns(spec("gns", "gmm", wx=("INC",)), data)
    by_term = rows(result)
    assert [c.term for c in result.coefficients] == ["(Intercept)", *X, "W_INC", "rho", "lambda"]
    expected, _ = lag_impacts(data.W, by_term["rho"].estimate, ("HOVAL",), np.array([by_term["HOVAL"].estimate]))
    for want in expected:
        assert math.isclose(result.impact("HOVAL", want.effect).estimate, want.estimate, rel_tol=1e-10)


# --- Durbin impacts -----------------------------------------------------------------------


def dense_durbin(W: np.ndarray, rho: float, b: float, t: float) -> tuple[float, float]:
    n = W.shape[0]
    S = np.linalg.solve(np.eye(n) - rho * W, b * np.eye(n) + t * W)
    return float(np.trace(S) / n), float(S.sum() / n)


def test_gns_impacts_match_dense_s_r(data):
    """Each regressor's impacts equal tr(S_r)/n and 1'S_r 1/n, S_r = (I - rho W)^-1 (beta I + theta W)."""
    result = fit_gmm_gns(spec("gns", "gmm"), data)
    by_term = rows(result)
    assert "exact" in result.meta["impacts_method"]
    for name in X:
        direct, total = dense_durbin(data.W.toarray(), by_term["rho"].estimate, by_term[name].estimate,
                                     by_term[f"W_{name}"].estimate)
        assert math.isclose(result.impact(name, "direct").estimate, direct, rel_tol=1e-10)
        assert math.isclose(result.impact(name, "total").estimate, total, rel_tol=1e-10)


# --- recovery on simulated data -----------------------------------------------------------


def simulated_gns(heteroskedastic: bool) -> tuple[Dataset, dict[str, float]]:
    """A 30x30 rook lattice with known GNS parameters and a fixed seed."""
    w = libpysal.weights.lat2W(30, 30)
    w.transform = "r"
    W = sp.csr_array(w.sparse)
    n = W.shape[0]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, 2))
    truth = {"(Intercept)": 1.0, "x1": 1.5, "x2": -1.0, "W_x1": 0.8, "W_x2": 0.5, "rho": 0.4, "lambda": 0.35}
    scale = np.exp(0.5 * x[:, 0]) if heteroskedastic else np.ones(n)
    eps = scale * rng.standard_normal(n)
    I = sp.identity(n, format="csc")
    u = sp.linalg.spsolve(sp.csc_matrix(I - truth["lambda"] * W), eps)
    mean = truth["(Intercept)"] + x @ [truth["x1"], truth["x2"]] + (W @ x) @ [truth["W_x1"], truth["W_x2"]]
    y = sp.linalg.spsolve(sp.csc_matrix(I - truth["rho"] * W), mean + u)
    ids = tuple(str(i) for i in range(n))
    data = Dataset(ids, y, np.column_stack([np.ones(n), x]), "y", ("(Intercept)", "x1", "x2"), W=W)
    return data, truth


@pytest.mark.parametrize("robust", [False, True])
def test_gns_recovers_known_parameters(robust):
    data, truth = simulated_gns(heteroskedastic=robust)
    gns_spec = dataclasses.replace(spec("gns", "gmm", robust=robust), x=("x1", "x2"), y="y")
    result = fit_gmm_gns(gns_spec, data)
    for c in result.coefficients:
        if math.isnan(c.std_error):  # homoskedastic lambda has no SE; its sd here is about 0.07
            assert abs(c.estimate - truth[c.term]) < 0.22, c.term
        else:
            assert abs(c.estimate - truth[c.term]) < 3.5 * c.std_error, (c.term, c.estimate, c.std_error)


# --- results ------------------------------------------------------------------------------


@pytest.mark.parametrize("model, robust", [("error", False), ("error", True), ("sac", False),
                                           ("sac", True), ("gns", False), ("gns", True)])
def test_results_round_trip_and_conventions(data, model, robust):
    fit_fn = {"error": fit_gm_error, "sac": fit_gmm_sac, "gns": fit_gmm_gns}[model]
    result = fit_fn(spec(model, "gmm", robust=robust), data)
    again = FitResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.to_dict() == result.to_dict()
    assert result.meta["coef_test"] == "z"
    conventions = result.meta["conventions"]
    assert {"estimator", "sigma2", "se", "k", "pseudo_r2"} <= set(conventions)
    assert all(isinstance(v, str) for v in conventions.values())
    assert {"n", "k", "sigma2", "pseudo_r2"} == set(result.fit) and result.fit["n"] == N
    for c in result.coefficients:
        if not math.isnan(c.std_error):
            assert math.isclose(c.statistic, c.estimate / c.std_error, rel_tol=1e-12)
    assert math.isnan(result.coefficients[-1].std_error) == (model != "error" and not robust)
