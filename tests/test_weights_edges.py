"""Edges, the array form of weights the fit path uses: the same numbers as libpysal's Graph.

The fixtures are real weights (Columbus, the China prefectures, with islands and
float weights) and a random graph with long rows, zero-weight links and isolates,
because floating-point sums depend on the order and grouping of their terms.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from libpysal.graph import Graph, read_parquet
from scipy import sparse

from rtsmig.errors import InputError, WeightsError
from rtsmig.io.weights_io import read_edges, read_weights, write_weights
from rtsmig.pipeline.steps import load_dataset, weights_for
from rtsmig.weights._graph import edge_positions, from_positions, id_array
from rtsmig.weights.edges import Edges, RepeatedLinkError

SHAPEFILES = Path(__file__).resolve().parents[1] / "shapefiles"
KINDS = ("r", "b", "v", "d")


def _random_graph() -> Graph:
    """Rows of 1 to 300 links (numpy sums rows of 8+ pairwise), zero weights, isolates."""
    rng = np.random.default_rng(7)
    n = 400
    heads, tails = [], []
    for i in rng.permutation(n)[:360]:  # 40 regions without links
        k = int(rng.choice([1, 2, 3, 5, 8, 9, 17, 130, 300]))
        heads += [i] * k
        tails += list(rng.choice(n, size=k, replace=False))
    weights = rng.random(len(heads)) * rng.choice([1e-6, 1.0, 1e6], len(heads))
    weights[rng.random(len(heads)) < 0.05] = 0.0
    return from_positions([f"z{i}" for i in range(n)], heads, tails, weights)


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    with warnings.catch_warnings():  # libpysal raises 0 to a negative power on the diagonal
        warnings.simplefilter("ignore")
        columbus = gpd.read_file(SHAPEFILES / "columbus" / "columbus.shp", engine="pyogrio")
        columbus.index = columbus["POLYID"].astype(str)
        china = gpd.read_file(SHAPEFILES / "china_prefectures" / "china_prefectures.shp", engine="pyogrio")
        china = china.set_index("adcode").to_crs("EPSG:3857")
        return {
            "columbus_queen": Graph.build_contiguity(columbus, rook=False),
            "columbus_kernel": Graph.build_kernel(columbus.set_crs("EPSG:3857", allow_override=True).centroid, k=8),
            "china_queen": Graph.build_contiguity(china, rook=False),  # two islands
            "china_inverse": Graph.build_distance_band(china.centroid, 400_000, binary=False, alpha=-1.5),
            "china_queen_r": Graph.build_contiguity(china, rook=True).transform("r"),  # stored as R
            "random": _random_graph(),
        }


@pytest.fixture(scope="module")
def files(graphs, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("weights")
    out = {}
    for name, graph in graphs.items():
        out[name] = folder / f"{name}.parquet"
        write_weights(graph, out[name])
    return out


def _assert_same_graph(edges: Edges, graph: Graph, exact: bool = True) -> None:
    expected = Edges.from_graph(graph)
    assert list(edges.ids) == [str(i) for i in graph.unique_ids]
    np.testing.assert_array_equal(edges.heads, expected.heads)
    np.testing.assert_array_equal(edges.tails, expected.tails)
    if exact:
        np.testing.assert_array_equal(edges.weights, expected.weights)
    else:
        np.testing.assert_allclose(edges.weights, expected.weights, rtol=1e-15, atol=0)
    assert edges.transformation == graph.transformation


# --- transform ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_transform_matches_libpysal(graphs, kind):
    for graph in graphs.values():
        _assert_same_graph(Edges.from_graph(graph).transform(kind), graph.transform(kind), exact=False)


@pytest.mark.parametrize("kind", KINDS)
def test_transform_matches_libpysal_bit_for_bit_on_long_float_rows(graphs, kind):
    # Rows of 9 to 300 links: a plain bincount, or np.add.reduceat, differ in the last bits.
    for name in ("random", "china_inverse", "columbus_kernel"):
        _assert_same_graph(Edges.from_graph(graphs[name]).transform(kind), graphs[name].transform(kind))


def test_transform_of_an_island_graph():
    graph = Graph.from_dicts(
        {"b": ["a"], "a": ["b", "c"], "c": ["a"], "01": []}, {"b": [2.0], "a": [1.0, 3.0], "c": [4.0], "01": []}
    )
    edges = Edges.from_graph(graph)
    assert list(edges.ids) == ["b", "a", "c", "01"]
    assert len(edges.heads) == 4  # the island keeps its id, not libpysal's zero self-loop
    for kind in KINDS:
        _assert_same_graph(edges.transform(kind), graph.transform(kind))
    np.testing.assert_array_equal(edges.transform("r").weights, [1.0, 0.25, 0.75, 1.0])


def test_transform_keeps_weights_that_carry_it_already(graphs):
    edges = Edges.from_graph(graphs["china_queen_r"])
    assert edges.transformation == "R"
    assert edges.transform("r") is edges
    assert edges.transform("o") is edges
    assert edges.transform("b").transformation == "B"
    with pytest.raises(InputError, match="'x'.*r, b, v, d, o"):
        edges.transform("x")


# --- subset ------------------------------------------------------------------------------


def test_subset_matches_subgraph(graphs):
    graph = graphs["china_queen"]
    ids = list(graph.unique_ids)
    # Dropping every neighbour of the first region leaves it an island.
    gone = set(graph.neighbors[ids[0]]) | {ids[5]}
    keep = [i for i in ids if i not in gone]
    edges = Edges.from_graph(graph)
    sub = edges.subset(keep)
    _assert_same_graph(sub, graph.subgraph(keep))
    assert sub.transformation == "O"
    assert ids[0] in sub.ids and 0 not in sub.heads
    _assert_same_graph(edges.drop(gone), graph.subgraph(keep))
    for kind in KINDS:
        _assert_same_graph(sub.transform(kind), graph.subgraph(keep).transform(kind))


def test_subset_ignores_unknown_ids_and_keeps_its_own_order(graphs):
    edges = Edges.from_graph(graphs["columbus_queen"])
    sub = edges.subset(["5", "nowhere", "1", "2"])
    assert list(sub.ids) == ["1", "2", "5"]


# --- aligned -----------------------------------------------------------------------------


def test_aligned_reorders_rows_and_columns(graphs):
    graph = graphs["china_inverse"]
    edges = Edges.from_graph(graph)
    ids = list(edges.ids)
    order = np.random.default_rng(1).permutation(len(ids))
    W = edges.aligned([ids[k] for k in order])
    dense = graph.sparse.toarray()
    np.testing.assert_array_equal(W.toarray(), dense[np.ix_(order, order)])
    assert W.nnz == np.count_nonzero(dense)  # zero weights (isolate markers) are not stored


def test_aligned_rejects_duplicate_data_ids(graphs):
    edges = Edges.from_graph(graphs["columbus_queen"])
    with pytest.raises(InputError, match="duplicate region ids '1'"):
        edges.aligned([*edges.ids, "1"])


def test_aligned_names_the_ids_only_one_side_has(graphs):
    edges = Edges.from_graph(graphs["columbus_queen"])
    data_ids = [*list(edges.ids)[1:], "99"]
    with pytest.raises(
        WeightsError,
        match=r"1 ids of the data are not in the weights \('99'\).*1 ids of the weights are not in the data \('1'\)",
    ):
        edges.aligned(data_ids)
    with pytest.raises(WeightsError, match=r"0 ids of the data.*\(none\); 1 ids of the weights"):
        edges.aligned(list(edges.ids)[1:])


# --- graph conversion --------------------------------------------------------------------


def test_graph_round_trip(graphs):
    for graph in graphs.values():
        back = Edges.from_graph(graph).to_graph()
        assert back == graph
        assert list(back.unique_ids) == [str(i) for i in graph.unique_ids]
        assert list(back.isolates) == list(graph.isolates)
        assert back.transformation == graph.transformation


def test_from_positions_sorts_and_refuses_repeated_links():
    edges = Edges.from_positions(["a", "b", "c"], [2, 0, 1, 0], [0, 2, 0, 1], [1.0, 2.0, 3.0, 4.0])
    assert list(zip(edges.heads, edges.tails, edges.weights)) == [(0, 1, 4.0), (0, 2, 2.0), (1, 0, 3.0), (2, 0, 1.0)]
    with pytest.raises(RepeatedLinkError, match="twice"):
        Edges.from_positions(["a", "b"], [0, 1, 0], [1, 0, 1], [1.0, 1.0, 1.0])


# --- Parquet -----------------------------------------------------------------------------


def test_parquet_ids_stay_strings(tmp_path):
    graph = Graph.from_dicts({"007": ["10"], "10": ["007", "7"], "7": ["10"], "lone": []}).transform("r")
    path = tmp_path / "w.parquet"
    write_weights(graph, path)
    edges = read_edges(path)
    assert list(edges.ids) == ["007", "10", "7", "lone"]
    assert all(type(i) is str for i in edges.ids)
    assert edges.transformation == "R"
    _assert_same_graph(edges, graph)
    assert read_parquet(path) == graph  # libpysal reads what rtsmig writes


def test_parquet_round_trip_of_real_weights(graphs, files):
    for name, graph in graphs.items():
        edges = read_edges(files[name])
        _assert_same_graph(edges, graph)
        assert read_weights(files[name]) == graph
        assert read_parquet(files[name]) == graph


def test_parquet_with_integer_ids(tmp_path):
    path = tmp_path / "int.parquet"
    Graph.from_dicts({3: [1], 1: [3, 2], 2: [1]}).to_parquet(path)
    edges = read_edges(path)
    assert list(edges.ids) == ["3", "1", "2"]
    assert [(edges.ids[h], edges.ids[t]) for h, t in zip(edges.heads, edges.tails)] == [
        ("3", "1"),
        ("1", "3"),
        ("1", "2"),
        ("2", "1"),
    ]


def _write_links(path: Path, focal, neighbor, weight, meta: dict | None = None) -> None:
    table = pa.table({"focal": pa.array(focal), "neighbor": pa.array(neighbor), "weight": pa.array(weight)})
    if meta is not None:
        table = table.replace_schema_metadata({b"libpysal": json.dumps(meta).encode()})
    pq.write_table(table, path)


def test_parquet_links_in_any_order(tmp_path, graphs):
    # Not written from a Graph: a region's links are scattered. Ids still come in
    # order of first appearance, links in libpysal's order.
    graph = graphs["china_inverse"]
    focal, neighbor = graph.index_pairs
    order = np.random.default_rng(3).permutation(len(focal))
    path = tmp_path / "shuffled.parquet"
    index = pd.MultiIndex.from_arrays([focal[order], neighbor[order]], names=["focal", "neighbor"])
    pq.write_table(pa.Table.from_pandas(graph.adjacency.iloc[order].set_axis(index).to_frame()), path)
    edges = read_edges(path)
    expected = read_parquet(path)  # libpysal keeps the file's order; Graph() sorts it
    assert list(expected.unique_ids) != list(graph.unique_ids)
    _assert_same_graph(edges, Graph(expected.adjacency, transformation=expected.transformation))


@pytest.mark.parametrize(
    ("focal", "neighbor", "weight", "meta", "message"),
    [
        (["a", "b"], ["b", "z"], [1.0, 1.0], None, "neighbours 'z' are not listed"),
        (["a", "a", "b"], ["b", "b", "a"], [1.0, 1.0, 1.0], None, "listed twice"),
        (["a", None], ["b", "a"], [1.0, 1.0], None, "lack a focal id"),
        (["a", "b"], ["b", "a"], ["x", "y"], None, "not numbers"),
        (["a", "b"], ["b", "a"], [1.0, float("nan")], None, "NaN"),
        (["a", "b"], ["b", "a"], [1.0, 1.0], {"transformation": "Q"}, "no known transformation"),
        ([], [], [], None, "lists no regions"),
    ],
)
def test_malformed_parquet(tmp_path, focal, neighbor, weight, meta, message):
    path = tmp_path / "bad.parquet"
    if not focal:
        _write_links(path, pa.array([], pa.string()), pa.array([], pa.string()), pa.array([], pa.float64()))
    else:
        _write_links(path, focal, neighbor, weight, meta)
    with pytest.raises(InputError, match=message) as info:
        read_edges(path)
    assert "bad.parquet" in str(info.value)


def test_parquet_without_the_columns(tmp_path):
    path = tmp_path / "table.parquet"
    pq.write_table(pa.table({"id": ["a"], "y": [1.0]}), path)
    with pytest.raises(InputError, match=r"table.parquet: cannot read as a weights file \(no column 'focal'"):
        read_edges(path)


# --- the fit path, old and new -----------------------------------------------------------


def _old_weights_for(path: Path, ids: list[str], transform: str, dropped: list[str]) -> sparse.csr_array:
    """The fit path before Edges, verbatim: libpysal Graph read, subgraph, transform, align."""
    graph = read_parquet(str(path))
    focal, neighbor = graph.index_pairs
    adjacency = pd.Series(
        graph.adjacency.to_numpy(),
        index=pd.MultiIndex.from_arrays([id_array(focal), id_array(neighbor)], names=["focal", "neighbor"]),
        name="weight",
    )
    graph = Graph(adjacency, transformation=graph.transformation)
    if dropped:
        gone = set(dropped)
        graph = graph.subgraph([i for i in graph.unique_ids if str(i) not in gone])
    if transform != "o":
        graph = graph.transform(transform)
    wanted = pd.Index([str(i) for i in ids], dtype=object)
    have, heads, tails, weights = edge_positions(graph)
    pos = wanted.get_indexer(pd.Index([str(i) for i in have], dtype=object))
    n = len(wanted)
    return sparse.csr_array((weights, (pos[heads], pos[tails])), shape=(n, n))


def _assert_identical(new: sparse.csr_array, old: sparse.csr_array) -> None:
    assert new.shape == old.shape
    for part in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(new, part), getattr(old, part))


@pytest.mark.parametrize("transform", [*KINDS, "o"])
@pytest.mark.parametrize("drop", [False, True])
def test_fit_path_gives_the_same_w_as_before(graphs, files, transform, drop):
    for name, path in files.items():
        ids = [str(i) for i in graphs[name].unique_ids]
        dropped = [ids[k] for k in (0, 3, len(ids) // 2)] if drop else []
        kept = [i for i in ids if i not in set(dropped)]
        data_ids = [kept[k] for k in np.random.default_rng(2).permutation(len(kept))]
        new = weights_for(read_edges(path), data_ids, transform, dropped)
        _assert_identical(new, _old_weights_for(path, data_ids, transform, dropped))


@pytest.mark.parametrize("fmt", ["gal", "gwt"])
def test_text_formats_give_the_same_edges_as_their_graph(graphs, tmp_path, fmt):
    for name in ("columbus_kernel", "china_queen"):
        path = tmp_path / f"{name}.{fmt}"
        write_weights(graphs[name], path)
        edges = read_edges(path)
        _assert_same_graph(edges, read_weights(path))
        for kind in KINDS:
            _assert_same_graph(edges.transform(kind), read_weights(path).transform(kind))


def test_fit_path_imports_neither_libpysal_nor_geopandas(tmp_path, files, graphs):
    ids = [str(i) for i in graphs["columbus_queen"].unique_ids]
    data = tmp_path / "data.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"id": ids, "y": rng.random(len(ids)), "x": rng.random(len(ids))}).to_csv(data, index=False)
    script = (
        "import sys; from pathlib import Path; import rtsmig.cli.app; "
        "from rtsmig.pipeline.steps import load_dataset; "
        f"ds, _ = load_dataset(Path({str(data)!r}), 'id', 'y', ['x'], Path({str(files['columbus_queen'])!r}), 'r'); "
        "assert ds.W.nnz == 236, ds.W.nnz; "
        "print(sorted(m for m in ('libpysal', 'geopandas', 'shapely', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_load_dataset_with_dropped_rows(tmp_path, files, graphs):
    ids = [str(i) for i in graphs["columbus_queen"].unique_ids]
    data = tmp_path / "data.csv"
    y = np.arange(len(ids), dtype=float)
    y[[2, 10]] = np.nan
    pd.DataFrame({"id": ids, "y": y, "x": 1.0 + y}).to_csv(data, index=False)
    ds, dropped = load_dataset(data, "id", "y", ["x"], files["columbus_queen"], "r", na="drop")
    assert dropped == [ids[2], ids[10]]
    _assert_identical(ds.W, _old_weights_for(files["columbus_queen"], list(ds.ids), "r", dropped))
    np.testing.assert_allclose(ds.W.sum(axis=1), 1.0)
