"""Weights that must not be fitted silently, and weights commands that must not traceback.

- a weights file with a negative, NaN or infinite weight is refused as it is read
  (exit 4), naming the file, the line or row and the two regions; ``weights describe``
  still reads it and counts what it holds;
- rows of zero weights under ``--transform r``, W without any link and self-loops are
  refused where a model cannot take them; islands (also those ``--na drop`` makes) are
  kept with a ``Warning:`` line naming them;
- ``weights build`` refuses points among polygons, a geographic CRS on metre
  coordinates and options that do not belong to the kind, each with one ``Error:`` line.

Every refusal is checked at the CLI: the exit code, exactly one Error line, no
traceback, and every file in the folder byte-identical afterwards.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_helpers import COLUMBUS_SHP, REFERENCE, assert_error, assert_unchanged, run, snapshot
from shapely.geometry import LineString, Point, box

from rtsmig.errors import InputError, RtsmigWarning, WeightsError
from rtsmig.io.weights_io import read_edges, write_weights
from rtsmig.pipeline.steps import load_dataset, weights_for
from rtsmig.weights.edges import Edges
from rtsmig.weights.values import BadWeightError, value_counts

DATA = REFERENCE / "columbus.csv"
GAL = REFERENCE / "columbus_queen.gal"
TRANSFORMS = ("r", "b", "v", "d", "o")


def queen() -> Edges:
    return read_edges(GAL)


def gwt_lines(edges: Edges, weight=lambda f, n, w: w, extra: tuple[str, ...] = ()) -> str:
    """A GWT of ``edges`` with each weight replaced by ``weight(focal, neighbour, w)``."""
    heads, tails, weights = edges.marked_links()
    lines = [f"0 {edges.n} columbus id"]
    for h, t, w in zip(heads.tolist(), tails.tolist(), weights.tolist()):
        lines.append(f"{edges.ids[h]} {edges.ids[t]} {weight(edges.ids[h], edges.ids[t], w)}")
    return "\n".join([*lines, *extra]) + "\n"


def fit(tmp_path: Path, weights: Path, model: str = "lag", *extra: object, data: Path = DATA):
    return run("fit", data, "--id", "id", "--weights", weights, "--model", model, "--y", "CRIME",
               "--x", "INC,HOVAL", "-o", tmp_path / "out", "-q", *extra)


def warning_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Warning:")]


def assert_refused(result, code: int, before, folder: Path, *fragments: str) -> None:
    """One Error line naming ``fragments``, exit ``code``, no traceback, the folder as it was."""
    assert_error(result, code, *fragments)
    assert "Traceback" not in result.stderr
    assert_unchanged(before, folder)


# --- negative and non-finite weights in files ------------------------------------------------


@pytest.mark.parametrize("token", ["-1.0", "inf", "nan", "-inf", "1e999", "-0.5"])
def test_gwt_with_a_negative_or_non_finite_weight_is_refused(tmp_path, token):
    path = tmp_path / "w.gwt"
    path.write_text(gwt_lines(queen(), lambda f, n, w: token if (f, n) == ("5", "4") else w))
    line = 1 + path.read_text().splitlines()[1:].index(f"5 4 {token}") + 1
    before = snapshot(tmp_path)
    result = fit(tmp_path, path)
    assert_refused(result, 4, before, tmp_path, "w.gwt", f"line {line} ", "'5' -> '4'", "finite")


def test_negative_weights_no_longer_vanish_under_row_standardisation(tmp_path):
    # A row of -1s standardises to the same W as a row of +1s: reading must refuse it.
    path = tmp_path / "w.gwt"
    path.write_text(gwt_lines(queen(), lambda f, n, w: -w if f == "1" else w))
    with pytest.raises(BadWeightError, match=r"2 links .*line 2 \('1' -> '2': -1\.0\); line 3 \('1' -> '3'"):
        read_edges(path)
    assert isinstance(BadWeightError("x"), WeightsError) and BadWeightError.exit_code == 4


def test_many_bad_weights_are_counted_not_all_listed(tmp_path):
    path = tmp_path / "w.gwt"
    path.write_text(gwt_lines(queen(), lambda f, n, w: "nan"))
    with pytest.raises(BadWeightError, match=r"236 links .*NaN.*; and 231 more; spatial weights"):
        read_edges(path)


def _parquet(path: Path, weights: list[float]) -> None:
    table = pa.table({"weight": weights, "focal": ["a", "a", "b", "c"], "neighbor": ["b", "c", "a", "a"]})
    pq.write_table(table, path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -2.0])
def test_parquet_with_a_negative_or_non_finite_weight_names_the_row(tmp_path, bad):
    path = tmp_path / "w.parquet"
    _parquet(path, [1.0, 1.0, bad, 1.0])
    with pytest.raises(WeightsError, match=r"w\.parquet: 1 link .*row 3 \('b' -> 'a': (NaN|inf|-2\.0)\)"):
        read_edges(path)
    data = tmp_path / "d.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "CRIME": [1.0, 2.0, 4.0], "INC": [3.0, 1.0, 2.0],
                  "HOVAL": [1.0, 5.0, 2.0]}).to_csv(data, index=False)
    before = snapshot(tmp_path)
    assert_refused(fit(tmp_path, path, "ols", data=data), 4, before, tmp_path, "w.parquet", "row 3", "'b' -> 'a'")


# --- weights describe: lenient, and counting --------------------------------------------------


def test_describe_counts_negative_zero_self_loop_and_non_finite_entries(tmp_path):
    path = tmp_path / "odd.gwt"
    weights = {("1", "2"): "-1", ("1", "3"): "0", ("2", "1"): "nan", ("2", "3"): "inf"}
    path.write_text(gwt_lines(queen(), lambda f, n, w: weights.get((f, n), w), extra=("4 4 1.5", "5 5 2")))
    before = snapshot(tmp_path)
    result = run("weights", "describe", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["negative_weights"] == 1
    assert summary["zero_weights"] == 1
    assert summary["self_loops"] == 2
    assert summary["non_finite_weights"] == 2
    text = run("weights", "describe", path)
    assert text.exit_code == 0 and "Traceback" not in text.stderr
    for label, count in (("negative weights", 1), ("zero weights", 1), ("self-loops", 2), ("NaN/inf weights", 2)):
        assert f"\n{label:<18}{count}\n" in text.stdout, text.stdout
    assert_unchanged(before, tmp_path)


def test_describe_of_a_clean_file_counts_nothing_and_keeps_its_other_lines():
    result = run("weights", "describe", GAL)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("regions           49\nlinks             236\n")
    assert "negative weights  0\nzero weights      0\nself-loops        0\nNaN/inf weights   0\n" in result.stdout
    assert value_counts(queen()) == {"negative_weights": 0, "zero_weights": 0, "self_loops": 0,
                                     "non_finite_weights": 0}


def test_describe_reads_a_parquet_with_nan_weights(tmp_path):
    path = tmp_path / "w.parquet"
    _parquet(path, [1.0, float("nan"), -1.0, 0.0])
    result = run("weights", "describe", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["negative_weights"], summary["zero_weights"], summary["non_finite_weights"]) == (1, 1, 1)


def test_describe_to_standard_output_with_dash(tmp_path):
    result = run("weights", "describe", GAL, "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("regions           49\n")


def test_describe_does_not_write_over_the_file_it_describes(tmp_path):
    path = tmp_path / "w.gal"
    path.write_bytes(GAL.read_bytes())
    before = snapshot(tmp_path)
    assert_refused(run("weights", "describe", path, "-o", path), 3, before, tmp_path, "w.gal", "input")


@pytest.mark.parametrize(("name", "text"), [("empty.gwt", ""), ("empty.gal", ""), ("junk.parquet", "PAR1 junk"),
                                            ("header.gwt", "0 3 x y\n")])
def test_describe_of_unreadable_files_is_one_error_line(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    before = snapshot(tmp_path)
    assert_refused(run("weights", "describe", path), 3, before, tmp_path, name)


# --- rows of zeros, no links, islands, self-loops in a fit ------------------------------------


def test_a_row_of_zero_weights_is_refused_under_row_standardisation(tmp_path):
    path = tmp_path / "w.gwt"
    path.write_text(gwt_lines(queen(), lambda f, n, w: 0 if f == "1" else w))
    before = snapshot(tmp_path)
    for model in ("lag", "ols"):
        result = fit(tmp_path, path, model, "--transform", "r")
        assert_refused(result, 4, before, tmp_path, "w.gwt", "1 region has links that all weigh 0", "('1')")


@pytest.mark.parametrize("transform", ["b", "v", "d", "o"])
def test_a_row_of_zero_weights_is_an_island_under_other_transforms(tmp_path, transform):
    path = tmp_path / "w.gwt"
    path.write_text(gwt_lines(queen(), lambda f, n, w: 0 if f == "1" else w))
    result = fit(tmp_path, path, "lag", "--transform", transform)
    assert result.exit_code == 0, result.stderr
    expected = (
        f"Warning: {path}: 1 of 49 regions has no neighbours ('1'); their spatial lag is 0 in the fit: build "
        "the weights with --islands attach, or leave those regions out, if that is not intended"
    )
    assert warning_lines(result) == [expected]


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("model", ["ols", "lag", "error"])
def test_islands_in_a_file_fit_under_every_transform_with_a_warning(tmp_path, transform, model):
    edges = queen().drop(["1"])  # '1' is left without links; its neighbours keep theirs
    edges = Edges.from_positions([*edges.ids, "1"], edges.heads, edges.tails, edges.weights)
    path = tmp_path / "islands.gal"
    write_weights(edges, path)
    result = fit(tmp_path, path, model, "--transform", transform)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(warning_lines(result)) == 1 and "('1')" in warning_lines(result)[0]


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_weights_without_any_link_are_refused(tmp_path, transform):
    path = tmp_path / "none.gal"
    path.write_text("3\n1 0\n\n2 0\n\n3 0\n\n")
    data = tmp_path / "d.csv"
    pd.DataFrame({"id": ["1", "2", "3"], "CRIME": [1.0, 2.0, 4.0], "INC": [3.0, 1.0, 2.0],
                  "HOVAL": [1.0, 5.0, 2.0]}).to_csv(data, index=False)
    before = snapshot(tmp_path)
    result = fit(tmp_path, path, "ols", "--transform", transform, data=data)
    assert_refused(result, 4, before, tmp_path, "none.gal", "no two of the 3 regions are linked")


def test_na_drop_that_strands_a_region_warns_naming_the_new_island(tmp_path):
    frame = pd.read_csv(DATA, dtype={"id": str})
    frame.loc[frame["id"].isin(["2", "3"]), "CRIME"] = np.nan  # region 1's only neighbours
    data = tmp_path / "gaps.csv"
    frame.to_csv(data, index=False)
    result = fit(tmp_path, GAL, "lag", "--na", "drop", data=data)
    assert result.exit_code == 0, result.stderr
    lines = warning_lines(result)
    assert len(lines) == 1, result.stderr
    assert "leaving out the 2 regions dropped from the data (--na drop or the sample)" in lines[0]
    assert "1 region without neighbours ('1')" in lines[0]


def test_islands_warnings_at_the_python_level_tell_old_and_new_islands_apart():
    edges = queen().drop(["1"])
    edges = Edges.from_positions([*edges.ids, "1"], edges.heads, edges.tails, edges.weights)
    ids = [i for i in edges.ids if i not in ("2", "3")]
    with pytest.warns(RtsmigWarning) as caught:
        W = weights_for(edges, ids, "r", ["2", "3"], source=Path("w.gal"), model="lag")
    messages = [str(w.message) for w in caught]
    assert any("regions has no neighbours ('1')" in m for m in messages)  # the file's own island
    assert not any("dropped from the data" in m and "'1'" in m for m in messages)  # not a new one
    assert W.shape == (len(ids), len(ids))


def _self_loop_file(tmp_path: Path) -> Path:
    path = tmp_path / "loops.gwt"
    path.write_text(gwt_lines(queen(), extra=("4 4 1.0", "9 9 2.0")))
    return path


@pytest.mark.parametrize("model", ["lag", "error", "sac", "durbin"])
def test_self_loops_are_refused_for_models_that_need_a_zero_diagonal(tmp_path, model):
    path = _self_loop_file(tmp_path)
    before = snapshot(tmp_path)
    result = fit(tmp_path, path, model)
    assert_refused(result, 4, before, tmp_path, "loops.gwt", "2 regions are linked to themselves ('4', '9')",
                   "zero diagonal")


def test_self_loops_are_kept_with_a_warning_for_ols_and_slx(tmp_path):
    path = _self_loop_file(tmp_path)
    for model in ("ols", "slx"):
        with pytest.warns(RtsmigWarning, match=rf"linked to themselves \('4', '9'\).*the {model} fit keeps"):
            dataset, _ = load_dataset(DATA, "id", "CRIME", ["INC"], path, model=model)
        assert dataset.W.diagonal().any()
    with pytest.raises(WeightsError, match="or fit ols or slx"):
        load_dataset(DATA, "id", "CRIME", ["INC"], path, model="lag")


def test_checks_warn_instead_of_refusing_for_weights_without_a_file():
    # The Python API on weights in memory keeps libpysal's numbers (a row of zeros stays 0).
    edges = Edges.from_positions(["a", "b", "c"], [0, 1, 1, 2], [1, 0, 2, 1], [0.0, 1.0, 1.0, 1.0])
    with pytest.warns(RtsmigWarning) as caught:
        W = weights_for(edges, ["a", "b", "c"], "r", [])
    assert [str(w.message).split(" (")[0] for w in caught] == ["1 region has links that all weigh 0",
                                                               "1 of 3 regions has no neighbours"]
    assert W.toarray()[0].tolist() == [0.0, 0.0, 0.0]


def test_valid_weights_fit_without_warnings(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RtsmigWarning)
        dataset, _ = load_dataset(DATA, "id", "CRIME", ["INC"], GAL, model="lag")
    assert dataset.W.nnz == 236


# --- weights build ----------------------------------------------------------------------------


def _layer(tmp_path: Path, last) -> Path:
    squares = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)]
    path = tmp_path / "regions.gpkg"
    gpd.GeoDataFrame({"code": ["a", "b", "c", "d"]}, geometry=[*squares, last], crs="EPSG:3857").to_file(path)
    return path


@pytest.mark.parametrize("extra", [("--kind", "queen"), ("--kind", "rook"), ("--kind", "queen", "--tolerance", "0.1")])
@pytest.mark.parametrize(("last", "kind"), [(Point(0.5, 1.5), "Point"), (LineString([(0, 1), (1, 2)]), "LineString")])
def test_points_or_lines_among_polygons_are_refused_for_contiguity(tmp_path, extra, last, kind):
    layer = _layer(tmp_path, last)
    before = snapshot(tmp_path)
    result = run("weights", "build", layer, "--id", "code", *extra, "-o", tmp_path / "w.gal", "-q")
    assert_refused(result, 3, before, tmp_path, "regions.gpkg", "('d')", f"{kind} geometries", "--kind knn")


def test_points_among_polygons_are_fine_for_knn(tmp_path):
    layer = _layer(tmp_path, Point(0.5, 1.5))
    result = run("weights", "build", layer, "--id", "code", "--kind", "knn", "--k", "2", "-o", tmp_path / "w.gal", "-q")
    assert result.exit_code == 0, result.stderr


def test_geographic_crs_on_metre_coordinates_is_refused(tmp_path):
    frame = gpd.read_file(COLUMBUS_SHP).set_crs("EPSG:3857")
    frame["geometry"] = frame.geometry.scale(1e5, 1e5, origin=(0, 0))  # metres, far outside lon/lat
    layer = tmp_path / "metres.gpkg"
    frame.set_crs("EPSG:4326", allow_override=True).to_file(layer)
    before = snapshot(tmp_path)
    for extra in (("--kind", "knn", "--k", "4"), ("--kind", "queen", "--crs", "EPSG:3857")):
        result = run("weights", "build", layer, "--id", "POLYID", *extra, "-o", tmp_path / "w.gal", "-q")
        assert_refused(result, 3, before, tmp_path, "metres.gpkg", "do not look like degrees", "set the layer's CRS")


@pytest.mark.parametrize(("extra", "option"), [
    (("--kind", "queen", "--k", "3"), "--k"),
    (("--kind", "rook", "--threshold", "2"), "--threshold"),
    (("--kind", "knn", "--k", "3", "--threshold", "2"), "--threshold"),
    (("--kind", "knn", "--k", "3", "--bandwidth", "2"), "--bandwidth"),
    (("--kind", "knn", "--k", "3", "--kernel-fn", "gaussian"), "--kernel-fn"),
    (("--kind", "queen", "--by", "CP"), "--by"),
    (("--kind", "knn", "--k", "3", "--tolerance", "0.1"), "--tolerance"),
    (("--kind", "distance", "--threshold", "2", "--alpha", "2"), "--alpha"),
    (("--kind", "knn", "--k", "3", "--inverse"), "--inverse"),
])
def test_options_that_do_not_belong_to_the_kind_are_usage_errors(tmp_path, extra, option):
    before = snapshot(tmp_path)
    result = run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", *extra, "-o", tmp_path / "w.gal", "-q")
    assert_refused(result, 2, before, tmp_path, option, "applies to --kind")


def test_inverse_distance_weights_that_overflow_are_refused(tmp_path):
    before = snapshot(tmp_path)
    result = run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", "--kind", "distance", "--threshold", "1",
                 "--inverse", "--alpha", "1000", "--crs", "EPSG:3857", "-o", tmp_path / "w.gwt", "-q")
    assert_refused(result, 4, before, tmp_path, "columbus.shp", "--alpha 1000", "too large")


def test_build_errors_are_input_errors_at_the_python_level(tmp_path):
    from rtsmig.weights import WeightsSpec, build_weights

    cells = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), Point(3, 3)], index=["a", "b"], crs="EPSG:3857")
    with pytest.raises(InputError, match=r"1 of 2 regions \('b'\) are Point"):
        build_weights(cells, WeightsSpec(kind="queen"))
    with pytest.raises(InputError, match="--k applies to --kind knn or kernel, not --kind queen"):
        WeightsSpec(kind="queen", k=3).validate()


def test_gwt_line_numbers_count_blank_lines(tmp_path):
    path = tmp_path / "w.gwt"
    path.write_text("0 2 x y\n\na b 1\n\nb a -1\n")
    with pytest.raises(BadWeightError, match=r"line 5 \('b' -> 'a': -1\.0\)"):
        read_edges(path)
    path.write_text("0 2 x y\n\na b 1\nb a heavy\n")
    with pytest.raises(InputError, match="line 4: the weight 'heavy' is not a number"):
        read_edges(path)


def test_a_region_with_a_nan_coordinate_has_no_centroid_for_distance_kinds(tmp_path):
    from shapely.geometry import Polygon

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapely warns about the NaN it is asked to store
        broken = Polygon([(3, 0), (4, 0), (float("nan"), 1)])
    layer = _layer(tmp_path, broken)
    before = snapshot(tmp_path)
    result = run("weights", "build", layer, "--id", "code", "--kind", "knn", "--k", "1", "-o", tmp_path / "w.gal", "-q")
    assert_refused(result, 3, before, tmp_path, "regions.gpkg", "('d')", "no finite centroid")


def test_a_crs_that_cannot_hold_the_layer_is_refused(tmp_path):
    layer = tmp_path / "china.gpkg"
    gpd.read_file(REFERENCE.parent.parent / "shapefiles" / "china_prefectures" / "china_prefectures.shp").to_file(layer)
    before = snapshot(tmp_path)
    polar = "+proj=ortho +lat_0=-90 +lon_0=0"  # China is on the far side of this projection
    for extra in (("--kind", "knn", "--k", "3"), ("--kind", "queen", "--islands", "attach")):
        result = run("weights", "build", layer, "--id", "adcode", *extra, "--crs", polar, "-o", tmp_path / "w.gal", "-q")
        assert_refused(result, 3, before, tmp_path, "china.gpkg", "cannot hold 370 of 370 regions", "covers the whole")
