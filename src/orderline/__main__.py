"""Run the command line as ``python -m orderline``."""

from orderline.cli import main

main()
