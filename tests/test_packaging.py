"""The package list in pyproject.toml covers every package folder, and bundled data resolves."""

from __future__ import annotations

import tomllib
from pathlib import Path

from rtsmig.io.bundled import bundled_path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "rtsmig").rglob("__init__.py")
    }
    assert on_disk <= listed, on_disk - listed
    mapped = {name for name in listed if name.startswith("rtsmig._bundled.")}
    assert listed - mapped == on_disk


def test_bundled_columbus_resolves():
    assert bundled_path("shapefiles", "columbus", "columbus.shp").stat().st_size > 0
