"""Run the command line as ``python -m orderline``."""

from orderline.cli import main

# Guarded: `serve --workers N` starts its children with multiprocessing's spawn, which imports this module again.
if __name__ == "__main__":
    main()
