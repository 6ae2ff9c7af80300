"""Build spatial weights from a layer of regions and a :class:`WeightsSpec`."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
from libpysal.graph import Graph

from rtsmig.errors import InputError, WeightsError, first_few
from rtsmig.weights import distance
from rtsmig.weights._graph import from_positions, reorder, to_csr
from rtsmig.weights.contiguity import build_contiguity
from rtsmig.weights.islands import apply_islands_policy
from rtsmig.weights.spec import DISTANCE_KINDS, WeightsSpec
from rtsmig.weights.summary import summarize


@dataclass(frozen=True)
class BuiltWeights:
    """Weights built from regions, and their summary.

    Attributes
    ----------
    graph : libpysal.graph.Graph
        Transformed weights; ids are the region ids (str) in the regions' order
        (less any islands dropped).
    summary : dict
        :func:`rtsmig.weights.summary.summarize` of ``graph`` plus
        ``distance_unit`` (``None`` for contiguity and block kinds),
        ``islands_dropped`` and ``islands_attached`` (lists of ids).
    """

    graph: Graph
    summary: dict


def build_weights(regions: gpd.GeoDataFrame, spec: WeightsSpec) -> BuiltWeights:
    """Build, apply the islands policy, then transform.

    Parameters
    ----------
    regions : geopandas.GeoDataFrame
        Indexed by region id (unique strings), with a geometry column and the
        attribute columns (``spec.by`` for block weights). Row order is kept.
    spec : WeightsSpec

    Returns
    -------
    BuiltWeights

    Raises
    ------
    InputError
        An invalid spec, a missing ``by`` column or values, missing geometries,
        or degree-like coordinates without a CRS for a distance kind.
    WeightsError
        Islands under ``islands="error"``, or a graph without any link.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = gpd.GeoDataFrame(
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
    ...     index=["a", "b", "c"],
    ... )
    >>> built = build_weights(cells, WeightsSpec(kind="rook"))
    >>> built.summary["links"], built.summary["histogram"]
    (4, [[1, 2], [2, 1]])
    """
    spec.validate()
    ids = [str(i) for i in regions.index]
    geometry = _geometry(regions, spec)
    graph, unit = _build_raw(regions, geometry, spec)
    graph = reorder(graph, ids)  # builders keyed by dicts may reorder; the data's order wins
    if to_csr(graph).nnz == 0:
        raise WeightsError(
            f"--kind {spec.kind} gives no links between the {len(ids)} regions; "
            "choose another kind or a larger --threshold/--tolerance"
        )
    graph, dropped, attached = apply_islands_policy(graph, geometry, spec.islands, spec.kind)
    if spec.transform != "o":
        graph = graph.transform(spec.transform.upper())
    summary = summarize(graph) | {
        "distance_unit": unit,
        "islands_dropped": dropped,
        "islands_attached": attached,
    }
    return BuiltWeights(graph=graph, summary=summary)


def _geometry(regions: gpd.GeoDataFrame, spec: WeightsSpec) -> gpd.GeoSeries:
    """The regions' geometries, ids as str, checked and in the CRS distances use."""
    geometry = regions.geometry.copy()
    geometry.index = [str(i) for i in regions.index]
    missing = geometry.isna() | geometry.is_empty
    if missing.any():
        raise InputError(f"regions {first_few(geometry.index[missing])} have no geometry; fix or remove them")
    if spec.kind in DISTANCE_KINDS or spec.crs is not None:
        geometry = distance.measured_layer(geometry, spec.crs)
    return geometry


def _build_raw(regions: gpd.GeoDataFrame, geometry: gpd.GeoSeries, spec: WeightsSpec) -> tuple[Graph, str | None]:
    """The untransformed graph for ``spec.kind`` and the distance unit (or None)."""
    if spec.kind in ("queen", "rook"):
        return build_contiguity(geometry, rook=spec.kind == "rook", tolerance=spec.tolerance), None
    if spec.kind == "block":
        return _block(regions, spec.by), None
    points = distance.region_points(geometry)
    if spec.kind == "knn":
        heads, tails, _ = distance.nearest(points, spec.k)
        weights = [1.0] * len(heads)
    elif spec.kind == "distance":
        heads, tails, weights = distance.band_weights(points, spec, list(geometry.index))
    else:
        heads, tails, weights = distance.kernel_weights(points, spec)
    return from_positions(geometry.index, heads, tails, weights), points.unit


def _block(regions: gpd.GeoDataFrame, by: str) -> Graph:
    if by not in regions.columns or by == regions.geometry.name:
        columns = ", ".join(str(c) for c in regions.columns if c != regions.geometry.name)
        raise InputError(f"--by {by!r}: no such column in the regions (columns: {columns})")
    values = regions[by]
    if values.isna().any():
        raise InputError(
            f"--by {by!r} is empty for regions {first_few(values.index[values.isna()])}; every region needs a block"
        )
    values = values.copy()
    values.index = [str(i) for i in regions.index]
    return Graph.build_block_contiguity(values)
