"""The impacts table: direct, indirect and total effects of several fits side by side.

Impacts are laid out like coefficients — one column per model, an estimate row
with its stars and a standard-error row per variable and effect — so every writer
of :mod:`rtsmig.tables.formats` renders them unchanged. Fits without impacts (OLS,
the error model) are left out of the table rather than shown as empty columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from rtsmig.models.results import Coefficient, FitResult

# The panel under an impacts table: observations and weights, not likelihoods,
# which belong to the coefficient table.
IMPACT_FIT_KEYS = ("n",)


def impact_term(variable: str, effect: str) -> str:
    """The row label of one impact: ``INC (direct)``."""
    return f"{variable} ({effect})"


def as_coefficients(result: FitResult) -> FitResult:
    """A copy of ``result`` whose coefficient rows are its impacts, for the comparison writers."""
    rows = tuple(
        Coefficient(impact_term(i.variable, i.effect), i.estimate, i.std_error, i.statistic,
                    i.p_value, i.ci_low, i.ci_high)
        for i in result.impacts
    )
    fit = {k: v for k, v in result.fit.items() if k in IMPACT_FIT_KEYS}
    return dataclasses.replace(result, coefficients=rows, fit=fit, diagnostics=(), impacts=())


def with_impacts(results: Sequence[FitResult]) -> list[FitResult]:
    """The fits that have impacts, each turned into coefficient rows.

    Raises
    ------
    ValueError
        If none of ``results`` has impacts.
    """
    kept = [as_coefficients(r) for r in results if r.impacts]
    if not kept:
        names = ", ".join(r.name for r in results)
        raise ValueError(
            f"none of the models ({names}) has impacts; impacts come with the lag, sac, durbin, "
            "durbin-error, slx and gns models"
        )
    return kept
