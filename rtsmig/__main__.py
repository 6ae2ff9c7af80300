"""Allow ``python -m rtsmig``."""

from rtsmig.cli.app import main

main()
