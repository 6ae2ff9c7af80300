"""Build spatial weights from a layer of regions and a :class:`WeightsSpec`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from rtsmig.errors import InputError, WeightsError, first_few
from rtsmig.weights import distance
from rtsmig.weights.contiguity import check_contiguity_geometry, contiguity_edges
from rtsmig.weights.edges import Edges, str_ids
from rtsmig.weights.islands import apply_islands_policy
from rtsmig.weights.spec import DISTANCE_KINDS, WeightsSpec
from rtsmig.weights.summary import summarize

if TYPE_CHECKING:  # importing libpysal costs seconds; only block weights and .graph need it
    from libpysal.graph import Graph


@dataclass(frozen=True)
class BuiltWeights:
    """Weights built from regions, and their summary.

    Attributes
    ----------
    edges : Edges
        Transformed weights; ids are the region ids (str) in the regions' order
        (less any islands dropped).
    summary : dict
        :func:`rtsmig.weights.summary.summarize` of ``edges`` plus
        ``distance_unit`` (``None`` for contiguity and block kinds),
        ``islands_dropped`` and ``islands_attached`` (lists of ids).
    """

    edges: Edges
    summary: dict

    @cached_property
    def graph(self) -> Graph:
        """The same weights as a libpysal Graph (built on first use: seconds at 10^6 regions)."""
        return self.edges.to_graph()


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
    geometry = _geometry(regions, spec)
    edges, unit = _build_raw(regions, geometry, spec)
    if not (edges.weights != 0).any():
        raise WeightsError(
            f"--kind {spec.kind} gives no links between the {edges.n} regions; "
            "choose another kind or a larger --threshold/--tolerance"
        )
    edges, dropped, attached = apply_islands_policy(edges, geometry.to_numpy(), spec.islands, spec.kind)
    edges = edges.transform(spec.transform)
    summary = summarize(edges) | {
        "distance_unit": unit,
        "islands_dropped": dropped,
        "islands_attached": attached,
    }
    return BuiltWeights(edges=edges, summary=summary)


def _geometry(regions: gpd.GeoDataFrame, spec: WeightsSpec) -> gpd.GeoSeries:
    """The regions' geometries, ids as str, checked and in the CRS distances use."""
    geometry = regions.geometry.copy()
    geometry.index = pd.Index(str_ids(regions.index), dtype=object)
    missing = geometry.isna() | geometry.is_empty
    if missing.any():
        raise InputError(f"regions {first_few(geometry.index[missing])} have no geometry; fix or remove them")
    if spec.kind in DISTANCE_KINDS or spec.crs is not None:
        geometry = distance.measured_layer(geometry, spec.crs)
    return geometry


def _build_raw(regions: gpd.GeoDataFrame, geometry: gpd.GeoSeries, spec: WeightsSpec) -> tuple[Edges, str | None]:
    """The untransformed weights for ``spec.kind``, ids in the regions' order, and the distance unit (or None)."""
    if spec.kind in ("queen", "rook"):
        check_contiguity_geometry(geometry, spec.kind)
        return contiguity_edges(geometry, rook=spec.kind == "rook", tolerance=spec.tolerance), None
    if spec.kind == "block":
        return _block(regions, spec.by, geometry.index), None
    points = distance.region_points(geometry)
    if spec.kind == "knn":
        heads, tails, _ = distance.nearest(points, spec.k)
        weights = np.ones(len(heads))
    elif spec.kind == "distance":
        heads, tails, weights = distance.band_weights(points, spec, list(geometry.index))
    else:
        heads, tails, weights = distance.kernel_weights(points, spec)
    return Edges.from_positions(geometry.index, heads, tails, weights), points.unit


def _block(regions: gpd.GeoDataFrame, by: str, ids: pd.Index) -> Edges:
    """libpysal's block contiguity, its links taken into the regions' order (``ids``)."""
    if by not in regions.columns or by == regions.geometry.name:
        columns = ", ".join(str(c) for c in regions.columns if c != regions.geometry.name)
        raise InputError(f"--by {by!r}: no such column in the regions (columns: {columns})")
    values = regions[by]
    if values.isna().any():
        raise InputError(
            f"--by {by!r} is empty for regions {first_few(values.index[values.isna()])}; every region needs a block"
        )
    from libpysal.graph import Graph  # seconds to import: only once the column is known to be fine

    values = values.copy()
    values.index = ids
    graph = Graph.build_block_contiguity(values)
    focal, neighbor = graph.index_pairs
    weights = graph.adjacency.to_numpy(dtype=np.float64)
    link = weights != 0  # drops libpysal's isolate markers (and nothing else: block weights are 1)
    heads = ids.get_indexer(pd.Index(str_ids(focal[link]), dtype=object))
    tails = ids.get_indexer(pd.Index(str_ids(neighbor[link]), dtype=object))
    return Edges.from_positions(ids, heads, tails, weights[link])
