"""rtsmig: spatial econometrics of regional technology strategy and enterprise migration."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rtsmig")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
