"""rtsmig's estimators against spreg 1.9 on Columbus (every exact log-determinant engine).

spreg prints a class name while it builds its summaries and warns (an ignored
tolerance, pandas deprecations); pytest captures the one and the filter below
hides the others.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from models_fixtures import columbus_dataset, columbus_w, libpysal_w, spec

from rtsmig.models import fit
from rtsmig.models.impacts import mc_trace_inverse
from rtsmig.models.logdet import EigenLogDet, LULogDet

spreg = pytest.importorskip("spreg")
pytestmark = pytest.mark.filterwarnings("ignore:::spreg.*")

RTOL_ML = 1e-6  # spreg's ML_Error search stops at xatol 1e-5 on its own, hence not tighter
RTOL_EXACT = 1e-8


@pytest.fixture(scope="module")
def data():
    return columbus_dataset()


@pytest.fixture(scope="module")
def arrays(data):
    return data.y.reshape(-1, 1), data.X[:, 1:], libpysal_w()


def estimates(result) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([c.estimate for c in result.coefficients]),
            np.array([c.std_error for c in result.coefficients]))


@pytest.mark.parametrize("engine", ["eigen", "lu", "cholesky"])
@pytest.mark.parametrize("model, spreg_class", [("lag", "ML_Lag"), ("error", "ML_Error")])
def test_ml_matches_spreg_full(data, arrays, model, spreg_class, engine):
    y, X, w = arrays
    reference = getattr(spreg, spreg_class)(y, X, w=w, method="full")
    result = fit(spec(model, "ml"), data, engine=engine)
    assert result.meta["engine"] == engine
    coef, se = estimates(result)
    np.testing.assert_allclose(coef, reference.betas.ravel(), rtol=RTOL_ML)
    np.testing.assert_allclose(se, reference.std_err, rtol=RTOL_ML)
    assert math.isclose(result.fit["loglik"], float(np.squeeze(reference.logll)), rel_tol=RTOL_ML)
    assert math.isclose(result.fit["pseudo_r2"], reference.pr2, rel_tol=RTOL_ML)
    assert math.isclose(result.fit["sigma2"], float(np.squeeze(reference.sig2)), rel_tol=RTOL_ML)


@pytest.mark.parametrize("model, spreg_class, extra", [("lag", "ML_Lag", 2), ("error", "ML_Error", 4)])
def test_aic_counts_sigma2_and_the_spatial_parameter(data, arrays, model, spreg_class, extra):
    """Ours counts k + 2 parameters (R spatialreg); spreg's AIC is lower by 2 (lag) or 4 (error)."""
    y, X, w = arrays
    reference = getattr(spreg, spreg_class)(y, X, w=w, method="full")
    result = fit(spec(model, "ml"), data)
    k = data.X.shape[1]
    assert math.isclose(result.fit["aic"], -2 * result.fit["loglik"] + 2 * (k + 2), rel_tol=1e-14)
    assert math.isclose(result.fit["aic"] - float(np.squeeze(reference.aic)), extra, abs_tol=1e-6)


def test_ols_diagnostics_match_spreg(data, arrays):
    y, X, w = arrays
    reference = spreg.OLS(y, X, w=w, spat_diag=True, moran=True)
    result = fit(spec(), data)
    tests = {t.name: t for t in result.diagnostics}
    pairs = {
        "Jarque-Bera": (reference.jarque_bera["jb"], reference.jarque_bera["pvalue"]),
        "Breusch-Pagan": (reference.breusch_pagan["bp"], reference.breusch_pagan["pvalue"]),
        "Koenker-Bassett": (reference.koenker_bassett["kb"], reference.koenker_bassett["pvalue"]),
        "LM error": reference.lm_error, "LM lag": reference.lm_lag,
        "Robust LM error": reference.rlm_error, "Robust LM lag": reference.rlm_lag,
        "SARMA": reference.lm_sarma,
    }
    for name, (stat, p) in pairs.items():
        assert math.isclose(tests[name].statistic, stat, rel_tol=RTOL_EXACT), name
        assert math.isclose(tests[name].p_value, p, rel_tol=RTOL_EXACT), name
    assert tests["Breusch-Pagan"].df == reference.breusch_pagan["df"]
    assert tests["Koenker-Bassett"].df == reference.koenker_bassett["df"]
    moran_i, moran_z, _ = reference.moran_res
    assert math.isclose(tests["Moran's I (residuals)"].value, moran_i, rel_tol=RTOL_EXACT)
    assert math.isclose(tests["Moran's I (residuals)"].statistic, moran_z, rel_tol=RTOL_EXACT)
    assert math.isclose(result.fit["condition_number"], reference.mulColli, rel_tol=RTOL_EXACT)
    assert math.isclose(result.fit["r2"], reference.r2, rel_tol=RTOL_EXACT)


def test_gm_error_het_matches_spreg(data, arrays):
    """--robust: the heteroskedasticity-robust estimator (the default is homoskedastic KP99)."""
    y, X, w = arrays
    reference = spreg.GM_Error_Het(y, X, w=w)
    result = fit(spec("error", "gmm", robust=True), data)
    coef, se = estimates(result)
    np.testing.assert_allclose(coef, reference.betas.ravel(), rtol=RTOL_EXACT)
    np.testing.assert_allclose(se, reference.std_err, rtol=RTOL_EXACT)
    assert math.isclose(result.fit["pseudo_r2"], reference.pr2, rel_tol=RTOL_EXACT)
    assert result.coefficients[-1].term == "lambda"


@pytest.mark.parametrize("robust", [False, True])
def test_gmm_lag_matches_spreg(data, arrays, robust):
    y, X, w = arrays
    options = {"robust": "white"} if robust else {"sig2n_k": True}
    reference = spreg.GM_Lag(y, X, w=w, w_lags=2, **options)
    result = fit(spec("lag", "gmm", robust=robust), data)
    coef, se = estimates(result)
    np.testing.assert_allclose(coef, reference.betas.ravel(), rtol=RTOL_EXACT)
    np.testing.assert_allclose(se, reference.std_err, rtol=RTOL_EXACT)
    assert math.isclose(result.fit["pseudo_r2"], reference.pr2, rel_tol=RTOL_EXACT)


@pytest.mark.parametrize("model", ["lag", "error"])
def test_eigen_and_lu_engines_agree(data, model):
    eigen = fit(spec(model, "ml"), data, engine="eigen")
    lu = fit(spec(model, "ml"), data, engine="lu")
    assert (eigen.meta["engine"], lu.meta["engine"]) == ("eigen", "lu")
    coef_e, se_e = estimates(eigen)
    coef_l, se_l = estimates(lu)
    np.testing.assert_allclose(coef_l, coef_e, rtol=1e-8)
    np.testing.assert_allclose(se_l, se_e, rtol=1e-8)
    assert math.isclose(lu.fit["loglik"], eigen.fit["loglik"], rel_tol=1e-8)
    if model == "lag":
        assert len(lu.impacts) == len(eigen.impacts) == 6
        for a, b in zip(lu.impacts, eigen.impacts):
            assert (a.variable, a.effect) == (b.variable, b.effect)
            assert math.isclose(a.estimate, b.estimate, rel_tol=1e-8)


@pytest.mark.parametrize("rho", [-0.5, 0.0, 0.3, 0.9])
def test_log_determinants_agree(rho):
    W = columbus_w()
    eigen, lu = EigenLogDet(W), LULogDet(W)
    dense = np.linalg.slogdet(np.eye(W.shape[0]) - rho * W.toarray())[1]
    assert math.isclose(eigen(rho), dense, rel_tol=1e-10, abs_tol=1e-12)
    assert math.isclose(lu(rho), dense, rel_tol=1e-10, abs_tol=1e-12)
    np.testing.assert_allclose(lu.bounds, (-1.0, 1.0), rtol=1e-14)
    assert math.isclose(eigen.bounds[1], 1.0, rel_tol=1e-12) and eigen.bounds[0] < -1.0


def test_monte_carlo_trace_is_close_to_exact():
    W = columbus_w()
    exact = EigenLogDet(W).trace_inverse(0.45)
    assert math.isclose(mc_trace_inverse(W, 0.45), exact, rel_tol=0.02)


def test_ols_robust_is_white_hc0(data, arrays):
    """HC0 without the n/(n-k) factor that spreg's OLS applies by default (sig2n_k=True)."""
    y, X, _ = arrays
    reference = spreg.OLS(y, X, robust="white", sig2n_k=False)
    coef, se = estimates(fit(spec(robust=True), data))
    np.testing.assert_allclose(coef, reference.betas.ravel(), rtol=RTOL_EXACT)
    np.testing.assert_allclose(se, reference.std_err, rtol=RTOL_EXACT)
