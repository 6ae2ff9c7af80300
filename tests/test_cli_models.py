"""`rtsmig fit` for the model family from the shell: --model, --wx, --impacts-se, --na drop."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from cli_helpers import REFERENCE, assert_error, run
from models_fixtures import columbus_w

from rtsmig.dataset import Dataset
from rtsmig.models import FitSpec, fit

CSV = REFERENCE / "columbus.csv"
GAL = REFERENCE / "columbus_queen.gal"
MISSING = {"5": "INC", "17": "HOVAL", "30": "CRIME"}


def _fit(out, *extra, data=CSV):
    result = run("fit", data, "--id", "POLYID", "--weights", GAL, "--y", "CRIME", "--x", "INC,HOVAL",
                 "-o", out, "-q", *extra)
    return result


@pytest.fixture(scope="module")
def holes(tmp_path_factory):
    """Columbus with one missing cell in each of three regions."""
    frame = pd.read_csv(CSV, dtype={"POLYID": str})
    for region, column in MISSING.items():
        frame.loc[frame["POLYID"] == region, column] = np.nan
    path = tmp_path_factory.mktemp("na") / "holes.csv"
    frame.to_csv(path, index=False)
    return path


def test_missing_values_are_refused_by_default_with_the_fix(holes, tmp_path):
    result = _fit(tmp_path / "out", "--model", "lag", data=holes)
    assert_error(result, 3, "missing values", "--na drop")
    assert not (tmp_path / "out").exists()


def test_na_drop_subsets_and_restandardises_the_weights(holes, tmp_path):
    out = tmp_path / "lag"
    result = _fit(out, "--model", "lag", "--na", "drop", "--impacts-se", "none", data=holes)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert (out / "dropped.csv").read_text().split() == ["POLYID", "5", "17", "30"]
    assert json.loads((out / "result.json").read_text())["meta"]["dropped_ids"] == ["5", "17", "30"]
    # The same fit by hand: binary W without the three regions, then row-standardised.
    frame = pd.read_csv(CSV, dtype={"POLYID": str})
    keep = ~frame["POLYID"].isin(list(MISSING))
    B = (columbus_w().toarray() > 0).astype(float)[np.ix_(keep, keep)]
    W = B / B.sum(axis=1, keepdims=True)
    kept = frame[keep]
    X = np.column_stack([np.ones(keep.sum()), kept["INC"], kept["HOVAL"]])
    data = Dataset(tuple(kept["POLYID"]), kept["CRIME"].to_numpy(), X, "CRIME", ("(Intercept)", "INC", "HOVAL"),
                   W=sp.csr_array(W))
    expected = fit(FitSpec(model="lag", y="CRIME", x=("INC", "HOVAL"), impacts_se="none"), data)
    got = pd.read_csv(out / "coefficients.csv").set_index("term")["estimate"]
    np.testing.assert_allclose(got.to_numpy(), [c.estimate for c in expected.coefficients], rtol=1e-10)
    assert pd.read_csv(out / "fit.csv").set_index("statistic").loc["n", "value"] == 46


def test_durbin_with_wx_and_delta_impacts(tmp_path):
    out = tmp_path / "durbin"
    result = _fit(out, "--model", "durbin", "--wx", "INC", "--impacts-se", "delta")
    assert result.exit_code == 0, (result.stderr, result.exception)
    terms = pd.read_csv(out / "coefficients.csv")["term"].tolist()
    assert terms == ["(Intercept)", "INC", "HOVAL", "W_INC", "rho"]
    impacts = pd.read_csv(out / "impacts.csv")
    assert len(impacts) == 6 and (impacts["std_error"] > 0).all()
    assert "delta" in json.loads((out / "result.json").read_text())["meta"]["impacts_method"]


def test_simulated_impacts_are_reproducible_and_depend_on_the_seed(tmp_path):
    a, b, c = (tmp_path / name for name in "abc")
    for out, seed in ((a, "7"), (b, "7"), (c, "8")):
        assert _fit(out, "--model", "lag", "--seed", seed, "--draws", "500").exit_code == 0
    assert (a / "impacts.csv").read_bytes() == (b / "impacts.csv").read_bytes()
    assert (a / "impacts.csv").read_bytes() != (c / "impacts.csv").read_bytes()


def test_wx_naming_an_unknown_column_is_a_usage_error(tmp_path):
    result = _fit(tmp_path / "slx", "--model", "slx", "--wx", "INCOME")
    assert_error(result, 2, "--wx names 'INCOME'")
    assert not (tmp_path / "slx").exists()


def test_a_model_without_that_method_is_a_usage_error(tmp_path):
    result = _fit(tmp_path / "x", "--model", "durbin-error", "--method", "gmm")
    assert_error(result, 2, "no gmm estimator", "--method ml")


def test_logdet_engine_is_chosen_on_the_command_line_and_recorded(tmp_path):
    """--logdet reaches the estimator; result.json and manifest.json say which engine ran."""
    out = tmp_path / "cheb"
    result = _fit(out, "--model", "lag", "--logdet", "chebyshev")
    assert result.exit_code == 0, result.stderr
    saved = json.loads((out / "result.json").read_text())
    assert saved["meta"]["engine"] == "chebyshev"
    assert saved["meta"]["logdet_accuracy"]["rho_error_bound"] > 0
    assert json.loads((out / "manifest.json").read_text())["options"]["logdet"] == "chebyshev"
    auto = tmp_path / "auto"
    assert _fit(auto, "--model", "lag").exit_code == 0
    assert json.loads((auto / "result.json").read_text())["meta"]["engine"] == "eigen"  # 49 regions


def test_an_unknown_logdet_engine_is_a_usage_error(tmp_path):
    result = _fit(tmp_path / "out", "--model", "lag", "--logdet", "magic")
    assert result.exit_code == 2
    assert "magic" in result.stderr and not (tmp_path / "out").exists()
