"""``rtsmig map``: each mode renders headless on China and Columbus, same inputs same bytes, every error."""

from __future__ import annotations

import json
import time

import esda
import mapclassify
import numpy as np
import pandas as pd
import pytest
from cli_helpers import COLUMBUS_SHP, ROOT, assert_error, run
from libpysal.graph import Graph
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb
from matplotlib.image import imread

from rtsmig.io.weights_io import read_weights

CHINA_SHP = ROOT / "shapefiles" / "china_prefectures" / "china_prefectures.shp"
STRATEGY = ROOT / "examples" / "strategy" / "data.csv"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Numba not installed")


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Queen weights (islands attached) of both layers, built by the CLI."""
    folder = tmp_path_factory.mktemp("weights")
    paths = {}
    for name, shp, id_col in (("china", CHINA_SHP, "adcode"), ("columbus", COLUMBUS_SHP, "POLYID")):
        paths[name] = folder / f"{name}.parquet"
        result = run("weights", "build", shp, "--id", id_col, "--kind", "queen", "--islands", "attach",
                     "-o", paths[name], "-q")
        assert result.exit_code == 0, result.stderr
    return paths


CASES = {
    "china": (CHINA_SHP, "adcode", "migration", ("--data", STRATEGY)),
    "columbus": (COLUMBUS_SHP, "POLYID", "CRIME", ()),
}


def draw(out, case: str, *args, dpi=100):
    """Run ``rtsmig map`` on a bundled layer; return the figure's path and its sidecar record."""
    shp, id_col, column, data = CASES[case]
    result = run("map", shp, "--id", id_col, "--column", column, *data, "-o", out, "--dpi", dpi, "-q", *args)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert result.stdout == ""
    return out, json.loads(out.with_name(out.name + ".json").read_text())


def values_of(case: str) -> pd.Series:
    shp, id_col, column, data = CASES[case]
    if data:
        return pd.read_csv(data[1], dtype={id_col: str}).set_index(id_col)[column]
    import geopandas as gpd

    frame = gpd.read_file(shp)
    return frame.set_index(frame[id_col].astype(str))[column]


def region_ids(case: str) -> list[str]:
    """The layer's ids in its own order: the order rtsmig gives esda (permutations depend on it)."""
    import geopandas as gpd

    shp, id_col, _, _ = CASES[case]
    return gpd.read_file(shp)[id_col].astype(str).tolist()


def graph_in_order(path, ids: list[str]) -> Graph:
    """The weights file as a libpysal Graph on ``ids`` only, in their order, row-standardised."""
    graph = read_weights(path)
    pos = graph.unique_ids.get_indexer(ids)
    return Graph.from_sparse(graph.sparse[pos][:, pos], ids=ids).transform("r")


def png_colours(path, size) -> np.ndarray:
    """The distinct RGB colours of a PNG, after checking that it is ``size`` inches x dpi pixels."""
    image = imread(path)
    width, height, dpi = size
    assert image.shape[:2] == (round(height * dpi), round(width * dpi))
    return np.unique((image[..., :3] * 255).round().astype(int).reshape(-1, 3), axis=0)


def has_colour(colours: np.ndarray, hex_colour: str) -> bool:
    rgb = np.round(np.array(to_rgb(hex_colour)) * 255)
    return bool((np.abs(colours - rgb).max(axis=1) <= 2).any())


@pytest.mark.parametrize("case", ["china", "columbus"])
def test_choropleth_classes_are_mapclassify_s_and_all_drawn(tmp_path, case):
    out, record = draw(tmp_path / "map.png", case, "--scheme", "quantiles", "--k", "5", "--cmap", "viridis")
    classes = record["map"]["classes"]
    expected = mapclassify.Quantiles(values_of(case).to_numpy(float), k=5)
    np.testing.assert_array_equal(classes["bins"], expected.bins)
    assert classes["counts"] == expected.counts.tolist()
    assert classes["labels"][0].startswith("[") and classes["labels"][0].endswith(f"({expected.counts[0]})")
    colours = png_colours(out, (6.5, 5.0, 100))
    expected_fills = [to_hex(c) for c in colormaps["viridis"](np.linspace(0, 1, 5))]
    assert classes["colors"] == expected_fills
    assert all(has_colour(colours, c) for c in expected_fills), "a class colour is missing from the map"
    assert len(colours) > 20  # fills, boundaries, antialiasing, text: not a blank page


@pytest.mark.parametrize("case", ["china", "columbus"])
def test_lisa_counts_and_global_i_are_esda_s(tmp_path, weights, case):
    out, record = draw(tmp_path / "lisa.png", case, "--lisa", "--weights", weights[case],
                       "--permutations", 99, "--seed", 3)
    ids = region_ids(case)
    graph = graph_in_order(weights[case], ids)
    y = values_of(case).reindex(ids).to_numpy(float)
    local = esda.Moran_Local(y, graph, permutations=99, seed=3)
    labels = pd.Series(local.get_cluster_labels(0.05)).replace("Insignificant", "not significant").value_counts()
    counts = record["map"]["clusters"]["counts"]
    for name in ("High-High", "Low-Low", "Low-High", "High-Low", "not significant"):
        assert counts[name] == labels.get(name, 0), name
    np.random.seed(3)
    moran = esda.Moran(y, graph, permutations=99)
    z = y - y.mean()
    assert record["map"]["moran"]["I"] == pytest.approx(moran.I, rel=1e-12)
    assert record["map"]["moran"]["I"] == pytest.approx(z @ (graph.sparse @ z) / (z @ z), rel=1e-12)
    assert record["map"]["moran"]["p_sim"] == moran.p_sim
    colours = png_colours(out, (6.5, 5.0, 100))
    assert counts["High-High"] > 0 and has_colour(colours, "#ff0000")
    assert has_colour(colours, "#0000ff") == (counts["Low-Low"] > 0)


@pytest.mark.parametrize("case", ["china", "columbus"])
def test_moran_scatter_reports_esda_s_i_and_p(tmp_path, weights, case):
    out, record = draw(tmp_path / "scatter.png", case, "--moran-scatter", "--weights", weights[case],
                       "--permutations", 99, "--seed", 5)
    ids = region_ids(case)
    graph = graph_in_order(weights[case], ids)
    y = values_of(case).reindex(ids).to_numpy(float)
    np.random.seed(5)
    moran = esda.Moran(y, graph, permutations=99)
    assert record["map"]["moran"]["I"] == pytest.approx(moran.I, rel=1e-12)
    assert record["map"]["moran"]["slope"] == pytest.approx(moran.I, rel=1e-9)
    assert record["map"]["moran"]["p_sim"] == moran.p_sim
    assert sum(record["map"]["moran"]["quadrants"].values()) == len(y)
    colours = png_colours(out, (6.5, 5.5, 100))
    assert has_colour(colours, "#d62728") and has_colour(colours, "#3b6ea8")


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
@pytest.mark.parametrize("mode", [(), ("--lisa",), ("--moran-scatter",)])
def test_same_inputs_same_bytes(tmp_path, weights, fmt, mode):
    extra = (*mode, "--weights", weights["columbus"], "--permutations", 99) if mode else ("--scheme", "natural-breaks")
    first, _ = draw(tmp_path / f"a.{fmt}", "columbus", *extra)
    second, _ = draw(tmp_path / f"b.{fmt}", "columbus", *extra)
    assert first.read_bytes() == second.read_bytes()
    assert first.with_name("a.json").exists() is False
    assert (tmp_path / f"a.{fmt}.json").read_bytes() == (tmp_path / f"b.{fmt}.json").read_bytes()


def test_china_at_the_default_300_dpi(tmp_path):
    shp, id_col, column, data = CASES["china"]
    started = time.perf_counter()
    result = run("map", shp, "--id", id_col, "--column", column, *data, "-o", tmp_path / "m.png", "-q")
    assert result.exit_code == 0, result.stderr
    assert time.perf_counter() - started < 60
    assert len(png_colours(tmp_path / "m.png", (6.5, 5.0, 300))) > 20


def test_missing_values_are_grey_and_left_out_of_w(tmp_path, weights):
    frame = pd.read_csv(STRATEGY, dtype={"adcode": str})
    frame.loc[:9, "migration"] = np.nan
    data = tmp_path / "gaps.csv"
    frame.to_csv(data, index=False)
    args = ("map", CHINA_SHP, "--id", "adcode", "--column", "migration", "--data", data, "--dpi", 100, "-q")
    result = run(*args, "-o", tmp_path / "c.png")
    assert result.exit_code == 0, result.stderr
    assert "Warning: 10 regions have no migration value" in result.stderr
    record = json.loads((tmp_path / "c.png.json").read_text())["map"]
    assert record["no_data"] == frame["adcode"][:10].tolist() and sum(record["classes"]["counts"]) == 360
    assert has_colour(png_colours(tmp_path / "c.png", (6.5, 5.0, 100)), "#d9d9d9")
    result = run(*args, "-o", tmp_path / "l.png", "--lisa", "--weights", weights["china"], "--permutations", 99)
    assert result.exit_code == 0, result.stderr
    assert "left out of W" in result.stderr
    kept = [i for i in region_ids("china") if i not in set(frame["adcode"][:10])]
    graph = graph_in_order(weights["china"], kept)
    y = frame.set_index("adcode")["migration"].reindex(kept).to_numpy(float)
    local = esda.Moran_Local(y, graph, permutations=99, seed=1)
    record = json.loads((tmp_path / "l.png.json").read_text())["map"]
    assert record["clusters"]["counts"]["High-High"] == int(((local.p_sim < 0.05) & (local.q == 1)).sum())


def test_help_documents_the_modes_with_examples():
    result = run("map", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert text.count("Example: rtsmig map") == 2 and "--lisa --weights" in text
    for words in ("Choropleth", "High-High", "--moran-scatter", "slope = Moran's I", "quantiles"):
        assert words in text, words


def test_figure_and_sidecar_appear_together_or_not_at_all(tmp_path, disk_full):
    attempts = disk_full(1)  # the figure is staged, then the disk fills up before its sidecar
    shp, id_col, column, _ = CASES["columbus"]
    result = run("map", shp, "--id", id_col, "--column", column, "-o", tmp_path / "m.png", "--dpi", 60)
    assert_error(result, 3, "No space left on device")
    assert len(attempts) == 2
    assert list(tmp_path.iterdir()) == []


def columbus_csv(tmp_path, **columns) -> str:
    """A data file over Columbus's ids with the given columns (lists of 49 values)."""
    path = tmp_path / "data.csv"
    pd.DataFrame({"POLYID": range(1, 50), **columns}).to_csv(path, index=False)
    return path


def map_error(tmp_path, regions, *args, output="m.png", data=None):
    """Run ``rtsmig map`` with --id POLYID expecting failure; check that no figure or sidecar was left."""
    before = set(tmp_path.iterdir())
    data_args = ("--data", data) if data is not None else ()
    result = run("map", regions, "--id", "POLYID", *data_args, "-o", tmp_path / output, "--dpi", 60, "-q", *args)
    assert set(tmp_path.iterdir()) == before, "a failed map left a file behind"
    return result


@pytest.mark.parametrize(
    ("args", "code", "fragments"),
    [
        (("nope.shp", "--column", "CRIME"), 3, ("nope.shp", "no such file")),
        ((COLUMBUS_SHP, "--column", "CRIM"), 3, ("no column 'CRIM'", "did you mean 'CRIME'")),
        ((COLUMBUS_SHP, "--column", "CRIME", "--scheme", "kmeans"), 2, ("--scheme", "kmeans")),
        ((COLUMBUS_SHP, "--column", "CRIME", "--lisa", "--moran-scatter", "--weights", "w.parquet"), 2,
         ("--lisa and --moran-scatter",)),
        ((COLUMBUS_SHP, "--column", "CRIME", "--lisa"), 2, ("--weights", "--lisa needs a weights file")),
        ((COLUMBUS_SHP, "--column", "CRIME", "--moran-scatter"), 2, ("--weights",)),
        ((COLUMBUS_SHP, "--column", "CRIME", "--weights", "w.parquet"), 2, ("--weights", "only by --lisa")),
        ((COLUMBUS_SHP, "--column", "CRIME", "--lisa", "--weights", "w.parquet", "--k", 4), 2, ("--k",)),
        ((COLUMBUS_SHP, "--column", "CRIME", "--scheme", "std-mean", "--k", 4), 2, ("std-mean", "--k")),
        ((COLUMBUS_SHP, "--column", "CRIME", "--cmap", "virdis"), 2, ("virdis", "viridis")),
        ((COLUMBUS_SHP, "--column", "CRIME", "--alpha", 1.5), 2, ("alpha 1.5 is not between 0 and 1",)),
        ((COLUMBUS_SHP, "--column", "CRIME", "--k", 1), 2, ("--k",)),
    ],
)
def test_usage_and_layer_errors(tmp_path, args, code, fragments):
    assert_error(map_error(tmp_path, *args), code, *fragments)


def test_unknown_figure_suffix_is_a_usage_error(tmp_path):
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "CRIME", output="m.gif"), 2, "--output", ".gif")


def test_id_not_a_column_and_unreadable_files(tmp_path):
    result = run("map", COLUMBUS_SHP, "--id", "NOPE", "--column", "CRIME", "-o", tmp_path / "m.png")
    assert_error(result, 3, "no id column 'NOPE'")
    bad = tmp_path / "regions.geojson"
    bad.write_text("not json")
    result = run("map", bad, "--id", "POLYID", "--column", "CRIME", "-o", tmp_path / "m.png")
    assert_error(result, 3, "regions.geojson", "cannot read")
    garbage = tmp_path / "data.parquet"
    garbage.write_bytes(b"PAR1 garbage")
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "CRIME", data=garbage), 3, "data.parquet", "cannot read")
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "x", data=tmp_path / "none.csv"), 3, "no such file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.parquet", "regions.geojson"]


def test_column_missing_from_data_names_close_columns(tmp_path):
    data = columbus_csv(tmp_path, migration=np.arange(49.0))
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "Migration", data=data), 3,
                 "data.csv", "no column 'Migration'", "'migration'")


def test_non_numeric_column_names_column_and_first_bad_region(tmp_path):
    values = [str(v) for v in range(49)]
    values[6] = "n/a?"
    data = columbus_csv(tmp_path, score=values)
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "score", data=data), 3,
                 "column 'score' is not numeric", "region '7'", "n/a?")


def test_fewer_regions_with_data_than_classes(tmp_path):
    data = columbus_csv(tmp_path, few=[1.0, 2.0, 3.0] + [None] * 46)
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "few", data=data), 3,
                 "only 3 regions have a value", "--k 5")
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "few", "--scheme", "percentiles", data=data), 3,
                 "fewer than the 6 classes of --scheme percentiles")


def test_data_ids_that_match_no_region(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"POLYID": [f"x{i}" for i in range(49)], "v": np.arange(49.0)}).to_csv(path, index=False)
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "v", data=path), 3, "none of its ids is a region")


@pytest.mark.parametrize("mode", ["--lisa", "--moran-scatter"])
def test_weights_of_other_regions_and_constant_columns(tmp_path, weights, mode):
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "CRIME", mode, "--weights", weights["china"]), 4,
                 "china.parquet", "ids of the data are not in the weights", "'1'", "'110100'")
    data = columbus_csv(tmp_path, flat=[2.5] * 49)
    assert_error(map_error(tmp_path, COLUMBUS_SHP, "--column", "flat", mode, "--weights", weights["columbus"],
                           data=data), 3, "'flat'", "constant")


def test_output_folder_missing(tmp_path):
    result = run("map", COLUMBUS_SHP, "--id", "POLYID", "--column", "CRIME", "-o", tmp_path / "no" / "m.png", "-q")
    assert_error(result, 3, "does not exist")
    assert list(tmp_path.iterdir()) == []
