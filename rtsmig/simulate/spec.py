"""What to simulate: a frozen spec of the true parameters, built by the CLI and read by the DGP."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from rtsmig.errors import InputError

SIM_MODELS = ("lag", "error", "durbin")
DIMENSIONS = ("position", "method", "sustainability", "flexibility")
CHANNELS = ("environment", "technology", "performance")
OUTCOME = "migration"
INTERCEPT = "(Intercept)"

DEFAULT_RHO = 0.4
DEFAULT_LAMBDA = 0.4
DEFAULT_THETA = 0.2
DEFAULT_BETAS = {"position": 0.8, "method": 0.5, "sustainability": 0.3, "flexibility": 0.6}
# Each channel is driven mostly by one or two dimensions, so that mediation
# analyses on simulated data have distinct paths to find.
DEFAULT_CHANNEL_COEFFICIENTS = {
    "environment": {"position": 0.5, "method": 0.2, "sustainability": 0.3, "flexibility": 0.1},
    "technology": {"position": 0.3, "method": 0.5, "sustainability": 0.1, "flexibility": 0.2},
    "performance": {"position": 0.2, "method": 0.1, "sustainability": 0.4, "flexibility": 0.4},
}
# Item m of every dimension has loading LOADINGS[m]; a 3-item scale uses the first three.
DEFAULT_LOADINGS = (0.85, 0.8, 0.75, 0.8)
# Cut points of a standard-normal latent answer into the five Likert categories.
DEFAULT_THRESHOLDS = (-1.5, -0.5, 0.5, 1.5)


@dataclass(frozen=True)
class SimulationSpec:
    """The true data-generating process of one simulated strategy design.

    Parameters
    ----------
    model : {"lag", "error", "durbin"}
        Spatial process of the outcome ``migration``.
    seed : int
        Seed of ``numpy.random.default_rng``; the draws depend on it and n only.
    rho : spatial lag parameter (``lag``, ``durbin``); must satisfy ``|rho| < 1``.
    lam : spatial error parameter (``error``); ``|lam| < 1``.
    betas : true coefficient of each outcome regressor, by column name: the four
        dimensions, and any channels that enter the outcome equation.
    intercept : constant of the outcome equation.
    sigma : standard deviation of the outcome's innovation.
    theta : coefficients of the spatially lagged regressors WX (``durbin``), by
        name, one per regressor in ``betas``.
    phi : spatial autocorrelation of the latent dimensions; ``|phi| < 1``.
    channel_coefficients : ``{channel: {dimension: coefficient}}``.
    channel_sigma : standard deviation of each channel's noise.
    items : Likert items per dimension, 3 or 4.
    loadings : loading of item 1..4 on its dimension's score, each in (0, 1).
    thresholds : four increasing cut points of the latent item answer.
    """

    model: str
    seed: int
    rho: float | None = None
    lam: float | None = None
    betas: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_BETAS))
    intercept: float = 1.0
    sigma: float = 1.0
    theta: dict[str, float] | None = None
    phi: float = 0.5
    channel_coefficients: dict[str, dict[str, float]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_CHANNEL_COEFFICIENTS.items()}
    )
    channel_sigma: float = 0.5
    items: int = 4
    loadings: tuple[float, ...] = DEFAULT_LOADINGS
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS

    @property
    def regressors(self) -> tuple[str, ...]:
        """Columns of the outcome equation (besides the intercept), dimensions first."""
        return tuple(c for c in (*DIMENSIONS, *CHANNELS) if c in self.betas)

    def validate(self) -> None:
        """Check that the parameters describe a stationary, well-defined process.

        Raises
        ------
        InputError
            A parameter out of range or missing for the model, named as its CLI option.
        """
        if self.model not in SIM_MODELS:
            raise InputError(f"--model {self.model!r} is not one of {', '.join(SIM_MODELS)}")
        uses_rho = self.model in ("lag", "durbin")
        _needed("--rho", self.rho, uses_rho, self.model)
        _needed("--lambda", self.lam, self.model == "error", self.model)
        _needed("--theta", self.theta, self.model == "durbin", self.model)
        for option, value in (("--rho", self.rho), ("--lambda", self.lam), ("--phi", self.phi)):
            if value is not None and not (math.isfinite(value) and abs(value) < 1):
                raise InputError(
                    f"{option} must lie strictly between -1 and 1 (row-standardised W), not {value!r}"
                )
        if not set(DIMENSIONS) <= set(self.betas) or not set(self.betas) <= {*DIMENSIONS, *CHANNELS}:
            raise InputError(f"betas must name the four dimensions and optionally channels, not {sorted(self.betas)}")
        if self.theta is not None and set(self.theta) != set(self.betas):
            raise InputError(f"--theta needs one value per regressor ({', '.join(self.regressors)})")
        _positive("--sigma", self.sigma)
        _positive("--channel-sigma", self.channel_sigma, allow_zero=True)
        if self.items not in (3, 4):
            raise InputError(f"--items must be 3 or 4, not {self.items!r}")
        if len(self.loadings) < self.items or not all(0 < v < 1 for v in self.loadings):
            raise InputError(f"item loadings must be {self.items} values in (0, 1), not {self.loadings!r}")
        t = self.thresholds
        if len(t) != 4 or any(b <= a for a, b in itertools.pairwise(t)):
            raise InputError(f"item thresholds must be 4 increasing values, not {t!r}")

    def truth(self) -> dict:
        """The true parameters as a JSON-safe dict (the ``.truth.json`` content)."""
        record = {
            "model": self.model,
            "seed": self.seed,
            "y": OUTCOME,
            "regressors": list(self.regressors),
            "beta": {INTERCEPT: self.intercept, **{c: self.betas[c] for c in self.regressors}},
            "intercept": self.intercept,
            "sigma": self.sigma,
            "dimensions": {"columns": list(DIMENSIONS), "phi": self.phi},
            "channels": {
                "coefficients": {c: dict(self.channel_coefficients[c]) for c in CHANNELS},
                "intercept": 0.0,
                "sigma": self.channel_sigma,
            },
            "items": {
                "per_dimension": self.items,
                "loadings": {f"q{m + 1}": self.loadings[m] for m in range(self.items)},
                "thresholds": list(self.thresholds),
                "categories": [1, 2, 3, 4, 5],
            },
        }
        if self.model in ("lag", "durbin"):
            record["rho"] = self.rho
        if self.model == "error":
            record["lambda"] = self.lam
        if self.model == "durbin":
            record["theta"] = {c: self.theta[c] for c in self.regressors}
        return record


def _needed(option: str, value: object, used: bool, model: str) -> None:
    if used and value is None:
        raise InputError(f"--model {model} needs {option}")
    if not used and value is not None:
        raise InputError(f"{option} does not apply to --model {model}; leave it out")


def _positive(option: str, value: float, allow_zero: bool = False) -> None:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise InputError(f"{option} must be {'zero or ' if allow_zero else ''}positive, not {value!r}")
