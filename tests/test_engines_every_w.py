"""Every log-determinant engine agrees with eigen on every kind of W, not only row-standardised ones.

Issue 14: the sparse engines took the parameter space from the largest row sum,
1/20 for binary contiguity of the shipped counties, while the true space is
(1/-3.93, 1/6.86). Now the extreme eigenvalues set the parameter space, the
Chebyshev interval and the Monte Carlo series' radius; here, on 400 jittered
grid points:

- row-standardised queen, binary queen, inverse distance (band), triangular
  kernel (fixed bandwidth), and asymmetric 6-nearest neighbours with
  inverse-distance weights (not similar to a symmetric matrix: Arnoldi);
- lag, error, durbin and sac (sac: the exact engines), each engine against
  eigen: exact engines to 1e-7, approximate ones within the bound they report;
- the parameter space and ``meta.eigen_extremes`` against dense numpy eigenvalues;
- the Chebyshev expansion of the log-determinant and of its derivative on a
  binary W (mutations M18 and M18b dropped its scale and survived every
  row-standardised test).

The done-when check runs the CLI on the 2,875 shipped counties, binary queen W.
"""

from __future__ import annotations

import json
import math
from functools import cache

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from cli_helpers import ROOT, run
from lattice_fixtures import BETA, lattice
from scipy.spatial import cKDTree

from rtsmig.dataset import Dataset
from rtsmig.errors import EstimationError
from rtsmig.models import FitSpec, fit
from rtsmig.models.extremes import EXTREMES_TOL, eigen_extremes
from rtsmig.models.impacts import spatial_impacts
from rtsmig.models.impacts_moments import moment_multipliers
from rtsmig.models.impacts_multipliers import exact_multipliers
from rtsmig.models.logdet import EigenLogDet, LULogDet, symmetrising_scale
from rtsmig.models.logdet_approx import ChebyshevLogDet, MCLogDet

SIDE = 20
KINDS = ("row-standardised", "binary", "inverse-distance", "kernel", "knn")
ENGINES = ("lu", "cholesky", "chebyshev", "mc")
TERM = {"lag": "rho", "durbin": "rho", "error": "lambda"}
# Engines that need a W similar to a symmetric matrix, and the kinds that are not.
SYMMETRIC_ONLY = ("cholesky", "chebyshev")
ASYMMETRIC = ("knn",)


@cache
def points() -> np.ndarray:
    """A SIDE x SIDE grid of unit spacing, each point moved by up to 0.3 (fixed seed)."""
    grid = np.stack(np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij"), axis=-1).reshape(-1, 2)
    return grid + np.random.default_rng(3).uniform(-0.3, 0.3, grid.shape)


def _from_pairs(heads: np.ndarray, tails: np.ndarray, values: np.ndarray) -> sp.csr_array:
    n = SIDE * SIDE
    return sp.csr_array((values, (heads, tails)), shape=(n, n))


@cache
def weights(kind: str) -> sp.csr_array:
    """The W of each kind (see the module notes)."""
    if kind == "row-standardised":
        return lattice(SIDE, queen=True)
    if kind == "binary":
        return sp.csr_array((lattice(SIDE, queen=True) > 0).astype(float))
    xy = points()
    tree = cKDTree(xy)
    if kind == "knn":
        dist, index = tree.query(xy, k=7)
        heads = np.repeat(np.arange(len(xy)), 6)
        return _from_pairs(heads, index[:, 1:].ravel(), 1.0 / dist[:, 1:].ravel())
    pairs = tree.query_pairs(2.5, output_type="ndarray")
    heads, tails = np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]]
    dist = np.linalg.norm(xy[heads] - xy[tails], axis=1)
    values = 1.0 / dist if kind == "inverse-distance" else 1.0 - dist / 2.5
    return _from_pairs(heads, tails, values)


@cache
def spectrum(kind: str) -> tuple[float, float, float]:
    """Smallest and largest real part and the largest modulus of the eigenvalues, dense numpy."""
    values = np.linalg.eigvals(weights(kind).toarray())
    return float(values.real.min()), float(values.real.max()), float(np.abs(values).max())


@cache
def dataset(kind: str, process: str) -> Dataset:
    """y from a lag, error or sac process with parameters at half the true upper bound."""
    W = weights(kind)
    n = W.shape[0]
    param = 0.5 / spectrum(kind)[1]
    rng = np.random.default_rng(11)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
    A = sp.csc_matrix(sp.identity(n) - param * W)
    eps = rng.standard_normal(n)
    if process == "lag":
        y = spla.spsolve(A, X @ BETA + eps)
    elif process == "error":
        y = X @ BETA + spla.spsolve(A, eps)
    else:  # sac: rho as above, lambda at a quarter of the bound
        B = sp.csc_matrix(sp.identity(n) - 0.5 * param * W)
        y = spla.spsolve(A, X @ BETA + spla.spsolve(B, eps))
    return Dataset(tuple(f"r{i}" for i in range(n)), y, X, "y", ("(Intercept)", "x1", "x2"), W)


@cache
def fitted(kind: str, model: str, engine: str):
    process = {"durbin": "lag"}.get(model, model)
    return fit(FitSpec(model=model, y="y", x=("x1", "x2"), impacts_se="none"), dataset(kind, process), engine=engine)


def _estimates(result) -> dict[str, float]:
    return {c.term: c.estimate for c in result.coefficients}


def _refused(kind: str, engine: str) -> bool:
    return kind in ASYMMETRIC and engine in SYMMETRIC_ONLY


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("model", ["lag", "error", "durbin"])
@pytest.mark.parametrize("kind", KINDS)
def test_engine_agrees_with_eigen(kind, model, engine):
    if _refused(kind, engine):
        with pytest.raises(EstimationError, match="similar to a symmetric matrix"):
            fitted(kind, model, engine)
        return
    got, ref = fitted(kind, model, engine), fitted(kind, model, "eigen")
    term = TERM[model]
    accuracy = got.meta.get("logdet_accuracy")
    # Exact engines: the estimates differ only by the optimiser's tolerance (1e-10 on theta).
    bound = accuracy[f"{term}_error_bound"] if accuracy else 1e-7
    assert abs(_estimates(got)[term] - _estimates(ref)[term]) <= bound + 1e-9, (kind, model, engine, bound)
    if accuracy:  # and the bound is informative: far below the standard error
        se = {c.term: c.std_error for c in ref.coefficients}[term]
        assert bound < 0.05 * se
    else:
        for name, value in _estimates(ref).items():
            assert math.isclose(_estimates(got)[name], value, rel_tol=1e-6, abs_tol=1e-8), name
        assert math.isclose(got.fit["loglik"], ref.fit["loglik"], rel_tol=1e-9)


@pytest.mark.parametrize("engine", ["lu", "cholesky"])
@pytest.mark.parametrize("kind", KINDS)
def test_sac_engine_agrees_with_eigen(kind, engine):
    if _refused(kind, engine):
        with pytest.raises(EstimationError, match="similar to a symmetric matrix"):
            fitted(kind, "sac", engine)
        return
    got, ref = _estimates(fitted(kind, "sac", engine)), _estimates(fitted(kind, "sac", "eigen"))
    for name, value in ref.items():
        assert math.isclose(got[name], value, rel_tol=1e-6, abs_tol=1e-7), (name, got[name], value)


def _true_space(kind: str, engine: str) -> tuple[float, float]:
    """The parameter space from dense eigenvalues, as each engine is meant to have it."""
    lo, hi, radius = spectrum(kind)
    if kind == "row-standardised":  # the largest eigenvalue is 1; (-1, 1) is kept, as R does
        return (-1.0, 1.0)
    if engine == "mc":  # the Taylor series converges only for |rho| < 1/radius
        return (max(1.0 / lo, -1.0 / radius), min(1.0 / hi, 1.0 / radius))
    return (1.0 / lo, 1.0 / hi)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", KINDS)
def test_parameter_space_matches_the_true_extremes(kind, engine):
    if _refused(kind, engine):
        return
    meta = fitted(kind, "lag", engine).meta
    space, true = meta["parameter_space"], _true_space(kind, engine)
    # Inside the true space (never where I - rho W is singular), and short of it by at most
    # the tolerance the extremes were found to.
    assert true[0] <= space[0] < 0 < space[1] <= true[1], (space, true)
    np.testing.assert_allclose(space, true, rtol=3 * EXTREMES_TOL)
    extremes = meta["eigen_extremes"]
    lo, hi, radius = spectrum(kind)
    slack = 1e-12 * radius  # rounding of the dense eigenvalues
    assert extremes["min"] <= lo + slack and extremes["max"] >= hi - slack
    assert extremes["spectral_radius"] >= radius - slack
    assert {"margin", "tolerance", "method"} <= set(extremes)
    if kind != "row-standardised":
        assert math.isclose(extremes["max"], hi, rel_tol=3 * EXTREMES_TOL)
        if not (engine == "mc" and kind in ASYMMETRIC):  # mc needs no smallest eigenvalue there
            assert math.isclose(extremes["min"], lo, rel_tol=3 * EXTREMES_TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_the_eigen_engine_records_exact_extremes(kind):
    extremes = fitted(kind, "lag", "eigen").meta["eigen_extremes"]
    lo, hi, radius = spectrum(kind)
    np.testing.assert_allclose([extremes["min"], extremes["max"], extremes["spectral_radius"]], [lo, hi, radius],
                               rtol=1e-10)
    assert extremes["tolerance"] == 0.0 and "exact" in extremes["method"]


def test_arnoldi_that_does_not_converge_falls_back_to_the_row_sums(monkeypatch):
    import rtsmig.models.extremes as extremes_module

    def refuse(*args, **kwargs):
        raise spla.ArpackNoConvergence("no convergence", np.array([]), np.array([]))

    monkeypatch.setattr(extremes_module.spla, "eigs", refuse)
    W = weights("knn")
    r = float(np.max(np.abs(W).sum(axis=1)))
    found = eigen_extremes(W, None)
    assert found.bounds == (-1.0 / r, 1.0 / r) and found.radius == r
    assert found.method.count("did not converge") == 2 and "row-sum bound" in found.method


def test_row_standardised_w_keeps_its_bounds_bit_for_bit():
    W = lattice(SIDE, queen=True)
    r = float(np.max(np.abs(W).sum(axis=1)))  # the bound every engine used before issue 14
    extremes = eigen_extremes(W, symmetrising_scale(W))
    assert extremes.bounds == (-1.0 / r, 1.0 / r) and extremes.radius == r
    assert extremes.interval() == (0.0, r)
    assert LULogDet(W).bounds == MCLogDet(W).bounds == ChebyshevLogDet(W).bounds == (-1.0 / r, 1.0 / r)


# --- the Chebyshev expansion on a binary W (kills M18 and M18b) --------------------------------

BINARY_RHOS = (-0.2, -0.08, 0.05, 0.1, 0.12)  # the true space of the binary queen W: (-0.26, 0.127)


@cache
def binary_engines() -> tuple[LULogDet, ChebyshevLogDet]:
    W = weights("binary")
    return LULogDet(W), ChebyshevLogDet(W)


@pytest.mark.parametrize("rho", BINARY_RHOS)
def test_chebyshev_logdet_on_binary_w_within_its_bound(rho):
    """Kills M18b: dropping the spectral scale from log(1 - rho omega) moves it far outside."""
    lu, cheb = binary_engines()
    cheb.refine(rho)
    assert abs(cheb(rho) - lu(rho)) <= cheb.error_bound(0, rho), (rho, cheb(rho), lu(rho))


@pytest.mark.parametrize("rho", BINARY_RHOS)
def test_chebyshev_derivative_on_binary_w_within_its_bound(rho):
    """Kills M18: dropping the spectral scale from the derivative's omega / (1 - rho omega)."""
    lu, cheb = binary_engines()
    cheb.refine(rho)
    h = 1e-5
    slope = (lu(rho + h) - lu(rho - h)) / (2.0 * h)
    assert abs(cheb.derivative(rho) - slope) <= cheb.error_bound(1, rho) + 1e-6 * abs(slope), rho


@pytest.mark.parametrize("engine_class", [ChebyshevLogDet, MCLogDet])
@pytest.mark.parametrize("rho", [-0.06, 0.05, 0.1])
def test_moment_impacts_on_binary_w_within_the_engine_bound(engine_class, rho):
    """The direct multipliers from the engine's moments (large-n impacts) against exact ones: M18
    moved the direct impact by 7.6% on a binary W."""
    W = weights("binary")
    engine = engine_class(W)
    approx, exact = moment_multipliers(W, engine, abs(rho)), exact_multipliers(W)
    r = np.array([rho])
    d1_bound = engine.error_bound(1, rho) / W.shape[0]
    assert abs(approx.direct[1].value(r)[0] - exact.direct[1].value(r)[0]) <= d1_bound
    assert abs(approx.direct[0].value(r)[0] - exact.direct[0].value(r)[0]) <= abs(rho) * d1_bound + 1e-15
    assert approx.bounds[0] >= exact.bounds[0] and approx.bounds[1] <= exact.bounds[1]


def test_large_n_impacts_on_binary_w_agree_with_exact_ones():
    """At n = 1,024 the impacts come from the chebyshev engine's moments (the large-n path, where
    M18 moved the direct impact by 7.6%); at the same estimates they match the exact ones within
    the engine's bound on D0 = 1 + rho D1 (the totals' series is exact to 1e-12)."""
    W = sp.csr_array((lattice(32) > 0).astype(float))  # binary rook: extremes +-3.99
    engine = ChebyshevLogDet(W)
    params, beta = np.array([1.0, 2.0, -1.0, 0.2]), np.array([2.0, -1.0])
    kwargs = {"beta_index": [1, 2], "rho_index": 3, "se": "none"}
    approx, text = spatial_impacts(W, ("x1", "x2"), params, logdet=engine, **kwargs)
    exact, _ = spatial_impacts(W, ("x1", "x2"), params, eigen=EigenLogDet(W), **kwargs)
    assert "moments" in text
    d0_bound = 0.2 * engine.error_bound(1, 0.2) / W.shape[0]
    for a, b in zip(approx, exact):
        slack = abs(beta[0 if a.variable == "x1" else 1]) * d0_bound
        total = 1e-12 * abs(b.estimate) if a.effect == "total" else slack
        assert abs(a.estimate - b.estimate) <= total + 1e-12, (a, b, slack)


# --- done when: the shipped counties, binary queen W, --logdet auto ------------------------------

COUNTIES = ROOT / "shapefiles" / "china_counties" / "china_counties.shp"


def test_counties_binary_w_auto_matches_eigen(tmp_path):
    """Before issue 14, auto (chebyshev above 1,000 regions) refused: "rho = 0.05 is on its bound"."""
    gal, data = tmp_path / "queen.gal", tmp_path / "sim.csv"
    common = ("--id", "adcode", "-q")
    assert run("weights", "build", COUNTIES, *common, "--kind", "queen", "--islands", "attach", "-o", gal).exit_code == 0
    assert run("simulate", COUNTIES, *common, "--model", "lag", "--seed", "1", "-o", data).exit_code == 0
    saved = {}
    for engine in ("auto", "eigen"):
        out = tmp_path / engine
        result = run("fit", data, *common, "-w", gal, "--model", "lag", "--transform", "b",
                     "--logdet", engine, "--impacts-se", "none", "-o", out)
        assert result.exit_code == 0, result.stderr
        saved[engine] = json.loads((out / "result.json").read_text())
    auto, eigen = saved["auto"], saved["eigen"]
    assert auto["meta"]["engine"] == "chebyshev"
    rho = {name: next(c["estimate"] for c in s["coefficients"] if c["term"] == "rho") for name, s in saved.items()}
    bound = auto["meta"]["logdet_accuracy"]["rho_error_bound"]
    assert abs(rho["auto"] - rho["eigen"]) <= bound, (rho, bound)
    assert rho["eigen"] > 0.05  # outside the old row-sum space (-0.05, 0.05)
    np.testing.assert_allclose(auto["meta"]["parameter_space"], eigen["meta"]["parameter_space"],
                               rtol=3 * EXTREMES_TOL)
