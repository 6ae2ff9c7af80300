"""What to fit: a frozen spec, built by the CLI and read by the estimators."""

from __future__ import annotations

from dataclasses import dataclass

MODELS = ("ols", "lag", "error")
METHODS = ("ml", "gmm")
DEFAULT_Y = "migration"
DEFAULT_X = ("position", "method", "sustainability", "flexibility")
INTERCEPT = "(Intercept)"
# Coefficient-table terms reserved for the spatial parameters.
SPATIAL_TERMS = {"lag": "rho", "error": "lambda"}

_METHOD_LABELS = {"ml": "ML", "gmm": "GMM"}


@dataclass(frozen=True)
class FitSpec:
    """One model to estimate.

    Parameters
    ----------
    model : {"ols", "lag", "error"}
    method : {"ml", "gmm"}
        Ignored for ``ols``. ``gmm`` is 2SLS (instruments X, WX, W²X) for the lag
        model and the Kelejian–Prucha heteroskedasticity-robust GM estimator for
        the error model.
    y, x : outcome column and regressor columns (an intercept is always added).
    name : column heading in comparison tables; defaults to :attr:`label`.
    robust : White (HC0) standard errors for the 2SLS lag model.
    ci_level : coverage of the reported confidence intervals.
    """

    model: str = "ols"
    method: str = "ml"
    y: str = DEFAULT_Y
    x: tuple[str, ...] = DEFAULT_X
    name: str | None = None
    robust: bool = False
    ci_level: float = 0.95

    @property
    def label(self) -> str:
        """The name shown for this model: the user's, or e.g. ``lag (ML)``."""
        if self.name:
            return self.name
        if self.model == "ols":
            return "OLS"
        return f"{self.model} ({_METHOD_LABELS[self.method]})"

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "method": self.method,
            "y": self.y,
            "x": list(self.x),
            "name": self.name,
            "robust": self.robust,
            "ci_level": self.ci_level,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FitSpec:
        return cls(**{**d, "x": tuple(d["x"])})
