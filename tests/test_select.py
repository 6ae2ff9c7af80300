"""Tests between models and `rtsmig select` on Columbus.

LR statistics are checked against the log-likelihoods R spatialreg reports
(tests/reference/columbus.json); the Wald tests against their definitions.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import REFERENCE, assert_error, run
from models_fixtures import columbus_dataset, reference, spec

from rtsmig.models import fit
from rtsmig.models.logdet_engines import make_logdet
from rtsmig.models.ml_lag import ml_lag_kernel
from rtsmig.models.model_tests import durbin_wald_tests, lr_between
from rtsmig.models.selection import SELECT_MODELS, recommend, select_model


@pytest.fixture(scope="module")
def fits():
    data = columbus_dataset()
    return {m: fit(spec(m, "ml", impacts_se="none"), data) for m in SELECT_MODELS}


@pytest.mark.parametrize(("restricted", "unrestricted", "r_restricted", "r_unrestricted", "df"), [
    ("ols", "lag", "ols", "lag_ml", 1),
    ("error", "durbin", "error_ml", "durbin_ml", 2),  # the common-factor LR test
    ("lag", "durbin", "lag_ml", "durbin_ml", 2),
    ("error", "durbin-error", "error_ml", "durbin_error_ml", 2),
])
def test_lr_tests_equal_those_from_r_logliks(fits, restricted, unrestricted, r_restricted, r_unrestricted, df):
    R = reference()
    test = lr_between(fits[restricted], fits[unrestricted], "")
    expected = 2 * (R[r_unrestricted]["loglik"] - R[r_restricted]["loglik"])
    assert test.statistic == pytest.approx(expected, rel=1e-6)
    assert test.df == df


def test_wald_of_one_lag_is_its_squared_z(fits):
    result = fit(spec("durbin", "ml", wx=("INC",), impacts_se="none"), columbus_dataset())
    w_inc = next(c for c in result.coefficients if c.term == "W_INC")
    wald = next(t for t in result.diagnostics if t.name == "Wald test (W_INC = 0)")
    assert wald.statistic == pytest.approx(w_inc.statistic**2, rel=1e-10)


def test_common_factor_wald_matches_a_numerical_jacobian():
    data = columbus_dataset()
    X = np.column_stack([data.X, data.W @ data.X[:, 1:]])
    names = (*data.x_names, "W_INC", "W_HOVAL")
    est = ml_lag_kernel(data.y, X, data.W, make_logdet(data.W))
    params, cov = np.append(est.beta, est.rho), est.cov[:6, :6]
    analytic = durbin_wald_tests(names, ("INC", "HOVAL"), params, cov, 5)[1].statistic

    def g(p):
        return p[[3, 4]] + p[5] * p[[1, 2]]

    h = 1e-6
    G = np.column_stack([(g(params + h * e) - g(params - h * e)) / (2 * h) for e in np.eye(6)])
    numeric = g(params) @ np.linalg.solve(G @ cov @ G.T, g(params))
    assert analytic == pytest.approx(numeric, rel=1e-7)


def test_columbus_selection_follows_both_paths(fits):
    selection = select_model(fits)
    # Robust LM lag (p = 0.053) and robust LM error (p = 0.83): neither below 0.05, lag larger.
    assert [s.leads_to for s in selection.steps] == ["robust LM", "lag", "lag", "error", "durbin"]
    assert selection.recommended == "lag"


@pytest.mark.parametrize(("lm", "rejected", "expected"), [
    ("lag", {"lag": True, "error": True, "slx": True}, "durbin"),
    ("lag", {"lag": True, "error": True, "slx": False}, "slx"),
    ("error", {"lag": True, "error": False, "slx": True}, "error"),
    ("lag", {"lag": True, "error": False, "slx": True}, "durbin"),  # the paths disagree
    ("ols", {"lag": False, "error": False, "slx": False}, "ols"),
])
def test_recommendation_rule(lm, rejected, expected):
    assert recommend(lm, rejected)[0] == expected


def test_select_command_writes_report_and_prints_the_model(tmp_path):
    out = tmp_path / "select"
    result = run("select", REFERENCE / "columbus.csv", "--id", "POLYID", "--weights", REFERENCE / "columbus_queen.gal",
                 "--y", "CRIME", "--x", "INC,HOVAL", "-o", out, "-q")
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert result.stdout == "lag\n"
    report = json.loads((out / "report.json").read_text())
    assert report["recommended"] == "lag" and len(report["lr_tests"]) == 8
    text = (out / "report.md").read_text()
    assert "**Recommended: lag**" in text and "Robust LM lag" in text and "Wald common factor test" in text
    again = tmp_path / "again"
    run("select", REFERENCE / "columbus.csv", "--id", "POLYID", "--weights", REFERENCE / "columbus_queen.gal",
        "--y", "CRIME", "--x", "INC,HOVAL", "-o", again, "-q")
    assert (again / "report.md").read_bytes() == (out / "report.md").read_bytes()


def test_select_with_a_missing_column_names_it(tmp_path):
    result = run("select", REFERENCE / "columbus.csv", "--id", "POLYID", "--weights", REFERENCE / "columbus_queen.gal",
                 "--y", "CRIME", "--x", "INC,INCOME", "-o", tmp_path / "s", "-q")
    assert_error(result, 3, "INCOME")
    assert not (tmp_path / "s").exists()


def _ols_with(p_err: float, p_lag: float, robust: tuple[float, float] = (0.5, 0.5), stats: tuple[float, float] = (1, 2)):
    """An OLS result carrying only the four LM diagnostics lm_path reads (p-values and robust statistics)."""
    from types import SimpleNamespace

    def test(name, p, stat=1.0):
        return SimpleNamespace(name=name, p_value=p, statistic=stat)

    return SimpleNamespace(diagnostics=[
        test("LM error", p_err), test("LM lag", p_lag),
        test("Robust LM error", robust[0], stats[0]), test("Robust LM lag", robust[1], stats[1]),
    ])


@pytest.mark.parametrize("p_err, p_lag, robust, stats, expected, finding", [
    (0.5, 0.5, (0.5, 0.5), (1, 2), "ols", "neither LM error nor LM lag"),
    (0.01, 0.5, (0.5, 0.5), (1, 2), "error", "only LM error"),
    (0.5, 0.01, (0.5, 0.5), (1, 2), "lag", "only LM lag"),
    (0.01, 0.01, (0.01, 0.5), (1, 9), "error", "only robust LM error"),
    (0.01, 0.01, (0.5, 0.01), (9, 1), "lag", "only robust LM lag"),
    (0.01, 0.01, (0.01, 0.01), (9, 3), "error", "both robust LM test is significant; the larger statistic is error"),
    (0.01, 0.01, (0.5, 0.5), (1, 3), "lag", "neither robust LM test is significant; the larger statistic is lag"),
])
def test_every_branch_of_anselins_lm_rule(p_err, p_lag, robust, stats, expected, finding):
    """Anselin's rule: plain LM tests first; when both are significant the robust ones decide (M11)."""
    from rtsmig.models.selection import lm_path

    steps, model = lm_path(_ols_with(p_err, p_lag, robust, stats), alpha=0.05)
    assert model == expected
    assert finding in steps[-1].finding and steps[-1].leads_to == expected
    assert len(steps) == (2 if p_err < 0.05 and p_lag < 0.05 else 1)
