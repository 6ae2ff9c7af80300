"""The CLI across file formats, and its output against the Python API's."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from cli_helpers import COLUMBUS_SHP, REFERENCE, run

from rtsmig.dataset import build_dataset
from rtsmig.io.weights_io import read_weights
from rtsmig.models import fit
from rtsmig.models.spec import FitSpec
from rtsmig.weights.matrix import aligned_matrix

MODELS = (("ols", "ml"), ("lag", "ml"), ("error", "ml"), ("lag", "gmm"), ("error", "gmm"))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The Columbus models fitted through the CLI, with queen weights built by it."""
    root = tmp_path_factory.mktemp("fits")
    weights = root / "queen.parquet"
    assert run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", "-o", weights).exit_code == 0
    folders = []
    for model, method in MODELS:
        out = root / f"{model}-{method}"
        result = run("fit", COLUMBUS_SHP, "--id", "POLYID", "-w", weights, "--model", model, "--method", method,
                     "--y", "CRIME", "--x", "INC,HOVAL", "-o", out)
        assert result.exit_code == 0, result.stderr
        folders.append(out)
    return weights, folders


@pytest.mark.parametrize("fmt", ["md", "tex", "csv"])
def test_table_of_columbus_models_matches_golden(fitted, fmt, golden):
    result = run("table", *fitted[1], "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    golden(f"columbus_table.{fmt}", result.stdout)


def test_table_writes_the_format_its_extension_names(fitted, tmp_path):
    out = tmp_path / "models.html"
    result = run("table", *fitted[1], "-o", out)
    assert (result.exit_code, result.stdout) == (0, "")
    assert out.read_text().startswith("<table")


def test_cli_result_equals_python_api(fitted):
    weights, folders = fitted
    frame = gpd.read_file(COLUMBUS_SHP).assign(POLYID=lambda f: f["POLYID"].astype(str)).set_index("POLYID")
    W = aligned_matrix(read_weights(weights).transform("r"), list(frame.index))
    data = build_dataset(frame, "CRIME", ("INC", "HOVAL"), source="columbus", W=W,
                         weights_label="queen contiguity, row-standardised")
    for (model, method), folder in zip(MODELS, folders, strict=True):
        api = fit(FitSpec(model=model, method=method, y="CRIME", x=("INC", "HOVAL")), data).to_dict()
        assert json.loads((folder / "result.json").read_text()) == api, (model, method)


def test_fit_reads_csv_and_parquet_data_with_gwt_and_gal_weights(tmp_path):
    csv = REFERENCE / "columbus.csv"
    parquet = tmp_path / "columbus.parquet"
    pd.read_csv(csv, dtype={"id": str}).to_parquet(parquet)
    knn = tmp_path / "knn.gwt"
    crs = ["--crs", "EPSG:3857"]  # Columbus has no CRS and degree-like coordinates: declare a planar one
    assert run("weights", "build", COLUMBUS_SHP, "--id", "POLYID", "--kind", "knn", "--k", "5", *crs,
               "-o", knn).exit_code == 0
    estimates = []
    for data in (csv, parquet):
        out = tmp_path / data.suffix.lstrip(".")
        result = run("fit", data, "--id", "id", "-w", knn, "--model", "lag", "--y", "CRIME",
                     "--x", "INC,HOVAL", "-o", out)
        assert result.exit_code == 0, result.stderr
        estimates.append(pd.read_csv(out / "coefficients.csv"))
    pd.testing.assert_frame_equal(*estimates)


def test_regions_from_geopackage_layer_and_geojson(tmp_path, golden):
    frame = gpd.read_file(COLUMBUS_SHP).set_crs("EPSG:3857")  # any planar CRS; silences the no-CRS warning
    gpkg, geojson = tmp_path / "c.gpkg", tmp_path / "c.geojson"
    frame.to_file(gpkg, layer="tracts")
    frame.to_file(geojson)
    texts = []
    for source, extra in ((gpkg, ["--layer", "tracts"]), (geojson, [])):
        out = tmp_path / f"{source.suffix[1:]}.gal"
        assert run("weights", "build", source, "--id", "POLYID", *extra, "-o", out).exit_code == 0
        texts.append(out.read_text())
    assert texts[0] == texts[1]
    golden("columbus_queen.gal", texts[0])
