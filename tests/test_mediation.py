"""Spatial mediation: the path algebra against dense matrices, and interval coverage on simulated data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from lattice_fixtures import lattice

from rtsmig.dataset import build_dataset
from rtsmig.errors import EstimationError
from rtsmig.mediation import MediationSpec, mediate
from rtsmig.mediation.paths import Spectrum
from rtsmig.models import FitSpec, fit
from rtsmig.simulate import CHANNELS, DIMENSIONS, SimulationSpec, simulate_design

BETAS_WITH_CHANNELS = {"position": 0.8, "method": 0.5, "sustainability": 0.3, "flexibility": 0.6,
                       "environment": 0.5, "technology": 0.4, "performance": 0.3}
BETAS_WITHOUT = {d: BETAS_WITH_CHANNELS[d] for d in DIMENSIONS}


def _process(model: str) -> dict:
    if model == "error":
        return {"lam": 0.4}
    return {"rho": 0.4} if model == "lag" else {"rho": 0.4, "theta": None}


def simulation(model: str, seed: int, betas: dict) -> SimulationSpec:
    kw = _process(model)
    if "theta" in kw:
        kw["theta"] = dict.fromkeys(betas, 0.2)
    return SimulationSpec(model=model, seed=seed, betas=betas, **kw)


def parts(S: np.ndarray) -> dict[str, float]:
    """Internal (mean diagonal), total (mean row sum) and external of an effect matrix."""
    n = S.shape[0]
    internal, total = np.trace(S) / n, S.sum() / n
    return {"internal": internal, "external": total - internal, "total": total}


def true_channel_effect(spec: SimulationSpec, W: np.ndarray, cause: str, channel: str) -> dict[str, float]:
    """The simulation's true effect of ``cause`` through ``channel``, from dense matrices."""
    n = W.shape[0]
    gamma = spec.betas.get(channel, 0.0)
    theta = spec.theta.get(channel, 0.0) if spec.theta else 0.0
    A_inv = np.linalg.inv(np.eye(n) - (spec.rho or 0.0) * W)
    return parts(A_inv @ (gamma * np.eye(n) + theta * W) * spec.channel_coefficients[channel][cause])


def _coef(result, term: str) -> float:
    return float(result.coef.get(term, 0.0))


def fitted_effects(result, W: np.ndarray, cause: str) -> dict[str, dict[str, float]]:
    """Every path of ``cause`` recomputed densely from the fitted coefficients."""
    n = W.shape[0]
    I = np.eye(n)

    def operator(fit_result, term):
        A_inv = np.linalg.inv(I - _coef(fit_result, "rho") * W)
        return A_inv @ (_coef(fit_result, term) * I + _coef(fit_result, "W_" + term) * W)

    y_fit = result.fits[result.spec.y]
    paths = {"direct": parts(operator(y_fit, cause))}
    for m in result.spec.mediators:
        paths["via " + m] = parts(operator(y_fit, m) @ operator(result.fits[m], cause))
    return paths


@pytest.fixture(scope="module")
def small_design():
    W = lattice(9, queen=True)
    ids = [f"r{i}" for i in range(W.shape[0])]
    frame = simulate_design(W, simulation("durbin", 3, BETAS_WITH_CHANNELS), ids)
    return W, frame


@pytest.mark.parametrize("model", ["lag", "durbin", "error"])
def test_point_effects_equal_dense_matrices_of_the_fitted_coefficients(small_design, model):
    W, frame = small_design
    result = mediate(MediationSpec(model, "migration", DIMENSIONS, CHANNELS, draws=200), frame, W)
    for cause in DIMENSIONS:
        dense = fitted_effects(result, W.toarray(), cause)
        for path, expected in dense.items():
            for part in result.spec.parts:
                got = result.effect(cause, path, part).estimate
                assert got == pytest.approx(expected[part], abs=1e-10), (cause, path, part)
        indirect = {p: sum(dense["via " + m][p] for m in CHANNELS) for p in result.spec.parts}
        for part in result.spec.parts:
            assert result.effect(cause, "indirect", part).estimate == pytest.approx(indirect[part], abs=1e-10)
            total = dense["direct"][part] + indirect[part]
            assert result.effect(cause, "total", part).estimate == pytest.approx(total, abs=1e-10)


def test_totals_from_eigenvectors_when_rows_are_not_standardised(small_design):
    W, frame = small_design
    binary = sp.csr_array((W > 0).astype(float))  # symmetric, row sums 3 to 8
    result = mediate(MediationSpec("lag", "migration", DIMENSIONS, CHANNELS, draws=200), frame, binary * 0.12)
    assert "eigenvectors" in result.meta["effects_method"]
    dense = fitted_effects(result, binary.toarray() * 0.12, "position")
    for part in ("internal", "external", "total"):
        assert result.effect("position", "via technology", part).estimate == pytest.approx(
            dense["via technology"][part], abs=1e-10
        )


def test_direct_path_is_the_outcome_equations_impact(small_design):
    W, frame = small_design
    result = mediate(MediationSpec("durbin", "migration", DIMENSIONS, CHANNELS, draws=200), frame, W)
    x = (*DIMENSIONS, *CHANNELS)
    data = build_dataset(frame, "migration", x, source="simulated", W=W)
    impacts = fit(FitSpec(model="durbin", y="migration", x=x, impacts_se="none"), data)
    for cause in DIMENSIONS:
        for part, effect in (("internal", "direct"), ("external", "indirect"), ("total", "total")):
            expected = impacts.impact(cause, effect).estimate
            assert result.effect(cause, "direct", part).estimate == pytest.approx(expected, abs=1e-10)


def test_same_seed_same_intervals_and_another_seed_others(small_design):
    W, frame = small_design
    spec = MediationSpec("lag", "migration", DIMENSIONS, CHANNELS, draws=300, seed=5)
    first, again = mediate(spec, frame, W), mediate(spec, frame, W)
    other = mediate(MediationSpec("lag", "migration", DIMENSIONS, CHANNELS, draws=300, seed=6), frame, W)
    assert first.effects == again.effects
    assert first.frame()["ci_low"].tolist() != other.frame()["ci_low"].tolist()
    assert first.frame()["estimate"].tolist() == other.frame()["estimate"].tolist()


def test_a_w_neither_standardised_nor_symmetrisable_is_refused():
    W = sp.csr_array(np.array([[0, 1.0, 0], [0.5, 0, 2.0], [1.0, 0.2, 0]]))
    with pytest.raises(EstimationError, match="constant row sums"):
        Spectrum.of(W)


def _coverage(model: str, betas: dict, reps: int, side: int = 16) -> np.ndarray:
    """Per data set, the share of the via-channel 95% intervals, every part, that hold their true effect."""
    W = lattice(side, queen=True)
    dense = W.toarray()
    ids = [f"r{i}" for i in range(W.shape[0])]
    shares = []
    for seed in range(reps):
        spec = simulation(model, 100 + seed, betas)
        frame = simulate_design(W, spec, ids)
        result = mediate(MediationSpec(model, "migration", DIMENSIONS, CHANNELS, draws=500, seed=seed), frame, W)
        hits = []
        for cause in DIMENSIONS:
            for channel in CHANNELS:
                truth = true_channel_effect(spec, dense, cause, channel)
                for part in result.spec.parts:
                    e = result.effect(cause, "via " + channel, part)
                    hits.append(e.ci_low <= truth[part] <= e.ci_high)
        shares.append(np.mean(hits))
    return np.array(shares)


def _coverage_band(shares: np.ndarray, paths: int) -> tuple[float, float]:
    """Mean coverage and its Monte Carlo SE from the spread over data sets.

    The intervals of one data set share its estimates, so they are correlated; the data
    sets are independent, and the SE of the mean is the SD of the per-data-set shares over
    sqrt(reps). Its floor is the binomial SE of independent intervals, for data sets that
    all happen to agree.
    """
    spread = float(np.std(shares, ddof=1)) / math.sqrt(len(shares))
    binomial = math.sqrt(0.95 * 0.05 / (paths * len(shares)))
    return float(np.mean(shares)), max(spread, binomial)


MC_SES = 3  # the band: nominal 95% plus or minus three Monte Carlo SEs of the mean coverage (about 0.04)


@pytest.mark.parametrize("model", ["lag", "durbin", "error"])
def test_intervals_cover_the_true_indirect_effects(model):
    # 40 data sets x 12 channel paths (x 3 parts with spillovers); nominal 95%.
    shares = _coverage(model, BETAS_WITH_CHANNELS, reps=40)
    mean, se = _coverage_band(shares, paths=12)
    assert abs(mean - 0.95) <= MC_SES * se, (mean, se, shares)


@pytest.mark.parametrize("model", ["lag", "error"])
def test_without_mediation_the_intervals_cover_zero(model):
    # The channels do not enter migration: every true indirect effect is zero, where the
    # product of two estimates is conservative, so only too little coverage is a failure.
    shares = _coverage(model, BETAS_WITHOUT, reps=40)
    mean, se = _coverage_band(shares, paths=12)
    assert mean >= 0.95 - MC_SES * se, (mean, se, shares)


def test_long_frame_has_every_cause_path_and_part(small_design):
    W, frame = small_design
    result = mediate(MediationSpec("lag", "migration", DIMENSIONS, CHANNELS, draws=200), frame, W)
    table = result.frame()
    assert len(table) == len(DIMENSIONS) * (len(CHANNELS) + 3) * 3
    assert set(table["path"]) == {"direct", "indirect", "total", *("via " + c for c in CHANNELS)}
    assert (table["ci_low"] < table["ci_high"]).all()
    assert (table["std_error"] > 0).all()


def test_direct_path_ses_equal_the_outcome_equations_delta_ses():
    """The draws use each equation's own covariance: the direct path's Monte Carlo SE equals the
    delta-method SE of the outcome equation's impact (M15b: a covariance scaled by 1.3 is 14% off).

    Lag process on a 400-region lattice, 20,000 draws: the Monte Carlo error of an SE is about
    0.5%, and the simulated and delta SEs of the lag model differ by about 1% at this size.
    """
    W = lattice(20, queen=True)
    ids = [f"r{i}" for i in range(W.shape[0])]
    frame = simulate_design(W, simulation("lag", 5, BETAS_WITH_CHANNELS), ids)
    result = mediate(MediationSpec("lag", "migration", DIMENSIONS, CHANNELS, draws=20000, seed=2), frame, W)
    x = (*DIMENSIONS, *CHANNELS)
    delta = fit(FitSpec(model="lag", y="migration", x=x, impacts_se="delta"),
                build_dataset(frame, "migration", x, source="simulated", W=W))
    for cause in DIMENSIONS:
        for part, effect in (("internal", "direct"), ("external", "indirect"), ("total", "total")):
            expected = delta.impact(cause, effect).std_error
            assert result.effect(cause, "direct", part).std_error == pytest.approx(expected, rel=0.05), (cause, part)
