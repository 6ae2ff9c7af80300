"""Queen and rook contiguity, exact or with a snapping tolerance.

Exact contiguity (``tolerance == 0``) is libpysal's ``Graph.build_contiguity``:
regions are neighbours when they share a vertex (queen) or an edge (rook). It
matches R spdep's ``poly2nb`` on topologically clean layers.

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

import geopandas as gpd
import numpy as np
import shapely
from libpysal.graph import Graph

from rtsmig.weights._graph import from_positions

# A shared border must be longer than this many tolerances (see the module docstring).
ROOK_LENGTH_FACTOR = 4.0


def build_contiguity(geometry: gpd.GeoSeries, rook: bool, tolerance: float = 0.0) -> Graph:
    """Queen or rook contiguity over ``geometry`` (index = region ids).

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
    libpysal.graph.Graph
        Binary weights; regions without neighbours appear as isolates.
    """
    if tolerance <= 0:
        return Graph.build_contiguity(geometry, rook=rook)
    heads, tails = snapped_pairs(geometry.to_numpy(), rook=rook, tolerance=tolerance)
    return from_positions(geometry.index, heads, tails, np.ones(len(heads)))


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
