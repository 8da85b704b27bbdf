"""`python -m gis_core.cli` runs the gridgov command."""

from gis_core.cli import main

main()
