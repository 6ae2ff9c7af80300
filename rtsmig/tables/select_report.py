"""The report of ``rtsmig select``: Markdown for people, JSON for scripts.

Every test the decision looked at is shown with its statistic, degrees of
freedom and p-value; no timestamps or paths, so the same inputs give the same bytes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import asdict

from rtsmig.models.results import FitResult, TestResult
from rtsmig.models.selection import Selection
from rtsmig.tables.compare import fixed
from rtsmig.tables.formats import escape_markdown, markdown_table, render

_PATHS = {
    "LM": "Specific to general: Lagrange multiplier tests on the OLS residuals",
    "Durbin": "General to specific: likelihood-ratio tests from the spatial Durbin model",
}
_TEST_HEADER = ["Test", "Statistic", "df", "p-value", "Null"]


def _p(p: float) -> str:
    return "<0.0001" if p < 1e-4 else fixed(p, 4)


def _test_row(t: TestResult) -> list[str]:
    df = "" if t.df is None else str(round(t.df))
    return [escape_markdown(t.name), fixed(t.statistic, 3), df, _p(t.p_value), escape_markdown(t.null)]


def _models_section(fits: Mapping[str, FitResult]) -> str:
    rows = [
        [escape_markdown(r.name), str(round(r.fit["k"])), fixed(r.fit["loglik"], 2), fixed(r.fit["aic"], 2),
         fixed(r.fit["bic"], 2)]
        for r in fits.values()
    ]
    return "## Models fitted\n\n" + markdown_table(["Model", "Parameters", "Log-likelihood", "AIC", "BIC"],
                                                  rows, "lrrrr")


def _steps_section(selection: Selection) -> str:
    parts = ["## Decision paths\n"]
    for path, title in _PATHS.items():
        parts.append(f"### {title}\n")
        steps = [s for s in selection.steps if s.path == path]
        parts.append("".join(
            f"{number}. {escape_markdown(step.finding)} → **{step.leads_to}**\n" for number, step in enumerate(steps, 1)
        ))
        rows = [_test_row(t) for s in steps for t in s.tests]
        parts.append(markdown_table(_TEST_HEADER, rows, "lrrrl"))
    return "\n".join(parts)


def report_markdown(selection: Selection, fits: Mapping[str, FitResult]) -> str:
    """The whole report: recommendation first, then the paths, every LR test and the models."""
    head = (
        f"# Model selection\n\n**Recommended: {selection.recommended}** — {escape_markdown(selection.reason)}.\n\n"
        f"Tests at the {selection.alpha:g} level. Every model is fitted by ML (OLS and SLX by least squares) "
        f"to the same {round(next(iter(fits.values())).fit['n'])} regions and weights.\n"
    )
    lr = "## All likelihood-ratio tests\n\n" + markdown_table(
        _TEST_HEADER, [_test_row(t) for t in selection.lr_tests], "lrrrl"
    )
    wald = [
        dataclasses.replace(t, name=f"{r.name}: {t.name}")
        for r in fits.values() for t in r.diagnostics if t.name.startswith("Wald")
    ]
    wald_section = "## Wald tests in the Durbin models\n\n" + markdown_table(
        _TEST_HEADER, [_test_row(t) for t in wald], "lrrrl"
    )
    table = "## Estimates\n\n" + render(list(fits.values()), "md")
    return "\n".join([head, _steps_section(selection), lr, wald_section, _models_section(fits), table])


def report_json(selection: Selection, fits: Mapping[str, FitResult]) -> str:
    """The report as data: the recommendation, the steps with their tests, every LR test."""
    doc = {
        "recommended": selection.recommended,
        "reason": selection.reason,
        "alpha": selection.alpha,
        "steps": [asdict(s) for s in selection.steps],
        "lr_tests": [asdict(t) for t in selection.lr_tests],
        "models": {key: {"name": r.name, **dict(r.fit)} for key, r in fits.items()},
    }
    return json.dumps(doc, sort_keys=True, indent=2) + "\n"
