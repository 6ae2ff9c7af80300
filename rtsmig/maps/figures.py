"""The three drawings of ``rtsmig map``: choropleth, LISA cluster map, Moran scatterplot.

Each ``*_figure`` function returns the figure's bytes; the first two are one
"category map" (a fill colour per region, a legend entry per category), the
third is a plain scatterplot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from rtsmig.maps.classify import Classification
from rtsmig.maps.lisa import (
    CLUSTERS,
    HIGH_HIGH,
    HIGH_LOW,
    LOW_HIGH,
    LOW_LOW,
    NO_NEIGHBOURS,
    NOT_SIGNIFICANT,
    MoranResult,
)
from rtsmig.maps.render import (
    EDGE,
    EDGE_WIDTH,
    MAP_SIZE,
    SCATTER_SIZE,
    Category,
    emptiest_corner,
    legend,
    map_axes,
    north_arrow,
    render,
    titles,
)

NO_DATA = "no data"
CHOROPLETH_NO_DATA = Category(NO_DATA, "#d9d9d9")
# GeoDa's LISA colours; regions outside W are white and hatched so they never read as a class.
LISA_COLOURS = {
    HIGH_HIGH: "#ff0000", LOW_LOW: "#0000ff", LOW_HIGH: "#a7adf9", HIGH_LOW: "#f4ada8",
    NOT_SIGNIFICANT: "#eeeeee", NO_NEIGHBOURS: "#bdbdbd",
}
LISA_NO_DATA = Category(f"{NO_DATA} / not in W", "#ffffff", "////")


def class_colours(cmap: str, k: int) -> list[str]:
    """``k`` colours spread evenly over the colormap ``cmap``, light to dark for sequential maps."""
    from matplotlib import colormaps

    return [to_hex(c) for c in colormaps[cmap](np.linspace(0.0, 1.0, k) if k > 1 else [0.5])]


def category_map(
    geometry, codes: np.ndarray, categories: Sequence[Category], shown: Sequence[bool],
    title: str, subtitle: str | None, legend_title: str, fmt: str, dpi: int,
) -> bytes:
    """A map with region ``i`` filled as ``categories[codes[i]]``; the legend lists the ``shown`` categories.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        The regions, in any CRS; a geographic CRS keeps geopandas' aspect
        correction (north up, equirectangular), a projected one equal aspect.
    codes : numpy.ndarray
        Category of each region, positions into ``categories``.
    """

    def draw(fig: Figure) -> None:
        ax = map_axes(fig)
        for code, category in enumerate(categories):
            members = codes == code
            if members.any():  # one collection per category: a handful of draw calls, not one per region
                geometry[members].plot(
                    ax=ax, color=category.color, edgecolor=EDGE, linewidth=EDGE_WIDTH, hatch=category.hatch
                )
        north_arrow(ax, emptiest_corner(geometry))
        legend(fig, [c for c, show in zip(categories, shown, strict=True) if show], legend_title)
        titles(fig, title, subtitle)

    return render(draw, MAP_SIZE, fmt, dpi)


def choropleth_figure(
    geometry, classes: np.ndarray, classification: Classification, colours: Sequence[str],
    title: str, legend_title: str, fmt: str, dpi: int,
) -> bytes:
    """The choropleth: ``classes[i]`` is region ``i``'s class, -1 where it has no value."""
    categories = [Category(label, colour) for label, colour in zip(classification.labels(), colours, strict=True)]
    no_data = int((classes < 0).sum())
    categories.append(Category(f"{NO_DATA} ({no_data})", CHOROPLETH_NO_DATA.color))
    codes = np.where(classes < 0, len(categories) - 1, classes)
    shown = [True] * classification.k + [no_data > 0]
    return category_map(geometry, codes, categories, shown, title, None, legend_title, fmt, dpi)


def lisa_figure(geometry, labels: Sequence[str | None], title: str, subtitle: str, fmt: str, dpi: int) -> bytes:
    """The LISA cluster map: ``labels[i]`` is one of :data:`CLUSTERS`, or None outside W."""
    names = [*CLUSTERS, None]
    counts = {name: sum(1 for label in labels if label == name) for name in names}
    categories = [Category(f"{name} ({counts[name]})", LISA_COLOURS[name]) for name in CLUSTERS]
    categories.append(Category(f"{LISA_NO_DATA.label} ({counts[None]})", LISA_NO_DATA.color, LISA_NO_DATA.hatch))
    codes = np.array([names.index(label) for label in labels], dtype=int)
    # The four clusters and "not significant" always: a reader compares them across maps.
    shown = [True] * 5 + [counts[NO_NEIGHBOURS] > 0, counts[None] > 0]
    return category_map(geometry, codes, categories, shown, title, subtitle, "LISA cluster", fmt, dpi)


def scatter_figure(moran: MoranResult, column: str, title: str, subtitle: str, fmt: str, dpi: int) -> bytes:
    """The Moran scatterplot: z against Wz, the least-squares line (slope I), quadrants HH/LH/LL/HL."""

    def draw(fig: Figure) -> None:
        ax = fig.add_axes((0.12, 0.1, 0.84, 0.76))
        z, lag = moran.z, moran.lag
        # Symmetric limits put the quadrant lines in the middle of the plot.
        xlim = 1.1 * max(float(np.abs(z).max()), 1e-9)
        ylim = 1.1 * max(float(np.abs(lag).max()), 1e-9)
        ax.axhline(0, color="#8c8c8c", linewidth=0.8, linestyle="--", zorder=1)
        ax.axvline(0, color="#8c8c8c", linewidth=0.8, linestyle="--", zorder=1)
        ax.scatter(z, lag, s=14, facecolor="#3b6ea8", edgecolor="white", linewidth=0.3, zorder=3)
        x = np.array([-xlim, xlim])
        ax.plot(x, moran.intercept + moran.slope * x, color="#d62728", linewidth=1.2, zorder=4)
        ax.set_xlim(-xlim, xlim)
        ax.set_ylim(-ylim, ylim)
        for text, (tx, ty) in {"HH": (0.97, 0.97), "LH": (0.03, 0.97), "LL": (0.03, 0.03), "HL": (0.97, 0.03)}.items():
            ax.text(tx, ty, text, transform=ax.transAxes, fontsize=10, fontweight="bold", color="#555555",
                    ha="right" if tx > 0.5 else "left", va="top" if ty > 0.5 else "bottom")
        ax.set_xlabel(f"{column}, standardised (z)")
        ax.set_ylabel("spatial lag of z (Wz)")
        ax.spines[["top", "right"]].set_visible(False)
        titles(fig, title, subtitle)

    return render(draw, SCATTER_SIZE, fmt, dpi)
