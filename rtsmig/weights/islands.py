"""The islands policy: what happens to regions left without neighbours."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from libpysal.graph import Graph

from rtsmig.errors import WeightsError, first_few
from rtsmig.weights._graph import edge_positions, from_positions


def island_ids(graph: Graph) -> list[str]:
    """Ids of regions with no (non-zero) neighbour, in the graph's order."""
    return [str(i) for i in graph.isolates]


def apply_islands_policy(
    graph: Graph, geometry: gpd.GeoSeries, policy: str, kind: str
) -> tuple[Graph, list[str], list[str]]:
    """Refuse, drop or attach the graph's islands.

    Parameters
    ----------
    graph : libpysal.graph.Graph
        Untransformed weights, ids in the regions' order.
    geometry : geopandas.GeoSeries
        The regions' geometries in the same order (used by ``attach``).
    policy : {"error", "drop", "attach"}
    kind : the ``--kind`` the graph was built with, for the error message.

    Returns
    -------
    graph, dropped, attached
        The new graph and the ids dropped or attached (one list is empty).

    Raises
    ------
    WeightsError
        Islands under ``policy="error"``, or nothing left to attach to.
    """
    islands = island_ids(graph)
    if not islands:
        return graph, [], []
    if policy == "drop":
        gone = set(islands)
        keep = [i for i in graph.unique_ids if i not in gone]
        return graph.subgraph(keep), islands, []
    if policy == "attach":
        return attach_islands(graph, geometry, islands), [], islands
    raise WeightsError(
        f"{len(islands)} of {graph.n} regions have no neighbours under --kind {kind} "
        f"({first_few(islands)}); pass --islands drop to leave them out, --islands attach "
        "to link each to its nearest region, a --tolerance to close small gaps between "
        "polygons, or use a distance kind (--kind knn or distance)"
    )


def attach_islands(graph: Graph, geometry: gpd.GeoSeries, islands: list[str]) -> Graph:
    """Link each island to its nearest region (by geometry distance), both ways, weight 1.

    Ties go to the region that comes first in the layer, so the result does not
    depend on the spatial index's internals.
    """
    ids, heads, tails, weights = edge_positions(graph)
    if len(ids) < 2:
        raise WeightsError("a single region cannot be attached to anything; add regions")
    geoms = geometry.loc[list(ids)].to_numpy()
    lonely = ids.get_indexer(islands)
    src, dst = shapely.STRtree(geoms).query_nearest(geoms[lonely], exclusive=True, all_matches=True)
    if len(np.unique(src)) < len(lonely):
        raise WeightsError(
            "some islands have a duplicate geometry and nothing else to attach to; remove the duplicates"
        )
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
