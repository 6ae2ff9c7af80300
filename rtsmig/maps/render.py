"""Figure basics: a fixed page layout, titles, legend, north arrow, and a byte-stable save.

The same drawing gives the same bytes: the figure size and dpi are fixed, no
``bbox_inches="tight"`` (whose crop depends on text extents), the PNG, SVG and
PDF writers are told to leave out dates and software versions, and SVG ids come
from a fixed hash salt. Drawing happens under :data:`RC` only, so the caller's
matplotlib settings neither leak in nor get changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import matplotlib

matplotlib.use("Agg")  # headless (CI, servers); chosen before geopandas imports pyplot to draw

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

FORMATS = ("png", "svg", "pdf")
PAGE_WIDTH = 6.5  # inches: the text width of a printed page
MAP_SIZE = (PAGE_WIDTH, 5.0)
SCATTER_SIZE = (PAGE_WIDTH, 5.5)
DEFAULT_DPI = 300
EDGE = "#5a5a5a"
EDGE_WIDTH = 0.2  # points: boundaries visible, yet not darker than small regions' fills

RC = {
    "svg.hashsalt": "rtsmig",  # SVG element ids are hashes salted with this; a fixed salt keeps them stable
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs on every machine
    "font.size": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.labelsize": 9,
    "hatch.linewidth": 0.5,
    "hatch.color": "#8c8c8c",
}
# Writers put their version and the date into these fields unless told not to.
METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


@dataclass(frozen=True)
class Category:
    """One legend entry of a map: its text, fill colour and optional hatch."""

    label: str
    color: str
    hatch: str | None = None


def render(draw: Callable[[Figure], None], size: tuple[float, float], fmt: str, dpi: int) -> bytes:
    """Draw a figure of ``size`` inches with ``draw`` and return it as ``fmt`` bytes.

    A plain :class:`~matplotlib.figure.Figure` (not pyplot's) is used, so nothing
    stays registered in pyplot's figure manager after the call.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}")
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=size, dpi=dpi)
        draw(fig)
        buffer = BytesIO()
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=METADATA[fmt], facecolor="white")
    return buffer.getvalue()


def titles(fig: Figure, title: str, subtitle: str | None = None) -> None:
    """A bold title and an optional second line centred above the plot."""
    fig.text(0.5, 0.975, title, ha="center", va="top", fontsize=11, fontweight="bold")
    if subtitle:
        fig.text(0.5, 0.925, subtitle, ha="center", va="top", fontsize=9)


def map_axes(fig: Figure) -> Axes:
    """The map's axes, left of the legend; no frame or ticks."""
    ax = fig.add_axes((0.02, 0.02, 0.68, 0.86))
    ax.set_axis_off()
    return ax


def legend(fig: Figure, entries: list[Category], title: str) -> None:
    """The legend right of the map: a filled box per entry."""
    handles = [
        Patch(facecolor=e.color, edgecolor=EDGE, linewidth=0.4, hatch=e.hatch, label=e.label) for e in entries
    ]
    fig.legend(
        handles=handles, loc="center left", bbox_to_anchor=(0.71, 0.45), frameon=False, title=title,
        title_fontsize=9, alignment="left", handlelength=1.8, handleheight=1.2,
    )


def emptiest_corner(geometry) -> str:
    """The corner of the layer's bounding box (12 % x 18 %) holding the fewest polygon vertices.

    Counting vertices rather than intersecting polygons never fails on invalid
    geometries; ties go to upper right, upper left, lower right, lower left.
    """
    xy = shapely.get_coordinates(np.asarray(geometry.values))
    minx, miny, maxx, maxy = geometry.total_bounds
    dx, dy = 0.12 * (maxx - minx), 0.18 * (maxy - miny)
    right, top = xy[:, 0] >= maxx - dx, xy[:, 1] >= maxy - dy
    left, bottom = xy[:, 0] <= minx + dx, xy[:, 1] <= miny + dy
    counts = {
        "upper right": int((right & top).sum()), "upper left": int((left & top).sum()),
        "lower right": int((right & bottom).sum()), "lower left": int((left & bottom).sum()),
    }
    return min(counts, key=counts.get)  # min keeps the first of equal counts


def north_arrow(ax: Axes, corner: str) -> None:
    """A small arrow pointing up with an "N" above it, in ``corner`` of the map axes."""
    x = 0.95 if corner.endswith("right") else 0.05
    base = 0.86 if corner.startswith("upper") else 0.03
    ax.annotate(
        "", xy=(x, base + 0.07), xytext=(x, base), xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>,head_width=0.25,head_length=0.5", "color": "black", "linewidth": 1.2},
    )
    ax.text(x, base + 0.075, "N", transform=ax.transAxes, ha="center", va="bottom", fontsize=10, fontweight="bold")
