"""The side-by-side comparison of fitted models, built once and rendered by every format.

:func:`compare` turns one or more :class:`~rtsmig.models.results.FitResult` into a
:class:`Comparison`: model names, one :class:`Row` of formatted cell strings per
coefficient, standard error and fit statistic, and the pieces of the table note.
The writers in :mod:`rtsmig.tables.formats` only lay these cells out; the choices
of what to show, in which order and with how many decimals are made here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rtsmig.models.results import Coefficient, FitResult
from rtsmig.models.spec import INTERCEPT, SPATIAL_TERMS

# The spatial parameters always close the coefficient block, in this order.
SPATIAL_ORDER = tuple(t for t in ("rho", "lambda") if t in SPATIAL_TERMS.values())

# Log-likelihood, AIC and BIC are sums over all observations, usually in the
# hundreds: two decimals is what journals print and more would be noise.
LIKELIHOOD_DECIMALS = 2

# Bottom panel: (key, label, kind). ``key`` is a FitResult.fit key, or "weights"
# for FitResult.weights. kind "count" prints an integer, "likelihood" uses
# LIKELIHOOD_DECIMALS, "share" uses the table's ``digits``, "text" is verbatim.
STAT_ROWS = (
    ("n", "N", "count"),
    ("loglik", "Log-likelihood", "likelihood"),
    ("aic", "AIC", "likelihood"),
    ("bic", "BIC", "likelihood"),
    ("r2", "R²", "share"),
    ("pseudo_r2", "Pseudo R²", "share"),
    ("weights", "Weights", "text"),
)

SE_NOTE = "Standard errors in parentheses."


def _plain_decimal(x: float) -> str:
    """``0.1`` -> ``"0.1"``, ``1e-05`` -> ``"0.00001"``: thresholds as people write them."""
    return f"{Decimal(repr(float(x))):f}"


@dataclass(frozen=True)
class Stars:
    """Significance thresholds, largest first: ``*`` p<0.10, ``**`` p<0.05, ``***`` p<0.01.

    A p-value earns one star for every threshold it is strictly below, so
    p = 0.05 exactly gets ``*``, not ``**``. An empty ``levels`` means no stars.

    Raises
    ------
    ValueError
        If a level is not a number strictly between 0 and 1, or the levels are
        not strictly decreasing.
    """

    levels: tuple[float, ...] = (0.10, 0.05, 0.01)

    def __post_init__(self) -> None:
        levels = tuple(float(x) for x in self.levels)
        for x in levels:
            if not 0.0 < x < 1.0:  # also rejects NaN
                raise ValueError(f"star threshold {x!r} is not strictly between 0 and 1")
        if any(a <= b for a, b in itertools.pairwise(levels)):
            raise ValueError(
                f"star thresholds must be distinct and largest first, got {list(levels)}"
            )
        object.__setattr__(self, "levels", levels)

    @classmethod
    def parse(cls, text: str) -> Stars:
        """Read thresholds such as ``"0.1,0.05,0.01"`` (any order) or ``"none"``.

        Examples
        --------
        >>> Stars.parse("0.01, 0.05, 0.1").levels
        (0.1, 0.05, 0.01)
        >>> Stars.parse("none").levels
        ()
        """
        hint = "give comma-separated p-value thresholds such as '0.1,0.05,0.01', or 'none'"
        if text.strip().lower() == "none":
            return cls(())
        parts = [p.strip() for p in text.split(",")]
        if not text.strip() or any(not p for p in parts):
            raise ValueError(f"star thresholds {text!r}: empty item; {hint}")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"star thresholds {text!r}: not a number; {hint}") from None
        for v in values:
            if not 0.0 < v < 1.0:
                raise ValueError(
                    f"star thresholds {text!r}: {v!r} is not strictly between 0 and 1; {hint}"
                )
        if len(set(values)) != len(values):
            raise ValueError(f"star thresholds {text!r}: a threshold is repeated; {hint}")
        return cls(tuple(sorted(values, reverse=True)))

    def symbol(self, p_value: float | None) -> str:
        """The stars earned by ``p_value`` (``""`` for NaN or None)."""
        if p_value is None or math.isnan(p_value):
            return ""
        return "*" * sum(p_value < level for level in self.levels)

    def pairs(self) -> list[tuple[str, str]]:
        """``[("*", "0.1"), ("**", "0.05"), ...]`` for writers that typeset the note."""
        return [("*" * (i + 1), _plain_decimal(x)) for i, x in enumerate(self.levels)]

    def describe(self) -> str:
        """``"* p<0.1, ** p<0.05, *** p<0.01"``; ``""`` without thresholds."""
        return ", ".join(f"{sym} p<{level}" for sym, level in self.pairs())


def fixed(x: float | None, decimals: int) -> str:
    """``x`` with ``decimals`` fixed decimals; ``""`` for None/NaN; never ``-0.000``."""
    if x is None or math.isnan(x):
        return ""
    text = f"{x:.{decimals}f}"
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]  # a value that rounds to zero is printed without its sign
    return text


def count(x: float | None) -> str:
    """An integer such as N, from the float the fit mapping stores; ``""`` if missing."""
    if x is None or not math.isfinite(x):
        return ""
    return str(round(x))


@dataclass(frozen=True)
class Row:
    """One row of the comparison table.

    Attributes
    ----------
    kind : {"estimate", "se", "stat"}
    key : the coefficient term (``estimate``/``se`` rows) or the statistic key.
    label : plain-text row label; ``""`` on ``se`` rows.
    cells : one formatted number or text per model, ``""`` where it lacks the value.
        Standard errors carry no parentheses; each writer adds its own.
    marks : the significance stars per model (estimate rows only, else ``""``).
    """

    kind: str
    key: str
    label: str
    cells: tuple[str, ...]
    marks: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """Everything a writer needs: column names, rows, and the parts of the note."""

    names: tuple[str, ...]
    terms: tuple[str, ...]
    coef_rows: tuple[Row, ...]
    stat_rows: tuple[Row, ...]
    stars: Stars
    tests: tuple[str | None, ...]
    results: tuple[FitResult, ...]

    @property
    def rows(self) -> tuple[Row, ...]:
        return self.coef_rows + self.stat_rows

    def test_note(self) -> str:
        """Which statistic the p-values come from, e.g. ``"p-values from z tests."``.

        Models that do not record ``meta["coef_test"]`` are left out; ``""`` if none do.
        """
        groups: dict[str, list[str]] = {}
        for name, test in zip(self.names, self.tests):
            if test:
                groups.setdefault(test, []).append(name)
        if not groups:
            return ""
        if len(groups) == 1 and all(self.tests):
            return f"p-values from {next(iter(groups))} tests."
        parts = [f"{test} tests ({', '.join(names)})" for test, names in groups.items()]
        return "p-values from " + " and ".join(parts) + "."

    def note(self, se_note: str = SE_NOTE) -> str:
        """The note as one line of plain text (stars, standard errors, tests)."""
        stars = self.stars.describe()
        parts = [stars + "." if stars else "", se_note, self.test_note()]
        return " ".join(p for p in parts if p)


def unique_names(names: Sequence[str]) -> tuple[str, ...]:
    """Disambiguate repeated column names: ``A, A, A`` -> ``A, A (2), A (3)``.

    A suffix never produces a name that another column already has.
    """
    taken = set(names)
    used: set[str] = set()
    out = []
    for name in names:
        if name in used:
            k = 2
            while f"{name} ({k})" in taken or f"{name} ({k})" in used:
                k += 1
            name = f"{name} ({k})"
        used.add(name)
        out.append(name)
    return tuple(out)


def ordered_terms(results: Sequence[FitResult]) -> tuple[str, ...]:
    """Terms in order of first appearance; the intercept first, rho and lambda last."""
    seen: dict[str, None] = {}
    for result in results:
        for c in result.coefficients:
            seen.setdefault(c.term, None)
    betas = [t for t in seen if t not in SPATIAL_ORDER]
    if INTERCEPT in betas:
        betas.remove(INTERCEPT)
        betas.insert(0, INTERCEPT)
    return tuple(betas) + tuple(t for t in SPATIAL_ORDER if t in seen)


def _coef_rows(
    term: str, lookups: list[dict[str, Coefficient]], stars: Stars, digits: int
) -> tuple[Row, Row]:
    estimates, marks, errors = [], [], []
    for lookup in lookups:
        c = lookup.get(term)
        estimate = fixed(c.estimate, digits) if c else ""
        estimates.append(estimate)
        marks.append(stars.symbol(c.p_value) if c and estimate else "")
        errors.append(fixed(c.std_error, digits) if c else "")
    n = len(lookups)
    return (
        Row("estimate", term, term, tuple(estimates), tuple(marks)),
        Row("se", term, "", tuple(errors), ("",) * n),
    )


def _stat_cell(result: FitResult, key: str, kind: str, digits: int) -> str:
    if kind == "text":
        return str(getattr(result, key) or "")
    value = result.fit.get(key)
    if kind == "count":
        return count(value)
    return fixed(value, LIKELIHOOD_DECIMALS if kind == "likelihood" else digits)


def compare(
    results: FitResult | Sequence[FitResult], *, stars: Stars | None = None, digits: int = 3
) -> Comparison:
    """Build the comparison table of one or more fits.

    Parameters
    ----------
    results : one FitResult or a sequence of them; one column each, in order.
    stars : significance thresholds; default ``Stars()``.
    digits : decimals of estimates, standard errors and (pseudo) R².

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        If ``results`` is empty or ``digits`` is negative.
    """
    if isinstance(results, FitResult):
        results = [results]
    results = tuple(results)
    if not results:
        raise ValueError("no results to tabulate: pass at least one FitResult")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    stars = Stars() if stars is None else stars
    lookups = [{} for _ in results]
    for lookup, result in zip(lookups, results):
        for c in result.coefficients:
            lookup.setdefault(c.term, c)  # a repeated term: the first one is shown
    terms = ordered_terms(results)
    coef_rows = [
        row for t in terms for row in _coef_rows(t, lookups, stars, digits)
        if row.kind != "se" or any(row.cells)  # no model has an SE here: no blank line
    ]
    stat_rows = []
    for key, label, kind in STAT_ROWS:
        cells = tuple(_stat_cell(r, key, kind, digits) for r in results)
        if any(cells):  # a statistic no model reports gets no row at all
            stat_rows.append(Row("stat", key, label, cells, ("",) * len(results)))
    return Comparison(
        names=unique_names([r.name for r in results]),
        terms=terms,
        coef_rows=tuple(coef_rows),
        stat_rows=tuple(stat_rows),
        stars=stars,
        tests=tuple(r.meta.get("coef_test") for r in results),
        results=results,
    )
