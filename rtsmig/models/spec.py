"""What to fit: a frozen spec, built by the CLI and read by the estimators."""

from __future__ import annotations

from dataclasses import dataclass

MODELS = ("ols", "lag", "error", "sac", "durbin", "durbin-error", "slx", "gns")
METHODS = ("ml", "gmm")
# The spatial parameters each model estimates, in the order they close the coefficient table.
MODEL_TERMS = {
    "ols": (), "slx": (), "lag": ("rho",), "durbin": ("rho",), "error": ("lambda",),
    "durbin-error": ("lambda",), "sac": ("rho", "lambda"), "gns": ("rho", "lambda"),
}
# Models with spatially lagged regressors WX.
WX_MODELS = ("durbin", "durbin-error", "slx", "gns")
# Prefix of a spatially lagged regressor's term, as spreg names them: W_INC.
WX_PREFIX = "W_"
IMPACTS_SE = ("simulate", "delta", "none")
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
    model : one of :data:`MODELS`
    method : {"ml", "gmm"}
        Ignored for ``ols`` and ``slx``. ``gmm`` is 2SLS (instruments X, WX, W²X)
        for the lag model, the Kelejian–Prucha (1999) GM estimator for the error
        model (heteroskedasticity-robust, Arraiz et al. 2010, with ``robust``) and
        generalised spatial 2SLS for sac and gns.
    y, x : outcome column and regressor columns (an intercept is always added).
    name : column heading in comparison tables; defaults to :attr:`label`.
    robust : White (HC0) standard errors for 2SLS, the heteroskedasticity-robust
        variants of the GM estimators.
    ci_level : coverage of the reported confidence intervals.
    wx : regressors that get a spatial lag in durbin, durbin-error, slx and gns;
        ``None`` means all of ``x``.
    impacts_se : how impacts get standard errors: ``simulate`` (draws from the
        estimates' asymptotic normal distribution, as R's ``impacts(..., R=)``),
        ``delta`` (the delta method) or ``none``.
    draws, seed : number of draws and seed of the ``simulate`` method.
    logdet : log-determinant engine of the ML estimators (see
        :mod:`rtsmig.models.logdet_engines`); ``auto`` chooses by n.
    """

    model: str = "ols"
    method: str = "ml"
    y: str = DEFAULT_Y
    x: tuple[str, ...] = DEFAULT_X
    name: str | None = None
    robust: bool = False
    ci_level: float = 0.95
    wx: tuple[str, ...] | None = None
    impacts_se: str = "simulate"
    draws: int = 1000
    seed: int = 1
    logdet: str = "auto"

    @property
    def wx_names(self) -> tuple[str, ...]:
        """The regressors lagged by W in this model; empty for models without WX."""
        if self.model not in WX_MODELS:
            return ()
        return self.x if self.wx is None else self.wx

    @property
    def label(self) -> str:
        """The name shown for this model: the user's, or e.g. ``lag (ML)``."""
        if self.name:
            return self.name
        if self.model in ("ols", "slx"):
            return self.model.upper()
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
            "wx": None if self.wx is None else list(self.wx),
            "impacts_se": self.impacts_se,
            "draws": self.draws,
            "seed": self.seed,
            "logdet": self.logdet,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FitSpec:
        wx = d.get("wx")
        return cls(**{**d, "x": tuple(d["x"]), "wx": None if wx is None else tuple(wx)})
