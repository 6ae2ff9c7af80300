"""What weights to build: a frozen spec, parsed by the CLI and read by the builders."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from rtsmig.errors import InputError

KINDS = ("queen", "rook", "knn", "distance", "kernel", "block")
# Lower-case codes of libpysal's Graph.transform; "o" keeps the built weights as they are.
TRANSFORMS = ("r", "b", "v", "d", "o")
ISLAND_POLICIES = ("error", "drop", "attach")
# The kernel names of libpysal.weights.Kernel, mapped to libpysal.kernels' names.
KERNELS = {
    "triangular": "triangular",
    "uniform": "boxcar",
    "quadratic": "parabolic",
    "quartic": "bisquare",
    "gaussian": "gaussian",
}
DISTANCE_KINDS = ("knn", "distance", "kernel")
DEFAULT_KERNEL = "triangular"
# The kinds each kind-specific option applies to; --transform, --islands and --crs apply to all.
OPTION_KINDS = {
    "--k": ("knn", "kernel"),
    "--threshold": ("distance", "kernel"),
    "--bandwidth": ("kernel",),
    "--kernel-fn": ("kernel",),
    "--by": ("block",),
    "--tolerance": ("queen", "rook"),
    "--inverse": ("distance",),
}


@dataclass(frozen=True)
class WeightsSpec:
    """How to build spatial weights from a layer of regions.

    Parameters
    ----------
    kind : {"queen", "rook", "knn", "distance", "kernel", "block"}
        ``queen``/``rook`` contiguity, ``knn`` k nearest centroids, ``distance``
        band (binary or inverse distance), ``kernel`` weights, ``block``: all
        regions sharing a value of column ``by`` are neighbours.
    k : number of nearest neighbours (``knn``; ``kernel`` with adaptive bandwidth).
    threshold : distance band (``distance``); optional cut-off for ``kernel``.
    inverse, alpha : ``distance`` only: weights :math:`d_{ij}^{-\\alpha}` inside the band.
    bandwidth : fixed kernel bandwidth; ``None`` with ``k`` gives each region the
        distance to its k-th nearest neighbour (adaptive, as libpysal's ``Kernel``).
    kernel_fn : {"triangular", "uniform", "quadratic", "quartic", "gaussian"}
    by : column whose values define the blocks (``block``).
    tolerance : ``queen``/``rook`` only: gaps up to this distance, in the layer's
        CRS units, count as shared borders (see :mod:`rtsmig.weights.contiguity`).
    transform : {"r", "b", "v", "d", "o"}
        Row-standardised, binary, variance-stabilising, doubly standardised
        (libpysal ``Graph.transform`` codes), or ``o``: the original weights.
    islands : {"error", "drop", "attach"}
        What to do with regions left without neighbours.
    crs : CRS to measure in. A layer with a CRS is reprojected to it; a layer
        without one is declared to be in it (there is nothing to reproject from).

    Notes
    -----
    Distances, thresholds and bandwidths are in kilometres (great circle) when the
    layer's CRS is geographic and in the CRS's units when it is projected.
    """

    kind: str
    k: int | None = None
    threshold: float | None = None
    inverse: bool = False
    alpha: float = 1.0
    bandwidth: float | None = None
    kernel_fn: str = DEFAULT_KERNEL
    by: str | None = None
    tolerance: float = 0.0
    transform: str = "r"
    islands: str = "error"
    crs: str | None = None

    def to_dict(self) -> dict:
        """The spec as a JSON-safe dict (plain str/int/float/bool/None values)."""
        return dict(sorted(asdict(self).items()))

    def validate(self) -> None:
        """Check that the options fit together.

        Raises
        ------
        InputError
            A missing option for the kind or one the kind does not use (named as
            its CLI option), an unknown value, or a value out of range. The CLI
            and run files report it as a usage error (exit 2).
        """
        _one_of("--kind", self.kind, KINDS)
        _one_of("--transform", self.transform, TRANSFORMS)
        _one_of("--islands", self.islands, ISLAND_POLICIES)
        _one_of("--kernel", self.kernel_fn, tuple(KERNELS))
        _positive("--threshold", self.threshold)
        _positive("--bandwidth", self.bandwidth)
        if self.k is not None and (isinstance(self.k, bool) or int(self.k) != self.k or self.k < 1):
            raise InputError(f"--k must be a whole number of at least 1, not {self.k!r}")
        if not math.isfinite(self.tolerance) or self.tolerance < 0:
            raise InputError(f"--tolerance must be zero or positive, not {self.tolerance!r}")
        if not math.isfinite(self.alpha) or self.alpha <= 0:
            raise InputError(f"--alpha must be positive, not {self.alpha!r}")
        self._validate_kind()
        if self.crs is not None:
            _check_crs(self.crs)

    def _validate_kind(self) -> None:
        kind = self.kind
        if kind == "knn" and self.k is None:
            raise InputError("--kind knn needs --k (the number of neighbours)")
        if kind == "distance" and self.threshold is None:
            raise InputError("--kind distance needs --threshold (the distance band)")
        if kind == "kernel" and self.bandwidth is None and self.k is None:
            raise InputError("--kind kernel needs --bandwidth (fixed) or --k (adaptive bandwidth)")
        if kind == "block" and not self.by:
            raise InputError("--kind block needs --by (the column that defines the blocks)")
        self._validate_options_belong()
        weighted = (kind == "distance" and self.inverse) or kind == "kernel"
        if weighted and self.transform == "b":
            what = "inverse-distance" if kind == "distance" else "kernel"
            raise InputError(
                f"--transform b would replace the {what} weights by 1; "
                "use --transform o to keep them as built, or r, v or d"
            )

    def _validate_options_belong(self) -> None:
        """An option the kind does not use is a mistake (a forgotten --kind?), not something to ignore."""
        given = {
            "--k": self.k is not None,
            "--threshold": self.threshold is not None,
            "--bandwidth": self.bandwidth is not None,
            "--kernel-fn": self.kernel_fn != DEFAULT_KERNEL,
            "--by": bool(self.by),
            "--tolerance": self.tolerance > 0,
            "--inverse": self.inverse,
        }
        for option, kinds in OPTION_KINDS.items():
            if given[option] and self.kind not in kinds:
                raise InputError(
                    f"{option} applies to --kind {' or '.join(kinds)}, not --kind {self.kind}; "
                    f"leave {option} out or choose that kind"
                )
        if self.alpha != 1.0 and not (self.kind == "distance" and self.inverse):
            raise InputError(
                f"--alpha applies to --kind distance with --inverse, not --kind {self.kind}"
                f"{'' if self.kind != 'distance' else ' without --inverse'}; leave --alpha out or add --inverse"
            )


def _one_of(option: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"{option} {value!r} is not one of {', '.join(allowed)}")


def _positive(option: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"{option} must be a positive number, not {value!r}")


def _check_crs(crs: str) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError as exc:
        raise InputError(f"--crs {crs!r} is not a CRS PROJ knows (try e.g. EPSG:4326)") from exc
