"""``rtsmig index``: outputs, determinism, --append, reliability formats, warnings and errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import REFERENCE, assert_error
from cli_helpers import run as run_rtsmig
from typer.testing import CliRunner

from rtsmig.cli.app import _new_app, reporting_errors
from rtsmig.cli.commands import index as index_cmd
from rtsmig.survey import MISSING_POLICY, Dimension, build_index
from rtsmig.tables.reliability import render_reliability

ITEMS_CSV = REFERENCE / "survey" / "items.csv"
DIMENSIONS = ("position", "method", "sustainability", "flexibility")
TOML = "".join(f'{d} = [{", ".join(f"{chr(34)}{d}_q{m}{chr(34)}" for m in range(1, 5))}]\n' for d in DIMENSIONS)

# A throwaway app: app.py registers the command itself, these tests need only the command.
app = _new_app(name="rtsmig")
app.command("index")(reporting_errors(index_cmd.index))


@app.callback()
def _root() -> None:
    """Keep ``index`` a subcommand, as in the real app."""


def run(*args: object):
    return CliRunner().invoke(app, ["index", *(str(a) for a in args)])


def _frame() -> pd.DataFrame:
    return pd.read_csv(ITEMS_CSV, dtype={"adcode": str})


@pytest.fixture
def case(tmp_path):
    """A data CSV and an items TOML in tmp_path/in, outputs to tmp_path/out."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    data = tmp_path / "in" / "data.csv"
    _frame().to_csv(data, index=False)
    items = tmp_path / "in" / "items.toml"
    items.write_text("# score name = its questionnaire items\n" + TOML, encoding="utf-8")
    return data, items, tmp_path / "out"


def _index(data, out, *extra, items=None):
    args = ["--items", items] if items is not None else []
    return run(data, "--id", "adcode", *args, "-o", out / "scores.csv", "-q", *extra)


def _ok(result):
    assert result.exit_code == 0, (result.stderr, result.exception)
    return result


def _dims():
    return [Dimension(d, tuple(f"{d}_q{m}" for m in range(1, 5))) for d in DIMENSIONS]


def test_scores_sidecar_and_markdown_on_stdout(case):
    data, items, out = case
    result = _ok(_index(data, out, "--method", "pca", items=items))
    expected = build_index(_frame().set_index("adcode"), _dims(), method="pca")
    scores = pd.read_csv(out / "scores.csv", dtype={"adcode": str})
    assert list(scores.columns) == ["adcode", *DIMENSIONS]
    assert list(scores["adcode"]) == list(_frame()["adcode"])
    np.testing.assert_allclose(scores[list(DIMENSIONS)], expected.scores, rtol=1e-9)
    assert result.stdout == render_reliability(expected.reliability, "md")
    assert sorted(p.name for p in out.iterdir()) == ["scores.csv", "scores.csv.json"]
    side = json.loads((out / "scores.csv.json").read_text(encoding="utf-8"))
    assert side["command"] == "index"
    assert set(side["inputs"]) == {"data", "items_1"}
    assert side["inputs"]["items_1"]["file"] == "items.toml"
    assert side["options"]["method"] == "pca"
    assert side["missing_policy"] == MISSING_POLICY
    assert [d["name"] for d in side["reliability"]["dimensions"]] == list(DIMENSIONS)
    assert side["reliability"]["dimensions"][0]["loadings"]["position_q1"] == expected.reliability[0].loadings[0]
    assert side["scores_order"] == list(DIMENSIONS)
    assert b"\r" not in (out / "scores.csv").read_bytes()


def test_same_inputs_same_bytes(case, tmp_path):
    data, items, out = case
    (tmp_path / "again").mkdir()
    for folder in (out, tmp_path / "again"):
        _ok(_index(data, folder, "--method", "factor", "--reliability", folder / "rel.json", items=items))
    for name in ("scores.csv", "scores.csv.json", "rel.json"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


def test_inline_items_keep_their_order(case):
    data, _, out = case
    _ok(_index(data, out, "--items", "m=method_q1,method_q2,method_q3", "--items", "p=position_q1,position_q2"))
    assert pd.read_csv(out / "scores.csv").columns.tolist() == ["adcode", "m", "p"]


def test_append_keeps_data_columns(case):
    data, items, out = case
    _ok(_index(data, out, "--append", items=items))
    written = pd.read_csv(out / "scores.csv", dtype={"adcode": str})
    original = _frame()
    assert list(written.columns) == [*original.columns, *DIMENSIONS]
    pd.testing.assert_frame_equal(written[original.columns], original)
    assert (out / "scores.csv").read_text().splitlines()[1].startswith("110100,3,2,3,3,")


@pytest.mark.parametrize("fmt", ["csv", "md", "tex", "html", "json"])
def test_every_reliability_format(case, fmt):
    data, items, out = case
    result = _ok(_index(data, out, "--reliability", out / f"reliability.{fmt}", items=items))
    assert result.stdout == ""
    expected = build_index(_frame().set_index("adcode"), _dims()).reliability
    assert (out / f"reliability.{fmt}").read_text(encoding="utf-8") == render_reliability(expected, fmt)


def test_reliability_csv_long_and_tex_booktabs(case):
    data, items, out = case
    _ok(_index(data, out, "--reliability", out / "r.csv", items=items))
    _ok(_index(data, out, "--reliability", out / "r.tex", items=items))
    long = pd.read_csv(out / "r.csv")
    assert len(long) == 16 and long["loading"].between(0.5, 1).all()
    tex = (out / "r.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex and " 0.8" in tex


def test_weak_dimension_and_missing_answers_warn(case):
    data, _, out = case
    frame = _frame()
    frame.loc[:4, ["position_q1", "position_q2", "position_q3"]] = np.nan
    frame.to_csv(data, index=False)
    weak = "weak=position_q4,method_q1,sustainability_q1,flexibility_q1"
    result = _ok(_index(data, out, "--items", "position=position_q1,position_q2,position_q3", "--items", weak))
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert any("5 of 200 regions got no 'position' score" in w for w in warnings), warnings
    assert any("'weak'" in w and "alpha < 0.7" in w and "AVE < 0.5" in w for w in warnings), warnings
    assert not any("'position':" in w for w in warnings)
    scores = pd.read_csv(out / "scores.csv", dtype={"adcode": str}, keep_default_na=False)
    assert (scores.loc[:4, "position"] == "").all() and (scores.loc[5:, "position"] != "").all()


def test_help_example_and_policy():
    result = run_rtsmig("index", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Example: rtsmig index" in text
    assert " ".join(MISSING_POLICY.split()) in text


def _no_output(out):
    assert list(out.iterdir()) == []


def test_missing_data_file(case):
    _, items, out = case
    assert_error(_index(out.parent / "in" / "nope.csv", out, items=items), 3, "nope.csv", "no such file")
    _no_output(out)


def test_unreadable_data_file(case):
    _, items, out = case
    bad = out.parent / "in" / "data.parquet"
    bad.write_bytes(b"not a parquet file")
    assert_error(_index(bad, out, items=items), 3, "data.parquet", "cannot read")
    _no_output(out)


def test_item_column_missing_lists_close_matches(case):
    data, _, out = case
    result = _index(data, out, "--items", "position=position_q1,position_q5")
    assert_error(result, 3, "'position_q5'", "close matches", "'position_q4'", "--items")
    _no_output(out)


def test_non_numeric_item(case):
    data, items, out = case
    frame = _frame().astype({"method_q2": object})
    frame.loc[2, "method_q2"] = "n/a!"
    frame.to_csv(data, index=False)
    assert_error(_index(data, out, items=items), 3, "'method_q2'", "not numeric", "'130100'", "row 3")
    _no_output(out)


@pytest.mark.parametrize("items, fragments", [
    (("a=position_q1,position_q2", "b=position_q2,position_q3"), ("'position_q2'", "'a'", "'b'")),
    (("a=position_q1",), ("'a'", "at least 2 items")),
    (("position_q1,position_q2",), ("NAME=col1,col2",)),
    (("a=position_q1,,position_q2",), ("NAME=col1,col2",)),
    (("a=position_q1,position_q2", "a=method_q1,method_q2"), ("'a'", "defined twice")),
])
def test_bad_items_spec_is_a_usage_error(case, items, fragments):
    data, _, out = case
    args = [a for value in items for a in ("--items", value)]
    assert_error(_index(data, out, *args), 2, *fragments)
    _no_output(out)


def test_zero_variance_item(case):
    data, items, out = case
    frame = _frame()
    frame["method_q3"] = 3
    frame.to_csv(data, index=False)
    assert_error(_index(data, out, items=items), 3, "'method_q3'", "same value", "'method'")
    _no_output(out)


def test_too_few_complete_cases(case):
    data, items, out = case
    frame = _frame()
    frame.loc[4:, "flexibility_q1"] = np.nan
    frame.to_csv(data, index=False)
    assert_error(_index(data, out, items=items), 3, "'flexibility'", "4 complete cases", "at least 5")
    _no_output(out)


def test_collinear_items_are_an_estimation_error(case):
    data, _, out = case
    frame = _frame()
    frame["copy"] = frame["position_q1"]
    frame.to_csv(data, index=False)
    assert_error(_index(data, out, "--items", "p=position_q1,position_q2,copy"), 5, "'p'", "singular")
    _no_output(out)


@pytest.mark.parametrize("text, fragments", [
    ("position = [\"position_q1\", \n", ("items.toml", "not valid TOML")),
    ("position = \"position_q1\"\n", ("items.toml", "'position'", "list of item column names")),
    ("[position]\nitems = [\"position_q1\"]\n", ("items.toml", "'position'", "list of item column names")),
    ("position = [1, 2]\n", ("items.toml", "'position'")),
    ("", ("items.toml", "no scores")),
])
def test_bad_toml_names_the_file(case, text, fragments):
    data, items, out = case
    items.write_text(text, encoding="utf-8")
    assert_error(_index(data, out, items=items), 2, *fragments)
    _no_output(out)


def test_missing_toml(case):
    data, items, out = case
    assert_error(_index(data, out, items=items.with_name("other.toml")), 3, "other.toml", "no such file")
    _no_output(out)


def test_append_collision(case):
    data, _, out = case
    frame = _frame()
    frame["position"] = 1.0
    frame.to_csv(data, index=False)
    result = _index(data, out, "--append", "--items", "position=position_q1,position_q2")
    assert_error(result, 3, "'position'", "rename the score", "--append")
    _no_output(out)
    _ok(_index(data, out, "--items", "position=position_q1,position_q2"))  # no --append: no clash


def test_unknown_reliability_suffix(case):
    data, items, out = case
    assert_error(_index(data, out, "--reliability", out / "rel.xlsx", items=items), 2, "rel.xlsx", ".tex")
    _no_output(out)


def test_min_answered_above_items_is_a_usage_error(case):
    data, items, out = case
    assert_error(_index(data, out, "--min-answered", 5, items=items), 2, "--min-answered 5", "4 items")
    _no_output(out)


def test_failed_write_leaves_previous_outputs(case):
    data, items, out = case
    (out / "scores.csv").write_text("old\n")
    result = _index(data, out, "--reliability", out / "missing" / "rel.md", items=items)
    assert_error(result, 3, "does not exist")
    assert sorted(p.name for p in out.iterdir()) == ["scores.csv"]
    assert (out / "scores.csv").read_text() == "old\n"
