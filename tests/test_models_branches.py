"""Guards and fallbacks of rtsmig.models that the estimator tests never reach.

Each test crafts the input that takes one branch and checks what happens there
against an independent computation (dense numpy eigenvalues, a closed form, a
recurrence) or the error raised.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from lattice_fixtures import directed_ring, lattice
from models_fixtures import columbus_dataset, columbus_w, spec

from rtsmig.errors import EstimationError
from rtsmig.models.extremes import eigen_extremes, lanczos_extremes, perron_upper_bound
from rtsmig.models.gmm import fit_gm_error, fit_gmm_lag
from rtsmig.models.gmm_combo import fit_gmm_sac
from rtsmig.models.gmm_error import GM_LAMBDA_BOUND, check_gm_bound
from rtsmig.models.impacts_multipliers import exact_multipliers
from rtsmig.models.logdet import EigenLogDet, eigenvalues, symmetrising_scale
from rtsmig.models.logdet_approx import ChebyshevLogDet, MCLogDet
from rtsmig.models.ml import _polish
from rtsmig.models.ml_sac import HESSIAN_STEP, NEWTON_MAX_STEPS, _newton_polish, fit_ml_sac
from rtsmig.models.ols import fit_ols
from rtsmig.models.results import json_safe
from rtsmig.models.spec import FitSpec


def circulant(n: int, weights: dict[int, float]) -> sp.csr_array:
    """One-way ring with ``weights[offset]`` from each region to region i + offset (mod n)."""
    i = np.arange(n)
    rows = np.concatenate([i for _ in weights])
    cols = np.concatenate([(i + offset) % n for offset in weights])
    data = np.concatenate([np.full(n, w) for w in weights.values()])
    return sp.csr_array((data, (rows, cols)), shape=(n, n))


def columbus_with_y(y: np.ndarray):
    return replace(columbus_dataset(), y=y)


def simulated_columbus(model: str, param: float, seed: int = 0) -> np.ndarray:
    """y on Columbus X from a lag or error process with parameter ``param``."""
    data, W = columbus_dataset(), columbus_w()
    n = data.n
    rng = np.random.default_rng(seed)
    A = sp.csc_matrix(sp.identity(n) - param * W)
    mean = data.X @ np.array([1.0, 0.1, 0.1])
    if model == "lag":
        return spla.spsolve(A, mean + 0.01 * rng.standard_normal(n))
    return mean + spla.spsolve(A, rng.standard_normal(n))


# --- extremes ---------------------------------------------------------------------------------


def test_lanczos_on_an_invariant_subspace_returns_exact_ritz_values_with_zero_residual():
    """After n steps on an n x n S the Krylov space is everything: beta is rounding and the
    Ritz values are the eigenvalues, reported with residual 0 (before the first periodic check)."""
    rng = np.random.default_rng(0)
    S = rng.standard_normal((6, 6))
    S = S + S.T
    (lo, r_lo), (hi, r_hi), steps, converged = lanczos_extremes(sp.csr_array(S), 1e-4, 100)
    values = np.linalg.eigvalsh(S)
    assert (r_lo, r_hi, steps, converged) == (0.0, 0.0, 6, True)
    assert lo == pytest.approx(values[0], abs=1e-10)
    assert hi == pytest.approx(values[-1], abs=1e-10)


def test_signed_w_gets_its_spectral_radius_from_arnoldi_largest_modulus():
    """Negative weights: no Perron-Frobenius, so the radius comes from an LM Arnoldi run."""
    W = circulant(150, {1: 0.5, 7: -0.3})  # > DENSE_EXTREMES_MAX_N, not similar to symmetric
    assert symmetrising_scale(W) is None
    found = eigen_extremes(W, None)
    values = np.linalg.eigvals(W.toarray())
    top = float(np.abs(values).max())
    assert top <= found.radius <= top * (1 + 1e-6)
    assert found.lo <= values.real.min() + 1e-12 and values.real.max() <= found.hi + 1e-12


def test_w_without_negative_eigenvalue_in_arnoldi_path_bounds_the_bottom_by_row_sums():
    """Upper-triangular W with diagonal in [1, 2]: every eigenvalue is positive, so the smallest
    real part from Arnoldi (widened) is not negative and -r stands in for the bottom end."""
    n = 150
    d = np.linspace(1.0, 2.0, n)
    W = sp.csr_array(sp.diags(d) + sp.diags(np.full(n - 1, 0.1), 1))
    r = float(np.abs(W).sum(axis=1).max())
    found = eigen_extremes(W, None)
    assert found.lo == -r
    assert found.hi >= d.max() - 1e-12 and found.hi <= r
    assert found.margin[0] == 0.0  # lo - lo_used, both -r


def test_perron_bound_is_infinite_for_a_vector_with_a_zero_entry():
    W = circulant(5, {1: 1.0, 2: 0.5})
    assert perron_upper_bound(W, np.array([1.0, 0.0, 1.0, 1.0, 1.0])) == math.inf
    # A positive vector gives the Collatz-Wielandt max_i (W|x|)_i / |x|_i, at least the radius.
    x = np.array([1.0, -2.0, 1.0, 3.0, 1.0])
    want = float(np.max((W.toarray() @ np.abs(x)) / np.abs(x)))
    assert perron_upper_bound(W, x) == pytest.approx(want)
    assert want >= np.abs(np.linalg.eigvals(W.toarray())).max()


# --- GMM guards -------------------------------------------------------------------------------


def test_gmm_lag_refuses_instruments_that_add_nothing_to_x():
    """Intercept only: no column to lag, so the instruments are X and rho is not identified."""
    data = columbus_dataset(x=())
    lag_spec = FitSpec(model="lag", method="gmm", y="CRIME", x=())
    with pytest.raises(EstimationError, match=r"the instruments WX and W²X do not identify rho.*use --method ml"):
        fit_gmm_lag(lag_spec, data)


def test_robust_gmm_sac_refuses_rho_clamped_by_spreg():
    """y from a lag process with rho = 0.99: spreg's het GS2SLS clamps its 2SLS rho to 0.9."""
    data = columbus_with_y(simulated_columbus("lag", 0.99))
    with pytest.raises(EstimationError, match=r"rho = 0\.9 reached the ±0\.9 .*drop --robust"):
        fit_gmm_sac(spec("sac", "gmm", robust=True), data)


def test_robust_gm_error_refuses_lambda_on_the_search_bound():
    """y from an error process with lambda = 0.999: spreg's GM search stops on its 0.99 bound."""
    data = columbus_with_y(simulated_columbus("error", 0.999))
    with pytest.raises(EstimationError, match=r"lambda = 0\.99 is on its bound \(±0\.99\).*check the weights"):
        fit_gm_error(spec("error", "gmm", robust=True), data)


def test_gm_bound_check_accepts_inside_and_refuses_on_either_bound():
    check_gm_bound(GM_LAMBDA_BOUND - 1e-3, "lambda")
    for value in (GM_LAMBDA_BOUND, -GM_LAMBDA_BOUND):
        with pytest.raises(EstimationError, match=f"rho = {value:.6g} is on its bound"):
            check_gm_bound(value, "rho")


# --- impacts, log-determinants ----------------------------------------------------------------


def test_exact_multipliers_have_zero_monte_carlo_error():
    found = exact_multipliers(columbus_w())
    assert found.probe_traces is None
    np.testing.assert_array_equal(found.direct_mc_se(0.4), np.zeros(2))


@pytest.mark.parametrize(
    "W",
    [sp.csr_array((5, 5)), sp.csr_array((np.full(4, 2.0), (np.arange(1, 5), np.arange(4))), shape=(5, 5))],
    ids=["empty", "nilpotent-chain"],
)
def test_eigen_logdet_refuses_w_with_no_eigenvalue_of_one_sign(W):
    assert np.allclose(np.linalg.eigvals(W.toarray()), 0.0)  # every eigenvalue 0
    with pytest.raises(EstimationError, match="no negative or no positive eigenvalue"):
        EigenLogDet(W)


def test_w_with_non_positive_weights_has_no_symmetrising_scale_and_gets_general_eigenvalues():
    assert symmetrising_scale(sp.csr_array((4, 4))) is None
    W = circulant(8, {1: 0.7, 3: -0.2})
    assert symmetrising_scale(W) is None
    want = np.linalg.eigvals(W.toarray())
    got = eigenvalues(W)
    assert np.iscomplexobj(got)
    np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(want), atol=1e-12)
    # Symmetric but with a zero-weight stored entry: also refused (d must be positive).
    Z = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    Z.data[0] = 0.0
    assert symmetrising_scale(Z) is None


def test_chebyshev_truncation_is_zero_at_rho_zero():
    """At rho = 0 the functions expanded are polynomials (log 1, -x, -x^2): interpolated exactly."""
    engine = ChebyshevLogDet(lattice(10))
    assert [engine.truncation(order, 0.0) for order in (0, 1, 2)] == [0.0, 0.0, 0.0]
    assert engine.refine(0.0) is False
    assert engine(0.0) == pytest.approx(0.0, abs=1e-12)  # log|I| = 0


@pytest.mark.parametrize("rho", [1.0, -1.5])
def test_mc_truncation_is_infinite_where_the_series_diverges(rho):
    engine = MCLogDet(lattice(10))
    assert engine.radius == 1.0  # row-standardised: the series needs |rho| < 1
    assert all(engine.truncation(order, rho) == math.inf for order in (0, 1, 2))
    assert engine.error_bound(0, rho) == math.inf


# --- ML ---------------------------------------------------------------------------------------


def test_polish_keeps_theta_when_the_score_does_not_change_sign_or_is_not_finite():
    assert _polish(lambda t: 1.0 + t, 0.3, -1.0, 1.0, 1e-10) == 0.3
    assert _polish(lambda t: math.nan, 0.3, -1.0, 1.0, 1e-10) == 0.3
    assert _polish(lambda t: math.inf if t > 0.3 else -1.0, 0.3, -1.0, 1.0, 1e-10) == 0.3
    # A sign change is polished to the root: the contrast that makes the above meaningful.
    assert _polish(lambda t: t - 0.3000001, 0.3, -1.0, 1.0, 1e-14) == pytest.approx(0.3000001, abs=1e-13)


def test_newton_polish_takes_every_step_while_the_score_keeps_falling():
    """Score t^3 (per component): each Newton step shrinks it, so the loop runs all
    NEWTON_MAX_STEPS steps. The central-difference Hessian is exactly 3t^2 + h^2, so the
    iterate follows t <- t - t^3 / (3t^2 + h^2)."""
    theta0 = np.array([0.5, -0.3])
    theta, H = _newton_polish(lambda t: t**3, theta0, -1.0, 1.0)
    want = theta0.copy()
    for _ in range(NEWTON_MAX_STEPS):
        want = want - want**3 / (3 * want**2 + HESSIAN_STEP**2)
    np.testing.assert_allclose(theta, want, rtol=1e-8)
    np.testing.assert_allclose(H, np.diag(3 * want**2 + HESSIAN_STEP**2), rtol=1e-6, atol=1e-14)


@pytest.mark.parametrize("engine", ["chebyshev", "mc"])
def test_ml_sac_refuses_the_approximate_logdet_engines(engine):
    with pytest.raises(EstimationError, match=f"--logdet {engine} is not available for the sac model"):
        fit_ml_sac(spec("sac", "ml"), columbus_dataset(), engine=engine)


# --- results ----------------------------------------------------------------------------------


def test_json_safe_turns_numpy_scalars_into_python_and_non_finite_into_none():
    got = json_safe({"a": np.float64("nan"), "b": [np.int64(3), np.float32(0.5)], "c": ("s", np.inf)})
    assert got == {"a": None, "b": [3, 0.5], "c": ["s", None]}
    assert type(got["b"][0]) is int and type(got["b"][1]) is float


def test_fit_result_se_is_the_classical_ols_standard_error():
    data = columbus_dataset()
    result = fit_ols(spec(), data)
    X, y = data.X, data.y
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    resid = y - X @ beta
    s2 = float(resid @ resid) / (X.shape[0] - X.shape[1])
    want = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    assert list(result.se.index) == list(data.x_names)
    np.testing.assert_allclose(result.se.to_numpy(), want, rtol=1e-10)


@pytest.mark.parametrize("lower", [True, False])
def test_signed_w_whose_largest_modulus_is_a_negative_eigenvalue_gets_its_modulus_as_radius(lower):
    """The radius is a modulus: with W = -C for a non-negative irregular C, the eigenvalue of largest modulus
    is minus C's Perron root, so its real part would give a negative 'radius'. Tolerance: twice EXTREMES_TOL;
    without the bottom end, ARPACK's largest-modulus run stops 1.05e-4 short (a complex pair beside the
    dominant eigenvalue), just past its stopping tolerance: noted, not hidden."""
    W = -directed_ring(301, 3, 4)
    values = np.linalg.eigvals(W.toarray())
    top = float(np.abs(values).max())
    assert values[np.abs(values).argmax()].real < 0
    found = eigen_extremes(W, None, lower=lower)  # without the bottom end the radius rests on Arnoldi's modulus
    assert abs(found.radius / top - 1) <= 2e-4


def test_arnoldi_failures_say_which_end_fell_back_to_the_row_sums(monkeypatch):
    """When ARPACK does not converge, the method text names the end and the row-sum bound that stands in."""
    def no_convergence(*args, **kwargs):
        raise spla.ArpackNoConvergence("no", np.array([]), np.array([]))

    monkeypatch.setattr(spla, "eigs", no_convergence)
    W = circulant(150, {1: 0.5, 7: -0.3})
    r = float(np.abs(W).sum(axis=1).max())
    found = eigen_extremes(W, None)
    for side in ("largest real part", "smallest real part", "largest modulus"):
        assert f"Arnoldi did not converge for the {side}: the row-sum bound" in found.method
    assert (found.lo, found.hi, found.radius) == (-r, r, r)
