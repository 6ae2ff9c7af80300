"""Simulated strategy-design data with known true parameters.

Pure functions: nothing here reads or writes files (the ``rtsmig simulate``
command does that).
"""

from __future__ import annotations

from rtsmig.simulate.dgp import item_columns, likert_items, simulate_design
from rtsmig.simulate.spec import CHANNELS, DIMENSIONS, OUTCOME, SIM_MODELS, SimulationSpec

__all__ = [
    "CHANNELS",
    "DIMENSIONS",
    "OUTCOME",
    "SIM_MODELS",
    "SimulationSpec",
    "item_columns",
    "likert_items",
    "simulate_design",
]
