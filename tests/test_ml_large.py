"""ML lag and error beyond the dense limits: every engine, the stochastic traces, the moment impacts.

- exact engines (lu, cholesky) agree with R on Columbus to 1e-6, as eigen does;
- approximate engines (chebyshev, mc) put rho/lambda within the error bound they
  report of the exact (cholesky) estimate on a 2,500-region lattice;
- the Hutchinson traces agree with the dense ones within their reported error;
- the moment-based impact multipliers agree with the exact ones within the
  engine's bound.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from lattice_fixtures import lattice, simulated
from models_fixtures import columbus_dataset, reference, rel_err, spec

from rtsmig.models import FitSpec, fit
from rtsmig.models.impacts_moments import moment_multipliers
from rtsmig.models.impacts_multipliers import exact_multipliers
from rtsmig.models.logdet import symmetrising_scale
from rtsmig.models.logdet_approx import ChebyshevLogDet, MCLogDet
from rtsmig.models.logdet_engines import make_logdet
from rtsmig.models.ml_traces import _hutchinson, solve_shifted, spatial_traces

RTOL_R = 1e-6
TERM = {"lag": "rho", "error": "lambda"}


@pytest.mark.parametrize("engine", ["lu", "cholesky"])
@pytest.mark.parametrize("model", ["lag", "error"])
def test_exact_sparse_engines_match_r_on_columbus(engine, model):
    ref = reference()[f"{model}_ml"]
    result = fit(spec(model, "ml"), columbus_dataset(), engine=engine)
    assert result.meta["engine"] == engine
    rows = {c.term: c for c in result.coefficients}
    term = TERM[model]
    for name, value in [*ref["coef"].items(), (term, ref[term])]:
        assert rel_err(rows[name].estimate, value) <= RTOL_R, name
    for name, value in [*ref["se"].items(), (term, ref[f"{term}_se"])]:
        assert rel_err(rows[name].std_error, value) <= RTOL_R, name
    assert rel_err(result.fit["loglik"], ref["loglik"]) <= RTOL_R


def _estimates(result) -> dict[str, tuple[float, float]]:
    return {c.term: (c.estimate, c.std_error) for c in result.coefficients}


@pytest.fixture(scope="module")
def exact_fits():
    return {
        model: fit(FitSpec(model=model, y="y", x=("x1", "x2"), impacts_se="none"), simulated(50, model, 0.5),
                   engine="cholesky")
        for model in ("lag", "error")
    }


@pytest.mark.parametrize("engine", ["chebyshev", "mc"])
@pytest.mark.parametrize("model", ["lag", "error"])
def test_approximate_estimate_within_its_reported_bound(exact_fits, engine, model):
    data = simulated(50, model, 0.5)
    result = fit(FitSpec(model=model, y="y", x=("x1", "x2"), impacts_se="none"), data, engine=engine)
    term = TERM[model]
    accuracy = result.meta["logdet_accuracy"]
    bound = accuracy[f"{term}_error_bound"]
    approx, exact = _estimates(result)[term][0], _estimates(exact_fits[model])[term][0]
    assert abs(approx - exact) <= bound, (approx, exact, bound)
    # The bound is informative: far below the estimate's standard error.
    assert bound < 0.05 * _estimates(exact_fits[model])[term][1]
    assert set(accuracy) >= {"degree", "probes", "logdet_error_bound", "score_error_bound"}
    assert "approximate log-determinant" in result.meta["conventions"]["loglik"]
    # Standard errors: same traces method (stochastic) at this n, so within a fraction of a percent.
    for name, (_, se) in _estimates(exact_fits[model]).items():
        assert math.isclose(_estimates(result)[name][1], se, rel_tol=5e-3), name


def test_auto_engine_by_size():
    assert make_logdet(lattice(31)).name == "eigen"  # 961 regions
    assert make_logdet(lattice(32)).name == "chebyshev"  # 1,024 regions
    W = lattice(32).tolil()
    W[0, 1:5] = 0.25  # no longer similar to a symmetric matrix
    assert make_logdet(sp.csr_array(W)).name == "mc"


@pytest.mark.parametrize("theta", [-0.6, 0.4, 0.9])
def test_hutchinson_traces_match_dense_within_their_error(theta):
    W = lattice(30, queen=True)
    extra = np.random.default_rng(0).standard_normal(W.shape[0])
    dense = spatial_traces(W, theta, None, extra=extra)  # n = 900: exact
    assert dense.method == "exact (dense inverse)"
    est = _hutchinson(W, theta, extra, need_b=True, scale=_scale(W))
    for key in ("tr_b", "tr_b2", "tr_btb"):
        rel = abs(est[key] - getattr(dense, key)) / abs(getattr(dense, key))
        assert rel <= 4 * est["relative_se"][key] + 1e-9, (key, rel, est["relative_se"][key])
        assert est["relative_se"][key] < 0.05  # n = 900; it falls as 1/sqrt(n)
    np.testing.assert_allclose(np.ravel(est["b_extra"]), dense.b_extra, rtol=1e-6, atol=1e-8)


def _scale(W):
    return symmetrising_scale(sp.csr_array(W))


@pytest.mark.parametrize("symmetric", [True, False])
def test_iterative_solve_matches_a_direct_one(symmetric):
    W = lattice(25).tolil()
    if not symmetric:
        W[0, 1:4] = 1.0 / 3.0
    W = sp.csr_array(W)
    rhs = np.random.default_rng(1).standard_normal((W.shape[0], 3))
    direct = spla.spsolve(sp.csc_matrix(sp.identity(W.shape[0]) - 0.7 * W), rhs)
    got = solve_shifted(W, 0.7, rhs, _scale(W))
    np.testing.assert_allclose(got, direct, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("engine_class", [ChebyshevLogDet, MCLogDet])
@pytest.mark.parametrize("rho", [-0.4, 0.3, 0.7])
def test_moment_multipliers_within_the_engine_bound(engine_class, rho):
    W = lattice(30, queen=True)
    n = W.shape[0]
    engine = engine_class(W)
    approx = moment_multipliers(W, engine, abs(rho))
    exact = exact_multipliers(W)
    r = np.array([rho])
    d1_bound = engine.error_bound(1, rho) / n  # D1 = -logdet'/n
    assert abs(approx.direct[1].value(r)[0] - exact.direct[1].value(r)[0]) <= d1_bound
    assert abs(approx.direct[0].value(r)[0] - exact.direct[0].value(r)[0]) <= abs(rho) * d1_bound + 1e-15
    d1_slope_bound = engine.error_bound(2, rho) / n
    assert abs(approx.direct[1].slope(r)[0] - exact.direct[1].slope(r)[0]) <= d1_slope_bound
    np.testing.assert_allclose(approx.total[0].value(r), exact.total[0].value(r), rtol=1e-12)


def test_large_n_lag_impacts_agree_with_exact_ones():
    """At n = 1,600 the chebyshev fit's impacts come from its moments; eigen's are exact."""
    data = simulated(40, "lag", 0.5)
    fitspec = FitSpec(model="lag", y="y", x=("x1", "x2"), impacts_se="delta")
    approx = fit(fitspec, data, engine="chebyshev")
    eigen = fit(fitspec, data, engine="eigen")
    assert "moments" in approx.meta["impacts_method"] and "exact" in eigen.meta["impacts_method"]
    for a, b in zip(approx.impacts, eigen.impacts):
        assert (a.variable, a.effect) == (b.variable, b.effect)
        assert math.isclose(a.estimate, b.estimate, rel_tol=1e-4), (a, b)
        assert math.isclose(a.std_error, b.std_error, rel_tol=1e-2), (a, b)


def test_durbin_runs_on_the_sparse_engine():
    data = simulated(40, "lag", 0.4)
    result = fit(FitSpec(model="durbin", y="y", x=("x1", "x2"), impacts_se="none"), data)
    assert result.meta["engine"] == "chebyshev"
    assert [c.term for c in result.coefficients][-3:] == ["W_x1", "W_x2", "rho"]
    assert any("W_x" in d.name or "Wald" in d.name for d in result.diagnostics)
