"""The contiguity build path on Edges against the libpysal-Graph path it replaced.

``rtsmig weights build --kind queen|rook`` used to build a libpysal Graph and run
the islands policy, the transform, the summary and the Parquet writer on it; it
now does all of that on :class:`~rtsmig.weights.edges.Edges`. The ``_old_*``
functions below are that Graph code as it was (rtsmig/weights/islands.py,
summary.py, io/weights_io.py), kept verbatim as references: on every bundled
layer, kind, islands policy and transform, the new path must give the same
summary JSON, a byte-identical weights file (Parquet, GAL, GWT) and the same
error under ``--islands error``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from libpysal.graph import Graph, read_parquet
from scipy import sparse
from scipy.sparse import csgraph
from shapely.geometry import box

from rtsmig.errors import OutputError, WeightsError, first_few
from rtsmig.io.manifest import to_json
from rtsmig.io.regions import read_regions
from rtsmig.io.weights_io import read_edges, write_edges, write_weights
from rtsmig.weights import WeightsSpec, build_weights
from rtsmig.weights._graph import edge_positions, from_positions
from rtsmig.weights.contiguity import contiguity_pairs
from rtsmig.weights.edges import Edges
from rtsmig.weights.islands import apply_islands_policy, island_ids
from rtsmig.weights.summary import summarize

SHAPEFILES = Path(__file__).resolve().parents[1] / "shapefiles"
LAYERS = {"columbus": "POLYID", "china_prefectures": "adcode", "china_counties": "adcode", "beibu_gulf": "adcode"}
WITH_ISLANDS = ("china_prefectures", "china_counties")


@pytest.fixture(scope="module", params=sorted(LAYERS))
def layer(request) -> tuple[str, gpd.GeoDataFrame]:
    """A bundled layer as ``rtsmig weights build`` reads it."""
    name = request.param
    return name, read_regions(SHAPEFILES / name / f"{name}.shp", LAYERS[name])


# --- the Graph path as it was ------------------------------------------------------------


def _old_raw_graph(regions: gpd.GeoDataFrame, rook: bool) -> Graph:
    ids = [str(i) for i in regions.index]
    heads, tails = contiguity_pairs(regions.geometry.to_numpy(), rook=rook)
    return from_positions(ids, heads, tails, np.ones(len(heads)))


def _old_policy(graph: Graph, geometry: gpd.GeoSeries, policy: str, kind: str) -> tuple[Graph, list, list]:
    islands = [str(i) for i in graph.isolates]
    if not islands:
        return graph, [], []
    if policy == "drop":
        gone = set(islands)
        return graph.subgraph([i for i in graph.unique_ids if i not in gone]), islands, []
    if policy == "attach":
        return _old_attach(graph, geometry, islands), [], islands
    raise WeightsError(
        f"{len(islands)} of {graph.n} regions have no neighbours under --kind {kind} "
        f"({first_few(islands)}); pass --islands drop to leave them out, --islands attach "
        "to link each to its nearest region, a --tolerance to close small gaps between "
        "polygons, or use a distance kind (--kind knn or distance)"
    )


def _old_attach(graph: Graph, geometry: gpd.GeoSeries, islands: list[str]) -> Graph:
    ids, heads, tails, weights = edge_positions(graph)
    geoms = geometry.loc[list(ids)].to_numpy()
    lonely = ids.get_indexer(islands)
    src, dst = shapely.STRtree(geoms).query_nearest(geoms[lonely], exclusive=True, all_matches=True)
    first = np.lexsort((dst, src))
    src, dst = src[first], dst[first]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    island_pos, partner = lonely[src[starts]], dst[starts]
    new = np.unique(
        np.concatenate([np.column_stack([island_pos, partner]), np.column_stack([partner, island_pos])]),
        axis=0,
    )
    return from_positions(
        ids,
        np.concatenate([heads, new[:, 0]]),
        np.concatenate([tails, new[:, 1]]),
        np.concatenate([weights, np.ones(len(new))]),
        graph.transformation,
    )


def _old_summarize(graph: Graph) -> dict:
    _, heads, tails, weights = edge_positions(graph)
    n = int(graph.n)
    w = sparse.csr_array((weights, (heads, tails)), shape=(n, n))
    counts = np.diff(w.indptr)
    sizes, freq = np.unique(counts, return_counts=True)
    links = int(w.nnz)
    n_components, _ = csgraph.connected_components(w, directed=True, connection="weak")
    diff = abs(w - w.T)
    symmetric = diff.nnz == 0 or bool(diff.max() <= 1e-12 * abs(w).max())
    return {
        "n": n,
        "links": links,
        "density": links / n**2 if n else 0.0,
        "min_neighbors": int(counts.min()) if n else 0,
        "mean_neighbors": links / n if n else 0.0,
        "max_neighbors": int(counts.max()) if n else 0,
        "histogram": [[int(s), int(f)] for s, f in zip(sizes, freq)],
        "islands": [str(i) for i, c in zip(graph.unique_ids, counts) if c == 0],
        "components": int(n_components),
        "symmetric": symmetric,
        "transform": str(graph.transformation).lower(),
    }


def _old_gal_text(graph: Graph) -> str:
    ids = [str(i) for i in graph.unique_ids]
    _, heads, tails, _ = edge_positions(graph)
    order = np.lexsort((tails, heads))
    heads, tails = heads[order], tails[order]
    bounds = np.searchsorted(heads, np.arange(len(ids) + 1))
    lines = [str(len(ids))]
    for k, i in enumerate(ids):
        neighbours = [ids[t] for t in tails[bounds[k] : bounds[k + 1]]]
        lines.append(f"{i} {len(neighbours)}")
        lines.append(" ".join(neighbours))
    return "\n".join(lines) + "\n"


def _old_gwt_text(graph: Graph) -> str:
    focal, neighbor = graph.index_pairs
    weights = graph.adjacency.to_numpy(dtype=float)
    lines = [f"0 {graph.n} unknown unknown"]
    lines.extend(f"{f} {n} {w!r}" for f, n, w in zip(focal.astype(str), neighbor.astype(str), weights.tolist()))
    return "\n".join(lines) + "\n"


def _old_build(regions: gpd.GeoDataFrame, spec: WeightsSpec) -> tuple[Graph, dict]:
    """The old build_weights for contiguity: untransformed graph and summary extras (transform later)."""
    graph = _old_raw_graph(regions, rook=spec.kind == "rook")
    geometry = regions.geometry.copy()
    geometry.index = [str(i) for i in regions.index]
    graph, dropped, attached = _old_policy(graph, geometry, spec.islands, spec.kind)
    return graph, {"distance_unit": None, "islands_dropped": dropped, "islands_attached": attached}


def _old_transformed(graph: Graph, extras: dict, transform: str) -> tuple[Graph, dict]:
    if transform != "o":
        graph = graph.transform(transform.upper())
    return graph, _old_summarize(graph) | extras


# --- the new path against it -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["queen", "rook"])
@pytest.mark.parametrize("policy", ["error", "drop", "attach"])
def test_build_path_matches_the_graph_path(layer, kind, policy, tmp_path):
    name, regions = layer
    spec = WeightsSpec(kind=kind, islands=policy)
    if policy == "error" and name in WITH_ISLANDS:
        with pytest.raises(WeightsError) as old_error:
            _old_build(regions, spec)
        with pytest.raises(WeightsError) as new_error:
            build_weights(regions, spec)
        assert str(new_error.value) == str(old_error.value)
        return
    untransformed, extras = _old_build(regions, spec)
    # Every transform on the smaller layers; on the 2,875 counties the two whose files differ in type.
    for transform in ("r", "b") if name == "china_counties" else ("r", "b", "v", "d", "o"):
        graph, old_summary = _old_transformed(untransformed, extras, transform)
        built = build_weights(regions, WeightsSpec(kind=kind, islands=policy, transform=transform))
        assert to_json(built.summary) == to_json(old_summary)
        if name in WITH_ISLANDS:  # so the islands policy was exercised
            assert built.summary[f"islands_{'dropped' if policy == 'drop' else 'attached'}"]
        new, old = tmp_path / "new.parquet", tmp_path / "old.parquet"
        write_edges(built.edges, new)
        graph.to_parquet(str(old))  # what write_weights(graph) wrote
        assert new.read_bytes() == old.read_bytes(), f"{name} {kind} {policy} {transform}"


def test_text_formats_keep_their_bytes(layer, tmp_path):
    _, regions = layer
    spec = WeightsSpec(kind="queen", islands="attach", transform="v")  # long float weights
    graph, _ = _old_transformed(*_old_build(regions, spec), "v")
    edges = build_weights(regions, spec).edges
    write_weights(edges, tmp_path / "w.gal")
    write_weights(edges, tmp_path / "w.gwt")
    assert (tmp_path / "w.gal").read_text(encoding="utf-8") == _old_gal_text(graph)
    assert (tmp_path / "w.gwt").read_text(encoding="utf-8") == _old_gwt_text(graph)


def test_islands_and_summary_of_edges_match_the_graph_ones(layer):
    name, regions = layer
    geometry = regions.geometry.copy()
    for rook in (False, True):
        graph = _old_raw_graph(regions, rook)
        edges = Edges.from_graph(graph)
        assert island_ids(edges) == [str(i) for i in graph.isolates]
        assert (len(island_ids(edges)) > 0) == (name in WITH_ISLANDS)
        for policy in ("drop", "attach"):
            new, *new_ids = apply_islands_policy(edges, geometry.to_numpy(), policy, "queen")
            old, *old_ids = _old_policy(graph, geometry, policy, "queen")
            assert new_ids == old_ids
            assert new.to_graph() == old
            assert summarize(new) == _old_summarize(old)
            assert summarize(old) == _old_summarize(old)  # a Graph is still accepted


# --- the writer --------------------------------------------------------------------------


def _awkward_graph() -> Graph:
    """Zero-weight links, isolates first, in the middle and last, and long rows."""
    rng = np.random.default_rng(11)
    n = 60
    heads = np.repeat(np.arange(1, n - 1, 2), 9)
    tails = np.concatenate([rng.choice(n, 9, replace=False) for _ in range(len(heads) // 9)])
    weights = rng.random(len(heads))
    weights[::7] = 0.0
    return from_positions([f"id {i}" if i % 5 else f"{i:03d}" for i in range(n)], heads, tails, weights)


@pytest.mark.parametrize("transform", ["o", "r", "v", "d"])
def test_write_edges_writes_what_libpysal_writes(tmp_path, transform):
    graph = _awkward_graph().transform(transform) if transform != "o" else _awkward_graph()
    edges = Edges.from_graph(graph)
    assert len(graph.isolates) > 0 and (graph.adjacency == 0).sum() > len(graph.isolates)
    ours, theirs = tmp_path / "ours.parquet", tmp_path / "theirs.parquet"
    write_edges(edges, ours)
    graph.to_parquet(str(theirs))
    assert ours.read_bytes() == theirs.read_bytes()
    assert read_parquet(str(ours)) == graph
    back = read_edges(ours)
    for part in ("ids", "heads", "tails", "weights"):
        np.testing.assert_array_equal(getattr(back, part), getattr(edges, part))
    assert back.transformation == graph.transformation


def test_write_weights_of_a_graph_delegates_to_write_edges(tmp_path):
    graph = _awkward_graph().transform("r")
    write_weights(graph, tmp_path / "graph.parquet")
    write_edges(Edges.from_graph(graph), tmp_path / "edges.parquet")
    assert (tmp_path / "graph.parquet").read_bytes() == (tmp_path / "edges.parquet").read_bytes()


def test_write_edges_into_a_missing_folder(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_edges(Edges.from_graph(_awkward_graph()), tmp_path / "nowhere" / "w.parquet")


def test_attach_keeps_an_existing_link_to_the_island():
    # b already links to the island c (asymmetric weights); attaching c to b adds c -> b only.
    edges = Edges.from_positions(["a", "b", "c"], [0, 1, 1], [1, 0, 2], [1.0, 1.0, 2.0])
    geoms = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(3, 0, 4, 1)])
    new, dropped, attached = apply_islands_policy(edges, geoms, "attach", "queen")
    assert (dropped, attached) == ([], ["c"])
    links = {(new.ids[h], new.ids[t]): w for h, t, w in zip(new.heads, new.tails, new.weights)}
    assert links == {("a", "b"): 1.0, ("b", "a"): 1.0, ("b", "c"): 2.0, ("c", "b"): 1.0}


def test_contiguity_build_path_does_not_import_libpysal(tmp_path):
    script = f"""
import sys
from pathlib import Path
from rtsmig.pipeline.steps import weights_file
from rtsmig.weights.spec import WeightsSpec
summary = weights_file(Path({str(SHAPEFILES / "columbus" / "columbus.shp")!r}), Path({str(tmp_path / "w.parquet")!r}),
                       "POLYID", WeightsSpec(kind="rook"))
assert summary["links"] > 0
assert "libpysal" not in sys.modules, "the contiguity build path imported libpysal"
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert read_edges(tmp_path / "w.parquet").n == 49
