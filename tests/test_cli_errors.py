"""Bad input: one ``Error:`` line, the documented exit code, and no output left behind."""

from __future__ import annotations

import os

import geopandas as gpd
import pandas as pd
import pytest
from cli_helpers import COLUMBUS_SHP, REFERENCE, assert_error, run
from shapely.geometry import box

GAL = REFERENCE / "columbus_queen.gal"
CSV = REFERENCE / "columbus.csv"


def _csv(tmp_path, frame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _columbus():
    return pd.read_csv(CSV, dtype={"id": str})


def _fit(data, out, *extra, weights=GAL, x="INC,HOVAL"):
    return run("fit", data, "--id", "id", "--weights", weights, "--model", "lag", "--y", "CRIME",
               "--x", x, "-o", out, "-q", *extra)


def test_missing_data_file(tmp_path):
    result = _fit(tmp_path / "nope.csv", tmp_path / "out")
    assert_error(result, 3, "nope.csv", "no such file")
    assert not (tmp_path / "out").exists()


def test_unreadable_geometry(tmp_path):
    bad = tmp_path / "regions.geojson"
    bad.write_text("{ this is not geojson")
    result = run("weights", "build", bad, "--id", "id", "-o", tmp_path / "w.gal")
    assert_error(result, 3, "regions.geojson", "cannot read")
    assert list(tmp_path.iterdir()) == [bad]


def test_id_column_missing(tmp_path):
    result = run("weights", "build", COLUMBUS_SHP, "--id", "NOPE", "-o", tmp_path / "w.gal")
    assert_error(result, 3, "'NOPE'", "--id")
    assert list(tmp_path.iterdir()) == []


def test_duplicate_ids(tmp_path):
    frame = _columbus()
    frame.loc[3, "id"] = "1"
    result = _fit(_csv(tmp_path, frame), tmp_path / "out")
    assert_error(result, 3, "duplicate ids", "'1'")
    assert not (tmp_path / "out").exists()


def test_data_ids_not_in_weights(tmp_path):
    frame = _columbus()
    frame.loc[0, "id"] = "999"
    result = _fit(_csv(tmp_path, frame), tmp_path / "out")
    assert_error(result, 4, "'999'")
    assert not (tmp_path / "out").exists()


def test_non_numeric_column(tmp_path):
    frame = _columbus().astype({"INC": object})
    frame.loc[4, "INC"] = "n/a!"
    result = _fit(_csv(tmp_path, frame), tmp_path / "out")
    assert_error(result, 3, "'INC'", "not numeric", "'5'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("column", ["CRIME", "HOVAL"])
def test_missing_values_in_y_or_x(tmp_path, column):
    frame = _columbus()
    frame.loc[6, column] = None
    result = _fit(_csv(tmp_path, frame), tmp_path / "out")
    assert_error(result, 3, repr(column), "missing", "'7'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("make", "named"),
    [(lambda f: f.assign(CONST=3.0), "CONST"), (lambda f: f.assign(TWICE=2 * f["INC"] + 1), "TWICE")],
    ids=["constant", "collinear"],
)
def test_constant_or_collinear_regressor(tmp_path, make, named):
    data = _csv(tmp_path, make(_columbus()))
    result = _fit(data, tmp_path / "out", x=f"INC,HOVAL,{named}")
    assert_error(result, 5, named)
    assert not (tmp_path / "out").exists()


def test_islands_under_islands_error(tmp_path):
    squares = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)]
    layer = tmp_path / "islands.gpkg"
    gpd.GeoDataFrame({"code": ["a", "b", "far"]}, geometry=squares, crs="EPSG:3857").to_file(layer)
    result = run("weights", "build", layer, "--id", "code", "-o", tmp_path / "w.gal")
    assert_error(result, 4, "'far'", "--islands")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["islands.gpkg"]


def test_unknown_kind_is_a_usage_error(tmp_path):
    result = run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", "--kind", "hexagon", "-o", tmp_path / "w.gal")
    assert result.exit_code == 2
    assert "hexagon" in result.stderr and "Error:" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("kind", "option"), [("distance", "--threshold"), ("knn", "--k")])
def test_distance_weights_without_threshold_or_k(tmp_path, kind, option):
    result = run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", "--kind", kind, "-o", tmp_path / "w.gal")
    assert result.exit_code == 2
    assert option in result.stderr and "Error:" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_folder_missing(tmp_path):
    result = _fit(CSV, tmp_path / "no" / "such" / "out")
    assert_error(result, 3, "does not exist")


def test_output_folder_not_writable(tmp_path, monkeypatch):
    # Tests may run as root, for whom chmod does not deny writing: make the check itself say no.
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(locked) else real_access(p, mode))
    result = _fit(CSV, locked / "out")
    assert_error(result, 3, "not writable")
    assert list(locked.iterdir()) == []


def test_failed_refit_keeps_previous_results(tmp_path):
    out = tmp_path / "out"
    assert _fit(CSV, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = _fit(CSV, out, x="INC,NOPE")
    assert_error(result, 3, "'NOPE'")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
