"""Survey scores and reliability against textbook formulas, numpy, and R's factanal.

The reference values in tests/reference/survey/factanal.json come from
tests/reference/survey/factanal.R (R 4.2 ``factanal``) on items.csv beside it;
these tests read the JSON and need no R.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import REFERENCE, ROOT

from rtsmig.survey import Dimension, build_index, combine, parse_inline, parse_toml
from rtsmig.survey.factor import LOWER, OneFactor, fit_one_factor
from rtsmig.survey.reliability import flags

SURVEY = REFERENCE / "survey"
FACTANAL = json.loads((SURVEY / "factanal.json").read_text(encoding="utf-8"))["dimensions"]
EXAMPLE = ROOT / "examples" / "strategy" / "data.csv"
# The loadings of the simulation (rtsmig/simulate/dgp.py), on the latent answers.
TRUE_LOADINGS = (0.85, 0.8, 0.75, 0.8)


def _items() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "items.csv", dtype={"adcode": str}).set_index("adcode")


def _dim(name: str) -> Dimension:
    return Dimension(name, tuple(FACTANAL[name]["items"]))


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    return _items()


@pytest.mark.parametrize("name", sorted(FACTANAL))
def test_one_factor_ml_equals_factanal(items, name):
    ref = FACTANAL[name]
    result = build_index(items, [_dim(name)])
    rel = result.reliability[0]
    assert rel.n == len(items)
    np.testing.assert_allclose(rel.loadings, ref["loadings"], atol=1e-10)  # achieved: about 1e-13
    np.testing.assert_allclose(rel.uniquenesses, ref["uniquenesses"], atol=1e-10)


@pytest.mark.parametrize("name", sorted(FACTANAL))
def test_factor_scores_equal_factanal_regression_scores(items, name):
    ref = FACTANAL[name]
    scores = build_index(items, [_dim(name)], method="factor").scores[name]
    np.testing.assert_allclose(scores.loc[ref["score_ids"]], ref["scores"], atol=1e-10)


@pytest.mark.parametrize("name", sorted(FACTANAL))
def test_alpha_cr_ave_textbook_formulas(items, name):
    ref = FACTANAL[name]
    rel = build_index(items, [_dim(name)]).reliability[0]
    # alpha from the item covariance matrix: k/(k-1) (1 - trace(C) / sum(C)).
    C = np.cov(items[ref["items"]].to_numpy(dtype=float), rowvar=False, ddof=1)
    k = C.shape[0]
    alpha = k / (k - 1) * (1 - np.trace(C) / C.sum())
    lam = np.array(ref["loadings"])
    cr = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    ave = (lam**2).sum() / k
    assert rel.alpha == pytest.approx(alpha, rel=1e-12)
    assert rel.cr == pytest.approx(cr, abs=1e-5)
    assert rel.ave == pytest.approx(ave, abs=1e-5)


def test_two_items_equal_loadings(items):
    dim = Dimension("pair", ("method_q1", "method_q2"))
    rel = build_index(items, [dim]).reliability[0]
    r12 = np.corrcoef(items["method_q1"], items["method_q2"])[0, 1]
    np.testing.assert_allclose(rel.loadings, [np.sqrt(r12)] * 2, rtol=1e-12)
    a, b = items["method_q1"], items["method_q2"]
    alpha = 2 * (1 - (a.var() + b.var()) / (a + b).var())
    assert rel.alpha == pytest.approx(alpha, rel=1e-12)


def test_pca_scores_equal_numpy_svd(items):
    dim = _dim("position")
    scores = build_index(items, [dim], method="pca").scores["position"].to_numpy()
    X = items[list(dim.items)].to_numpy(dtype=float)
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    _, s, vt = np.linalg.svd(Z / np.sqrt(len(Z) - 1), full_matrices=False)
    v = vt[0] * np.sign(vt[0].sum())
    expected = Z @ v / s[0]  # eigenvalue of R = s[0]**2
    np.testing.assert_allclose(scores, expected, rtol=1e-10, atol=1e-12)
    assert np.var(scores, ddof=1) == pytest.approx(1.0)


def _with_gaps(items: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Items with 0..k answers missing in the first rows: row i misses its first i items."""
    data = items[cols].astype(float).copy()
    for i in range(len(cols) + 1):
        data.iloc[i, :i] = np.nan
    return data


def test_mean_scores_with_missing_answers(items):
    cols = list(_dim("position").items)
    data = _with_gaps(items, cols)
    result = build_index(data, [_dim("position")], method="mean")
    got = result.scores["position"].to_numpy()
    answered = data.notna().sum(axis=1).to_numpy()
    expected = np.where(answered >= 2, data.mean(axis=1, skipna=True), np.nan)
    np.testing.assert_allclose(got, expected, equal_nan=True)
    assert np.isnan(got[3]) and np.isnan(got[4]) and not np.isnan(got[2])  # 1 and 0 answers of 4: no score
    assert result.details[0].n_unscored == 2
    strict = build_index(data, [_dim("position")], min_answered=4).scores["position"]
    assert strict.isna().sum() == 4


@pytest.mark.parametrize("method", ["pca", "factor"])
def test_pca_and_factor_prorate_answered_weights(items, method):
    dim = _dim("method")
    data = _with_gaps(items, list(dim.items))
    result = build_index(data, [dim], method=method)
    X = data.to_numpy()
    C = X[~np.isnan(X).any(axis=1)]
    Z = (X - C.mean(axis=0)) / C.std(axis=0, ddof=1)
    R = np.corrcoef(C, rowvar=False)
    if method == "pca":
        values, vectors = np.linalg.eigh(R)
        w = vectors[:, -1] * np.sign(vectors[:, -1].sum()) / np.sqrt(values[-1])
    else:
        w = np.linalg.solve(R, fit_one_factor(R).loadings)
    answered = ~np.isnan(X)
    with np.errstate(invalid="ignore"):  # rows with no answer: 0 / 0, no score anyway
        partial = np.where(answered, Z, 0) @ w * w.sum() / (answered @ w)
    expected = np.where(answered.sum(axis=1) >= 2, partial, np.nan)
    np.testing.assert_allclose(result.scores["method"], expected, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(result.details[0].weights, w, rtol=1e-10)
    complete = answered.all(axis=1)
    np.testing.assert_allclose(result.scores["method"][complete], Z[complete] @ w, rtol=1e-10)


def test_example_data_near_simulated_truth():
    data = pd.read_csv(EXAMPLE, dtype={"adcode": str}).set_index("adcode")
    dims = [Dimension(d, tuple(f"{d}_q{m}" for m in range(1, 5)))
            for d in ("position", "method", "sustainability", "flexibility")]
    for rel in build_index(data, dims).reliability:
        # Likert cuts attenuate Pearson correlations: near the truth, not equal to it.
        assert np.all(np.abs(np.array(rel.loadings) - TRUE_LOADINGS) < 0.2), (rel.name, rel.loadings)
        assert rel.alpha > 0.7
        assert rel.flags == ()


def test_reverse_coded_item_is_flagged(items):
    data = items.copy()
    data["position_q2"] = 6 - data["position_q2"]
    rel = build_index(data, [_dim("position")]).reliability[0]
    assert rel.loadings[1] < 0 < min(rel.loadings[0], rel.loadings[2], rel.loadings[3])
    assert "negative loading: position_q2" in rel.flags
    assert "alpha < 0.7" in rel.flags


def test_flags_thresholds_and_heywood():
    fit = OneFactor(loadings=np.array([0.99, 0.5, 0.4]), uniquenesses=np.array([LOWER, 0.75, 0.84]))
    assert flags(0.69, 0.71, 0.49, ("a", "b", "c"), fit) == ("alpha < 0.7", "AVE < 0.5", "Heywood case: a")
    assert flags(0.7, 0.7, 0.5, ("a", "b", "c"), OneFactor(np.full(3, 0.8), np.full(3, 0.36))) == ()


def test_items_specs_parse_and_combine():
    toml = parse_toml({"position": ["q1", "q2"], "method": ["q3", "q4", "q5"]}, "items.toml")
    inline = parse_inline("flex = q6, q7")
    dims = combine([toml, inline])
    assert [d.name for d in dims] == ["position", "method", "flex"]
    assert dims[2].items == ("q6", "q7")
