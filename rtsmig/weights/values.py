"""The values a weights file may hold, checked as it is read, and counted for ``weights describe``.

Spatial weights are finite numbers of at least 0. A negative weight is not a
weaker link but a sign flip that row-standardisation hides (a row of -1, -1
standardises to 0.5, 0.5: the fit cannot tell it from +1, +1), ``inf`` turns
a region into an island once the row is divided by its infinite sum, and NaN
has no meaning at all; so the readers refuse all three (:func:`check_values`),
naming the file, the line or row and the pair of regions. ``weights describe``
reads without that check, to show what a file holds (:func:`value_counts`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rtsmig.errors import InputError, WeightsError
from rtsmig.weights.edges import Edges

# How many offending links an error message spells out before it counts the rest.
SHOWN = 5


class BadWeightError(WeightsError, InputError):
    """A weights file holds a negative or non-finite weight (exit 4, a weights problem).

    It is an :class:`InputError` too, a malformed file, so that code catching the
    readers' InputError for a file it cannot use keeps catching it; the exit code
    is the weights one.
    """

    exit_code = WeightsError.exit_code


def bad_positions(weights: np.ndarray) -> np.ndarray:
    """Positions of the weights that are negative, NaN or infinite (``-0.0`` is fine)."""
    weights = np.asarray(weights, dtype=np.float64)
    return np.flatnonzero(~np.isfinite(weights) | (weights < 0))


def check_values(
    path: Path, weights: np.ndarray, describe: Callable[[np.ndarray], Sequence[str]], unit: str
) -> None:
    """Refuse a file with a negative or non-finite weight.

    Parameters
    ----------
    path : the file, for the message.
    weights : every weight read, in the file's order.
    describe : given the positions (into ``weights``) of up to :data:`SHOWN`
        offending links, one text per link naming where it is and its regions,
        e.g. ``line 5 ('1' -> '2': -1.0)``.
    unit : what the file is made of, plural ("lines", "rows"), for the fix.

    Raises
    ------
    BadWeightError
        Some weight is negative, NaN or infinite.
    """
    bad = bad_positions(weights)
    if len(bad) == 0:
        return
    shown = "; ".join(describe(bad[:SHOWN]))
    rest = f"; and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
    what = "1 link has a" if len(bad) == 1 else f"{len(bad)} links have a"
    raise BadWeightError(
        f"{path}: {what} negative or non-finite weight: {shown}{rest}; spatial weights must be "
        f"finite numbers of at least 0: correct or remove those {unit}"
    )


def weight_text(weight: float) -> str:
    """A weight as an error message shows it: ``NaN``, ``inf``, ``-inf`` or Python's repr."""
    if np.isnan(weight):
        return "NaN"
    return repr(float(weight))


def link_texts(where: str, numbers: Sequence[int], focal: Sequence[str], neighbor: Sequence[str],
               weights: Sequence[float]) -> list[str]:
    """``line 5 ('1' -> '2': -1.0)`` for each link given by its number and regions."""
    return [
        f"{where} {number} ({str(f)!r} -> {str(n)!r}: {weight_text(w)})"
        for number, f, n, w in zip(numbers, focal, neighbor, weights, strict=True)
    ]


def value_counts(edges: Edges) -> dict:
    """How many links of ``edges`` are negative, zero, self-loops or not finite.

    libpysal's isolate markers (a region's only link, to itself, of weight 0) are
    not links and are not counted; any other link from a region to itself is a
    self-loop, whatever its weight.

    Returns
    -------
    dict
        ``negative_weights``, ``zero_weights``, ``self_loops``,
        ``non_finite_weights`` (NaN or infinite), as ints.
    """
    w = edges.weights
    return {
        "negative_weights": int(np.count_nonzero(w < 0)),
        "zero_weights": int(np.count_nonzero(w == 0)),
        "self_loops": int(np.count_nonzero(edges.heads == edges.tails)),
        "non_finite_weights": int(np.count_nonzero(~np.isfinite(w))),
    }
