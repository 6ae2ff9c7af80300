"""Queen and rook contiguity, exact or with a snapping tolerance.

Exact contiguity (``tolerance == 0``) follows libpysal's ``Graph.build_contiguity``
(default ``strict=False``, its vertex-set rule) neighbour for neighbour, computed
by :func:`contiguity_pairs` with sorts instead of Python dictionaries, so 10^6
polygons take seconds:

- **queen**: two regions are neighbours when they share a vertex, i.e. an
  identical ``(x, y)`` coordinate pair (z is ignored) anywhere in their rings.
- **rook**: two regions are neighbours when they share an edge, i.e. the same
  unordered pair of coordinates appearing consecutively in both (see
  :func:`contiguity_pairs` for exactly which vertices count as consecutive).

Only exact equality counts, so this matches R spdep's ``poly2nb`` on
topologically clean layers (shared borders digitised with the same vertices).

Real layers often have slivers and gaps where two regions should meet. With
``tolerance > 0`` the rules are:

- **queen**: two regions are neighbours when their geometries lie within
  ``tolerance`` of each other (shapely ``dwithin``; touching or overlapping
  regions qualify too).
- **rook**: queen neighbours that also share a stretch of border. Let
  :math:`L_{ij}` be the length of region i's boundary lying within ``tolerance``
  of region j. They are rook neighbours when
  :math:`\\min(L_{ij}, L_{ji}) > 4 \\cdot \\text{tolerance}`.

Why 4: when two regions meet only at a corner, the part of i's boundary within
``tolerance`` of j is the two legs of i's corner, each at most ``tolerance``
long for a right angle (:math:`L \\le 2\\,\\text{tolerance}`), and less when a gap
separates them. The factor 4 leaves room for corners down to about 30 degrees
between a leg of i and a leg of j; a real shared border then counts when it is
longer than about twice the tolerance (each end adds up to ``tolerance``).
Keep ``tolerance`` small next to the shortest border that should count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from rtsmig.errors import InputError, first_few
from rtsmig.weights.edges import Edges

if TYPE_CHECKING:  # importing either costs seconds; building Edges needs neither
    import geopandas as gpd
    from libpysal.graph import Graph

# A shared border must be longer than this many tolerances (see the module docstring).
ROOK_LENGTH_FACTOR = 4.0


def contiguity_edges(geometry: gpd.GeoSeries, rook: bool, tolerance: float = 0.0) -> Edges:
    """Queen or rook contiguity over ``geometry`` (index = region ids) as :class:`Edges`.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        Region geometries, indexed by id in the regions' order.
    rook : bool
        Rook (a shared border) instead of queen (any contact).
    tolerance : float
        Gaps up to this distance, in the layer's units, count as contact.

    Returns
    -------
    Edges
        Binary weights (float), ids as ``str`` in the order of ``geometry``;
        regions without neighbours have no link.
    """
    if tolerance <= 0:
        heads, tails = contiguity_pairs(geometry.to_numpy(), rook=rook)
    else:
        heads, tails = snapped_pairs(geometry.to_numpy(), rook=rook, tolerance=tolerance)
    return Edges.from_positions(geometry.index, heads, tails, np.ones(len(heads)))


def build_contiguity(geometry: gpd.GeoSeries, rook: bool, tolerance: float = 0.0) -> Graph:
    """:func:`contiguity_edges` as a libpysal Graph (imports libpysal).

    Same parameters; regions without neighbours appear as libpysal isolates.
    """
    return contiguity_edges(geometry, rook, tolerance).to_graph()


def snapped_pairs(geoms: np.ndarray, rook: bool, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(heads, tails)`` of neighbours under the tolerance rules, both directions.

    Only pairs whose geometries lie within ``tolerance`` are examined (an STRtree
    query), so the cost grows with the number of neighbours, not with n².
    """
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=tolerance)
    once = left < right
    left, right = left[once], right[once]
    if rook and len(left):
        boundaries = shapely.boundary(geoms)
        halos = shapely.buffer(geoms, tolerance)
        near_ij = shapely.length(shapely.intersection(boundaries[left], halos[right]))
        near_ji = shapely.length(shapely.intersection(boundaries[right], halos[left]))
        shared = np.minimum(near_ij, near_ji) > ROOK_LENGTH_FACTOR * tolerance
        left, right = left[shared], right[shared]
    return np.concatenate([left, right]), np.concatenate([right, left])


# shapely type ids libpysal's contiguity accepts: LineString, Polygon, MultiLineString, MultiPolygon.
_CONTIGUITY_TYPES = (1, 3, 5, 6)
_POLYGON_TYPES = (3, 6)
_LINE_TYPES = (1, 5)


def check_contiguity_geometry(geometry: gpd.GeoSeries, kind: str) -> None:
    """Refuse regions that cannot share a border: points, and lines in a layer of polygons.

    A layer of polygons must hold only (Multi)Polygons; a layer without any
    polygon, only (Multi)LineStrings (libpysal's contiguity of lines). A point
    shares no border with anything, so queen or rook would quietly make it an
    island; a line among polygons meets them only where its vertices happen to
    coincide with theirs.

    Raises
    ------
    InputError
        Naming the offending regions (ids of ``geometry``'s index) and their
        geometry types, and the kinds that work for them.
    """
    types = shapely.get_type_id(geometry.to_numpy())
    polygons = np.isin(types, _POLYGON_TYPES)
    allowed = polygons if polygons.any() else np.isin(types, _LINE_TYPES)
    if allowed.all():
        return
    bad = np.flatnonzero(~allowed)
    found = ", ".join(sorted(set(geometry.iloc[bad].geom_type.astype(str))))
    if polygons.any() or np.isin(types, _LINE_TYPES).any():
        where = f"in a layer of {'polygons' if polygons.any() else 'lines'}"
    else:
        where = "and no region is a polygon"
    raise InputError(
        f"{len(bad)} of {len(geometry)} regions ({first_few(geometry.index[bad])}) are {found} geometries "
        f"{where}, so they cannot share a border under --kind {kind}: give them their polygons, or use "
        "--kind knn or --kind distance (weights from each region's centroid)"
    )


def contiguity_pairs(geoms: np.ndarray, rook: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(heads, tails)`` of exact queen or rook neighbours, both directions.

    The rule is libpysal's vertex-set contiguity (``Graph.build_contiguity`` with
    ``strict=False``, its default), reproduced exactly:

    - The vertices are ``shapely.get_coordinates`` of each geometry: every ring
      (exterior and holes) of every part, x and y only, closing vertices included.
    - **queen**: regions i != j are neighbours when some vertex of i equals some
      vertex of j (``-0.0`` equals ``0.0``; a NaN coordinate never matches).
    - **rook**: an edge is two consecutive vertices of the same *part* of a
      geometry, as an unordered pair; i and j are neighbours when they have an
      edge in common. Consecutive means consecutive in the coordinate sequence,
      so within one polygon the closing vertex of the exterior and the first
      vertex of the first hole (and of successive holes) also form an edge, as in
      libpysal; only the jumps between parts of a multi-part geometry are not edges.

    Instead of libpysal's dictionary of coordinate tuples (a Python loop over every
    vertex), each vertex gets an integer id from one lexicographic sort of the
    coordinates, each edge the pair of its endpoint ids, and the regions sharing a
    key are found from runs of equal keys after a stable sort: O(V log V) for V
    vertices. A key held by k regions yields k(k-1) pairs, which is the size of
    the answer there, so nothing grows faster than the output.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely (Multi)Polygons or (Multi)LineStrings, one per region.
    rook : bool
        Rook (a shared edge) instead of queen (a shared vertex).

    Returns
    -------
    heads, tails : numpy.ndarray
        Integer positions into ``geoms``, every neighbour pair in both directions,
        sorted by ``(head, tail)``; regions without neighbours do not appear.

    Raises
    ------
    ValueError
        If a geometry is missing or of another type (libpysal raises too).
    """
    geoms = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(geoms)
    if not np.isin(types, _CONTIGUITY_TYPES).all():
        raise ValueError("contiguity is only defined for (Multi)Polygon and (Multi)LineString geometries")
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    if len(xy) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    order, vertex = _vertex_ids(xy)
    if rook:
        key, owner = _edge_keys(geoms, vertex, owner)
        # Stable: the coordinate stream lists regions in order, so owners stay ascending within a key.
        order = np.argsort(key, kind="stable")
        key, owner = key[order], owner[order]
    else:
        # lexsort is stable too, so the owners of one coordinate come out ascending.
        key, owner = vertex[order], owner[order]
    low, high = _sharing_pairs(key, owner, len(geoms))
    return _both_directions(low, high, len(geoms))


def _vertex_ids(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sort order of the coordinates and each coordinate's id (equal ids for equal points).

    ``+ 0.0`` turns ``-0.0`` into ``0.0``: libpysal's tuple keys treat them as equal, and
    so must anything here that looks at bits rather than values. NaN differs from everything,
    itself included, so a vertex with a NaN gets an id of its own and matches
    nothing, as a NaN tuple key does in libpysal.
    """
    x, y = xy[:, 0] + 0.0, xy[:, 1] + 0.0
    order = np.lexsort((y, x))
    sx, sy = x[order], y[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (sx[1:] != sx[:-1]) | (sy[1:] != sy[:-1])
    vertex = np.empty(len(order), dtype=np.int64)
    vertex[order] = np.cumsum(new) - 1
    return order, vertex


def _edge_keys(geoms: np.ndarray, vertex: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One integer key per edge (its unordered pair of vertex ids) and the edge's region."""
    valid = owner[:-1] == owner[1:]
    valid[_part_breaks(geoms)] = False
    first, second = vertex[:-1][valid], vertex[1:][valid]
    # An unordered pair as one int64: low * count + high is unique while count**2 < 2**63.
    count = np.int64(vertex.max() + 1)
    key = np.minimum(first, second) * count + np.maximum(first, second)
    return key, owner[:-1][valid]


def _part_breaks(geoms: np.ndarray) -> np.ndarray:
    """Indices ``i`` in the coordinate stream where vertex ``i + 1`` starts a new part of a geometry.

    Only geometries with several parts have such breaks (the jump between two
    geometries is already excluded by the owner test), so only those are split.
    """
    sizes = shapely.get_num_coordinates(geoms)
    geom_start = np.cumsum(sizes) - sizes
    multi = np.flatnonzero(shapely.get_num_geometries(geoms) > 1)
    if len(multi) == 0:
        return np.empty(0, dtype=np.intp)
    n_parts = shapely.get_num_geometries(geoms[multi])
    part_sizes = shapely.get_num_coordinates(shapely.get_parts(geoms[multi]))
    part_start = np.cumsum(part_sizes) - part_sizes
    first_part = np.cumsum(n_parts) - n_parts
    local = part_start - np.repeat(part_start[first_part], n_parts)
    starts = np.repeat(geom_start[multi], n_parts) + local
    # A geometry's first part starts with the geometry, and an empty part starts nowhere.
    return starts[(local > 0) & (part_sizes > 0)] - 1


def _sharing_pairs(key: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``low < high`` of regions (positions below ``n``) holding a common key, once.

    ``key`` must be sorted and ``owner`` ascending within each run of equal keys.
    """
    fresh = np.ones(len(key), dtype=bool)
    fresh[1:] = (key[1:] != key[:-1]) | (owner[1:] != owner[:-1])
    key, owner = key[fresh], owner[fresh]  # a region holds each key once
    new_key = np.ones(len(key), dtype=bool)
    new_key[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(new_key)
    sizes = np.diff(np.append(starts, len(key)))
    group = np.cumsum(new_key) - 1
    # Member p of a run of s pairs with the s - 1 - p members after it (owners ascend, so low < high).
    later = sizes[group] - 1 - (np.arange(len(key)) - starts[group])
    first = np.repeat(np.arange(len(key)), later)
    step = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
    n = np.int64(n)
    pairs = owner[first] * n + owner[first + 1 + step]  # one int64 per pair: dedupe by one sort
    # An explicit sort: np.unique's hash path (numpy >= 2.3) is several times slower here.
    pairs.sort()
    once = np.ones(len(pairs), dtype=bool)
    once[1:] = pairs[1:] != pairs[:-1]
    pairs = pairs[once]
    return pairs // n, pairs % n


def _both_directions(low: np.ndarray, high: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(heads, tails)`` with each pair in both directions, sorted by ``(head, tail)``."""
    n = np.int64(n)
    codes = np.concatenate([low * n + high, high * n + low])
    codes.sort()
    return (codes // n).astype(np.intp), (codes % n).astype(np.intp)
