"""Spatial weights: build them from regions (as :class:`~rtsmig.weights.edges.Edges`), summarise, align to data.

Pure functions: nothing here reads or writes files (see :mod:`rtsmig.io.weights_io`).

The names below are loaded on first use: building weights imports geopandas
(and libpysal for the block and kernel kinds), which takes seconds, and importing
``rtsmig.weights.edges`` or ``.spec`` for a fit must not pay for that.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rtsmig.weights.build import BuiltWeights, build_weights
    from rtsmig.weights.matrix import aligned_matrix
    from rtsmig.weights.spec import WeightsSpec
    from rtsmig.weights.summary import render_summary_text, summarize

_HOMES = {
    "BuiltWeights": "rtsmig.weights.build",
    "build_weights": "rtsmig.weights.build",
    "aligned_matrix": "rtsmig.weights.matrix",
    "WeightsSpec": "rtsmig.weights.spec",
    "render_summary_text": "rtsmig.weights.summary",
    "summarize": "rtsmig.weights.summary",
}

__all__ = [
    "BuiltWeights",
    "WeightsSpec",
    "aligned_matrix",
    "build_weights",
    "render_summary_text",
    "summarize",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
