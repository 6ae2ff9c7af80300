"""Spatial weights: build a libpysal Graph from regions, summarise it, align it to data.

Pure functions: nothing here reads or writes files (see :mod:`rtsmig.io.weights_io`).
"""

from __future__ import annotations

from rtsmig.weights.build import BuiltWeights, build_weights
from rtsmig.weights.matrix import aligned_matrix
from rtsmig.weights.spec import WeightsSpec
from rtsmig.weights.summary import render_summary_text, summarize

__all__ = [
    "BuiltWeights",
    "WeightsSpec",
    "aligned_matrix",
    "build_weights",
    "render_summary_text",
    "summarize",
]
