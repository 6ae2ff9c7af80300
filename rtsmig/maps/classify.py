"""Class breaks for a choropleth: the ``--scheme`` names mapped to mapclassify classifiers.

Every classifier runs under a fixed seed of numpy's global generator, because
mapclassify's ``NaturalBreaks`` (k-means through scikit-learn) draws from it:
the same values and seed always give the same breaks.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rtsmig.errors import InputError


@dataclass(frozen=True)
class Scheme:
    """A ``--scheme``: the mapclassify class, whether it takes ``k``, and its classes otherwise."""

    classifier: str
    takes_k: bool
    classes: int = 0  # the classes a scheme without k makes at most (for the "too few regions" check)


SCHEMES: dict[str, Scheme] = {
    "quantiles": Scheme("Quantiles", True),
    "equal-interval": Scheme("EqualInterval", True),
    "natural-breaks": Scheme("NaturalBreaks", True),
    "fisher-jenks": Scheme("FisherJenks", True),
    "maximum-breaks": Scheme("MaximumBreaks", True),
    "std-mean": Scheme("StdMean", False, 5),
    "head-tail-breaks": Scheme("HeadTailBreaks", False, 2),
    "percentiles": Scheme("Percentiles", False, 6),
}


@contextlib.contextmanager
def seeded_numpy(seed: int) -> Iterator[None]:
    """Seed numpy's global generator for the block, then put its previous state back.

    mapclassify's ``NaturalBreaks`` and esda's ``Moran`` take no seed of their
    own and draw from the global generator; restoring it keeps the side effect local.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


@dataclass(frozen=True)
class Classification:
    """The classes of a choropleth.

    Attributes
    ----------
    scheme : str
        The ``--scheme`` name.
    bins : tuple of float
        Upper bound of each class (mapclassify's ``bins``); class ``j`` holds
        ``bins[j-1] < y <= bins[j]``, the first ``y <= bins[0]``.
    counts : tuple of int
        Values in each class.
    classes : numpy.ndarray
        Class of each value (mapclassify's ``yb``), in the order of the values.
    minimum : float
        The smallest value: the lower bound of the first class in the legend.
    notes : tuple of str
        What the user should know, e.g. fewer classes than asked for.
    """

    scheme: str
    bins: tuple[float, ...]
    counts: tuple[int, ...]
    classes: np.ndarray
    minimum: float
    notes: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        return len(self.bins)

    def labels(self) -> list[str]:
        """Legend text of each class: ``"[0.12, 1.34] (74)"``, then ``"(1.34, 2.50] (74)"``."""
        decimals = _decimals(self.minimum, self.bins)
        fmt = f"{{:,.{decimals}f}}".format
        labels = []
        for j, (upper, count) in enumerate(zip(self.bins, self.counts, strict=True)):
            if j == 0:
                interval = f"[{fmt(self.minimum)}, {fmt(upper)}]" if self.minimum <= upper else f"≤ {fmt(upper)}"
            else:
                interval = f"({fmt(self.bins[j - 1])}, {fmt(upper)}]"
            labels.append(f"{interval} ({count})")
        return labels

    def to_dict(self) -> dict:
        return {
            "scheme": self.scheme, "k": self.k, "bins": [float(b) for b in self.bins],
            "counts": [int(c) for c in self.counts], "labels": self.labels(),
        }


def _decimals(minimum: float, bins: tuple[float, ...]) -> int:
    """Decimals that tell neighbouring breaks apart: three significant digits of the smallest gap."""
    edges = np.array([minimum, *bins], dtype=float)
    gaps = np.diff(edges)
    gaps = gaps[np.isfinite(gaps) & (gaps > 0)]
    if len(gaps) == 0:
        return 2
    return min(6, max(0, 2 - math.floor(math.log10(gaps.min()))))


def classes_needed(scheme: str, k: int) -> int:
    """How many regions with data a scheme needs: ``k``, or the classes of a scheme without k."""
    spec = SCHEMES[scheme]
    return k if spec.takes_k else spec.classes


def classify(values: np.ndarray, scheme: str, k: int, seed: int = 1) -> Classification:
    """Classify ``values`` (finite floats) with the mapclassify classifier of ``scheme``.

    Parameters
    ----------
    values : numpy.ndarray
        The values of the regions with data.
    scheme : str
        A key of :data:`SCHEMES`.
    k : int
        Number of classes, for the schemes that take one.
    seed : int
        Seed of numpy's global generator while classifying (natural-breaks draws).

    Raises
    ------
    InputError
        Fewer values than the scheme's classes, a single distinct value, or
        values the classifier refuses.
    """
    import mapclassify

    spec = SCHEMES[scheme]
    values = np.asarray(values, dtype=float)
    needed = classes_needed(scheme, k)
    if len(values) < needed:
        what = f"--k {k}" if spec.takes_k else f"the {needed} classes of --scheme {scheme}"
        raise InputError(f"only {len(values)} regions have a value, fewer than {what}; lower --k or add data")
    distinct = len(np.unique(values))
    if distinct < 2:
        raise InputError(f"every region with a value has the same value ({values[0]:g}); there is nothing to classify")
    # Some classifiers refuse fewer distinct values than classes, others make empty
    # classes: ask each for no more classes than there are values to tell apart.
    asked = min(k, distinct) if spec.takes_k else k
    classifier = getattr(mapclassify, spec.classifier)
    # mapclassify warns about a missing numba (no concern of a user) and about too
    # few distinct values (reported below in rtsmig's words).
    try:
        with seeded_numpy(seed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = classifier(values, k=asked) if spec.takes_k else classifier(values)
    except ValueError as exc:
        raise InputError(f"--scheme {scheme} cannot classify these values ({exc})") from exc
    made = len(np.atleast_1d(result.bins))
    notes = (f"{made} classes, not {k}: too few distinct values",) if spec.takes_k and made < k else ()
    return Classification(
        scheme=scheme,
        bins=tuple(float(b) for b in np.atleast_1d(result.bins)),
        counts=tuple(int(c) for c in np.atleast_1d(result.counts)),
        classes=np.asarray(result.yb, dtype=int),
        minimum=float(values.min()),
        notes=notes,
    )
