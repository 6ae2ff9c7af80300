"""Fits that cannot work are refused before estimation; option combinations that cannot work are usage errors.

Every model and method rtsmig has an estimator for is run through the CLI on a
constant outcome, a constant regressor, a duplicated regressor, an outcome the
regressors fit exactly and fewer regions than coefficients: each must stop with
exit code 5 and one ``Error:`` line (no traceback, no raw library warning, no
result with blank numbers). Options no data can make work (a model without that
method, --robust with ML, --wx naming a column outside --x) stop with exit 2
before any file is read.
"""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.linalg as la
from cli_helpers import REFERENCE, assert_error, assert_unchanged, run, snapshot
from models_fixtures import columbus_dataset, columbus_frame, columbus_w
from shapely.geometry import box

from rtsmig.errors import EstimationError, UsageError
from rtsmig.models import fit
from rtsmig.models.checks import PERFECT_FIT_TOL, check_result
from rtsmig.models.inference import inverse_information
from rtsmig.models.registry import ESTIMATORS, check_options, check_spec, spec_problem
from rtsmig.models.spec import METHODS, MODELS, FitSpec

CSV = REFERENCE / "columbus.csv"
GAL = REFERENCE / "columbus_queen.gal"
# Every (model, method) with an estimator; OLS and SLX ignore the method.
COMBINATIONS = [(model, method or "ml") for model, method in ESTIMATORS]
NO_ESTIMATOR = [(m, me) for m in MODELS for me in METHODS
                if (m, me) not in ESTIMATORS and (m, None) not in ESTIMATORS]


def _only_error_line(result, code, *fragments):
    assert_error(result, code, *fragments)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # no warning lines either


def _fit(data, out, model, method, *extra, weights=GAL, id_col="id", y="CRIME", x="INC,HOVAL"):
    return run("fit", data, "--id", id_col, "--weights", weights, "--model", model, "--method", method,
               "--y", y, "--x", x, "-o", out, "-q", *extra)


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory):
    """Columbus with a constant outcome, a constant regressor, a copy of INC and an exact outcome."""
    frame = pd.read_csv(CSV, dtype={"id": str})
    exact = 1 + 2 * frame["INC"] - 0.5 * frame["HOVAL"]
    frame = frame.assign(FLAT=5.0, ONES=3.0, INC2=frame["INC"], EXACT=exact)
    # y = 0.5 W y + X b without noise: the rows of columbus_w() follow the CSV's.
    frame["LAGGED"] = np.linalg.solve(np.eye(49) - 0.5 * columbus_w().toarray(), exact.to_numpy())
    path = tmp_path_factory.mktemp("degenerate") / "data.csv"
    frame.to_csv(path, index=False)
    return path


CASES = {
    "constant-y": ({"y": "FLAT"}, ("'FLAT' is constant", "--y")),
    "constant-x": ({"x": "INC,HOVAL,ONES"}, ("'ONES' is constant", "drop 'ONES'")),
    "duplicated-x": ({"x": "INC,HOVAL,INC2"}, ("'INC2' is a linear combination of 'INC'",)),
    "exact-fit": ({"y": "EXACT"}, ("fit the outcome 'EXACT' exactly", "'INC', 'HOVAL'")),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("model", "method"), COMBINATIONS)
def test_degenerate_data_is_refused_by_every_estimator(tmp_path, degenerate, model, method, case):
    options, fragments = CASES[case]
    before = snapshot(tmp_path)
    result = _fit(degenerate, tmp_path / "out", model, method, **options)
    _only_error_line(result, 5, *fragments)
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize(("model", "method"), [c for c in COMBINATIONS if c[0] in ("lag", "sac", "durbin", "gns")])
def test_outcome_without_noise_around_its_spatial_lag_is_refused(tmp_path, degenerate, model, method):
    result = _fit(degenerate, tmp_path / "out", model, method, y="LAGGED")
    _only_error_line(result, 5, "the spatial lag W LAGGED fit the outcome 'LAGGED' exactly", "without noise")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("model", "method"), [("ols", "ml"), ("error", "ml"), ("error", "gmm")])
def test_the_same_outcome_is_fitted_by_models_without_rho(tmp_path, degenerate, model, method):
    result = _fit(degenerate, tmp_path / "out", model, method, y="LAGGED")
    assert result.exit_code == 0, result.stderr


def test_repeated_regressor_name_is_an_input_error(tmp_path):
    result = _fit(CSV, tmp_path / "out", "lag", "ml", x="INC,INC")
    _only_error_line(result, 3, "--x names a column twice")


def _blocks(tmp_path, n):
    """n unit squares in a row, their rook weights, and data for them (y, x1, x2)."""
    layer = tmp_path / "row.gpkg"
    squares = [box(i, 0, i + 1, 1) for i in range(n)]
    gpd.GeoDataFrame({"code": [f"r{i}" for i in range(n)]}, geometry=squares, crs="EPSG:3857").to_file(layer)
    weights = tmp_path / "row.gal"
    assert run("weights", "build", layer, "--id", "code", "--kind", "rook", "-o", weights).exit_code == 0
    rng = np.random.default_rng(3)
    data = tmp_path / "row.csv"
    pd.DataFrame({"code": [f"r{i}" for i in range(n)], "y": rng.normal(size=n), "x1": rng.normal(size=n),
                  "x2": rng.normal(size=n)}).to_csv(data, index=False)
    return data, weights


@pytest.mark.parametrize(("model", "method"), COMBINATIONS)
def test_fewer_regions_than_coefficients(tmp_path, model, method):
    data, weights = _blocks(tmp_path, 3)
    before = snapshot(tmp_path)
    result = _fit(data, tmp_path / "out", model, method, weights=weights, id_col="code", y="y", x="x1,x2")
    _only_error_line(result, 5, "regions for", "coefficients", "drop regressors")
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize(("model", "method"), COMBINATIONS)
def test_as_many_regions_as_coefficients_never_gives_blank_numbers(tmp_path, model, method):
    """Four regions, three betas: OLS is fitted (one residual df); a spatial parameter makes it four."""
    data, weights = _blocks(tmp_path, 4)
    out = tmp_path / "out"
    result = _fit(data, out, model, method, weights=weights, id_col="code", y="y", x="x1,x2")
    assert "Traceback" not in result.stderr
    if model == "ols":
        assert result.exit_code == 0, result.stderr
        numbers = pd.read_csv(out / "coefficients.csv").drop(columns="term")
        assert np.isfinite(numbers.to_numpy(float)).all()
    else:
        _only_error_line(result, 5, "4 regions for", "drop regressors")
        assert not out.exists()


@pytest.mark.parametrize(("model", "method"), NO_ESTIMATOR)
def test_model_without_that_method_is_a_usage_error(tmp_path, model, method):
    before = snapshot(tmp_path)
    result = _fit(CSV, tmp_path / "out", model, method)
    other = "gmm" if method == "ml" else "ml"
    _only_error_line(result, 2, f"the {model} model has no {method} estimator", f"--method {other}")
    assert_unchanged(before, tmp_path)


def test_gns_without_method_gmm(tmp_path):
    result = run("fit", CSV, "--id", "id", "--weights", GAL, "--model", "gns", "--y", "CRIME", "--x", "INC,HOVAL",
                 "-o", tmp_path / "out", "-q")
    _only_error_line(result, 2, "gns model has no ml estimator", "use --method gmm")


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (("--model", "lag", "--robust"), ("robust standard errors", "drop --robust or use --method gmm")),
        (("--model", "durbin-error", "--robust"), ("robust standard errors",)),
        (("--model", "sac", "--logdet", "chebyshev"), ("--logdet chebyshev is not available for the sac model",)),
        (("--model", "sac", "--logdet", "mc"), ("--logdet mc", "use eigen, cholesky or lu")),
        (("--model", "slx", "--wx", "FOO"), ("--wx names 'FOO'", "not among the --x", "INC, HOVAL")),
        (("--model", "slx", "--wx", "HOVL"), ("--wx names 'HOVL'", "did you mean 'HOVAL'?", "INC, HOVAL")),
        (("--model", "durbin", "--wx", "INC,CRIME"), ("--wx names 'CRIME'", "choose among INC, HOVAL")),
    ],
    ids=["robust-lag", "robust-durbin-error", "sac-chebyshev", "sac-mc", "wx-slx", "wx-typo", "wx-durbin"],
)
def test_option_combinations_that_cannot_work(tmp_path, extra, fragments):
    before = snapshot(tmp_path)
    result = run("fit", CSV, "--id", "id", "--weights", GAL, "--y", "CRIME", "--x", "INC,HOVAL",
                 "-o", tmp_path / "out", "-q", *extra)
    _only_error_line(result, 2, *fragments)
    assert_unchanged(before, tmp_path)


def test_usage_error_comes_before_any_file_is_read(tmp_path):
    result = _fit(tmp_path / "missing.csv", tmp_path / "out", "gns", "ml")
    _only_error_line(result, 2, "--method gmm")


@pytest.mark.parametrize("model", ["ols", "lag", "error", "sac"])
def test_wx_with_a_model_that_lags_no_regressors_is_a_usage_error(tmp_path, model):
    result = _fit(CSV, tmp_path / "out", model, "ml", "--wx", "INC")
    _only_error_line(result, 2, "--wx", f"the {model} model lags no regressors")
    assert list(tmp_path.iterdir()) == []


def test_select_wx_outside_x_is_a_usage_error(tmp_path):
    before = snapshot(tmp_path)
    result = run("select", CSV, "--id", "id", "--weights", GAL, "--y", "CRIME", "--x", "INC,HOVAL", "--wx", "foo",
                 "-o", tmp_path / "report", "-q")
    _only_error_line(result, 2, "--wx names 'foo'", "choose among INC, HOVAL")
    assert_unchanged(before, tmp_path)


def test_select_on_a_constant_outcome(tmp_path, degenerate):
    result = run("select", degenerate, "--id", "id", "--weights", GAL, "--y", "FLAT", "--x", "INC,HOVAL",
                 "-o", tmp_path / "report", "-q")
    _only_error_line(result, 5, "'FLAT' is constant")
    assert not (tmp_path / "report").exists()


# The library: the same checks, as EstimationError for library callers and UsageError for the CLI.


def test_option_problems_are_usage_errors_for_the_cli_and_estimation_errors_for_the_library():
    spec = FitSpec(model="gns", method="ml", y="CRIME", x=("INC", "HOVAL"))
    assert spec_problem(spec) == "the gns model has no ml estimator; use --method gmm"
    with pytest.raises(UsageError, match="use --method gmm") as info:
        check_options(spec)
    assert info.value.exit_code == 2
    with pytest.raises(EstimationError, match="use --method gmm"):
        check_spec(spec, None)
    assert spec_problem(FitSpec(model="lag", y="CRIME", x=("INC",), wx=("FOO",))) is None  # lag lags no X


@pytest.mark.parametrize(("model", "method"), COMBINATIONS)
def test_constant_outcome_in_the_library(model, method):
    data = dataclasses.replace(columbus_dataset(), y=np.full(49, 2.5))
    with pytest.raises(EstimationError, match="is constant"):
        fit(FitSpec(model=model, method=method, y="CRIME", x=("INC", "HOVAL")), data)


def test_nearly_exact_outcome_is_refused_but_a_noisy_one_is_fitted():
    frame = columbus_frame()
    signal = 1 + 2 * frame["INC"].to_numpy() - 0.5 * frame["HOVAL"].to_numpy()
    wiggle = np.sin(np.arange(49.0))
    spec = FitSpec(model="lag", y="CRIME", x=("INC", "HOVAL"))
    with pytest.raises(EstimationError, match="exactly"):
        fit(spec, dataclasses.replace(columbus_dataset(), y=signal + 1e-8 * wiggle))
    result = fit(spec, dataclasses.replace(columbus_dataset(), y=signal + 1e-3 * np.std(signal) * wiggle))
    assert 1 - result.fit["pseudo_r2"] > PERFECT_FIT_TOL


def test_inverse_information_refuses_singular_and_non_finite_matrices():
    good = np.array([[4.0, 1.0], [1.0, 3.0]]) * 1e-20  # badly scaled is not singular
    assert np.array_equal(inverse_information(good, "x"), la.inv(good))
    with pytest.raises(EstimationError, match=r"information matrix of \(beta, rho\) is singular"):
        inverse_information(np.array([[1.0, 2.0], [2.0, 4.0]]), "(beta, rho)")
    with pytest.raises(EstimationError, match="is not finite"):
        inverse_information(np.array([[1.0, np.inf], [np.inf, 1.0]]), "(beta, rho)")
    with pytest.raises(EstimationError, match="singular"):
        inverse_information(np.diag([1.0, 0.0]), "(lambda, sigma2)")


def test_a_fit_with_a_blank_standard_error_is_refused():
    result = fit(FitSpec(model="lag", y="CRIME", x=("INC", "HOVAL")), columbus_dataset())
    check_result(result)
    rows = tuple(dataclasses.replace(c, std_error=math.nan) if c.term == "INC" else c for c in result.coefficients)
    with pytest.raises(EstimationError, match=r"lag \(ML\) fit gives no finite value for 'INC'"):
        check_result(dataclasses.replace(result, coefficients=rows))
    with pytest.raises(EstimationError, match="'loglik'"):
        check_result(dataclasses.replace(result, fit={**result.fit, "loglik": math.nan}))


def test_gmm_lambda_without_standard_error_by_convention_is_accepted():
    result = fit(FitSpec(model="sac", method="gmm", y="CRIME", x=("INC", "HOVAL")), columbus_dataset())
    assert math.isnan(next(c.std_error for c in result.coefficients if c.term == "lambda"))


def test_a_singular_matrix_inside_an_estimator_is_an_estimation_error(monkeypatch):
    def singular(spec, data, engine):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setitem(ESTIMATORS, ("lag", "ml"), singular)
    with pytest.raises(EstimationError, match=r"lag \(ML\) fit met a singular matrix \(Singular matrix\)"):
        fit(FitSpec(model="lag", y="CRIME", x=("INC", "HOVAL")), columbus_dataset())
