"""Hand-built FitResults for the table tests: fixtures for rendering, not estimates.

The numbers are written out as literals so that the golden files do not depend
on any platform's math library. Estimates and standard errors are the Columbus
crime reference values (tests/reference/columbus.json: CRIME ~ INC + HOVAL, queen
contiguity, row-standardised); statistics, p-values and 95% intervals were derived
from them once (t with 46 df for OLS, normal otherwise). Pseudo R² and BIC are
plausible values made up for these fixtures.
"""

from __future__ import annotations

from rtsmig.models.results import Coefficient, FitResult, Impact, TestResult
from rtsmig.models.spec import FitSpec

WEIGHTS = "queen contiguity, row-standardised"
X = ("INC", "HOVAL")


def ols() -> FitResult:
    """OLS with R², log-likelihood, AIC/BIC and LM and Moran diagnostics."""
    coefficients = (
        Coefficient("(Intercept)", 68.6189610950255, 4.73548613376534, 14.490373143689117,
                    9.210889988916795e-19, 59.08692189762526, 78.15100029242573),
        Coefficient("INC", -1.5973108340847, 0.33413076178008, -4.780496191296588,
                    1.8289595070842493e-05, -2.269881173935419, -0.9247404942339807),
        Coefficient("HOVAL", -0.273931478171675, 0.103198683790906, -2.65440864271773,
                    0.010874504909753563, -0.48165965458866755, -0.0662033017546825),
    )
    fit = {
        "n": 49.0, "k": 3.0, "loglik": -187.377238812149, "aic": 382.754477624298,
        "bic": 390.3217588167405, "r2": 0.552404040837423, "adj_r2": 0.5329433469607893,
        "sigma2": 130.758537734443,
    }
    diagnostics = (
        TestResult("Moran's I (residuals)", 2.83931893451367, 0.00226049723716734, None,
                   "normal", "no spatial autocorrelation", 0.222109406578674),
        TestResult("LM error", 5.20621392388198, 0.0225062938214382, 1.0, "chi2", "lambda = 0"),
        TestResult("LM lag", 8.89799859108786, 0.00285483395073227, 1.0, "chi2", "rho = 0"),
        TestResult("Robust LM error", 0.0439059318850378, 0.834028723931339, 1.0, "chi2",
                   "lambda = 0"),
        TestResult("Robust LM lag", 3.73569059909091, 0.0532616450507565, 1.0, "chi2", "rho = 0"),
        TestResult("SARMA", 8.94190452297289, 0.011436420201075, 2.0, "chi2",
                   "rho = 0 and lambda = 0"),
    )
    return FitResult(
        spec=FitSpec(model="ols", y="CRIME", x=X),
        coefficients=coefficients,
        fit=fit,
        diagnostics=diagnostics,
        weights=WEIGHTS,
        meta={"coef_test": "t", "engine": "numpy"},
    )


def lag() -> FitResult:
    """ML spatial lag with rho, pseudo R², an LR test and impacts."""
    coefficients = (
        Coefficient("(Intercept)", 45.6032486487901, 7.25740387619046, 6.283686208838643,
                    3.3063775134281783e-10, 31.378998430195413, 59.82749886738479),
        Coefficient("INC", -1.04872815777624, 0.307405916399406, -3.4115418794140893,
                    0.0006459657751842861, -1.6512326825536066, -0.44622363299887335),
        Coefficient("HOVAL", -0.266334808246505, 0.0890962908504959, -2.9892917618020305,
                    0.0027962497910775687, -0.4409603294695825, -0.09170928702342751),
        Coefficient("rho", 0.423325423971746, 0.119510445293475, 3.5421625526723615,
                    0.00039686083214825614, 0.1890892554201906, 0.6575615925233014),
    )
    fit = {
        "n": 49.0, "k": 4.0, "loglik": -182.673972010134, "aic": 375.347944020268,
        "bic": 384.8070455108211, "pseudo_r2": 0.6473, "sigma2": 96.8571812345405,
    }
    diagnostics = (
        TestResult("LR test (rho)", 9.40653360402996, 0.00216213597356592, 1.0, "chi2", "rho = 0"),
    )
    impacts = (
        Impact("INC", "direct", -1.10089545519149),
        Impact("INC", "indirect", -0.717683343615925),
        Impact("INC", "total", -1.81857879880741),
        Impact("HOVAL", "direct", -0.279583205412927),
        Impact("HOVAL", "indirect", -0.182262728702705),
        Impact("HOVAL", "total", -0.461845934115632),
    )
    meta = {
        "coef_test": "z",
        "conventions": {
            "aic": "counts k + 2 parameters (betas, rho and sigma²)",
            "impacts": "exact, from the eigenvalues of W",
            "sigma2": "SSE / n (maximum likelihood)",
        },
    }
    return FitResult(
        spec=FitSpec(model="lag", method="ml", y="CRIME", x=X),
        coefficients=coefficients,
        fit=fit,
        diagnostics=diagnostics,
        impacts=impacts,
        weights=WEIGHTS,
        meta=meta,
    )


def error_gmm() -> FitResult:
    """GM spatial error: lambda not significant, no log-likelihood, AIC or BIC."""
    coefficients = (
        Coefficient("(Intercept)", 62.918810223179, 5.11101826121839, 12.310425634867544,
                    7.960227407004072e-35, 52.901398506864425, 72.93622193949358),
        Coefficient("INC", -1.15007476682719, 0.341405191354574, -3.3686504949268747,
                    0.0007553714672835258, -1.8192166460171606, -0.48093288763721953),
        Coefficient("HOVAL", -0.298230691044288, 0.0967070924333736, -3.0838554188748275,
                    0.002043368725360543, -0.4877731092632862, -0.10868827282528978),
        Coefficient("lambda", 0.38345440132587, 0.427285880033299, 0.897418845893028,
                    0.36949545995226285, -0.45401053464189817, 1.2209193372936382),
    )
    return FitResult(
        spec=FitSpec(model="error", method="gmm", y="CRIME", x=X),
        coefficients=coefficients,
        fit={"n": 49.0, "k": 3.0, "pseudo_r2": 0.5393, "sigma2": 108.175363509992},
        weights=WEIGHTS,
        meta={"coef_test": "z"},
    )


def all_three() -> list[FitResult]:
    return [ols(), lag(), error_gmm()]
