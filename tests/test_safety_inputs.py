"""Input files that cannot be used: each gets one ``Error:`` line naming the cause and the fix, exit 3.

Shapefiles without a part, CSVs with another delimiter or encoding or without
rows, GeoPackages with several or empty layers, and column names with a typo.
Every failed command leaves the files that existed before it byte-identical and
adds none. Invalid polygons are read, with one warning naming their regions.
"""

from __future__ import annotations

import shutil
import warnings

import geopandas as gpd
import pandas as pd
import pytest
from cli_helpers import COLUMBUS_SHP, REFERENCE, assert_error, assert_unchanged, run, snapshot
from shapely.geometry import Polygon, box

from rtsmig.columns import column_hint, missing_column
from rtsmig.errors import InputError, RtsmigWarning
from rtsmig.io.regions import read_regions, read_table

CSV = REFERENCE / "columbus.csv"
GAL = REFERENCE / "columbus_queen.gal"


def _columbus() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype={"id": str})


def _fit(data, out, *extra, id_col="id", y="CRIME", x="INC,HOVAL"):
    return run("fit", data, "--id", id_col, "--weights", GAL, "--model", "lag", "--y", y, "--x", x,
               "-o", out, "-q", *extra)


def _refused(result, tmp_path, before, code, *fragments):
    assert_error(result, code, *fragments)
    assert "Traceback" not in result.stderr
    assert_unchanged(before, tmp_path)


def _shapefile_without(tmp_path, part):
    folder = tmp_path / f"no-{part}"
    folder.mkdir()
    for path in COLUMBUS_SHP.parent.iterdir():
        if path.suffix != part:
            shutil.copy(path, folder / path.name)
    return folder / COLUMBUS_SHP.name


@pytest.mark.parametrize(("part", "role"), [(".dbf", "attribute table"), (".shx", "shape index")])
@pytest.mark.parametrize("command", ["weights", "fit"])
def test_shapefile_missing_a_part(tmp_path, part, role, command):
    shp = _shapefile_without(tmp_path, part)
    before = snapshot(tmp_path)
    if command == "weights":
        result = run("weights", "build", shp, "--id", "POLYID", "-o", tmp_path / "w.gal")
    else:
        result = run("fit", shp, "--id", "POLYID", "--y", "CRIME", "--x", "INC", "-o", tmp_path / "out", "-q")
    _refused(result, tmp_path, before, 3, "columbus.shp", role, f"columbus{part}", "is missing", "copy the .shp")
    assert "no id column" not in result.stderr


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_csv_with_another_delimiter(tmp_path, sep, name):
    data = tmp_path / "data.csv"
    _columbus().to_csv(data, sep=sep, index=False)
    before = snapshot(tmp_path)
    result = _fit(data, tmp_path / "out")
    _refused(result, tmp_path, before, 3, "data.csv", f"looks {name}-delimited", "save it comma-separated")


def test_semicolon_csv_with_decimal_commas(tmp_path):
    """European spreadsheets: semicolons between fields, commas inside numbers."""
    data = tmp_path / "data.csv"
    _columbus().to_csv(data, sep=";", decimal=",", index=False)
    before = snapshot(tmp_path)
    _refused(_fit(data, tmp_path / "out"), tmp_path, before, 3, "looks semicolon-delimited")


@pytest.mark.parametrize(("encoding", "text"), [("latin-1", "café"), ("gbk", "北京"), ("cp1252", "Zürich")])
def test_csv_not_utf8(tmp_path, encoding, text):
    data = tmp_path / "data.csv"
    _columbus().assign(name=text).to_csv(data, index=False, encoding=encoding)
    before = snapshot(tmp_path)
    result = _fit(data, tmp_path / "out")
    _refused(result, tmp_path, before, 3, "data.csv", "is not UTF-8", "line 2", "save it as UTF-8")
    assert "codec" not in result.stderr


def test_csv_in_utf16(tmp_path):
    data = tmp_path / "data.csv"
    _columbus().to_csv(data, index=False, encoding="utf-16")
    before = snapshot(tmp_path)
    _refused(_fit(data, tmp_path / "out"), tmp_path, before, 3, "is UTF-16", "save it as UTF-8")


def test_csv_with_utf8_bom_is_read(tmp_path):
    data = tmp_path / "data.csv"
    _columbus().to_csv(data, index=False, encoding="utf-8-sig")
    assert _fit(data, tmp_path / "out").exit_code == 0
    assert _fit(CSV, tmp_path / "plain").exit_code == 0
    assert (tmp_path / "out" / "coefficients.csv").read_bytes() == (tmp_path / "plain" / "coefficients.csv").read_bytes()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"id,CRIME,INC,HOVAL\n", "has no data rows"), (b"", "has no data rows"), (b"\n\n", "no data rows")],
    ids=["header-only", "empty", "blank-lines"],
)
def test_csv_without_rows_is_an_input_error_not_a_weights_error(tmp_path, content, fragment):
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    before = snapshot(tmp_path)
    _refused(_fit(data, tmp_path / "out"), tmp_path, before, 3, "data.csv", fragment)


@pytest.mark.parametrize("suffix", [".parquet", ".dta"])
def test_table_without_rows(tmp_path, suffix):
    data = tmp_path / f"data{suffix}"
    frame = _columbus().head(0)
    frame.to_parquet(data) if suffix == ".parquet" else frame.astype({"id": str}).to_stata(data, write_index=False)
    before = snapshot(tmp_path)
    _refused(_fit(data, tmp_path / "out"), tmp_path, before, 3, data.name, "no data rows")


@pytest.fixture
def two_layers(tmp_path):
    gpkg = tmp_path / "regions.gpkg"
    frame = gpd.read_file(COLUMBUS_SHP).set_crs(3857)  # the shapefile has no .prj
    frame.to_file(gpkg, layer="tracts")
    frame.head(5).to_file(gpkg, layer="sample")
    return gpkg


@pytest.mark.parametrize("command", ["weights", "fit"])
def test_geopackage_with_several_layers_needs_layer(tmp_path, two_layers, command):
    before = snapshot(tmp_path)
    if command == "weights":
        result = run("weights", "build", two_layers, "--id", "POLYID", "-o", tmp_path / "w.gal")
    else:
        result = run("fit", two_layers, "--id", "POLYID", "--y", "CRIME", "--x", "INC", "-o", tmp_path / "out", "-q")
    _refused(result, tmp_path, before, 3, "regions.gpkg", "has 2 layers", "'tracts'", "'sample'", "pass --layer")


@pytest.mark.parametrize("command", ["weights", "fit"])
def test_layer_that_does_not_exist_lists_the_layers(tmp_path, two_layers, command):
    before = snapshot(tmp_path)
    if command == "weights":
        result = run("weights", "build", two_layers, "--id", "POLYID", "--layer", "Tracts", "-o", tmp_path / "w.gal")
    else:
        result = run("fit", two_layers, "--id", "POLYID", "--layer", "Tracts", "--y", "CRIME", "--x", "INC",
                     "-o", tmp_path / "out", "-q")
    _refused(result, tmp_path, before, 3, "no layer 'Tracts'", "did you mean 'tracts'", "layers: ", "'sample'")


def test_named_layer_of_a_multi_layer_file_is_read(tmp_path, two_layers):
    result = run("weights", "build", two_layers, "--id", "POLYID", "--layer", "sample", "-o", tmp_path / "w.gal")
    assert result.exit_code == 0, result.stderr
    assert "5 regions" in result.stderr


@pytest.mark.parametrize("layer", [None, "nothing"])
def test_empty_layer(tmp_path, layer):
    gpkg = tmp_path / "empty.gpkg"
    gpd.read_file(COLUMBUS_SHP).set_crs(3857).head(0).to_file(gpkg, layer="nothing")
    before = snapshot(tmp_path)
    extra = [] if layer is None else ["--layer", layer]
    result = run("weights", "build", gpkg, "--id", "POLYID", *extra, "-o", tmp_path / "w.gal")
    _refused(result, tmp_path, before, 3, "empty.gpkg", "is empty", "no regions")


def _bowtie_layer(tmp_path):
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # its ring crosses itself
    squares = [bowtie, box(1, 0, 2, 1), box(2, 0, 3, 1), box(3, 0, 4, 1)]
    path = tmp_path / "bowtie.gpkg"
    gpd.GeoDataFrame({"code": ["knot", "b", "c", "d"]}, geometry=squares, crs="EPSG:3857").to_file(path)
    return path


def test_invalid_polygon_is_a_warning_naming_the_region(tmp_path):
    path = _bowtie_layer(tmp_path)
    with pytest.warns(RtsmigWarning, match=r"bowtie.gpkg: 1 region has invalid geometry .*'knot'.*make_valid"):
        regions = read_regions(path, "code")
    assert list(regions.index) == ["knot", "b", "c", "d"]
    result = run("weights", "build", path, "--id", "code", "-o", tmp_path / "w.gal")
    assert result.exit_code == 0, result.stderr
    warning_lines = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning_lines) == 1 and "'knot'" in warning_lines[0], result.stderr
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr


def test_valid_layers_read_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RtsmigWarning)
        assert len(read_regions(COLUMBUS_SHP, "POLYID")) == 49


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ({"id_col": "Id"}, ("no id column 'Id'", "did you mean 'id'?", "'POLYID'", "--id")),
        ({"y": "crime"}, ("no column 'crime'", "did you mean 'CRIME'?", "--y/--x")),
        ({"x": "INC,HOVALS"}, ("no column 'HOVALS'", "did you mean 'HOVAL'?", "'X', 'Y'")),
        ({"x": "INC,nothing_like_it"}, ("no column 'nothing_like_it'", "columns: 'POLYID', 'CRIME'")),
    ],
    ids=["id", "y", "x", "no-close-name"],
)
def test_column_typo_suggests_the_close_name(tmp_path, args, fragments):
    before = snapshot(tmp_path)
    result = _fit(CSV, tmp_path / "out", **args)
    _refused(result, tmp_path, before, 3, "columbus.csv", *fragments)
    if "nothing_like_it" in str(args):
        assert "did you mean" not in result.stderr


def test_wide_table_lists_only_the_first_columns(tmp_path):
    data = tmp_path / "wide.csv"
    wide = _columbus().assign(**{f"v{i:02d}": 1.0 for i in range(50)})
    wide.to_csv(data, index=False)
    before = snapshot(tmp_path)
    result = _fit(data, tmp_path / "out", x="INC,AreaKey")
    _refused(result, tmp_path, before, 3, "no column 'AreaKey'", "(and ")
    assert "'v49'" not in result.stderr


def test_column_hint_lists_all_columns_of_a_narrow_table():
    columns = [f"c{i}" for i in range(39)]
    assert column_hint("zzz", columns) == "columns: " + ", ".join(repr(c) for c in columns)
    assert "(and 28 more)" in column_hint("zzz", [*columns, "c39"])


def test_missing_column_puts_a_case_only_difference_first():
    error = missing_column("d.csv", "areakey", ["AreaKeys", "AreaKey", "y"], "check --id")
    assert isinstance(error, InputError)
    assert str(error).startswith("d.csv: no column 'areakey' (did you mean 'AreaKey' or 'AreaKeys'?")


def test_read_table_reports_a_missing_id_with_the_close_name(tmp_path):
    with pytest.raises(InputError, match=r"no id column 'ID' \(did you mean 'id'\?"):
        read_table(CSV, "ID")
