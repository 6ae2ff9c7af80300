"""The files of one fit's output folder, rendered in memory from its FitResult.

The CSV files carry full precision: every float is written as Python's ``repr``,
the shortest text that reads back to the identical float, and a missing value
(None or NaN) as an empty cell. Counts (n, k, df) that are whole numbers are
written as integers. ``summary.md`` is for people and rounds to 4 decimals.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import astuple
from typing import Any

from rtsmig.models.results import COEF_COLUMNS, FIT_KEYS, IMPACT_COLUMNS, FitResult
from rtsmig.tables.compare import fixed
from rtsmig.tables.formats import escape_markdown, markdown_table

DIAGNOSTIC_COLUMNS = ("name", "value", "statistic", "df", "p_value", "distribution", "null")
# Fit statistics that count things and are written as integers when whole.
_COUNTS = {"n", "k"}
# summary.md shows 4 decimals; smaller p-values are printed as "<0.0001".
SUMMARY_DECIMALS = 4

_FIT_LABELS = {
    "n": "N",
    "k": "Parameters (k)",
    "loglik": "Log-likelihood",
    "aic": "AIC",
    "bic": "BIC",
    "r2": "R²",
    "adj_r2": "Adjusted R²",
    "pseudo_r2": "Pseudo R²",
    "sigma2": "σ²",
}
_MODEL_TEXT = {
    ("ols", "ml"): "ordinary least squares",
    ("ols", "gmm"): "ordinary least squares",
    ("lag", "ml"): "spatial lag, maximum likelihood",
    ("lag", "gmm"): "spatial lag, 2SLS (instruments X, WX, W²X)",
    ("error", "ml"): "spatial error, maximum likelihood",
    ("error", "gmm"): "spatial error, Kelejian–Prucha GM",
    ("sac", "ml"): "spatial lag with spatial error (SAC/SARAR), maximum likelihood",
    ("sac", "gmm"): "spatial lag with spatial error (SAC/SARAR), generalised spatial 2SLS",
    ("durbin", "ml"): "spatial Durbin (lag of y and of X), maximum likelihood",
    ("durbin-error", "ml"): "spatial Durbin error (lag of X, spatial error), maximum likelihood",
    ("slx", "ml"): "spatially lagged X, least squares",
    ("slx", "gmm"): "spatially lagged X, least squares",
    ("gns", "gmm"): "general nesting spatial model, generalised spatial 2SLS",
}


def full(x: Any) -> str:
    """Shortest round-trip text of a float; ``""`` for None or NaN."""
    if x is None:
        return ""
    x = float(x)
    return "" if math.isnan(x) else repr(x)


def whole(x: Any) -> str:
    """A count: ``49`` rather than ``49.0``; anything not whole as :func:`full`."""
    if x is not None and math.isfinite(float(x)) and float(x).is_integer():
        return str(int(float(x)))
    return full(x)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _fit_keys(result: FitResult) -> list[str]:
    """FIT_KEYS order, then any other statistics sorted by name."""
    known = [k for k in FIT_KEYS if k in result.fit]
    return known + sorted(k for k in result.fit if k not in FIT_KEYS)


def coefficients_csv(result: FitResult) -> str:
    rows = [[c.term, *(full(v) for v in astuple(c)[1:])] for c in result.coefficients]
    return csv_text(COEF_COLUMNS, rows)


def fit_csv(result: FitResult) -> str:
    rows = [
        [k, whole(result.fit[k]) if k in _COUNTS else full(result.fit[k])]
        for k in _fit_keys(result)
    ]
    return csv_text(("statistic", "value"), rows)


def diagnostics_csv(result: FitResult) -> str:
    rows = [
        [t.name, full(t.value), full(t.statistic), whole(t.df), full(t.p_value),
         t.distribution, t.null]
        for t in result.diagnostics
    ]
    return csv_text(DIAGNOSTIC_COLUMNS, rows)


def impacts_csv(result: FitResult) -> str:
    """Long form: one row per variable and effect, inference columns empty when not computed."""
    rows = [[i.variable, i.effect, *(full(getattr(i, c)) for c in IMPACT_COLUMNS[2:])] for i in result.impacts]
    return csv_text(IMPACT_COLUMNS, rows)


def result_json(result: FitResult) -> str:
    """``result.to_dict()`` as sorted, indented JSON; :meth:`FitResult.from_dict` reads it back."""
    return json.dumps(result.to_dict(), sort_keys=True, indent=2) + "\n"


def _num(x: float | None) -> str:
    return fixed(x, SUMMARY_DECIMALS)


def _p(x: float | None) -> str:
    if x is not None and x < 10.0**-SUMMARY_DECIMALS:
        return f"<{10.0**-SUMMARY_DECIMALS:.{SUMMARY_DECIMALS}f}"
    return _num(x)


def _code(text: str) -> str:
    """A code span, so that ~ and * in a formula stay literal; escaped text if it holds a backtick."""
    return escape_markdown(text) if "`" in text else f"`{text}`"


def _header(result: FitResult) -> list[str]:
    spec = result.spec
    model = _MODEL_TEXT.get((spec.model, spec.method), f"{spec.model} ({spec.method})")
    if spec.robust:
        model += ", White (HC0) standard errors"
    formula = f"{spec.y} ~ {' + '.join(spec.x)}" if spec.x else f"{spec.y} ~ 1"
    n = result.fit.get("n")
    return [
        f"# {escape_markdown(result.name)}",
        "",
        f"- Model: {escape_markdown(model)}",
        f"- Formula: {_code(formula)}",
        f"- Observations: {whole(n) if n is not None else 'not recorded'}",
        f"- Weights: {escape_markdown(result.weights) if result.weights else 'none'}",
    ]


def _coefficient_section(result: FitResult) -> str:
    test = result.meta.get("coef_test") or "Statistic"
    level = f"{round(result.spec.ci_level * 100, 6):g}%"
    header = ["Term", "Estimate", "Std. error", escape_markdown(str(test)), "p-value",
              f"CI {level} low", f"CI {level} high"]
    rows = [
        [escape_markdown(c.term), _num(c.estimate), _num(c.std_error), _num(c.statistic),
         _p(c.p_value), _num(c.ci_low), _num(c.ci_high)]
        for c in result.coefficients
    ]
    return "## Coefficients\n\n" + markdown_table(header, rows, "lrrrrrr")


def _fit_section(result: FitResult) -> str:
    rows = [
        [_FIT_LABELS.get(k, escape_markdown(k)),
         whole(result.fit[k]) if k in _COUNTS else _num(result.fit[k])]
        for k in _fit_keys(result)
    ]
    return "## Fit statistics\n\n" + markdown_table(["Statistic", "Value"], rows, "lr")


def _diagnostics_section(result: FitResult) -> str:
    header = ["Test", "Value", "Statistic", "df", "p-value", "Distribution", "Null hypothesis"]
    rows = [
        [escape_markdown(t.name), _num(t.value), _num(t.statistic), whole(t.df), _p(t.p_value),
         escape_markdown(t.distribution), escape_markdown(t.null)]
        for t in result.diagnostics
    ]
    return "## Diagnostics\n\n" + markdown_table(header, rows, "lrrrrll")


def _impacts_section(result: FitResult) -> str:
    rows = [
        [escape_markdown(i.variable), i.effect, _num(i.estimate), _num(i.std_error), _num(i.p_value)]
        for i in result.impacts
    ]
    header = ["Variable", "Effect", "Estimate", "Std. error", "p"]
    return "## Impacts\n\n" + markdown_table(header, rows, "llrrr")


def _conventions_section(conventions: Any) -> str:
    """meta["conventions"]: a sentence, a list of sentences or a mapping topic -> sentence."""
    if isinstance(conventions, str):
        body = escape_markdown(conventions) + "\n"
    elif hasattr(conventions, "items"):
        body = "".join(
            f"- {escape_markdown(str(k))}: {escape_markdown(str(v))}\n"
            for k, v in sorted(conventions.items(), key=lambda kv: str(kv[0]))
        )
    else:
        body = "".join(f"- {escape_markdown(str(v))}\n" for v in conventions)
    return "## Conventions\n\n" + body


def summary_md(result: FitResult) -> str:
    """A readable report of one fit; no timestamps or paths, so it can be a golden file."""
    sections = ["\n".join(_header(result)) + "\n", _coefficient_section(result)]
    if result.fit:
        sections.append(_fit_section(result))
    if result.diagnostics:
        sections.append(_diagnostics_section(result))
    if result.impacts:
        sections.append(_impacts_section(result))
    if result.meta.get("conventions"):
        sections.append(_conventions_section(result.meta["conventions"]))
    return "\n".join(sections)


def result_files(result: FitResult) -> dict[str, str]:
    """The whole content of a fit's output folder, file name -> text.

    ``impacts.csv`` is present only when the fit has impacts. The CLI adds
    ``manifest.json`` and writes the folder atomically.

    Examples
    --------
    >>> from rtsmig.models.results import Coefficient, FitResult
    >>> from rtsmig.models.spec import FitSpec
    >>> r = FitResult(FitSpec(x=()), (Coefficient("(Intercept)", 1.5, 0.5, 3.0, 0.01, 0.5, 2.5),))
    >>> sorted(result_files(r))
    ['coefficients.csv', 'diagnostics.csv', 'fit.csv', 'result.json', 'summary.md']
    >>> print(result_files(r)["coefficients.csv"], end="")
    term,estimate,std_error,statistic,p_value,ci_low,ci_high
    (Intercept),1.5,0.5,3.0,0.01,0.5,2.5
    """
    files = {
        "coefficients.csv": coefficients_csv(result),
        "fit.csv": fit_csv(result),
        "diagnostics.csv": diagnostics_csv(result),
        "result.json": result_json(result),
        "summary.md": summary_md(result),
    }
    if result.impacts:
        files["impacts.csv"] = impacts_csv(result)
    return dict(sorted(files.items()))
