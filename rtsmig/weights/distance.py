"""Distance-based weights: k nearest neighbours, distance bands, kernels.

Regions are represented by their centroids. Where the layer's CRS is geographic,
distances are great-circle distances in kilometres on a sphere of radius
6371.0088 km (the mean Earth radius): centroids become points on that sphere in
3-D, nearest-neighbour and range queries run on chord lengths in a
``scipy.spatial.cKDTree`` (chords order pairs exactly as arcs do), and each
pair's chord :math:`c` converts to the arc :math:`d = 2R\\arcsin(c / 2R)`.
Where the CRS is projected, distances are planar in the CRS's units. Nothing
builds an n×n distance matrix: the cost grows with the number of pairs kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import LambertAzimuthalEqualAreaConversion
from scipy.spatial import cKDTree

from rtsmig.errors import InputError, WeightsError, first_few
from rtsmig.weights.spec import KERNELS, WeightsSpec

EARTH_RADIUS_KM = 6371.0088
# Widen tree queries by this relative amount, then filter on exact distances, so
# that pairs exactly at the threshold are kept whatever the tree's rounding.
_QUERY_SLACK = 1e-9
# libpysal.weights.Kernel enlarges adaptive bandwidths by this factor so that the
# k-th neighbour keeps a small positive weight under kernels that vanish at z = 1.
ADAPTIVE_BANDWIDTH_FACTOR = 1.0000001


@dataclass(frozen=True)
class Points:
    """Centroids ready for a tree: planar ``(n, 2)`` or on a sphere of radius R ``(n, 3)``."""

    xyz: np.ndarray
    spherical: bool
    unit: str

    def distances(self, heads: np.ndarray, tails: np.ndarray) -> np.ndarray:
        """Distances between the points at ``heads`` and ``tails`` (km on the sphere)."""
        chord = np.linalg.norm(self.xyz[heads] - self.xyz[tails], axis=1)
        return self.arc(chord)

    def arc(self, chord: np.ndarray) -> np.ndarray:
        """Convert tree (chord) distances to the distances weights use."""
        if not self.spherical:
            return chord
        ratio = np.clip(chord / (2 * EARTH_RADIUS_KM), 0.0, 1.0)
        return 2 * EARTH_RADIUS_KM * np.arcsin(ratio)

    def chord(self, distance: float) -> float:
        """The tree radius that holds every pair within ``distance``."""
        if not self.spherical:
            return distance * (1 + _QUERY_SLACK)
        half_angle = min(distance / (2 * EARTH_RADIUS_KM), np.pi / 2)
        return 2 * EARTH_RADIUS_KM * np.sin(half_angle) * (1 + _QUERY_SLACK)


def measured_layer(geometry: gpd.GeoSeries, crs: str | None) -> gpd.GeoSeries:
    """The geometries in the CRS distances are measured in.

    A layer with a CRS is reprojected to ``crs``; a layer without one is declared
    to be in ``crs``. A layer left without a CRS whose coordinates all fall in
    lon/lat ranges is refused: degrees are never used as distances.

    Raises
    ------
    InputError
        Degree-like coordinates without a CRS, or a geographic CRS (the layer's
        or a declared ``crs``) for coordinates that cannot be degrees.
    """
    if geometry.crs is not None and geometry.crs.is_geographic and not _looks_like_degrees(geometry):
        # Reprojecting or measuring such a layer fails deep in PROJ, or gives distances of nothing.
        xmin, ymin, xmax, ymax = geometry.total_bounds
        raise InputError(
            f"the layer's CRS is geographic ({geometry.crs.to_string()}) but its coordinates do not look "
            f"like degrees (x from {xmin:g} to {xmax:g}, y from {ymin:g} to {ymax:g}); set the layer's CRS "
            "to the projected CRS its coordinates are in (e.g. with ogr2ogr -a_srs, or geopandas' set_crs)"
        )
    if crs is not None:
        if geometry.crs is None:
            geometry = geometry.set_crs(crs)
            if geometry.crs.is_geographic and not _looks_like_degrees(geometry):
                raise InputError(
                    f"--crs {crs} is geographic but the layer's coordinates are not longitudes "
                    "and latitudes; declare the projected CRS they are in instead"
                )
        else:
            geometry = geometry.to_crs(crs)
            lost = _not_finite(geometry)
            if len(lost):
                raise InputError(
                    f"--crs {crs} cannot hold {len(lost)} of {len(geometry)} regions ({first_few(lost)}): "
                    "their coordinates become infinite or NaN there; choose a CRS that covers the whole layer"
                )
    elif geometry.crs is None and _looks_like_degrees(geometry):
        raise InputError(
            "the regions layer has no CRS and its coordinates look like degrees; set a CRS "
            "in the file or pass --crs (EPSG:4326 for longitude/latitude, or the projected "
            "CRS the coordinates are in)"
        )
    return geometry


def _not_finite(geometry: gpd.GeoSeries) -> list[str]:
    """Ids of the regions with a NaN or infinite coordinate."""
    xy, owner = shapely.get_coordinates(geometry.to_numpy(), return_index=True)
    bad = np.unique(owner[~np.isfinite(xy).all(axis=1)])
    return geometry.index[bad].tolist()


def _looks_like_degrees(geometry: gpd.GeoSeries) -> bool:
    xmin, ymin, xmax, ymax = geometry.total_bounds
    return bool(max(abs(xmin), abs(xmax)) <= 180 and max(abs(ymin), abs(ymax)) <= 90)


def distance_unit(crs: CRS | None) -> str:
    """The unit distances are reported in: km, the CRS's axis unit, or map units."""
    if crs is None:
        return "map units"
    if crs.is_geographic:
        return "km"
    axes = crs.axis_info
    return axes[0].unit_name if axes and axes[0].unit_name else "map units"


def centroids(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Centroids in the layer's CRS, computed in a plane where the CRS is geographic.

    A geographic layer is projected to a Lambert azimuthal equal-area plane
    centred on the layer (same datum), its centroids taken there and mapped back
    to longitude/latitude, so no planar arithmetic is done on degrees.
    """
    if bool((geometry.geom_type == "Point").all()):
        return geometry
    crs = geometry.crs
    if crs is None or not crs.is_geographic:
        return geometry.centroid
    xmin, ymin, xmax, ymax = geometry.total_bounds
    plane = ProjectedCRS(
        LambertAzimuthalEqualAreaConversion((ymin + ymax) / 2, (xmin + xmax) / 2),
        geodetic_crs=crs.geodetic_crs,
    )
    return geometry.to_crs(plane).centroid.to_crs(crs)


def region_points(geometry: gpd.GeoSeries) -> Points:
    """The regions' centroids as tree coordinates (see the module docstring)."""
    points = centroids(geometry)
    x = points.x.to_numpy(dtype=float)
    y = points.y.to_numpy(dtype=float)
    lost = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if len(lost):  # a NaN coordinate in a ring: no distance to anything (the tree refuses it)
        raise InputError(
            f"{len(lost)} of {len(x)} regions ({first_few(geometry.index[lost])}) have no finite centroid "
            "(a NaN or infinite coordinate); fix or remove those geometries"
        )
    unit = distance_unit(geometry.crs)
    if geometry.crs is None or not geometry.crs.is_geographic:
        return Points(np.column_stack([x, y]), spherical=False, unit=unit)
    lon, lat = np.radians(x), np.radians(y)
    xyz = EARTH_RADIUS_KM * np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    return Points(xyz, spherical=True, unit=unit)


def nearest(points: Points, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each region's ``k`` nearest other regions: ``(heads, tails, distances)``."""
    n = len(points.xyz)
    if k >= n:
        raise InputError(f"--k {k} must be smaller than the number of regions ({n})")
    k = int(k)
    chord, idx = cKDTree(points.xyz).query(points.xyz, k=k + 1)
    rows = np.arange(n)[:, None]
    # Drop each region itself; with coincident centroids it need not come first.
    others = idx != rows
    keep = others & (np.cumsum(others, axis=1) <= k)
    heads = np.broadcast_to(rows, idx.shape)[keep]
    return heads, idx[keep], points.arc(chord[keep])


def within(points: Points, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered pairs of distinct regions at most ``threshold`` apart."""
    pairs = cKDTree(points.xyz).query_pairs(points.chord(threshold), output_type="ndarray")
    left, right = pairs[:, 0], pairs[:, 1]
    dist = points.distances(left, right)
    keep = dist <= threshold
    left, right, dist = left[keep], right[keep], dist[keep]
    return np.concatenate([left, right]), np.concatenate([right, left]), np.concatenate([dist, dist])


def band_weights(points: Points, spec: WeightsSpec, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance band: weight 1, or :math:`d^{-\\alpha}` with ``spec.inverse``."""
    heads, tails, dist = within(points, spec.threshold)
    if not spec.inverse:
        return heads, tails, np.ones(len(heads))
    zero = dist == 0
    if zero.any():
        pairs = [f"{ids[h]}-{ids[t]}" for h, t in zip(heads[zero], tails[zero]) if h < t]
        raise WeightsError(
            f"{len(pairs)} pairs of regions have the same centroid ({first_few(pairs)}), "
            "so inverse distance is infinite; merge them or use a binary band"
        )
    with np.errstate(over="ignore"):
        weights = dist ** (-spec.alpha)
        total = weights.sum()
    if not np.isfinite(total):  # large alpha on pairs closer than 1 unit: inf, or a sum that overflows
        near = np.argsort(dist, kind="stable")[:10]  # the closest pairs, each listed in both directions
        pairs = list(dict.fromkeys(f"{ids[min(h, t)]}-{ids[max(h, t)]}" for h, t in zip(heads[near], tails[near])))
        raise WeightsError(
            f"--alpha {spec.alpha:g} makes the inverse-distance weights too large to add up (the closest "
            f"pairs: {first_few(pairs)}, {dist.min():g} apart); choose a smaller --alpha, or measure in "
            "larger units (--crs)"
        )
    return heads, tails, weights


def kernel_weights(points: Points, spec: WeightsSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kernel weights :math:`K(d_{ij} / h_i)`, self-weights excluded.

    Candidate neighbours are each region's ``k`` nearest when ``k`` is given,
    otherwise every region within the cut-off (``threshold``, else the fixed
    ``bandwidth``). ``h_i`` is the fixed ``bandwidth``, or, without one, the
    distance to region i's k-th nearest neighbour (adaptive). ``threshold``
    then cuts off longer links, and zero weights are dropped. Unlike libpysal's
    ``Kernel``, the diagonal stays 0, as spatial models require.
    """
    if spec.k is not None:
        heads, tails, dist = nearest(points, spec.k)
    else:
        heads, tails, dist = within(points, spec.threshold or spec.bandwidth)
    if spec.bandwidth is not None:
        bandwidth = np.full(len(heads), float(spec.bandwidth))
    else:
        kth = np.zeros(len(points.xyz))
        np.maximum.at(kth, heads, dist)
        bandwidth = kth[heads] * ADAPTIVE_BANDWIDTH_FACTOR
        if (bandwidth == 0).any():
            raise WeightsError(
                "some regions share their centroid with all of their k nearest neighbours, "
                "so the adaptive bandwidth is 0; raise --k or pass --bandwidth"
            )
    if spec.threshold is not None:
        keep = dist <= spec.threshold
        heads, tails, dist, bandwidth = heads[keep], tails[keep], dist[keep], bandwidth[keep]
    from libpysal.kernels import kernel as kernel_values  # libpysal costs seconds to import; only kernels need it

    weights = kernel_values(dist, bandwidth, kernel=KERNELS[spec.kernel_fn], taper=False)
    keep = weights > 0
    return heads[keep], tails[keep], weights[keep]
