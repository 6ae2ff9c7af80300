"""Fit the equations of a spatial mediation analysis and split each cause's effect by path."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from rtsmig.dataset import build_dataset
from rtsmig.errors import EstimationError
from rtsmig.mediation.paths import Equation, Spectrum, path_effects, summarise, with_sums
from rtsmig.mediation.spec import SPILLOVER_MODELS, MediationSpec
from rtsmig.models import fit
from rtsmig.models.impacts import draw_estimates
from rtsmig.models.results import FitResult

EFFECT_COLUMNS = ("cause", "path", "part", "estimate", "std_error", "ci_low", "ci_high", "p_value")


@dataclass(frozen=True)
class PathEffect:
    """One part (internal, external or total) of one cause's effect along one path."""

    cause: str
    path: str
    part: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class MediationResult:
    """The fitted equations (by outcome: the mediators, then y), the path effects and how they were made."""

    spec: MediationSpec
    fits: Mapping[str, FitResult]
    effects: tuple[PathEffect, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fits", MappingProxyType(dict(self.fits)))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def effect(self, cause: str, path: str, part: str) -> PathEffect:
        """The row of ``cause``, ``path`` (``direct``, ``via M``, ``indirect``, ``total``) and ``part``."""
        return next(e for e in self.effects if (e.cause, e.path, e.part) == (cause, path, part))

    def frame(self) -> pd.DataFrame:
        """The effects in long form, columns :data:`EFFECT_COLUMNS`."""
        return pd.DataFrame([asdict(e) for e in self.effects], columns=list(EFFECT_COLUMNS))


def mediate(
    spec: MediationSpec, frame: pd.DataFrame, W: sp.sparray, *, source: str = "", weights_label: str = "",
    step: Callable[[str], None] = lambda _: None,
) -> MediationResult:
    """Fit every equation of ``spec`` on ``frame`` and W, then split the effects with Monte Carlo intervals.

    Parameters
    ----------
    spec : the validated analysis.
    frame : the data, indexed by region id in the row order of W.
    W : the transformed weights (row-standardised for the usual reading).
    source, weights_label : names of the data and weights for messages and results.
    step : progress callback.

    Notes
    -----
    Each equation's estimates are drawn from their asymptotic normal distribution
    :math:`N(\\hat\\theta_e, \\hat V_e)`, independently across equations — their
    estimators are asymptotically independent when the equations' errors are,
    the assumption under which the paths are identified (sequential
    ignorability). A draw with any rho outside the parameter space is discarded
    in all equations. The point effect is computed at the estimates.
    """
    spec.validate()
    fits = {}
    for outcome, fit_spec in spec.equations().items():
        step(f"fitting {outcome} ({spec.model}, ML)")
        data = build_dataset(frame, outcome, fit_spec.x, source=source, W=W, weights_label=weights_label)
        fits[outcome] = fit(fit_spec, data)
    step(f"{spec.draws} draws of the path effects")
    rho_term = "rho" if spec.model in SPILLOVER_MODELS else None
    # One BLAS thread, as in fit(): threaded BLAS would make the last bits depend on the machine.
    with threadpool_limits(limits=1, user_api="blas"):
        spectrum = Spectrum.of(W)
        point = {k: Equation(_terms(r), _estimates(r)[None, :], rho_term) for k, r in fits.items()}
        draws, discarded = _draw_equations(fits, spec, spectrum, rho_term)
        split = _split(spec, spectrum, point), _split(spec, spectrum, draws)
        stats = summarise(split[0][0], split[1], spec.ci_level)
    meta = {
        "n": len(frame.index),
        "weights": weights_label,
        "draws": spec.draws,
        "draws_discarded": discarded,
        "effects_method": (
            f"{spectrum.description}; Monte Carlo: {spec.draws} draws of each equation's estimates from "
            f"N(estimates, cov), independent across equations, seed {spec.seed}"
            + (f", {discarded} with rho outside ({spectrum.bounds[0]:.6g}, {spectrum.bounds[1]:.6g}) discarded"
               if discarded else "")
            + f"; SE = SD of the draws, percentile {spec.ci_level:g} interval, p = twice the smaller share "
            "of draws on either side of zero"
        ),
    }
    return MediationResult(spec, fits, _rows(spec, stats), meta)


def _terms(result: FitResult) -> tuple[str, ...]:
    return tuple(c.term for c in result.coefficients)


def _estimates(result: FitResult) -> np.ndarray:
    return np.array([c.estimate for c in result.coefficients])


def _split(spec: MediationSpec, spectrum: Spectrum, equations: dict[str, Equation]) -> np.ndarray:
    mediators = {m: equations[m] for m in spec.mediators}
    return with_sums(path_effects(spectrum, equations[spec.y], mediators, spec.x))


def _draw_equations(
    fits: dict[str, FitResult], spec: MediationSpec, spectrum: Spectrum, rho_term: str | None
) -> tuple[dict[str, Equation], int]:
    """Draws of every equation's estimates, one generator in equation order; out-of-space draws dropped."""
    rng = np.random.default_rng(spec.seed)
    equations = {}
    for outcome, result in fits.items():
        params = _estimates(result)
        P = draw_estimates(params, result.covariance, list(range(params.size)), spec.draws, rng)
        equations[outcome] = Equation(_terms(result), P, rho_term)
    keep = np.logical_and.reduce([eq.inside(spectrum.bounds) for eq in equations.values()])
    if np.count_nonzero(keep) < 2:
        raise EstimationError(
            f"only {np.count_nonzero(keep)} of {spec.draws} draws have every rho inside "
            f"({spectrum.bounds[0]:.6g}, {spectrum.bounds[1]:.6g}); the estimates are too uncertain to mediate"
        )
    kept = {k: Equation(eq.terms, eq.P[keep], eq.rho_term) for k, eq in equations.items()}
    return kept, int(np.count_nonzero(~keep))


def _rows(spec: MediationSpec, stats: dict[str, np.ndarray]) -> tuple[PathEffect, ...]:
    """Long-form rows: cause, then path, then part (only the total part without spillovers)."""
    parts = [("internal", 0), ("external", 1), ("total", 2)]
    parts = [(name, i) for name, i in parts if name in spec.parts]
    return tuple(
        PathEffect(cause, path, part, *(float(stats[key][j, p, i]) for key in EFFECT_COLUMNS[3:]))
        for j, cause in enumerate(spec.x)
        for p, path in enumerate(spec.paths)
        for part, i in parts
    )
