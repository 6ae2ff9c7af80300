"""The specification search: from OLS's LM tests and from the Durbin model down.

Two classic decision paths, each a list of steps with the tests behind them:

1. *Specific to general* (Anselin 1988; Anselin and Florax 1995): the LM tests
   of the OLS residuals; where both LM error and LM lag are significant, the
   robust forms decide.
2. *General to specific* (LeSage and Pace 2009; Elhorst 2010): from the spatial
   Durbin model, LR tests of theta = 0 (-> lag) and of the common factor
   theta = -rho beta (-> error), and of rho = 0 (-> SLX).

Where the two paths agree the model is recommended; where they disagree the
Durbin model is, since it nests both and stays unbiased if either is the truth
(Elhorst 2010, p. 14). Everything here is pure: fitted results in, a
:class:`Selection` out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rtsmig.models.model_tests import lr_between
from rtsmig.models.results import FitResult, TestResult

# The models `rtsmig select` fits, in the order the report lists them.
SELECT_MODELS = ("ols", "slx", "lag", "error", "durbin", "durbin-error")


@dataclass(frozen=True)
class Step:
    """One decision: which tests were looked at, what they say, where it leads."""

    path: str
    tests: tuple[TestResult, ...]
    finding: str
    leads_to: str


@dataclass(frozen=True)
class Selection:
    """The outcome of the search: every step, every LR test, and the recommendation."""

    alpha: float
    steps: tuple[Step, ...]
    lr_tests: tuple[TestResult, ...]
    recommended: str
    reason: str


def _diag(result: FitResult, name: str) -> TestResult:
    return next(t for t in result.diagnostics if t.name == name)


def lm_path(ols: FitResult, alpha: float) -> tuple[list[Step], str]:
    """Anselin's decision rule on the OLS LM tests; returns the steps and the model it points to."""
    lm_err, lm_lag = _diag(ols, "LM error"), _diag(ols, "LM lag")
    err, lag = lm_err.p_value < alpha, lm_lag.p_value < alpha
    first = (lm_err, lm_lag)
    if not (err or lag):
        return [Step("LM", first, "neither LM error nor LM lag is significant", "ols")], "ols"
    if err != lag:
        model = "error" if err else "lag"
        return [Step("LM", first, f"only LM {model} is significant", model)], model
    r_err, r_lag = _diag(ols, "Robust LM error"), _diag(ols, "Robust LM lag")
    steps = [Step("LM", first, "LM error and LM lag are both significant: the robust tests decide", "robust LM")]
    robust = (r_err, r_lag)
    if (r_err.p_value < alpha) != (r_lag.p_value < alpha):
        model = "error" if r_err.p_value < alpha else "lag"
        steps.append(Step("LM", robust, f"only robust LM {model} is significant", model))
    else:
        model = "error" if r_err.statistic > r_lag.statistic else "lag"
        both = "both" if r_err.p_value < alpha else "neither"
        steps.append(Step("LM", robust, f"{both} robust LM test is significant; the larger statistic is {model}'s",
                          model))
    return steps, model


def durbin_path(fits: Mapping[str, FitResult], alpha: float) -> tuple[list[Step], dict[str, bool]]:
    """LR tests from the Durbin model down: which restrictions the data reject."""
    durbin = fits["durbin"]
    to_lag = lr_between(fits["lag"], durbin, "W_x = 0: the lag model")
    to_error = lr_between(fits["error"], durbin, "W_x = -rho x: the error model (common factor)")
    to_slx = lr_between(fits["slx"], durbin, "rho = 0: the SLX model")
    rejected = {"lag": to_lag.p_value < alpha, "error": to_error.p_value < alpha, "slx": to_slx.p_value < alpha}

    def word(model: str) -> str:
        return "rejected" if rejected[model] else "not rejected"

    steps = [
        Step("Durbin", (to_lag,), f"the restriction to the lag model is {word('lag')}",
             "durbin" if rejected["lag"] else "lag"),
        Step("Durbin", (to_error,), f"the common factor restriction (error model) is {word('error')}",
             "durbin" if rejected["error"] else "error"),
        Step("Durbin", (to_slx,), f"rho = 0 (the SLX model) is {word('slx')}", "durbin" if rejected["slx"] else "slx"),
    ]
    return steps, rejected


def recommend(lm_choice: str, rejected: Mapping[str, bool]) -> tuple[str, str]:
    """Elhorst's (2010) combination of the two paths: the model and the reason."""
    kept = [m for m in ("lag", "error") if not rejected[m]]
    if not kept:
        if rejected["slx"]:
            return "durbin", "the Durbin model rejects both the lag and the error restriction"
        return "slx", "both restrictions are rejected but rho = 0 is not: spillovers run through WX only"
    if lm_choice in kept:
        return lm_choice, f"the LM tests point to the {lm_choice} model and the Durbin model reduces to it"
    if lm_choice == "ols" and not rejected["slx"]:
        return "ols", "no LM test is significant and the Durbin model's rho is not either"
    return "durbin", (
        f"the paths disagree (LM: {lm_choice}; the Durbin model reduces to {' or '.join(kept)}): "
        "the Durbin model nests both and stays consistent under either"
    )


def select_model(fits: Mapping[str, FitResult], alpha: float = 0.05) -> Selection:
    """Walk both decision paths over fits of :data:`SELECT_MODELS` (same data and W)."""
    lm_steps, lm_choice = lm_path(fits["ols"], alpha)
    durbin_steps, rejected = durbin_path(fits, alpha)
    model, reason = recommend(lm_choice, rejected)
    lr_tests = (
        lr_between(fits["ols"], fits["lag"], "rho = 0"),
        lr_between(fits["ols"], fits["error"], "lambda = 0"),
        lr_between(fits["ols"], fits["slx"], "W_x = 0"),
        *(t for s in durbin_steps for t in s.tests),
        lr_between(fits["error"], fits["durbin-error"], "W_x = 0: the error model"),
        lr_between(fits["slx"], fits["durbin-error"], "lambda = 0: the SLX model"),
    )
    return Selection(alpha, tuple(lm_steps + durbin_steps), lr_tests, model, reason)
