"""Model specs, estimators and the immutable FitResult.

``fit(spec, data)`` is the entry point; :data:`ESTIMATORS` maps
``(model, method)`` to the estimator it runs. Both are loaded on first use, so
importing :mod:`rtsmig.models.spec` (as :mod:`rtsmig.dataset` does) stays cheap
and free of import cycles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rtsmig.models.results import Coefficient, FitResult, Impact, TestResult
from rtsmig.models.spec import FitSpec

if TYPE_CHECKING:
    from rtsmig.models.registry import ESTIMATORS, fit

__all__ = ["ESTIMATORS", "Coefficient", "FitResult", "FitSpec", "Impact", "TestResult", "fit"]


def __getattr__(name: str) -> Any:
    if name in ("fit", "ESTIMATORS"):
        from rtsmig.models import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
