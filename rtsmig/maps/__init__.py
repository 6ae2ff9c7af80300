"""Maps of one regional variable: choropleth, LISA cluster map and Moran scatterplot.

- :mod:`rtsmig.maps.classify`: the ``--scheme`` names mapped to mapclassify classifiers.
- :mod:`rtsmig.maps.lisa`: global and local Moran's I (esda) on a sparse W.
- :mod:`rtsmig.maps.render`: page layout, legend, north arrow and a byte-stable save.
- :mod:`rtsmig.maps.figures`: the three drawings, each returned as bytes.
- :mod:`rtsmig.maps.draw`: :class:`MapSpec` and :func:`draw_map`, one map from a spec.

Nothing here reads or writes files: ``rtsmig.cli.commands.map`` reads the
inputs and writes the figure and its sidecar atomically.
"""

from rtsmig.maps.classify import SCHEMES, Classification, classify
from rtsmig.maps.draw import MAP_MODES, Drawing, MapSpec, column_values, draw_map, split_ids
from rtsmig.maps.lisa import CLUSTERS, LisaResult, MoranResult, global_moran, local_moran

__all__ = [
    "CLUSTERS", "MAP_MODES", "SCHEMES", "Classification", "Drawing", "LisaResult", "MapSpec", "MoranResult",
    "classify", "column_values", "draw_map", "global_moran", "local_moran", "split_ids",
]
