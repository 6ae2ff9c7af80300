"""Weights files: lossless round trips, stable bytes, ids kept as strings."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from libpysal.graph import Graph
from shapely.geometry import box

from rtsmig.errors import InputError, OutputError
from rtsmig.io.weights_io import read_weights, write_weights
from rtsmig.weights import WeightsSpec, build_weights

HERE = Path(__file__).parent
REFERENCE_GAL = HERE / "reference" / "columbus_queen.gal"
FORMATS = ("parquet", "gal", "gwt")


def cells(ids: list[str]) -> gpd.GeoDataFrame:
    """A row of unit squares with the given ids, plus a lone square at the end."""
    squares = [box(i, 0, i + 1, 1) for i in range(len(ids) - 1)] + [box(50, 50, 51, 51)]
    return gpd.GeoDataFrame(geometry=squares, index=ids, crs="EPSG:3857")


@pytest.fixture
def kernel_graph() -> Graph:
    """Weights with many significant digits, an unusual order and integer-like ids."""
    ids = ["10", "007", "2", "1", "x", "lone"]
    spec = WeightsSpec(kind="kernel", bandwidth=2.7, kernel_fn="quartic", transform="r", islands="drop")
    return build_weights(cells(ids), spec).graph


@pytest.fixture
def island_graph() -> Graph:
    return Graph.from_dicts({"b": ["a"], "a": ["b", "c"], "c": ["a"], "01": []}).transform("r")


def adjacency_items(graph: Graph) -> list[tuple[str, str, float]]:
    focal, neighbor = graph.index_pairs
    return list(zip(focal, neighbor, graph.adjacency.to_numpy().tolist()))


def test_parquet_round_trip_is_lossless(tmp_path, kernel_graph):
    path = tmp_path / "w.parquet"
    write_weights(kernel_graph, path)
    back = read_weights(path)
    assert back == kernel_graph
    assert back.transformation == "R"
    assert list(back.unique_ids) == ["10", "007", "2", "1", "x"]
    assert all(type(i) is str for i in back.unique_ids)


def test_gwt_round_trip_keeps_neighbours_and_weights(tmp_path, kernel_graph):
    path = tmp_path / "w.gwt"
    write_weights(kernel_graph, path)
    back = read_weights(path)
    assert adjacency_items(back) == adjacency_items(kernel_graph)
    assert back == kernel_graph


def test_gal_round_trip_keeps_neighbours(tmp_path, kernel_graph):
    path = tmp_path / "w.gal"
    write_weights(kernel_graph, path)
    back = read_weights(path)
    assert back.neighbors == kernel_graph.neighbors
    assert back == kernel_graph.transform("b")  # GAL has no weights


@pytest.mark.parametrize("fmt", FORMATS)
def test_islands_survive_a_round_trip(tmp_path, island_graph, fmt):
    path = tmp_path / f"w.{fmt}"
    write_weights(island_graph, path)
    back = read_weights(path)
    assert list(back.unique_ids) == ["b", "a", "c", "01"]
    assert list(back.isolates) == ["01"]
    assert back.neighbors == island_graph.neighbors


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_graph_same_bytes(tmp_path, kernel_graph, fmt):
    first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    write_weights(kernel_graph, first)
    write_weights(kernel_graph, second)
    data = first.read_bytes()
    write_weights(kernel_graph, first)
    assert first.read_bytes() == data == second.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"a.{fmt}", f"b.{fmt}"]  # no temp files


def test_gal_text_layout(tmp_path):
    graph = Graph.from_dicts({"1": ["2"], "2": ["1", "3"], "3": ["2"]})
    path = tmp_path / "w.gal"
    write_weights(graph, path)
    assert path.read_text() == "3\n1 1\n2\n2 2\n1 3\n3 1\n2\n"


def test_reads_the_spdep_gal():
    graph = read_weights(REFERENCE_GAL)
    assert graph.n == 49
    assert list(graph.unique_ids) == [str(i) for i in range(1, 50)]
    assert set(graph.neighbors["1"]) == {"2", "3"}
    assert graph.adjacency.max() == 1


def test_reads_geoda_style_gal_and_gwt(tmp_path):
    gal = tmp_path / "g.gal"
    gal.write_text("0 3 shapes POLY\n007 2\n1 2\n1 1\n007\n2 1\n007\n")
    graph = read_weights(gal)
    assert list(graph.unique_ids) == ["007", "1", "2"]
    gwt = tmp_path / "g.gwt"
    gwt.write_text("0 3 shapes POLY\n007 1 0.5\n007 2 0.5\n1 007 1\n")
    graph = read_weights(gwt)
    # "2" appears only as a neighbour: it becomes a region without neighbours.
    assert list(graph.unique_ids) == ["007", "1", "2"]
    assert list(graph.isolates) == ["2"]


def test_parquet_with_integer_ids_reads_as_strings(tmp_path):
    path = tmp_path / "int.parquet"
    Graph.from_dicts({1: [2], 2: [1, 3], 3: [2]}).to_parquet(path)
    graph = read_weights(path)
    assert list(graph.unique_ids) == ["1", "2", "3"]
    assert graph.neighbors["2"] == ("1", "3")


@pytest.mark.parametrize("fmt", ["gal", "gwt"])
def test_ids_with_spaces_are_refused_by_text_formats(tmp_path, fmt):
    graph = Graph.from_dicts({"New York": ["Boston"], "Boston": ["New York"]})
    path = tmp_path / f"w.{fmt}"
    with pytest.raises(OutputError, match=r"'New York'.*whitespace.*\.parquet"):
        write_weights(graph, path)
    assert not path.exists()


def test_ids_with_spaces_round_trip_in_parquet(tmp_path):
    graph = Graph.from_dicts({"New York": ["Boston"], "Boston": ["New York"]})
    path = tmp_path / "w.parquet"
    write_weights(graph, path)
    assert read_weights(path) == graph


def test_unknown_extension(tmp_path, island_graph):
    with pytest.raises(OutputError, match=r"\.csv"):
        write_weights(island_graph, tmp_path / "w.csv")
    with pytest.raises(InputError, match=r"\.mat"):
        read_weights(tmp_path / "w.mat")
    assert list(tmp_path.iterdir()) == []


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "absent.gal"
    with pytest.raises(InputError, match="absent.gal"):
        read_weights(path)


def test_missing_folder_is_an_output_error(tmp_path, island_graph):
    with pytest.raises(OutputError):
        write_weights(island_graph, tmp_path / "nowhere" / "w.parquet")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("cut.gal", "3\n1 1\n2\n2 1\n1\n", "line 6 should read 'id count'"),
        ("short.gal", "2\n1 2\n2\n2 1\n1\n", "line 3 lists 1 neighbours of region '1', not 2"),
        ("twice.gal", "2\n1 2\n2 2\n2 1\n1\n", "listed twice"),
        ("extra.gal", "1\n1 0\n\n2 0\n", "after the 1 regions"),
        ("header.gal", "three\n", "header"),
        ("unknown.gal", "1\n1 1\n9\n", "not listed"),
        ("cols.gwt", "0 2 x y\n1 2\n", "focal neighbour weight"),
        ("nan.gwt", "0 2 x y\n1 2 heavy\n", "not a number"),
        ("junk.parquet", "not parquet", "cannot read"),
    ],
)
def test_malformed_files(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_weights(path)
    assert name in str(info.value)
