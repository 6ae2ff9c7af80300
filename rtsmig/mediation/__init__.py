"""Spatial mediation: how much of each cause's effect runs through each channel, inside and across regions."""

from rtsmig.mediation.analysis import EFFECT_COLUMNS, MediationResult, PathEffect, mediate
from rtsmig.mediation.spec import MEDIATION_MODELS, MediationSpec

__all__ = ["EFFECT_COLUMNS", "MEDIATION_MODELS", "MediationResult", "MediationSpec", "PathEffect", "mediate"]
