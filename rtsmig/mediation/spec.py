"""What to mediate: a frozen spec of the equations and the inference, built by the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rtsmig.errors import InputError
from rtsmig.models.spec import FitSpec

# The spatial process shared by every equation; the error model has no spillovers.
MEDIATION_MODELS = ("lag", "durbin", "error")
SPILLOVER_MODELS = ("lag", "durbin")
# Parts of an effect: internal = the region's own (mean diagonal of the effect
# matrix, the direct impact), external = on its neighbours (the spillover).
PARTS = ("internal", "external", "total")
DIRECT_PATH = "direct"
INDIRECT_PATH = "indirect"
TOTAL_PATH = "total"
VIA = "via "


@dataclass(frozen=True)
class MediationSpec:
    """A spatial mediation analysis.

    Parameters
    ----------
    model : {"lag", "durbin", "error"}
        Spatial process of every equation, each fitted by ML.
    y : the outcome column.
    x : the causes whose effects are split (the strategy dimensions).
    mediators : the channels; each is regressed on ``x``, and ``y`` on ``x`` and them.
    draws, seed : Monte Carlo draws of the estimates and their seed.
    ci_level : coverage of the intervals.
    logdet : log-determinant engine of the ML fits.
    """

    model: str
    y: str
    x: tuple[str, ...]
    mediators: tuple[str, ...]
    draws: int = 2000
    seed: int = 1
    ci_level: float = 0.95
    logdet: str = "auto"

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts each effect is split into: all three with spillovers, else the total."""
        return PARTS if self.model in SPILLOVER_MODELS else ("total",)

    @property
    def paths(self) -> tuple[str, ...]:
        """Rows per cause: the direct path, one per mediator, their sum, and the total effect."""
        return (DIRECT_PATH, *(VIA + m for m in self.mediators), INDIRECT_PATH, TOTAL_PATH)

    def equations(self) -> dict[str, FitSpec]:
        """The fits, by outcome: each mediator on ``x``, then ``y`` on ``x`` and the mediators."""
        specs = {m: self._fit_spec(m, self.x) for m in self.mediators}
        specs[self.y] = self._fit_spec(self.y, (*self.x, *self.mediators))
        return specs

    def _fit_spec(self, y: str, x: tuple[str, ...]) -> FitSpec:
        # Impacts of the single equations are not wanted: the analysis makes its own.
        return FitSpec(model=self.model, method="ml", y=y, x=x, ci_level=self.ci_level,
                       impacts_se="none", logdet=self.logdet)

    def validate(self) -> None:
        """Reject an unknown model, overlapping roles or too few draws (InputError, exit 3)."""
        if self.model not in MEDIATION_MODELS:
            raise InputError(f"--model {self.model!r} is not one of {', '.join(MEDIATION_MODELS)}")
        roles = [self.y, *self.x, *self.mediators]
        repeated = sorted({c for c in roles if roles.count(c) > 1})
        if repeated:
            raise InputError(
                f"column {repeated[0]!r} is given more than one role (--y, --x, --mediators); give each column one"
            )
        if not self.x or not self.mediators:
            raise InputError("mediation needs at least one --x column and one --mediators column")
        if self.draws < 100:
            raise InputError(f"--draws must be at least 100, not {self.draws}")
        if not 0.5 <= self.ci_level < 1.0:
            raise InputError(f"--ci must lie in [0.5, 1), not {self.ci_level}")

    def to_dict(self) -> dict:
        """JSON-safe record (manifest, result file)."""
        d = asdict(self)
        d["x"], d["mediators"] = list(self.x), list(self.mediators)
        return d
