"""Tests of rtsmig.tables: golden files for every format, and the rules behind them."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re

import pytest
import tables_fixtures as fx

# Aliased: pytest would try to collect a class named Test* as a test class.
from rtsmig.models.results import Coefficient, FitResult
from rtsmig.models.results import TestResult as Diagnostic
from rtsmig.models.spec import FitSpec
from rtsmig.tables import FORMATS, Stars, compare, render, result_files
from rtsmig.tables.compare import fixed, unique_names
from rtsmig.tables.formats import escape_latex, escape_markdown


def _one(term: str = "x", p: float = 0.2, name: str | None = None, **fit: float) -> FitResult:
    """A minimal fit with one coefficient of estimate 0.5 and SE 0.25."""
    coef = Coefficient(term, 0.5, 0.25, 2.0, p, 0.01, 0.99)
    return FitResult(FitSpec(x=(term,), name=name), (coef,), fit=fit)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _csv_row(text: str, label: str) -> list[str]:
    return next(r for r in _rows(text) if r[0] == label)


# --- golden files -------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_compare_golden(fmt, golden):
    golden(f"compare.{fmt}", render(fx.all_three(), fmt))


@pytest.mark.parametrize(
    "filename",
    ["coefficients.csv", "fit.csv", "diagnostics.csv", "impacts.csv", "result.json", "summary.md"],
)
def test_lag_files_golden(filename, golden):
    golden(f"lag_{filename}", result_files(fx.lag())[filename])


@pytest.mark.parametrize("filename", ["summary.md", "diagnostics.csv"])
def test_ols_files_golden(filename, golden):
    golden(f"ols_{filename}", result_files(fx.ols())[filename])


# --- stars ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.5, ""),
        (0.1, ""),  # p < threshold, strictly: 0.1 itself earns no star
        (0.0999, "*"),
        (0.05, "*"),
        (0.0499, "**"),
        (0.01, "**"),
        (0.0099, "***"),
        (0.0, "***"),
        (math.nan, ""),
        (None, ""),
    ],
)
def test_star_boundaries(p, expected):
    assert Stars().symbol(p) == expected


def test_star_boundary_in_rendered_table():
    text = render(_one(p=0.05), "csv")
    assert _csv_row(text, "x")[1] == "0.500*"


def test_custom_stars_change_cells_and_note():
    stars = Stars((0.05, 0.01, 0.001))
    text = render(_one(p=0.005), "md", stars=stars)
    assert "0.500**" in text and "0.500***" not in text
    assert "* p<0.05, ** p<0.01, *** p<0.001." in text


def test_no_stars():
    text = render(_one(p=0.0001), "csv", stars=Stars.parse("none"))
    assert _csv_row(text, "x")[1] == "0.500"
    assert "p<" not in text


def test_stars_parse_sorts_and_strips():
    assert Stars.parse(" 0.01, 0.1 ,0.05").levels == (0.1, 0.05, 0.01)
    assert Stars.parse("0.001").describe() == "* p<0.001"
    assert Stars.parse("0.00001").describe() == "* p<0.00001"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty item"),
        ("0.1,,0.05", "empty item"),
        ("0.1;0.05", "not a number"),
        ("ten", "not a number"),
        ("0.1,1.5", "strictly between 0 and 1"),
        ("0,0.1", "strictly between 0 and 1"),
        ("nan", "strictly between 0 and 1"),
        ("0.1,0.1", "repeated"),
    ],
)
def test_stars_parse_errors(text, message):
    with pytest.raises(ValueError, match=message) as info:
        Stars.parse(text)
    assert "0.1,0.05,0.01" in str(info.value)  # every message shows the expected form


def test_stars_constructor_checks_order():
    with pytest.raises(ValueError, match="largest first"):
        Stars((0.01, 0.05))


# --- layout: names, terms, blank cells --------------------------------------------


def test_duplicate_names_are_disambiguated():
    table = compare([fx.ols(), fx.ols(), fx.ols()])
    assert table.names == ("OLS", "OLS (2)", "OLS (3)")
    assert _rows(render([fx.ols(), fx.ols()], "csv"))[0] == ["term", "OLS", "OLS (2)"]


def test_duplicate_suffix_never_collides():
    assert unique_names(["A", "A", "A (2)"]) == ("A", "A (3)", "A (2)")


def test_term_order_intercept_first_spatial_last():
    late_intercept = FitResult(
        FitSpec(x=("z",)),
        (
            Coefficient("rho", 0.3, 0.1, 3.0, 0.003, 0.1, 0.5),
            Coefficient("z", 1.0, 0.5, 2.0, 0.05, 0.0, 2.0),
            Coefficient("(Intercept)", 1.0, 0.5, 2.0, 0.05, 0.0, 2.0),
        ),
    )
    terms = compare([fx.error_gmm(), late_intercept]).terms
    assert terms == ("(Intercept)", "INC", "HOVAL", "z", "rho", "lambda")


def test_blank_cells_for_missing_terms_and_statistics():
    text = render(fx.all_three(), "csv")
    assert _csv_row(text, "rho") == ["rho", "", "0.423***", ""]
    assert _csv_row(text, "rho (SE)") == ["rho (SE)", "", "0.120", ""]
    assert _csv_row(text, "lambda") == ["lambda", "", "", "0.383"]
    assert _csv_row(text, "Log-likelihood") == ["Log-likelihood", "-187.38", "-182.67", ""]
    assert _csv_row(text, "R2") == ["R2", "0.552", "", ""]
    assert _csv_row(text, "N") == ["N", "49", "49", "49"]


def test_nan_statistic_is_blank_and_unreported_rows_are_dropped():
    lag = fx.lag()
    nan_ll = dataclasses.replace(lag, fit={**lag.fit, "loglik": math.nan})
    text = render([nan_ll, fx.ols()], "csv")
    assert _csv_row(text, "Log-likelihood") == ["Log-likelihood", "", "-187.38"]
    text = render([nan_ll, fx.error_gmm()], "csv")
    assert not any(r[0] in ("R2", "Log-likelihood") for r in _rows(text))  # neither has one
    assert _csv_row(text, "AIC") == ["AIC", "375.35", ""]


def test_single_result_gives_one_column():
    assert _rows(render(fx.lag(), "csv"))[0] == ["term", "lag (ML)"]


def test_digits_and_fixed_decimals():
    text = render(fx.all_three(), "csv", digits=2)
    assert _csv_row(text, "(Intercept)")[1] == "68.62***"
    assert _csv_row(text, "AIC")[1] == "382.75"  # always two decimals
    assert _csv_row(text, "N")[1] == "49"
    assert _csv_row(text, "R2")[1] == "0.55"


def test_negative_zero_is_printed_without_sign():
    assert fixed(-1e-9, 3) == "0.000"
    assert fixed(-0.0, 2) == "0.00"
    assert fixed(-0.0006, 3) == "-0.001"
    tiny = FitResult(FitSpec(x=("x",)), (Coefficient("x", -1e-6, 1e-7, -10.0, 0.5, 0, 0),))
    assert _csv_row(render(tiny, "csv"), "x")[1] == "0.000"


def test_test_note_names_the_statistics():
    assert compare(fx.all_three()).test_note() == (
        "p-values from t tests (OLS) and z tests (lag (ML), error (GMM))."
    )
    assert compare([fx.lag(), fx.error_gmm()]).test_note() == "p-values from z tests."
    assert compare(_one()).test_note() == ""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"results": [], "fmt": "md"}, "at least one"),
        ({"results": [fx.ols()], "fmt": "xlsx"}, "unknown table format"),
        ({"results": [fx.ols()], "fmt": "md", "digits": -1}, "non-negative"),
    ],
)
def test_render_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        render(**kwargs)


# --- escaping and well-formedness ------------------------------------------------------


def _unescaped(pattern: str, line: str) -> int:
    return len(re.findall(r"(?<!\\)" + pattern, line))


def _check_latex(text: str, ncols: int) -> None:
    for line in text.splitlines():
        if line.endswith(r"\\") and not line.startswith(r"\multicolumn"):
            assert _unescaped("&", line) == ncols, line
        assert _unescaped(r"\{", line) == _unescaped(r"\}", line), line
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}") == 1


def test_latex_rows_have_one_ampersand_per_model():
    _check_latex(render(fx.all_three(), "tex"), 3)
    _check_latex(render([fx.ols(), _one("a&b", name="R&D {x}")], "tex"), 2)


def test_latex_escaping():
    text = render(_one("my_var%", name="my_var% & #1 $"), "tex")
    assert r"my\_var\% \& \#1 \$" in text
    assert r"my\_var\%" in text.splitlines()[4]  # the term's row label
    assert escape_latex("a\\b~^<") == (
        r"a\textbackslash{}b\textasciitilde{}\textasciicircum{}\textless{}"
    )
    assert r"$\rho$" in render(fx.lag(), "tex")
    assert r"$\lambda$" in render(fx.error_gmm(), "tex")


def test_markdown_escapes_pipes():
    text = render([_one("a|b", name="x|y"), fx.ols()], "md")
    assert "x\\|y" in text and "a\\|b" in text
    for line in text.splitlines():
        if line.startswith("|"):
            assert _unescaped(r"\|", line) == 4, line  # 3 columns -> 4 pipes
    assert escape_markdown("*a_b*") == "\\*a\\_b\\*"


def test_markdown_note_is_not_a_list():
    note = render(fx.ols(), "md").splitlines()[-1]
    assert note.startswith("Note: * p<0.1, ** p<0.05, *** p<0.01.")


def test_html_escapes_text():
    text = render(_one("<b>", name="A & B"), "html")
    assert "<th>A &amp; B</th>" in text and "<td>&lt;b&gt;</td>" in text
    assert text.isascii()
    for tag in ("table", "thead", "tbody", "tfoot"):
        assert text.count(f"<{tag}>") == text.count(f"</{tag}>") >= 1


def test_json_is_structured():
    doc = json.loads(render(fx.all_three(), "json"))
    assert doc["terms"] == ["(Intercept)", "INC", "HOVAL", "rho", "lambda"]
    assert doc["stars"] == [0.1, 0.05, 0.01]
    ols, lag, gmm = doc["models"]
    assert ols["coefficients"]["HOVAL"]["stars"] == "**"
    assert lag["coefficients"]["rho"]["estimate"] == 0.423325423971746
    assert gmm["stats"]["loglik"] is None and gmm["stats"]["n"] == 49
    assert "rho" not in gmm["coefficients"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic_and_one_final_newline(fmt):
    first = render(fx.all_three(), fmt)
    assert first == render(fx.all_three(), fmt)
    assert first.endswith("\n") and not first.endswith("\n\n") and "\r" not in first


# --- per-fit files ---------------------------------------------------------------------


def test_result_files_names():
    assert sorted(result_files(fx.lag())) == [
        "coefficients.csv", "diagnostics.csv", "fit.csv", "impacts.csv", "result.json",
        "summary.md",
    ]
    assert "impacts.csv" not in result_files(fx.ols())


@pytest.mark.parametrize("make", [fx.ols, fx.lag, fx.error_gmm])
def test_result_json_round_trip(make):
    result = make()
    text = result_files(result)["result.json"]
    back = FitResult.from_dict(json.loads(text))
    # to_dict, not ==: impacts without inference hold NaN, and NaN != NaN.
    assert back.to_dict() == result.to_dict()
    assert [i.estimate for i in back.impacts] == [i.estimate for i in result.impacts]
    assert result_files(back)["result.json"] == text
    assert text == json.dumps(result.to_dict(), sort_keys=True, indent=2) + "\n"


def test_result_json_round_trip_with_missing_values():
    result = FitResult(
        FitSpec(x=("x",)),
        (Coefficient("x", 1.0, math.nan, math.nan, math.nan, math.nan, math.nan),),
        fit={"n": 10.0, "loglik": math.nan},
        diagnostics=(Diagnostic("t", math.nan, math.nan),),
    )
    text = result_files(result)["result.json"]
    assert result_files(FitResult.from_dict(json.loads(text)))["result.json"] == text


def test_coefficients_csv_is_full_precision():
    rows = _rows(result_files(fx.ols())["coefficients.csv"])
    assert rows[0] == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    assert float(rows[1][5]) == fx.ols().coefficients[0].ci_low
    assert rows[1][4] == "9.210889988916795e-19"
    with_nan = _one()
    nan_coef = dataclasses.replace(with_nan.coefficients[0], std_error=math.nan)
    nan_result = dataclasses.replace(with_nan, coefficients=(nan_coef,))
    assert _rows(result_files(nan_result)["coefficients.csv"])[1][2] == ""


def test_fit_csv_order_known_keys_then_sorted():
    result = _one(zeta=1.0, n=5.0, alpha=2.5, aic=3.0)
    rows = _rows(result_files(result)["fit.csv"])
    assert rows == [["statistic", "value"], ["n", "5"], ["aic", "3.0"], ["alpha", "2.5"],
                    ["zeta", "1.0"]]


def test_diagnostics_csv_header_only_without_tests():
    assert result_files(fx.error_gmm())["diagnostics.csv"] == (
        "name,value,statistic,df,p_value,distribution,null\n"
    )


@pytest.mark.parametrize(
    ("conventions", "expected"),
    [
        ("sigma2 = SSE/n", "## Conventions\n\nsigma2 = SSE/n\n"),
        (["a_b", "c"], "## Conventions\n\n- a\\_b\n- c\n"),
    ],
)
def test_summary_conventions(conventions, expected):
    result = dataclasses.replace(_one(), meta={"conventions": conventions})
    assert result_files(result)["summary.md"].endswith(expected)
    assert "Conventions" not in result_files(_one())["summary.md"]


def test_impacts_table_lists_each_effect_and_skips_models_without_impacts():
    text = render(fx.all_three(), "csv", impacts=True)
    rows = _rows(text)
    assert rows[0] == ["term", "lag (ML)"]  # OLS and the error model have no impacts
    assert [r[0] for r in rows[1:7]] == [
        f"{v} ({e})" for v in ("INC", "HOVAL") for e in ("direct", "indirect", "total")
    ]
    assert _csv_row(text, "INC (indirect)") == ["INC (indirect)", "-0.718"]
    assert not any(r[0].endswith("(SE)") for r in rows)  # point impacts: no empty SE rows


def test_impacts_table_shows_standard_errors_and_stars():
    lag = fx.lag()
    with_se = tuple(dataclasses.replace(i, std_error=0.1, p_value=0.001) for i in lag.impacts)
    text = render(dataclasses.replace(lag, impacts=with_se), "md", impacts=True)
    assert "| INC (direct)" in text and "-1.101***" in text and "(0.100)" in text


def test_impacts_table_without_any_impacts_is_refused():
    with pytest.raises(ValueError, match="has impacts"):
        render([fx.ols(), fx.error_gmm()], "md", impacts=True)
