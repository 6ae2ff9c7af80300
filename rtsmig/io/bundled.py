"""Paths of the data that ship with rtsmig (geometries and examples)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rtsmig.errors import InputError

# In a wheel the top-level shapefiles/ and examples/ folders are the packages
# rtsmig._bundled.shapefiles and rtsmig._bundled.examples (see pyproject.toml).
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def bundled_path(folder: str, *parts: str) -> Path:
    """A bundled file, e.g. ``bundled_path("shapefiles", "columbus", "columbus.shp")``."""
    try:
        # A namespace package (no __init__.py in shapefiles/) gives a MultiplexedPath,
        # whose joinpath takes one part at a time on Python 3.11 and has no usable str().
        path = resources.files(f"rtsmig._bundled.{folder}")
    except ModuleNotFoundError:  # running from a source tree that was not installed
        path = _SOURCE_ROOT / folder
    for part in parts:
        path = path / part
    path = Path(str(path))
    if not path.exists():
        raise InputError(f"{path}: bundled file missing; reinstall rtsmig")
    return path
