"""W for a fit: the weights less the regions left out, transformed, checked, aligned to the data.

Islands, self-loops and all-zero rows are never fitted silently. For weights
read from a file a command was given (``source`` names it), the rules are:

- **no link at all** (every weight 0, or every region an island, perhaps after
  leaving regions out): a :class:`~rtsmig.errors.WeightsError` — no model has
  anything spatial to estimate, and OLS's spatial diagnostics divide by zero.
- **a row of zero weights** (a region whose links all weigh 0) under the ``r``
  transform: a WeightsError naming the regions — row-standardising divides the
  row by its sum, 0/0. Under the other transforms such a row is an island.
- **self-loops** (a region linked to itself with a non-zero weight, so W's
  diagonal is not 0): lag, error, sac, durbin, durbin-error and gns models
  (ML and GMM) assume a zero diagonal — the log-determinant, the GMM moments
  and the direct/indirect impacts all read it — so they are refused with a
  WeightsError; OLS (W only in its diagnostics) and SLX (WX) keep them with an
  :class:`~rtsmig.errors.RtsmigWarning`. A caller that does not say which
  model (``model=None``: select, mediate, maps) gets the refusal.
- **islands** (regions without a neighbour): every model can take them (their
  spatial lag is 0), so they are kept with an RtsmigWarning naming them;
  islands that appear only because ``--na drop`` or a sub-sample left out
  their neighbours get a warning of their own.
- weights whose sum overflows: a WeightsError, always.

Without ``source`` (weights built in memory through the Python API) the
refusals above are warnings and W is what libpysal's ``subgraph`` and
``transform`` give (a row of zeros stays 0).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from rtsmig.errors import RtsmigWarning, WeightsError, first_few
from rtsmig.weights.edges import Edges, _member

# Models whose estimators take W's diagonal as it is (OLS: diagnostics only; SLX: WX).
SELF_LOOP_MODELS = ("ols", "slx")


def fit_matrix(
    edges: Edges,
    ids: Sequence[str],
    transform: str,
    dropped: Sequence[str] = (),
    *,
    source: object | None = None,
    model: str | None = None,
) -> sparse.csr_array:
    """W for the data's regions ``ids``: ``edges`` less ``dropped``, transformed, checked.

    Dropping first and transforming after re-standardises the rows, as libpysal's
    ``Graph.subgraph`` then ``Graph.transform`` would. Ids the weights have and
    the data lacks are not dropped here: the alignment reports them.

    Parameters
    ----------
    edges : the weights as read.
    ids : the data's region ids, in the data's order (W's rows and columns).
    transform : a :data:`~rtsmig.weights.edges.TRANSFORMS` code.
    dropped : ids left out of the data (``--na drop``, a sub-sample).
    source : the weights file, named in messages; given, the checks refuse
        (see the module notes), else they warn.
    model : the model to be fitted; ``None`` when unknown (see the module notes).

    Raises
    ------
    WeightsError
        Ids that do not match; with ``source``: no link, all-zero rows under
        ``r``, self-loops for a model that needs a zero diagonal; weights too
        large to add up.
    InputError
        Duplicate data ids, an unknown transform.
    """
    keep = ~_member(edges.ids, dropped) if len(dropped) else None
    kept = edges if keep is None else edges.keep(keep)
    try:
        W = kept.transform(transform).aligned(ids)  # an id mismatch is the first thing to report
    except WeightsError as exc:
        if source is None or str(exc).startswith(str(source)):
            raise
        raise type(exc)(f"{source}: {exc}") from exc  # the Edges cannot know which file they came from
    check = _Check(f"{source}: " if source is not None else "", strict=source is not None)
    after = f" once the {edges.n - kept.n} regions left out of the data are gone" if kept.n < edges.n else ""
    nonzero = kept.weights != 0
    neighbours = np.bincount(kept.heads[nonzero], minlength=kept.n)  # each region's non-zero weights
    _check_links(kept, nonzero, neighbours, str(transform).lower(), check, after)
    _check_self_loops(kept, nonzero, check, model)
    _warn_islands(edges, kept, keep, neighbours, check)
    return W


class _Check:
    """Where messages come from (``where``: the file and ``: ``), and whether problems refuse or warn."""

    def __init__(self, where: str, strict: bool) -> None:
        self.where, self.strict = where, strict

    def refuse(self, message: str) -> None:
        """A WeightsError when strict, else a warning."""
        if self.strict:
            raise WeightsError(self.where + message)
        self.warn(message)

    def warn(self, message: str) -> None:
        # Four frames up: this method, the check, fit_matrix, its caller.
        warnings.warn(self.where + message, RtsmigWarning, stacklevel=4)


def _check_links(
    kept: Edges, nonzero: np.ndarray, neighbours: np.ndarray, transform: str, check: _Check, after: str
) -> None:
    """No link at all, all-zero rows under ``r``, or sums that overflow."""
    if not nonzero.any():
        check.refuse(
            f"no two of the {kept.n} regions are linked{after} (every region is an island or every "
            "weight is 0), so there is nothing spatial to fit: use weights with links between these regions"
        )
        return
    with np.errstate(over="ignore"):
        total = kept.weights.sum()
    if not np.isfinite(total):
        raise WeightsError(
            f"{check.where}the weights are too large to add up (the largest is {kept.weights.max()!r}); "
            "divide them by a constant and write the file again"
        )
    if transform != "r":
        return
    has_links = np.bincount(kept.heads, minlength=kept.n) > 0
    zero_rows = np.flatnonzero(has_links & (neighbours == 0))
    if len(zero_rows):
        check.refuse(
            f"{_regions(len(zero_rows), 'has', 'have')} links that all weigh 0{after} "
            f"({first_few(kept.ids[zero_rows])}), "
            "so --transform r cannot standardise their rows (0/0): give those links a positive weight, "
            "or remove them to make the regions islands"
        )


def _check_self_loops(kept: Edges, nonzero: np.ndarray, check: _Check, model: str | None) -> None:
    """Links from a region to itself: refused, or (OLS, SLX) a warning."""
    loops = np.flatnonzero((kept.heads == kept.tails) & nonzero)
    if len(loops) == 0:
        return
    found = (
        f"{_regions(len(loops), 'is linked to itself', 'are linked to themselves')} "
        f"({first_few(kept.ids[kept.heads[loops]])}), so W's diagonal is not 0"
    )
    if model in SELF_LOOP_MODELS:
        check.warn(
            f"{found}; the {model} fit keeps those self-loops: remove them from the weights file "
            "if a region is not meant to be its own neighbour"
        )
        return
    fix = "; or fit ols or slx, which keep them" if model is not None else ""
    check.refuse(
        f"{found}; spatial lag and error models, their impacts and Moran's I need a zero diagonal: "
        f"remove the links of those regions to themselves from the weights file{fix}"
    )


def _warn_islands(edges: Edges, kept: Edges, keep: np.ndarray | None, neighbours: np.ndarray, check: _Check) -> None:
    """One warning for the islands the weights have, one for those that leaving regions out made."""
    lonely = neighbours == 0
    if not lonely.any() or lonely.all():  # all islands: refused or warned about as "no link" already
        return
    was_lonely = lonely if keep is None else (edges.neighbour_counts() == 0)[keep]
    old, new = np.flatnonzero(lonely & was_lonely), np.flatnonzero(lonely & ~was_lonely)
    lag = "their spatial lag is 0 in the fit"
    if len(old):
        check.warn(
            f"{len(old)} of {kept.n} regions {'has' if len(old) == 1 else 'have'} no neighbours "
            f"({first_few(kept.ids[old])}); {lag}: "
            "build the weights with --islands attach, or leave those regions out, if that is not intended"
        )
    if len(new):
        check.warn(
            f"leaving out the {edges.n - kept.n} regions dropped from the data (--na drop or the "
            f"sample) leaves {_regions(len(new))} without neighbours ({first_few(kept.ids[new])}); {lag}"
        )


def _regions(count: int, one: str = "", many: str = "") -> str:
    """``1 region has`` / ``3 regions have``: a count of regions and its verb."""
    text = f"{count} region" if count == 1 else f"{count} regions"
    verb = one if count == 1 else many
    return f"{text} {verb}" if verb else text
