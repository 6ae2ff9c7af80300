"""Exact queen/rook contiguity: rtsmig's vectorised builder against libpysal's vertex-set rule.

libpysal's ``Graph.build_contiguity`` (default ``strict=False``) is the reference
for the bundled layers; the hand-made layers also have their neighbours written out,
so a change in libpysal itself would show up too.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from libpysal.graph import Graph
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from rtsmig.weights.contiguity import build_contiguity, contiguity_pairs

SHAPEFILES = Path(__file__).resolve().parents[1] / "shapefiles"
# Layer -> id column. The China layers have regions without neighbours (islands).
LAYERS = {"columbus": "POLYID", "beibu_gulf": "adcode", "china_prefectures": "adcode", "china_counties": "adcode"}


def edge_set(graph: Graph) -> set[tuple[str, str]]:
    """Directed ``(focal, neighbor)`` id pairs with a non-zero weight (isolate markers dropped)."""
    focal, neighbor = graph.index_pairs
    weights = graph.adjacency.to_numpy()
    return {(str(f), str(n)) for f, n, w in zip(focal, neighbor, weights) if w != 0}


def our_edges(geometry: gpd.GeoSeries, rook: bool) -> set[tuple[str, str]]:
    heads, tails = contiguity_pairs(geometry.to_numpy(), rook=rook)
    ids = np.asarray(geometry.index)
    return set(zip(ids[heads].tolist(), ids[tails].tolist()))


def libpysal_edges(geometry: gpd.GeoSeries, rook: bool) -> set[tuple[str, str]]:
    return edge_set(Graph.build_contiguity(geometry, rook=rook))


def undirected(*pairs: str) -> set[tuple[str, str]]:
    """``"A-B"`` strings as directed pairs, both ways."""
    out = set()
    for pair in pairs:
        a, b = pair.split("-")
        out |= {(a, b), (b, a)}
    return out


@pytest.fixture(scope="module", params=sorted(LAYERS))
def layer(request) -> tuple[str, gpd.GeoSeries]:
    name = request.param
    frame = gpd.read_file(SHAPEFILES / name / f"{name}.shp", engine="pyogrio")
    return name, gpd.GeoSeries(frame.geometry.to_numpy(), index=frame[LAYERS[name]].astype(str).to_numpy())


@pytest.mark.parametrize("rook", [False, True], ids=["queen", "rook"])
def test_bundled_layers_match_libpysal(layer, rook):
    name, geometry = layer
    reference = Graph.build_contiguity(geometry, rook=rook)
    expected = edge_set(reference)
    assert len(expected) > 2 * len(geometry)  # a real graph, not an empty one
    assert our_edges(geometry, rook) == expected
    ours = build_contiguity(geometry, rook=rook)
    assert list(ours.unique_ids) == list(geometry.index)
    assert edge_set(ours) == expected
    assert {str(i) for i in ours.isolates} == {str(i) for i in reference.isolates}
    if name in ("china_prefectures", "china_counties"):
        assert len(ours.isolates) > 0  # these layers have islands, so the check above bites


def test_rook_is_stricter_than_queen_on_counties():
    frame = gpd.read_file(SHAPEFILES / "china_counties" / "china_counties.shp", engine="pyogrio")
    geoms = frame.geometry.to_numpy()
    queen = set(zip(*(a.tolist() for a in contiguity_pairs(geoms, rook=False))))
    rook = set(zip(*(a.tolist() for a in contiguity_pairs(geoms, rook=True))))
    assert rook < queen  # counties meeting at a single point exist


def grid_3x3() -> gpd.GeoSeries:
    cells = {f"r{r}c{c}": box(c, r, c + 1, r + 1) for r in range(3) for c in range(3)}
    return gpd.GeoSeries(list(cells.values()), index=list(cells))


@pytest.mark.parametrize("rook", [False, True], ids=["queen", "rook"])
def test_grid_3x3(rook):
    geometry = grid_3x3()
    expected = set()
    for (r1, c1), (r2, c2) in itertools.permutations(itertools.product(range(3), range(3)), 2):
        dr, dc = abs(r1 - r2), abs(c1 - c2)
        if (dr + dc == 1) if rook else (max(dr, dc) == 1):
            expected.add((f"r{r1}c{c1}", f"r{r2}c{c2}"))
    assert len(expected) == (24 if rook else 40)
    assert our_edges(geometry, rook) == expected
    assert libpysal_edges(geometry, rook) == expected


def holes_and_parts() -> gpd.GeoSeries:
    """A donut with a plug, neighbours at edges and corners, a multipolygon, an island in a hole.

    E's two parts lie left of A and right of C; G's long edge (0,0)-(10,0) runs from
    the end of E's first part to the start of its second, a jump that is not an edge.
    G passes (6,0) and (8,0) without having them as vertices, so it does not touch C
    under the vertex rule. Q floats inside P's hole without touching it.
    """
    regions = {
        "A": Polygon(box(0, 0, 6, 6).exterior.coords, [box(2, 2, 4, 4).exterior.coords]),
        "B": box(2, 2, 4, 4),
        "C": box(6, 0, 8, 6),
        "D": box(6, 6, 8, 8),
        "E": MultiPolygon([box(-2, 0, 0, 6), box(8, 0, 10, 6)]),
        "G": Polygon([(0, 0), (10, 0), (5, -3)]),
        "P": Polygon(box(20, 0, 26, 6).exterior.coords, [box(21, 1, 25, 5).exterior.coords]),
        "Q": box(22, 2, 24, 4),
    }
    return gpd.GeoSeries(list(regions.values()), index=list(regions))


QUEEN_HOLES = undirected("A-B", "A-C", "A-D", "A-E", "A-G", "C-D", "C-E", "D-E", "E-G")
ROOK_HOLES = undirected("A-B", "A-C", "A-E", "C-D", "C-E")


@pytest.mark.parametrize(("rook", "expected"), [(False, QUEEN_HOLES), (True, ROOK_HOLES)], ids=["queen", "rook"])
def test_holes_multipolygons_islands(rook, expected):
    geometry = holes_and_parts()
    assert our_edges(geometry, rook) == expected
    assert libpysal_edges(geometry, rook) == expected
    graph = build_contiguity(geometry, rook=rook)
    assert set(graph.isolates) == {"P", "Q"} | ({"G"} if rook else set())


def test_rook_counts_the_step_from_exterior_to_hole_as_an_edge():
    # libpysal takes consecutive coordinates within a part, so the closing vertex of
    # A's exterior (6,0) and the first vertex of its hole (4,2) form an "edge"; a
    # line along exactly that segment is A's rook neighbour. We follow libpysal.
    donut = Polygon(box(0, 0, 6, 6).exterior.coords, [box(2, 2, 4, 4).exterior.coords])
    assert donut.exterior.coords[-1] == (6.0, 0.0) and donut.interiors[0].coords[0] == (4.0, 2.0)
    geometry = gpd.GeoSeries([donut, LineString([(4, 2), (6, 0)])], index=["A", "H"])
    assert our_edges(geometry, rook=True) == undirected("A-H") == libpysal_edges(geometry, rook=True)


def test_many_regions_at_one_vertex():
    # Eight wedges around the origin: all meet there (queen: complete), each shares
    # a ray with the next (rook: a cycle).
    angles = np.linspace(0, 2 * np.pi, 9)
    ray = [(round(10 * np.cos(a), 9), round(10 * np.sin(a), 9)) for a in angles[:-1]]
    wedges = [Polygon([(0, 0), ray[i], ray[(i + 1) % 8]]) for i in range(8)]
    geometry = gpd.GeoSeries(wedges, index=[str(i) for i in range(8)])
    queen = {(str(i), str(j)) for i in range(8) for j in range(8) if i != j}
    rook = undirected(*(f"{i}-{(i + 1) % 8}" for i in range(8)))
    assert our_edges(geometry, rook=False) == queen == libpysal_edges(geometry, rook=False)
    assert our_edges(geometry, rook=True) == rook == libpysal_edges(geometry, rook=True)


def test_negative_zero_equals_zero():
    left = Polygon([(-1.0, 0.0), (-0.0, 0.0), (-0.0, 1.0), (-1.0, 1.0)])
    right = Polygon([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
    geometry = gpd.GeoSeries([left, right], index=["L", "R"])
    assert our_edges(geometry, rook=True) == undirected("L-R") == libpysal_edges(geometry, rook=True)


def test_pairs_sorted_symmetric_and_positional():
    geometry = holes_and_parts()
    heads, tails = contiguity_pairs(geometry.to_numpy(), rook=False)
    assert heads.dtype == np.intp and tails.dtype == np.intp
    assert np.all(np.diff(heads * len(geometry) + tails) > 0)  # sorted by (head, tail), no duplicates
    assert set(zip(heads.tolist(), tails.tolist())) == set(zip(tails.tolist(), heads.tolist()))
    assert not np.any(heads == tails)


def test_empty_and_invalid_input():
    heads, tails = contiguity_pairs(np.array([], dtype=object), rook=False)
    assert len(heads) == len(tails) == 0
    with pytest.raises(ValueError, match="only defined for"):
        contiguity_pairs(np.array([box(0, 0, 1, 1), Point(0, 0)], dtype=object), rook=False)
    with pytest.raises(ValueError, match="only defined for"):
        contiguity_pairs(np.array([box(0, 0, 1, 1), None], dtype=object), rook=True)
