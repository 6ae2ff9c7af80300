"""The islands policy: what happens to regions left without neighbours.

Works on :class:`~rtsmig.weights.edges.Edges`, so that it costs O(links) at any
size; a caller holding a libpysal Graph converts with ``Edges.from_graph``.
"""

from __future__ import annotations

import numpy as np
import shapely

from rtsmig.errors import WeightsError, first_few
from rtsmig.weights.edges import Edges


def island_positions(edges: Edges) -> np.ndarray:
    """Positions of the regions without a non-zero weight (libpysal's ``isolates``), ascending."""
    return np.flatnonzero(edges.neighbour_counts() == 0)


def island_ids(edges: Edges) -> list[str]:
    """Ids of regions with no (non-zero) neighbour, in the weights' order."""
    return edges.ids[island_positions(edges)].tolist()


def apply_islands_policy(
    edges: Edges, geoms: np.ndarray, policy: str, kind: str
) -> tuple[Edges, list[str], list[str]]:
    """Refuse, drop or attach the islands.

    Parameters
    ----------
    edges : Edges
        Untransformed weights, ids in the regions' order.
    geoms : numpy.ndarray
        The regions' shapely geometries, one per id of ``edges`` in the same
        order (used by ``attach``).
    policy : {"error", "drop", "attach"}
    kind : the ``--kind`` the weights were built with, for the error message.

    Returns
    -------
    edges, dropped, attached
        The new weights and the ids dropped or attached (one list is empty).
        Dropping resets the transformation to "O", as libpysal's ``subgraph``.

    Raises
    ------
    WeightsError
        Islands under ``policy="error"``, or nothing left to attach to.
    """
    lonely = island_positions(edges)
    if len(lonely) == 0:
        return edges, [], []
    islands = edges.ids[lonely].tolist()
    if policy == "drop":
        keep = np.ones(edges.n, dtype=bool)
        keep[lonely] = False
        return edges.keep(keep), islands, []
    if policy == "attach":
        return attach_islands(edges, geoms, lonely), [], islands
    raise WeightsError(
        f"{len(islands)} of {edges.n} regions have no neighbours under --kind {kind} "
        f"({first_few(islands)}); pass --islands drop to leave them out, --islands attach "
        "to link each to its nearest region, a --tolerance to close small gaps between "
        "polygons, or use a distance kind (--kind knn or distance)"
    )


def attach_islands(edges: Edges, geoms: np.ndarray, lonely: np.ndarray) -> Edges:
    """Link each island (positions ``lonely``) to its nearest region by geometry distance.

    The new links run both ways with weight 1. Ties go to the region that comes
    first in the layer, so the result does not depend on the spatial index's
    internals. Zero-weight links are left out of the result, as they always were.
    """
    if edges.n < 2:
        raise WeightsError("a single region cannot be attached to anything; add regions")
    src, dst = shapely.STRtree(geoms).query_nearest(geoms[lonely], exclusive=True, all_matches=True)
    if (np.bincount(src, minlength=len(lonely)) == 0).any():
        raise WeightsError(
            "some islands have a duplicate geometry and nothing else to attach to; remove the duplicates"
        )
    first = np.lexsort((dst, src))
    src, dst = src[first], dst[first]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    island_pos, partner = lonely[src[starts]], dst[starts]
    n = np.int64(edges.n)
    # Each new link once, though two islands may pick each other.
    new = np.unique(np.concatenate([island_pos * n + partner, partner * n + island_pos]))
    nonzero = edges.weights != 0
    heads, tails, weights = edges.heads[nonzero], edges.tails[nonzero], edges.weights[nonzero]
    # A region may already link to the island it is attached to (asymmetric
    # weights): that link keeps its weight rather than appearing twice.
    old = heads.astype(np.int64) * n + tails
    at = np.minimum(np.searchsorted(old, new), max(len(old) - 1, 0))
    if len(old):
        new = new[old[at] != new]
    return Edges.from_positions(
        edges.ids,
        np.concatenate([heads, new // n]),
        np.concatenate([tails, new % n]),
        np.concatenate([weights, np.ones(len(new))]),
        edges.transformation,
    )
