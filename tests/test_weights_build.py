"""Building weights: contiguity against spdep, distances against brute force."""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import affinity
from shapely.geometry import Point, box

from rtsmig.errors import InputError, WeightsError
from rtsmig.weights import WeightsSpec, build_weights

HERE = Path(__file__).parent
COLUMBUS = HERE.parent / "shapefiles" / "columbus" / "columbus.shp"
REFERENCE_GAL = HERE / "reference" / "columbus_queen.gal"
R_KM = 6371.0088

# Approximate city centres (lon, lat).
CITIES = {
    "Beijing": (116.40, 39.90),
    "Shanghai": (121.47, 31.23),
    "Guangzhou": (113.26, 23.13),
    "Chengdu": (104.07, 30.67),
    "Wuhan": (114.31, 30.59),
    "Xian": (108.94, 34.34),
    "Tianjin": (117.20, 39.13),
}


@pytest.fixture(scope="module")
def columbus() -> gpd.GeoDataFrame:
    frame = gpd.read_file(COLUMBUS)
    frame.index = [str(i) for i in frame["POLYID"]]
    frame.index.name = "POLYID"
    return frame


@pytest.fixture(scope="module")
def columbus_planar(columbus) -> gpd.GeoDataFrame:
    # Columbus has no CRS and small coordinates that pass for degrees, so the
    # layer has to be declared planar; any projected CRS does for the tests.
    return columbus.set_crs("EPSG:3857")


def spdep_neighbours() -> dict[str, set[str]]:
    lines = REFERENCE_GAL.read_text().splitlines()
    out = {}
    for head, body in zip(lines[1::2], lines[2::2]):
        out[head.split()[0]] = set(body.split())
    return out


def neighbour_sets(graph) -> dict[str, set[str]]:
    return {str(k): {str(v) for v in vs} for k, vs in graph.neighbors.items()}


def weight_dict(graph) -> dict[tuple[str, str], float]:
    focal, neighbor = graph.index_pairs
    return {(f, n): w for f, n, w in zip(focal, neighbor, graph.adjacency.to_numpy()) if w != 0}


def grid(n: int, shrink: float = 0.0, crs: str | None = "EPSG:3857") -> gpd.GeoDataFrame:
    """n×n unit squares, ids 'r{row}c{col}', each shrunk by ``shrink`` on every side."""
    cells, ids = [], []
    for row in range(n):
        for col in range(n):
            cells.append(box(col + shrink, row + shrink, col + 1 - shrink, row + 1 - shrink))
            ids.append(f"r{row}c{col}")
    return gpd.GeoDataFrame({"block": [i[:2] for i in ids]}, geometry=cells, index=ids, crs=crs)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * R_KM * math.asin(math.sqrt(h))


def city_points(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(*xy) for xy in CITIES.values()], index=list(CITIES), crs=crs)


# --- contiguity --------------------------------------------------------------


def test_queen_equals_spdep(columbus):
    built = build_weights(columbus, WeightsSpec(kind="queen", transform="b"))
    assert neighbour_sets(built.graph) == spdep_neighbours()
    assert built.summary["links"] == 236


def test_ids_follow_the_regions_order(columbus):
    shuffled = columbus.iloc[::-1]
    graph = build_weights(shuffled, WeightsSpec(kind="queen")).graph
    assert list(graph.unique_ids) == list(shuffled.index)
    assert neighbour_sets(graph) == spdep_neighbours()


def test_rook_is_a_subset_of_queen(columbus):
    queen = neighbour_sets(build_weights(columbus, WeightsSpec(kind="queen")).graph)
    rook = neighbour_sets(build_weights(columbus, WeightsSpec(kind="rook")).graph)
    assert all(rook[i] <= queen[i] for i in queen)
    assert sum(map(len, rook.values())) < sum(map(len, queen.values()))


def test_lattice_queen_and_rook():
    queen = build_weights(grid(3), WeightsSpec(kind="queen", transform="b")).summary
    rook = build_weights(grid(3), WeightsSpec(kind="rook", transform="b")).summary
    assert queen["histogram"] == [[3, 4], [5, 4], [8, 1]]
    assert rook["histogram"] == [[2, 4], [3, 4], [4, 1]]


def test_gaps_without_tolerance_leave_no_links():
    with pytest.raises(WeightsError, match="no links"):
        build_weights(grid(3, shrink=0.01), WeightsSpec(kind="queen"))


@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_tolerance_restores_the_lattice(kind):
    exact = build_weights(grid(3), WeightsSpec(kind=kind, transform="b")).graph
    snapped = build_weights(grid(3, shrink=0.01), WeightsSpec(kind=kind, tolerance=0.05, transform="b")).graph
    assert neighbour_sets(snapped) == neighbour_sets(exact)
    assert weight_dict(snapped) == weight_dict(exact)


def test_rook_tolerance_ignores_corner_contacts_of_any_gap():
    # Diagonal cells are within tolerance (corner gap 0.02*sqrt(2)), yet not rook.
    for tol in (0.03, 0.1, 0.2):
        graph = build_weights(grid(3, shrink=0.01), WeightsSpec(kind="rook", tolerance=tol)).graph
        assert neighbour_sets(graph)["r1c1"] == {"r0c1", "r1c0", "r1c2", "r2c1"}


def test_rook_tolerance_counts_a_sliver_gap_along_an_edge():
    # Two regions separated by a 0.001 sliver along a border of length 1, and a
    # third that touches the second only at a corner.
    layer = gpd.GeoDataFrame(
        geometry=[box(0, 0, 1, 1), box(1.001, 0, 2, 1), box(2, 1, 3, 2)],
        index=["a", "b", "c"],
        crs="EPSG:3857",
    )
    graph = build_weights(layer, WeightsSpec(kind="rook", tolerance=0.01, islands="drop")).graph
    assert neighbour_sets(graph) == {"a": {"b"}, "b": {"a"}}


# --- distances ---------------------------------------------------------------


def planar_centroids(layer: gpd.GeoDataFrame) -> np.ndarray:
    return np.array([[g.centroid.x, g.centroid.y] for g in layer.geometry])


def test_knn_gives_k_nearest(columbus_planar):
    built = build_weights(columbus_planar, WeightsSpec(kind="knn", k=4, transform="b"))
    assert built.summary["histogram"] == [[4, 49]]
    xy = planar_centroids(columbus_planar)
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(d, np.inf)
    ids = list(columbus_planar.index)
    expected = {ids[i]: {ids[j] for j in np.argsort(d[i])[:4]} for i in range(len(ids))}
    assert neighbour_sets(built.graph) == expected


def test_distance_band_matches_brute_force(columbus_planar):
    threshold = 1.2
    built = build_weights(columbus_planar, WeightsSpec(kind="distance", threshold=threshold, transform="b"))
    xy = planar_centroids(columbus_planar)
    ids = list(columbus_planar.index)
    expected = {i: set() for i in ids}
    for a in range(len(ids)):
        for b in range(len(ids)):
            if a != b and math.dist(xy[a], xy[b]) <= threshold:
                expected[ids[a]].add(ids[b])
    assert neighbour_sets(built.graph) == expected
    assert built.summary["distance_unit"] == "metre"


def test_inverse_distance_weights(columbus_planar):
    spec = WeightsSpec(kind="distance", threshold=1.5, inverse=True, alpha=2.0, transform="o")
    weights = weight_dict(build_weights(columbus_planar, spec).graph)
    xy = dict(zip(columbus_planar.index, planar_centroids(columbus_planar)))
    assert len(weights) > 100
    for (i, j), w in weights.items():
        assert w == pytest.approx(math.dist(xy[i], xy[j]) ** -2.0, rel=1e-12)


def test_great_circle_distances_in_km():
    spec = WeightsSpec(kind="distance", threshold=1500.0, inverse=True, transform="o")
    built = build_weights(city_points(), spec)
    assert built.summary["distance_unit"] == "km"
    weights = weight_dict(built.graph)
    pairs = {(a, b) for a in CITIES for b in CITIES if a != b and haversine_km(CITIES[a], CITIES[b]) <= 1500.0}
    assert set(weights) == pairs
    for (a, b), w in weights.items():
        assert 1 / w == pytest.approx(haversine_km(CITIES[a], CITIES[b]), rel=1e-9)
    assert 1 / weights[("Beijing", "Shanghai")] == pytest.approx(1067, abs=5)


def test_great_circle_knn_matches_haversine():
    graph = build_weights(city_points(), WeightsSpec(kind="knn", k=2)).graph
    for a, here in CITIES.items():
        ranked = sorted((haversine_km(here, there), b) for b, there in CITIES.items() if b != a)
        assert neighbour_sets(graph)[a] == {b for _, b in ranked[:2]}


def test_geographic_polygons_use_centroids_without_warnings():
    squares = gpd.GeoDataFrame(
        geometry=[box(x - 0.2, y - 0.2, x + 0.2, y + 0.2) for x, y in CITIES.values()],
        index=list(CITIES),
        crs="EPSG:4326",
    )
    spec = WeightsSpec(kind="distance", threshold=1500.0, inverse=True, transform="o")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights = weight_dict(build_weights(squares, spec).graph)
    for (a, b), w in weights.items():
        assert 1 / w == pytest.approx(haversine_km(CITIES[a], CITIES[b]), rel=2e-3)


def test_layer_without_crs_in_degrees_is_refused():
    with pytest.raises(InputError, match="no CRS.*look like degrees.*--crs"):
        build_weights(city_points(crs=None), WeightsSpec(kind="knn", k=2))


def test_crs_declares_a_layer_without_one():
    declared = build_weights(city_points(crs=None), WeightsSpec(kind="knn", k=2, crs="EPSG:4326"))
    assert declared.summary["distance_unit"] == "km"


def test_large_coordinates_without_crs_are_map_units():
    layer = grid(3, crs=None)
    layer.geometry = layer.geometry.translate(500_000, 4_000_000)
    built = build_weights(layer, WeightsSpec(kind="distance", threshold=1.0))
    assert built.summary["distance_unit"] == "map units"
    assert built.summary["histogram"] == [[2, 4], [3, 4], [4, 1]]


def test_crs_reprojects_to_metres():
    spec = WeightsSpec(kind="distance", threshold=2_000_000.0, inverse=True, transform="o", crs="EPSG:32650")
    built = build_weights(city_points(), spec)
    assert built.summary["distance_unit"] == "metre"
    projected = city_points().to_crs("EPSG:32650")
    xy = {i: (p.x, p.y) for i, p in projected.geometry.items()}
    weights = weight_dict(built.graph)
    for (a, b), w in weights.items():
        assert 1 / w == pytest.approx(math.dist(xy[a], xy[b]), rel=1e-9)
    # Beijing-Tianjin lies near the zone's central meridian: UTM ≈ great circle.
    assert 1 / weights[("Beijing", "Tianjin")] == pytest.approx(
        1000 * haversine_km(CITIES["Beijing"], CITIES["Tianjin"]), rel=2e-3
    )


def test_kernel_fixed_bandwidth_triangular():
    layer = grid(4)
    spec = WeightsSpec(kind="kernel", bandwidth=1.5, kernel_fn="triangular", transform="o")
    weights = weight_dict(build_weights(layer, spec).graph)
    xy = dict(zip(layer.index, planar_centroids(layer)))
    assert weights[("r0c0", "r0c1")] == pytest.approx(1 - 1 / 1.5)
    assert weights[("r0c0", "r1c1")] == pytest.approx(1 - math.sqrt(2) / 1.5)
    assert all(math.dist(xy[i], xy[j]) <= 1.5 for i, j in weights)
    assert ("r0c0", "r0c0") not in weights  # no self-weights


def test_kernel_adaptive_bandwidth_keeps_k_neighbours():
    built = build_weights(grid(4), WeightsSpec(kind="kernel", k=3, kernel_fn="quartic", transform="o"))
    assert built.summary["histogram"] == [[3, 16]]
    assert min(weight_dict(built.graph).values()) > 0


def test_kernel_gaussian_threshold_cuts_off():
    spec = WeightsSpec(kind="kernel", bandwidth=1.0, threshold=1.1, kernel_fn="gaussian", transform="o")
    weights = weight_dict(build_weights(grid(3), spec).graph)
    assert weights[("r0c0", "r0c1")] == pytest.approx(math.exp(-0.5) / math.sqrt(2 * math.pi))
    assert ("r0c0", "r1c1") not in weights


# --- blocks, islands, transforms -----------------------------------------------


def test_block_weights():
    built = build_weights(grid(3), WeightsSpec(kind="block", by="block", transform="b"))
    sets = neighbour_sets(built.graph)
    assert sets["r0c0"] == {"r0c1", "r0c2"}
    assert built.summary["components"] == 3
    assert list(built.graph.unique_ids) == list(grid(3).index)


def test_block_keeps_order_when_blocks_interleave():
    layer = grid(2)
    layer["block"] = ["x", "y", "x", "y"]
    graph = build_weights(layer, WeightsSpec(kind="block", by="block")).graph
    assert list(graph.unique_ids) == list(layer.index)
    assert neighbour_sets(graph)["r0c0"] == {"r1c0"}


def test_block_needs_an_existing_column():
    with pytest.raises(InputError, match="'province'"):
        build_weights(grid(2), WeightsSpec(kind="block", by="province"))


def island_layer() -> gpd.GeoDataFrame:
    layer = grid(2)
    extra = gpd.GeoDataFrame({"block": ["far"]}, geometry=[box(5, 0.5, 6, 1.5)], index=["far"], crs=layer.crs)
    return gpd.GeoDataFrame(pd.concat([layer.iloc[:2], extra, layer.iloc[2:]]), crs=layer.crs)


def test_islands_error_names_them_and_the_fixes():
    with pytest.raises(WeightsError, match=r"1 of 5 regions.*'far'.*--islands drop.*attach.*--tolerance"):
        build_weights(island_layer(), WeightsSpec(kind="queen"))


def test_islands_drop():
    built = build_weights(island_layer(), WeightsSpec(kind="queen", islands="drop"))
    assert list(built.graph.unique_ids) == ["r0c0", "r0c1", "r1c0", "r1c1"]
    assert built.summary["islands_dropped"] == ["far"]
    assert built.summary["islands"] == []


def test_islands_attach_to_nearest_symmetrically():
    built = build_weights(island_layer(), WeightsSpec(kind="queen", islands="attach", transform="o"))
    weights = weight_dict(built.graph)
    # "far" is nearest to r0c1 and r1c1 (both 3 away); the first in the layer wins.
    assert weights[("far", "r0c1")] == 1.0
    assert weights[("r0c1", "far")] == 1.0
    assert neighbour_sets(built.graph)["far"] == {"r0c1"}
    assert list(built.graph.unique_ids) == list(island_layer().index)
    assert built.summary["islands_attached"] == ["far"]
    assert built.summary["symmetric"] is True


@pytest.mark.parametrize(
    ("code", "check"),
    [
        ("r", lambda w: np.allclose(w.sum(axis=1), 1.0)),
        ("b", lambda w: set(np.unique(w[w != 0])) == {1.0}),
        ("d", lambda w: np.isclose(w.sum(), 1.0)),
        ("v", lambda w: np.isclose(w.sum(), w.shape[0])),
    ],
)
def test_transforms(columbus, code, check):
    built = build_weights(columbus, WeightsSpec(kind="queen", transform=code))
    assert built.graph.transformation == code.upper()
    assert built.summary["transform"] == code
    assert check(built.graph.sparse.toarray())


def test_rotated_layer_keeps_contiguity(columbus):
    rotated = columbus.copy()
    rotated.geometry = rotated.geometry.apply(lambda g: affinity.rotate(g, 30, origin=(0, 0)))
    graph = build_weights(rotated, WeightsSpec(kind="queen")).graph
    assert neighbour_sets(graph) == spdep_neighbours()


# --- the spec ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (WeightsSpec(kind="knn"), "--kind knn needs --k"),
        (WeightsSpec(kind="distance"), "--kind distance needs --threshold"),
        (WeightsSpec(kind="kernel"), "--kind kernel needs --bandwidth"),
        (WeightsSpec(kind="block"), "--kind block needs --by"),
        (WeightsSpec(kind="hexagon"), "--kind 'hexagon'"),
        (WeightsSpec(kind="queen", transform="x"), "--transform 'x'"),
        (WeightsSpec(kind="queen", islands="keep"), "--islands 'keep'"),
        (WeightsSpec(kind="queen", tolerance=-1.0), "--tolerance"),
        (WeightsSpec(kind="kernel", k=3, kernel_fn="epanechnikov"), "--kernel"),
        (WeightsSpec(kind="knn", k=0), "--k"),
        (WeightsSpec(kind="distance", threshold=-2.0), "--threshold"),
        (WeightsSpec(kind="distance", threshold=1.0, inverse=True, transform="b"), "--transform b"),
        (WeightsSpec(kind="knn", k=2, crs="EPSG:999999"), "--crs"),
    ],
)
def test_spec_validation(spec, message):
    with pytest.raises(InputError, match=re.escape(message)):
        spec.validate()


def test_spec_to_dict_is_json_safe():
    spec = WeightsSpec(kind="knn", k=4, crs="EPSG:4326")
    data = spec.to_dict()
    assert list(data) == sorted(data)
    assert json.loads(json.dumps(data)) == data
    assert WeightsSpec(**data) == spec


def test_knn_needs_fewer_neighbours_than_regions():
    with pytest.raises(InputError, match="--k 9"):
        build_weights(grid(3), WeightsSpec(kind="knn", k=9))


def test_geographic_crs_declared_for_projected_coordinates_is_refused():
    layer = grid(3, crs=None)
    layer.geometry = layer.geometry.translate(500_000, 4_000_000)
    with pytest.raises(InputError, match="--crs EPSG:4326 is geographic"):
        build_weights(layer, WeightsSpec(kind="knn", k=2, crs="EPSG:4326"))


def test_original_weights_are_kept_with_transform_o():
    spec = WeightsSpec(kind="kernel", bandwidth=1.5, transform="o")
    built = build_weights(grid(3), spec)
    assert built.graph.transformation == "O"
    assert built.summary["transform"] == "o"
    assert max(weight_dict(built.graph).values()) == pytest.approx(1 - 1 / 1.5)
